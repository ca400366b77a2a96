// vmmap: one address space's vm map, entry by entry — range, protection, entry flags, what the
// region is, and the vm object behind it (with its shadow chain and resident pages).

import type { MapEntry } from '../../../kernel/vm/vmMap.js';
import { protString, ENTRY_COW, ENTRY_NEEDS_COPY, ENTRY_SEGMENT, ENTRY_WIRED, ENTRY_GROWS_DOWN } from '../../../kernel/vm/vmMap.js';
import { formatSize } from '../../../mmu/units.js';
import { table, hex, note, type ViewLine, type ViewModel } from './format.js';
import type { SpaceTarget } from './target.js';

/** C copy-on-write, N needs copy, S segment, W wired, G grows down. */
export function entryFlags(e: MapEntry): string {
  return (e.flags & ENTRY_COW ? 'C' : '') + (e.flags & ENTRY_NEEDS_COPY ? 'N' : '') + (e.flags & ENTRY_SEGMENT ? 'S' : '')
    + (e.flags & ENTRY_WIRED || e.object?.type === 'wired' ? 'W' : '') + (e.flags & ENTRY_GROWS_DOWN ? 'G' : '') || '-';
}

function objectText(e: MapEntry): string {
  const o = e.object;
  if (!o) return '-';
  const resident = o.pages.size;
  return `${o.describe()} ${resident} page${resident === 1 ? '' : 's'}${e.offset ? ` +${hex(e.offset)}` : ''}`;
}

export function vmmapView(t: SpaceTarget, width: number): ViewModel {
  const { space } = t;
  const entries = space.map.entries;
  const head: ViewLine[] = [
    { text: `${t.label}: ${space.describe()}, ${entries.length} entries, ${formatSize(space.map.size)} mapped, ${formatSize(space.residentBytes)} resident, PCID ${space.pmap.pcid}`, tone: 'accent' },
  ];
  if (entries.length === 0) return { title: `vmmap ${t.label}`, lines: [...head, note('  (empty)')] };
  const wide = width >= 110;
  const rows = entries.map((e) => [
    hex(e.start), ...(wide ? [hex(e.end)] : []), formatSize(e.end - e.start), protString(e.prot), entryFlags(e), e.inheritance, e.label, objectText(e),
  ]);
  const lines = table([
    { title: 'START' }, ...(wide ? [{ title: 'END' }] : []), { title: 'SIZE', align: 'right' as const }, { title: 'PROT' }, { title: 'FL' },
    { title: 'INH' }, { title: 'LABEL', flex: true }, { title: 'OBJECT', flex: true },
  ], rows, width);
  return { title: `vmmap ${t.label}`, lines: [...head, ...lines, note('FL: C copy-on-write  N needs copy  S segment  W wired  G grows down')] };
}
