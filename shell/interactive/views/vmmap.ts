// vmmap: one address space's vm map, entry by entry — range, protection, entry flags, what the
// region is, and the vm object behind it (with its shadow chain and resident pages).

import { vmMap, spaceInfo, type MapEntryInfo } from '../../../kernel/snapshot.js';
import { protString, ENTRY_COW, ENTRY_NEEDS_COPY, ENTRY_SEGMENT, ENTRY_GROWS_DOWN } from '../../../kernel/vm/vmMap.js';
import { formatSize } from '../../../mmu/units.js';
import { table, hex, note, type ViewLine, type ViewModel } from './format.js';
import type { SpaceTarget } from './target.js';

/** C copy-on-write, N needs copy, S segment, W wired, G grows down. */
export function entryFlags(e: MapEntryInfo): string {
  return (e.flags & ENTRY_COW ? 'C' : '') + (e.flags & ENTRY_NEEDS_COPY ? 'N' : '') + (e.flags & ENTRY_SEGMENT ? 'S' : '')
    + (e.wired ? 'W' : '') + (e.flags & ENTRY_GROWS_DOWN ? 'G' : '') || '-';
}

function objectText(e: MapEntryInfo): string {
  const o = e.object;
  if (!o) return '-';
  return `${o.description} ${o.resident} page${o.resident === 1 ? '' : 's'}${e.offset ? ` +${hex(e.offset)}` : ''}`;
}

export function vmmapView(t: SpaceTarget, width: number): ViewModel {
  const info = spaceInfo(t.space);
  const entries = vmMap(t.space);
  const head: ViewLine[] = [
    { text: `${t.label}: ${info.description}, ${entries.length} entries, ${formatSize(info.mappedBytes)} mapped, ${formatSize(info.residentBytes)} resident, PCID ${info.pcid}`, tone: 'accent' },
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
