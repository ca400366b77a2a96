// address spaces: the named (global) spaces with their segments and the processes attached to
// them, then each process's shadows — which handle, which threads run in it, how its page
// tables are kept consistent with the named space.

import type { Kernel } from '../../../kernel/kernel.js';
import type { NamedVas } from '../../../kernel/spacejmp/spacejmp.js';
import { modeString } from '../../../kernel/spacejmp/segment.js';
import { protString } from '../../../kernel/vm/vmMap.js';
import { formatSize } from '../../../mmu/units.js';
import { table, hex, note, clip, type ViewLine, type ViewModel } from './format.js';

function namedSpaceLines(v: NamedVas, width: number): ViewLine[] {
  const out: ViewLine[] = [];
  for (const { seg, prot } of v.segments.values()) {
    out.push({ text: clip(`    segment ${seg.sid} "${seg.name}"  ${hex(seg.base)}  ${formatSize(seg.size)}  ${protString(prot)}`, width) });
  }
  for (const a of v.shadows) {
    const n = a.threads.size;
    out.push({ text: clip(`    attached by ${a.process.name}[${a.process.pid}]  vh ${hex(a.vh)}  ${n} thread${n === 1 ? '' : 's'} in it  pt ${a.ptPolicy}`, width) });
  }
  if (out.length === 0) out.push(note('    (no segments, nobody attached)'));
  return out;
}

function shadowRows(k: Kernel): string[][] {
  const rows: string[][] = [];
  const sj = k.spacejmp!;
  for (const p of [...k.processes.values()].sort((a, b) => a.pid - b.pid)) {
    if (!p.live) continue;
    for (const a of sj.attachments(p)) {
      const threads = [...a.threads].map((t) => t.name).join(',') || '-';
      rows.push([`${p.name}[${p.pid}]`, hex(a.vh), a.vas.name, `#${a.space.id}`, String(a.space.map.entries.length), a.writable ? 'rw' : 'r', a.ptPolicy, threads]);
    }
  }
  return rows;
}

export function spacesView(k: Kernel, width: number): ViewModel {
  const sj = k.spacejmp;
  if (!sj) return { title: 'address spaces', lines: [note('SpaceJMP is not installed on this machine')] };
  const vases = [...sj.vases.values()].filter((v) => !v.deleted).sort((a, b) => a.vid - b.vid);
  const lines: ViewLine[] = [{ text: `named address spaces (${vases.length})`, tone: 'accent' }];
  if (vases.length === 0) lines.push(note('  none yet: vas_create("name", 0660) makes one'));
  for (const v of vases) {
    const head = `  vid ${v.vid} "${v.name}"  ${modeString(v.mode)}  owner ${v.uid}:${v.gid}  tags ${v.tags}  pt ${v.ptPolicy}  space #${v.space.id}`;
    lines.push({ text: clip(head, width), tone: 'header' }, ...namedSpaceLines(v, width));
  }
  const rows = shadowRows(k);
  lines.push({ text: '' }, { text: `shadows per process (${rows.length})`, tone: 'accent' });
  if (rows.length === 0) lines.push(note('  none: vas_attach(vid) makes one'));
  else lines.push(...table([
    { title: 'PROCESS', flex: true }, { title: 'VH' }, { title: 'OF', flex: true }, { title: 'SPACE' }, { title: 'ENTRIES', align: 'right' },
    { title: 'RIGHTS' }, { title: 'PT' }, { title: 'THREADS IN IT', flex: true },
  ], rows, width - 2).map((l) => ({ ...l, text: '  ' + l.text })));
  return { title: 'address spaces', lines };
}
