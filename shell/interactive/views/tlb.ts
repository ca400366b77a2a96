// tlb CPU: one core's TLB — hit/miss counters per structure, then every valid entry by set and
// way with its PCID (and the address space that PCID belongs to), page size and rights.

import type { Kernel } from '../../../kernel/kernel.js';
import { tlbContents, type TlbEntryInfo } from '../../../kernel/snapshot.js';
import { TF_W, TF_U, TF_XD, TF_G, TF_D } from '../../../mmu/tlb.js';
import { formatSize } from '../../../mmu/units.js';
import { table, hex, thousands, percent, clip, note, type ViewLine, type ViewModel } from './format.js';

function rights(f: number): string {
  return (f & TF_W ? 'W' : 'R') + (f & TF_U ? 'U' : 'S') + (f & TF_D ? 'D' : '-') + (f & TF_G ? 'G' : '-') + (f & TF_XD ? 'X' : '-');
}

function entryLines(entries: readonly TlbEntryInfo[], names: Map<number, string>, width: number): ViewLine[] {
  const out: ViewLine[] = [];
  let lastSet = -1;
  for (const e of entries) {
    const who = names.get(e.pcid) ?? 'stale PCID';
    const setLabel = e.set !== lastSet ? `set ${String(e.set).padStart(3)}` : '       ';
    lastSet = e.set;
    out.push({ text: clip(`    ${setLabel} way ${String(e.way).padStart(2)}  pcid ${String(e.pcid).padStart(4)}  ${hex(e.va).padEnd(16)} -> ${hex(e.frame).padEnd(13)} ${formatSize(e.pageBytes).padStart(2)} ${rights(e.flags)}  ${who}`, width) });
  }
  return out;
}

export function tlbView(k: Kernel, cpuId: number, width: number): ViewModel {
  const t = tlbContents(k, cpuId);
  const lines: ViewLine[] = [
    { text: clip(`CPU ${cpuId}: CR3 ${hex(t.cr3)} PCID ${t.pcid}${t.loadedSpace ? ` (${t.loadedSpace})` : ''}${t.running ? `, running ${t.running}` : ''}`, width), tone: 'accent' },
  ];
  lines.push(...table([
    { title: 'STRUCTURE', flex: true }, { title: 'ENTRIES', align: 'right' }, { title: 'VALID', align: 'right' },
    { title: 'HITS', align: 'right' }, { title: 'MISSES', align: 'right' }, { title: 'HIT RATE', align: 'right' },
  ], t.counters.map((c) => [c.name, String(c.entries), String(c.valid), thousands(c.hits), thousands(c.misses), percent(c.hits, c.hits + c.misses)]), width));
  // Which space each PCID tags now (PCID 0 is shared by every untagged space).
  const names = new Map<number, string>([[0, 'untagged'], ...t.pcidOwners.map((o): [number, string] => [o.pcid, o.space])]);
  for (const a of t.structures) {
    const entries = entryLines(a.entries, names, width);
    lines.push({ text: '' }, { text: `${a.name}: ${a.sets} sets x ${a.ways} ways, ${a.valid} valid`, tone: 'header' });
    lines.push(...(entries.length ? entries : [note('    (empty)')]));
  }
  return { title: `tlb cpu ${cpuId}`, lines };
}
