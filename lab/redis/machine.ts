// The kernel-side plumbing the Redis harnesses need and programs cannot do themselves: pipes made
// by the harness and handed to processes as descriptors (the way accept() hands a process a
// connected socket), bytes put into and taken out of a pipe from the host (the network card's side
// of a connection), and the machine-wide counters a report reads.

import type { Kernel } from '../../kernel/kernel.js';
import type { Process } from '../../kernel/proc/process.js';
import { createPipe, type PipeEnd } from '../../kernel/proc/ipc.js';

export { createPipe, type PipeEnd };

const installed = new WeakSet<PipeEnd>();

/** Give `p` a descriptor for `end` (the end is shared, like a dup, when already given to another process). */
export function giveFd(p: Process, end: PipeEnd): number {
  if (installed.has(end)) end.refCount++;
  else installed.add(end);
  return p.allocFd(end);
}

/** The host keeps the reference `end` was created with (later giveFd calls share it). */
export function hostHold(end: PipeEnd): void {
  installed.add(end);
}

/** Put as much of `data` as fits into the pipe (the host is its writer); returns the bytes taken. */
export function hostWrite(k: Kernel, end: PipeEnd, data: Uint8Array): number {
  const p = end.pipe;
  const n = Math.min(p.space, data.length);
  if (n > 0) {
    p.append(data.subarray(0, n));
    k.wakeAll(p.readable);
  }
  return n;
}

/** Take everything buffered in the pipe (the host is its reader). */
export function hostRead(k: Kernel, end: PipeEnd): Uint8Array {
  const p = end.pipe;
  const data = p.peek(p.length);
  p.consume(data.length);
  if (data.length) k.wakeAll(p.writable);
  return data;
}

/** The host closes its end: a reader then sees end of file, a writer EPIPE. */
export function hostClose(end: PipeEnd): void {
  if (--end.refCount === 0) end.close();
}

export interface MachineCounters {
  tlbMisses: number;
  walks: number;
  switches: number;
  blockedSwitches: number;
  contextSwitchCycles: number;
  syscallCycles: number;
  maxClock: number;
}

export function machineCounters(k: Kernel): MachineCounters {
  const c: MachineCounters = { tlbMisses: 0, walks: 0, switches: k.spacejmp.stats.switches, blockedSwitches: k.spacejmp.stats.blockedSwitches, contextSwitchCycles: 0, syscallCycles: 0, maxClock: 0 };
  for (const cpu of k.cpus) {
    c.tlbMisses += cpu.l1Misses;
    c.walks += cpu.walks;
    const by = cpu.counters().cyclesBy;
    c.contextSwitchCycles += by['context-switch'] ?? 0;
    c.syscallCycles += by.syscall ?? 0;
    c.maxClock = Math.max(c.maxClock, cpu.clock);
  }
  return c;
}

/** Bring every CPU's clock up to `cycles` (idle time), so that they start a phase together. */
export function alignClocks(k: Kernel, cycles: number): void {
  for (const cpu of k.cpus) if (cpu.clock < cycles) cpu.charge('idle', cycles - cpu.clock);
}
