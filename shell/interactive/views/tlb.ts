// tlb CPU: one core's TLB — hit/miss counters per structure, then every valid entry by set and
// way with its PCID (and the address space that PCID belongs to), page size and rights.

import type { Kernel } from '../../../kernel/kernel.js';
import type { TlbArray } from '../../../mmu/tlb.js';
import { PAGE_BYTES, TF_W, TF_U, TF_XD, TF_G, TF_D } from '../../../mmu/tlb.js';
import { formatSize } from '../../../mmu/units.js';
import { table, hex, thousands, percent, clip, note, type ViewLine, type ViewModel } from './format.js';

function rights(f: number): string {
  return (f & TF_W ? 'W' : 'R') + (f & TF_U ? 'U' : 'S') + (f & TF_D ? 'D' : '-') + (f & TF_G ? 'G' : '-') + (f & TF_XD ? 'X' : '-');
}

/** Which space each PCID tags now (PCID 0 is shared by every untagged space). */
function pcidNames(k: Kernel): Map<number, string> {
  const m = new Map<number, string>([[0, 'untagged']]);
  for (const vs of k.spaces) if (vs.pmap.pcid !== 0) m.set(vs.pmap.pcid, vs.describe());
  return m;
}

function arrayLines(a: TlbArray, names: Map<number, string>, width: number): ViewLine[] {
  const out: ViewLine[] = [];
  for (let set = 0; set < a.sets; set++) {
    let first = true;
    for (let way = 0; way < a.ways; way++) {
      const s = set * a.ways + way;
      if (!a.isValid(s)) continue;
      const va = (a.tagHi[s] >>> 0) * 2 ** 32 + (a.tagLo[s] >>> 0);
      const pcid = a.pcid[s];
      const who = names.get(pcid) ?? 'stale PCID';
      const setLabel = first ? `set ${String(set).padStart(3)}` : '       ';
      first = false;
      out.push({ text: clip(`    ${setLabel} way ${String(way).padStart(2)}  pcid ${String(pcid).padStart(4)}  ${hex(va).padEnd(16)} -> ${hex(a.frame[s]).padEnd(13)} ${formatSize(PAGE_BYTES[a.size[s]]).padStart(2)} ${rights(a.flags[s])}  ${who}`, width) });
    }
  }
  return out;
}

export function tlbView(k: Kernel, cpuId: number, width: number): ViewModel {
  const cpu = k.cpus[cpuId];
  const tlb = cpu.tlb;
  const loaded = k.loaded[cpuId];
  const running = k.running[cpuId];
  const lines: ViewLine[] = [
    { text: clip(`CPU ${cpuId}: CR3 ${hex(cpu.cr3Base)} PCID ${cpu.pcid}${loaded ? ` (${loaded.describe()})` : ''}${running ? `, running ${running.describe()}` : ''}`, width), tone: 'accent' },
  ];
  const counters = cpu.tlbCounters();
  lines.push(...table([
    { title: 'STRUCTURE', flex: true }, { title: 'ENTRIES', align: 'right' }, { title: 'VALID', align: 'right' },
    { title: 'HITS', align: 'right' }, { title: 'MISSES', align: 'right' }, { title: 'HIT RATE', align: 'right' },
  ], Object.entries(counters).map(([name, c]) => [name, String(c.entries), String(c.valid), thousands(c.hits), thousands(c.misses), percent(c.hits, c.hits + c.misses)]), width));
  const names = pcidNames(k);
  for (const a of [...tlb.l1, tlb.stlb, tlb.stlb1g]) {
    const entries = arrayLines(a, names, width);
    lines.push({ text: '' }, { text: `${a.name}: ${a.sets} sets x ${a.ways} ways, ${a.occupancy()} valid`, tone: 'header' });
    lines.push(...(entries.length ? entries : [note('    (empty)')]));
  }
  return { title: `tlb cpu ${cpuId}`, lines };
}
