// The machine options every subcommand shares, and how they combine with a trace's own
// `machine` line: the command line wins over the script, the script over the defaults.

import { Command, Option } from 'commander';
import { machineFromOptions, type MachineConfig, type MachineOptionsText, DEFAULT_MACHINE } from '../kernel/machineConfig.js';

export interface GlobalOptions extends MachineOptionsText {
  debug?: boolean;
}

export function addMachineOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--paging <levels>', 'page-table levels: 4 (48-bit) or 5 (57-bit, LA57)'))
    .addOption(new Option('--mem <size>', 'physical memory presented, e.g. 4G, 64G (backed lazily)'))
    .addOption(new Option('--nodes <n>', 'NUMA nodes'))
    .addOption(new Option('--cpus <n>', 'CPU cores'))
    .addOption(new Option('--profile <name>', 'cost profile: m2 (default), m2-barrelfish, m3 (Haswell EP, Figure 48\'s machine), zero'))
    .addOption(new Option('--costs <list>', 'cost overrides, e.g. syscall=500,walkRef=20'))
    .addOption(new Option('--tlb <spec>', 'TLB geometry: skylake (default), haswell, small, with overrides like stlb=2048/16'))
    .addOption(new Option('--tags <policy>', 'default TLB tag policy of address spaces: flush (tag 0) or tagged (PCIDs)'))
    .addOption(new Option('--caches <on|off>', 'model the data caches (L1D, L2, shared LLC per node) under the MMU; off (default) = every access an L1D hit'))
    .addOption(new Option('--seed <n>', 'seed of every modelled random choice'))
    .addOption(new Option('--aslr', 'randomise each process\'s mmap base from the seed'))
    .addOption(new Option('--debug', 'show stack traces on errors'));
}

/** Machine options given on the command line (only those actually given). */
export function givenMachineOptions(o: GlobalOptions): MachineOptionsText {
  const out: MachineOptionsText = {};
  for (const k of ['paging', 'mem', 'nodes', 'cpus', 'profile', 'costs', 'seed', 'tlb', 'tags', 'aslr', 'caches'] as const) {
    if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
  }
  return out;
}

/** Build the machine: defaults, then `script` settings, then the command line. */
export function buildMachine(cli: GlobalOptions, script: MachineOptionsText = {}, base: MachineConfig = DEFAULT_MACHINE): MachineConfig {
  return machineFromOptions(givenMachineOptions(cli), machineFromOptions(script, base));
}
