// The machine options every subcommand shares, and the one adapter between them and a trace's
// `machine` line: the line's settings become option text (machineLineOptions), options become a
// `machine` line again (machineLineText, for the shell's `save`), and the command line wins over
// the script, the script over the defaults (buildMachine). `sjmp trace` and the shell both use it.

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

const OPTION_KEYS = ['paging', 'mem', 'nodes', 'cpus', 'profile', 'costs', 'seed', 'tlb', 'tags', 'aslr', 'caches'] as const;

/** Machine options given on the command line (only those actually given). */
export function givenMachineOptions(o: GlobalOptions): MachineOptionsText {
  const out: MachineOptionsText = {};
  for (const k of OPTION_KEYS) {
    if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
  }
  return out;
}

export { machineLineOptions } from '../syscalls/trace/machineLine.js';

/** Option text merged: later sources win key by key (script settings, then the command line). */
export function mergeMachineOptions(...layers: MachineOptionsText[]): MachineOptionsText {
  return Object.assign({}, ...layers.map((l) => givenMachineOptions(l)));
}

/**
 * Option text as a `machine` line that machineLineOptions reads back to the same options, or
 * null when there is nothing to say (the defaults). Words with characters a bare value cannot
 * hold are quoted.
 */
export function machineLineText(o: MachineOptionsText): string | null {
  const word = (v: string) => (/^[A-Za-z0-9_]+(-[A-Za-z0-9_]+)*$/.test(v) ? v : JSON.stringify(v));
  const parts: string[] = [];
  if (o.paging !== undefined) parts.push(`paging=${o.paging}`);
  if (o.mem !== undefined) parts.push(`mem=${o.mem}`);
  if (o.nodes !== undefined) parts.push(`nodes=${o.nodes}`);
  if (o.cpus !== undefined) parts.push(`cpus=${o.cpus}`);
  if (o.profile !== undefined) parts.push(`profile=${word(o.profile)}`);
  if (o.costs !== undefined) parts.push(`cost=${JSON.stringify(o.costs)}`);
  if (o.tlb !== undefined) parts.push(`tlb=${word(o.tlb)}`);
  if (o.tags !== undefined) parts.push(`pcid=${o.tags === 'tagged' ? 'on' : 'off'}`);
  if (o.seed !== undefined) parts.push(`seed=${o.seed}`);
  if (o.aslr !== undefined) parts.push(`aslr=${o.aslr === true || o.aslr === 'on' || o.aslr === 'true' ? 'on' : 'off'}`);
  if (o.caches !== undefined) parts.push(`caches=${o.caches === true || o.caches === 'on' || o.caches === 'true' ? 'on' : 'off'}`);
  return parts.length ? `machine ${parts.join(' ')}` : null;
}

/** Build the machine: defaults, then `script` settings, then the command line. */
export function buildMachine(cli: GlobalOptions, script: MachineOptionsText = {}, base: MachineConfig = DEFAULT_MACHINE): MachineConfig {
  return machineFromOptions(givenMachineOptions(cli), machineFromOptions(script, base));
}
