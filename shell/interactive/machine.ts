// Building the machine the shell drives: the kernel (with SpaceJMP) and the trace runner on it,
// from the command line's options and, before anything has run, a typed or scripted `machine`
// line (the command line wins, as in `sjmp trace`).

import { Kernel } from '../../kernel/kernel.js';
import type { MachineOptionsText } from '../../kernel/machineConfig.js';
import type { MachineSetting } from '../../syscalls/trace/index.js';
import { TraceRunner } from '../../syscalls/trace/runner.js';
import { buildMachine, type GlobalOptions } from '../machineOptions.js';

/** A `machine` line's settings as option text (the keys machineFromOptions reads). */
export function settingsToOptions(settings: Iterable<MachineSetting>): MachineOptionsText {
  const out: MachineOptionsText = {};
  const o = out as Record<string, unknown>;
  for (const s of settings) {
    const v = typeof s.value === 'bigint' ? s.value.toString() : s.value;
    if (s.key === 'pcid') out.tags = v === true || v === 'on' || v === 'true' ? 'tagged' : 'flush';
    else if (s.key === 'cost') out.costs = String(v);
    else o[s.key] = typeof v === 'boolean' ? String(v) : v;
  }
  return out;
}

/** A fresh machine and runner; throws RangeError with a clear message on bad settings. */
export function buildRunner(cli: GlobalOptions, script: MachineOptionsText = {}): TraceRunner {
  return new TraceRunner(new Kernel(buildMachine(cli, script)));
}
