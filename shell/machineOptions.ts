// The machine options every subcommand shares, and the one adapter between them and a trace's
// `machine` line: the line's settings become option text (machineLineOptions), options become a
// `machine` line again (machineLineText, for the shell's `save`), and the command line wins over
// the script, the script over the defaults (buildMachine). `sjmp trace` and the shell both use it.

import { Command, Option } from 'commander';
import { machineFromOptions, type MachineConfig, type MachineOptionsText, DEFAULT_MACHINE } from '../kernel/machineConfig.js';
import type { MachineSetting } from '../syscalls/trace/index.js';

export interface GlobalOptions extends MachineOptionsText {
  debug?: boolean;
}

export function addMachineOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--paging <levels>', 'page-table levels: 4 (48-bit) or 5 (57-bit, LA57)'))
    .addOption(new Option('--mem <size>', 'physical memory presented, e.g. 4G, 64G (backed lazily)'))
    .addOption(new Option('--nodes <n>', 'NUMA nodes'))
    .addOption(new Option('--cpus <n>', 'CPU cores'))
    .addOption(new Option('--profile <name>', 'cost profile: m2 (default), m2-barrelfish, zero'))
    .addOption(new Option('--costs <list>', 'cost overrides, e.g. syscall=500,walkRef=20'))
    .addOption(new Option('--tlb <spec>', 'TLB geometry: skylake (default), haswell, small, with overrides like stlb=2048/16'))
    .addOption(new Option('--tags <policy>', 'default TLB tag policy of address spaces: flush (tag 0) or tagged (PCIDs)'))
    .addOption(new Option('--seed <n>', 'seed of every modelled random choice'))
    .addOption(new Option('--aslr', 'randomise each process\'s mmap base from the seed'))
    .addOption(new Option('--debug', 'show stack traces on errors'));
}

const OPTION_KEYS = ['paging', 'mem', 'nodes', 'cpus', 'profile', 'costs', 'seed', 'tlb', 'tags', 'aslr'] as const;

/** Machine options given on the command line (only those actually given). */
export function givenMachineOptions(o: GlobalOptions): MachineOptionsText {
  const out: MachineOptionsText = {};
  for (const k of OPTION_KEYS) {
    if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
  }
  return out;
}

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
  return parts.length ? `machine ${parts.join(' ')}` : null;
}

/** Build the machine: defaults, then `script` settings, then the command line. */
export function buildMachine(cli: GlobalOptions, script: MachineOptionsText = {}, base: MachineConfig = DEFAULT_MACHINE): MachineConfig {
  return machineFromOptions(givenMachineOptions(cli), machineFromOptions(script, base));
}
