// The emulated machine's shape: paging mode, memory, NUMA nodes, CPUs, TLB geometry, cost
// profile, seed. Everything a report must name to be reproducible.

import type { PagingMode } from '../mmu/address.js';
import { resolveProfile, type CostProfile } from '../mmu/costModel.js';
import { SKYLAKE_TLB, parseTlbGeometry, type TlbGeometry } from '../mmu/tlb.js';
import { GiB, parseSize, formatSize } from '../mmu/units.js';

export type TagPolicy = 'flush' | 'tagged';

export interface MachineConfig {
  paging: PagingMode;
  memBytes: number;
  nodes: number;
  cpus: number;
  profile: CostProfile;
  seed: number;
  tlb: TlbGeometry;
  /** Randomise the mmap base per process from the seed. */
  aslr: boolean;
  /** Default TLB tag policy for address spaces: 'flush' (tag 0, the reference's default) or 'tagged'. */
  tagPolicy: TagPolicy;
}

export const DEFAULT_MACHINE: MachineConfig = {
  paging: 4,
  memBytes: 4 * GiB,
  nodes: 1,
  cpus: 4,
  profile: resolveProfile('m2'),
  seed: 1,
  tlb: SKYLAKE_TLB,
  aslr: false,
  tagPolicy: 'flush',
};

export interface MachineOptionsText {
  paging?: string | number;
  mem?: string | number;
  nodes?: string | number;
  cpus?: string | number;
  profile?: string;
  costs?: string;
  seed?: string | number;
  aslr?: boolean | string;
  tags?: string;
  tlb?: string;
}

function int(name: string, v: string | number, min: number, max: number): number {
  const n = typeof v === 'number' ? v : Number(String(v).replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`--${name} must be an integer in ${min}..${max}, got "${v}"`);
  return n;
}

/** Build a config from textual options (command line, trace `machine` line); throws a clear RangeError. */
export function machineFromOptions(o: MachineOptionsText, base: MachineConfig = DEFAULT_MACHINE): MachineConfig {
  const c: MachineConfig = { ...base };
  if (o.paging !== undefined) {
    const p = int('paging', o.paging, 4, 5);
    c.paging = p as PagingMode;
  }
  if (o.mem !== undefined) {
    let bytes: number;
    try { bytes = typeof o.mem === 'number' ? o.mem : parseSize(String(o.mem)); } catch { throw new RangeError(`--mem: not a size: "${o.mem}" (use e.g. 4G, 64G)`); }
    if (bytes < 64 * 2 ** 20 || bytes > 2 ** 46) throw new RangeError(`--mem must be between 64M and 64T, got ${o.mem}`);
    c.memBytes = bytes;
  }
  if (o.nodes !== undefined) c.nodes = int('nodes', o.nodes, 1, 16);
  if (o.cpus !== undefined) c.cpus = int('cpus', o.cpus, 1, 256);
  if (o.profile !== undefined || o.costs !== undefined) c.profile = resolveProfile(o.profile ?? base.profile.name.split('+')[0], o.costs ?? '');
  if (o.seed !== undefined) c.seed = int('seed', o.seed, 0, 2 ** 31 - 1);
  if (o.aslr !== undefined) c.aslr = o.aslr === true || o.aslr === 'on' || o.aslr === 'true';
  if (o.tags !== undefined) {
    if (o.tags !== 'flush' && o.tags !== 'tagged') throw new RangeError(`--tags must be flush or tagged, got "${o.tags}"`);
    c.tagPolicy = o.tags;
  }
  if (o.tlb !== undefined) c.tlb = parseTlbGeometry(o.tlb);
  if (c.memBytes % (c.nodes * 2 * 2 ** 20) !== 0) throw new RangeError(`--mem ${formatSize(c.memBytes)} does not split into ${c.nodes} nodes of whole 2M units`);
  return c;
}

/** One line naming the machine and its cost profile, as every report prints it. */
export function describeMachine(c: MachineConfig): string {
  return `${c.cpus} CPUs, ${formatSize(c.memBytes)} in ${c.nodes} node${c.nodes > 1 ? 's' : ''}, ${c.paging}-level paging, profile ${c.profile.name}, seed ${c.seed}, TLB tags: ${c.tagPolicy}`;
}
