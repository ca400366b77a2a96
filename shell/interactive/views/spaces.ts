// address spaces: the named (global) spaces with their segments and the processes attached to
// them, then each process's shadows — which handle, which threads run in it, how its page
// tables are kept consistent with the named space.

import type { Kernel } from '../../../kernel/kernel.js';
import { namedSpaces, shadows, type NamedSpaceInfo } from '../../../kernel/snapshot.js';
import { modeString } from '../../../kernel/spacejmp/segment.js';
import { protString } from '../../../kernel/vm/vmMap.js';
import { formatSize } from '../../../mmu/units.js';
import { table, hex, note, clip, type ViewLine, type ViewModel } from './format.js';

function namedSpaceLines(v: NamedSpaceInfo, width: number): ViewLine[] {
  const out: ViewLine[] = [];
  for (const seg of v.segments) {
    out.push({ text: clip(`    segment ${seg.sid} "${seg.name}"  ${hex(seg.base)}  ${formatSize(seg.size)}  ${protString(seg.prot)}`, width) });
  }
  for (const a of v.shadows) {
    const n = a.threads;
    out.push({ text: clip(`    attached by ${a.processName}[${a.pid}]  vh ${hex(a.vh)}  ${n} thread${n === 1 ? '' : 's'} in it  pt ${a.ptPolicy}`, width) });
  }
  if (out.length === 0) out.push(note('    (no segments, nobody attached)'));
  return out;
}

function shadowRows(k: Kernel): string[][] {
  return shadows(k).map((a) => [
    `${a.processName}[${a.pid}]`, hex(a.vh), a.of, `#${a.spaceId}`, String(a.entries), a.writable ? 'rw' : 'r', a.ptPolicy, a.threads.join(',') || '-',
  ]);
}

export function spacesView(k: Kernel, width: number): ViewModel {
  const vases = namedSpaces(k);
  if (!vases) return { title: 'address spaces', lines: [note('SpaceJMP is not installed on this machine')] };
  const lines: ViewLine[] = [{ text: `named address spaces (${vases.length})`, tone: 'accent' }];
  if (vases.length === 0) lines.push(note('  none yet: vas_create("name", 0660) makes one'));
  for (const v of vases) {
    const head = `  vid ${v.vid} "${v.name}"  ${modeString(v.mode)}  owner ${v.uid}:${v.gid}  tags ${v.tags}  pt ${v.ptPolicy}  space #${v.spaceId}`;
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
