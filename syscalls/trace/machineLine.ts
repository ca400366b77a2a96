// A trace's `machine` settings as machine option text: the one adapter between the machine
// statement and the command-line options (shell/machineOptions.ts re-exports it for the shell and
// `sjmp trace`; the fuzzer's reproduction check uses it so a written trace runs on the machine its
// own `machine` line says).

import type { MachineOptionsText } from '../../kernel/machineConfig.js';
import type { MachineSetting } from './ast.js';

/**
 * A `machine` line's settings as option text: `pcid=on|off` is `--tags tagged|flush`, `cost=` is
 * `--costs`, `aslr=on|off` is `--aslr`; the other keys have the option's name. Booleans come from
 * the parser already decided (it accepts on/off, true/false, yes/no, 1/0).
 */
export function machineLineOptions(settings: Iterable<MachineSetting>): MachineOptionsText {
  const out: MachineOptionsText = {};
  const o = out as Record<string, unknown>;
  for (const s of settings) {
    const v = typeof s.value === 'bigint' ? s.value.toString() : s.value;
    if (s.key === 'pcid') out.tags = v === true ? 'tagged' : 'flush';
    else if (s.key === 'aslr') out.aslr = v === true;
    else if (s.key === 'cost') out.costs = String(v);
    else o[s.key] = typeof v === 'boolean' ? String(v) : v;
  }
  return out;
}
