// stats: the modelled machine's counters per CPU — cycles (of the emulated machine, not the
// emulator's wall clock), accesses, TLB behaviour, page walks, faults, CR3 loads and flushes —
// where the cycles went, and SpaceJMP's switch counts. Names the cost profile, as every report must.

import type { Kernel } from '../../../kernel/kernel.js';
import { counters } from '../../../kernel/snapshot.js';
import { table, thousands, percent, clip, type ViewLine, type ViewModel } from './format.js';

export function statsView(k: Kernel, width: number): ViewModel {
  const snap = counters(k);
  const cs = snap.cpus;
  const rows = cs.map((c) => [
    String(c.cpu), thousands(c.modelledCycles), thousands(c.accesses), percent(c.l1Hits, c.accesses), thousands(c.stlbHits),
    thousands(c.walks), thousands(c.walkRefs), thousands(c.pageFaults), thousands(c.cr3Writes), thousands(c.tlbFlushes), thousands(c.invalidations),
  ]);
  const sum = (f: (c: (typeof cs)[number]) => number) => cs.reduce((s, c) => s + f(c), 0);
  const acc = sum((c) => c.accesses);
  rows.push(['all', thousands(sum((c) => c.modelledCycles)), thousands(acc), percent(sum((c) => c.l1Hits), acc), thousands(sum((c) => c.stlbHits)),
    thousands(sum((c) => c.walks)), thousands(sum((c) => c.walkRefs)), thousands(sum((c) => c.pageFaults)), thousands(sum((c) => c.cr3Writes)),
    thousands(sum((c) => c.tlbFlushes)), thousands(sum((c) => c.invalidations))]);
  const lines: ViewLine[] = [
    { text: clip(`modelled cycles of the emulated machine: ${snap.machine}`, width), tone: 'accent' },
    ...table([
      { title: 'CPU', align: 'right' }, { title: 'CYCLES', align: 'right' }, { title: 'ACCESSES', align: 'right' }, { title: 'L1 HIT', align: 'right' },
      { title: 'STLB', align: 'right' }, { title: 'WALKS', align: 'right' }, { title: 'REFS', align: 'right' }, { title: 'FAULTS', align: 'right' },
      { title: 'CR3', align: 'right' }, { title: 'FLUSH', align: 'right' }, { title: 'INVLPG', align: 'right' },
    ], rows, width),
  ];
  lines[lines.length - 1].tone = 'header';
  const kc = snap.kernel;
  lines.push({ text: clip(`user-mode counters above; the kernel's own references apart: ${thousands(kc.reduce((n, c) => n + c.accesses, 0))}, page walks ${thousands(kc.reduce((n, c) => n + c.walks, 0))} (${thousands(kc.reduce((n, c) => n + c.walkRefs, 0))} refs)`, width) });
  lines.push(...componentLines(cs.map((c) => c.cyclesBy), width));
  const sj = snap.spacejmp;
  if (sj) lines.push({ text: '' }, { text: clip(`SpaceJMP: ${thousands(sj.switches)} vas_switch, ${thousands(sj.blockedSwitches)} blocked on a segment lock, ${thousands(sj.shadowUpdates)} shadow updates`, width) });
  return { title: 'stats', lines };
}

/** Cycles by component over all CPUs, biggest first, several to a line. */
function componentLines(by: readonly Record<string, number>[], width: number): ViewLine[] {
  const total = new Map<string, number>();
  for (const r of by) for (const [name, v] of Object.entries(r)) total.set(name, (total.get(name) ?? 0) + v);
  const all = [...total.values()].reduce((a, b) => a + b, 0);
  const parts = [...total].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([n, v]) => `${n} ${thousands(v)} (${percent(v, all)})`);
  const out: ViewLine[] = [{ text: '' }, { text: 'cycles by component:', tone: 'header' }];
  let line = ' ';
  for (const p of parts) {
    if (line.length + p.length + 3 > width && line.trim()) { out.push({ text: line }); line = ' '; }
    line += ` ${p} ·`;
  }
  if (line.trim()) out.push({ text: line.replace(/ ·$/, '') });
  out[out.length - 1].text = out[out.length - 1].text.replace(/ ·$/, '');
  return out;
}
