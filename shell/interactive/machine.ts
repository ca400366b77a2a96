// Building the machine the shell drives: the kernel (with SpaceJMP) and the trace runner on it,
// from the command line's options and, before anything has run, a typed or scripted `machine`
// line (the command line wins, as in `sjmp trace`; the two meet in shell/machineOptions.ts).

import { Kernel } from '../../kernel/kernel.js';
import type { MachineOptionsText } from '../../kernel/machineConfig.js';
import { TraceRunner } from '../../syscalls/trace/runner.js';
import { buildMachine, type GlobalOptions } from '../machineOptions.js';

/** A fresh machine and runner; throws RangeError with a clear message on bad settings. */
export function buildRunner(cli: GlobalOptions, script: MachineOptionsText = {}): TraceRunner {
  return new TraceRunner(new Kernel(buildMachine(cli, script)));
}
