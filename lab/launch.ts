// Starting programs on a machine and driving it: what a harness (or a test, or the shell) does
// from outside the emulated machine. Programs never see this module; they see their runtime.

import type { Kernel } from '../kernel/kernel.js';
import type { Credentials, Process, Thread } from '../kernel/proc/process.js';
import { Scheduler, type RunOptions, type RunResult } from '../kernel/proc/scheduler.js';
import { Runtime, programBody, type ProgramMain } from '../userland/runtime.js';

export interface RunProgramOptions {
  name?: string;
  cred?: Credentials;
  /** Pin the main thread to this CPU. */
  cpu?: number;
  /** Switch strace on from the first call. */
  trace?: boolean;
}

/** Start a program as a new process; the scheduler runs it (see runUntilDone). Returns the process. */
export function runProgram(kernel: Kernel, main: ProgramMain | { main: ProgramMain; name?: string }, opts: RunProgramOptions = {}): Process {
  const fn = typeof main === 'function' ? main : main.main;
  const name = opts.name ?? (typeof main === 'function' ? main.name || 'program' : main.name ?? 'program');
  const p = kernel.spawn(name, opts.cred ?? { uid: 1000, gid: 1000 }, { affinity: opts.cpu ?? -1 });
  p.traced = opts.trace ?? false;
  const t = p.threads[0];
  t.body = programBody(kernel, t, fn);
  return p;
}

/** Run the scheduler until no thread can run (or a stop condition); returns what stopped it. */
export function runUntilDone(kernel: Kernel, opts: RunOptions = {}): RunResult {
  return new Scheduler(kernel).run(opts);
}

/**
 * A runtime for driving `thread` synchronously from the host (tests, harnesses, the shell): the
 * thread is put on its CPU now. Its calls run to completion or fail; a call that would block
 * throws (there is no scheduler to sleep in).
 */
export function attachRuntime(kernel: Kernel, thread: Thread): Runtime {
  const rt = new Runtime(kernel, thread);
  rt.resume();
  return rt;
}
