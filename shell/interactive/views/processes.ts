// processes: every process with its credentials and state, and each thread's CPU, state and the
// address space it executes in (primary, or the named space it switched into).

import type { Kernel } from '../../../kernel/kernel.js';
import { processes, type ProcessInfo, type ThreadInfo } from '../../../kernel/snapshot.js';
import { table, hex, note, type ViewModel } from './format.js';

/** "primary", or `shared (vh 0x1_0001)` for a thread switched into an attached named space. */
export function threadSpace(t: ThreadInfo): string {
  if (t.vh === 0) return 'primary';
  return t.inNamedSpace !== null ? `${t.inNamedSpace} (vh ${hex(t.vh)})` : t.space;
}

function processRows(p: ProcessInfo): string[][] {
  const head = [String(p.pid), p.name, String(p.uid), String(p.gid), p.state];
  if (p.threads.length === 0) return [[...head, '-', '-', '-', '-']];
  return p.threads.map((t, i) => [
    ...(i === 0 ? head : ['', '', '', '', '']),
    t.name, t.cpu < 0 ? '-' : String(t.cpu), t.state, p.live ? threadSpace(t) : '-',
  ]);
}

export function processesView(k: Kernel, width: number): ViewModel {
  const procs = processes(k);
  if (procs.length === 0) return { title: 'processes', lines: [note('no processes')] };
  const lines = table([
    { title: 'PID', align: 'right' }, { title: 'NAME', flex: true }, { title: 'UID', align: 'right' }, { title: 'GID', align: 'right' },
    { title: 'STATE' }, { title: 'THREAD', flex: true }, { title: 'CPU', align: 'right' }, { title: 'T-STATE' }, { title: 'ADDRESS SPACE', flex: true },
  ], procs.flatMap(processRows), width);
  return { title: `processes (${procs.length})`, lines };
}
