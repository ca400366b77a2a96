// The one shape of every `--json` document sjmp prints (docs/json.md): an object with the schema
// `version`, the `command` that made it, whether it `ok`, and the command's own fields. Machines
// are structured fields (machineJson), never the prose of describeMachine. Commands import this
// instead of JSON.stringify-ing their own shapes, so a consumer parses one envelope everywhere.

import type { MachineConfig } from '../kernel/machineConfig.js';
import type { TlbGeometry } from '../mmu/tlb.js';
import { programCostsOf, type CostParams, type ProgramCosts } from '../mmu/costModel.js';
import { profileOverrides } from './programCosts.js';
import type { CacheGeometry } from '../mmu/cache.js';

/** Bumped when a field changes meaning or disappears (adding fields does not bump it). */
export const JSON_VERSION = 1;

export interface MachineJson {
  /** Page-table levels: 4 (48-bit virtual addresses) or 5 (57-bit). */
  paging: number;
  /** Physical memory presented, in bytes. */
  memBytes: number;
  nodes: number;
  cpus: number;
  /** Cost profile of the modelled cycles, with every parameter. */
  profile: {
    name: string;
    params: CostParams;
    /** The parameters --costs changed from the named profile's. */
    overrides: Record<string, number>;
    /** The program-side parameters (the view programs read as rt.costs). */
    programCosts: ProgramCosts;
  };
  seed: number;
  aslr: boolean;
  /** Default TLB tag policy of address spaces: 'flush' or 'tagged'. */
  tagPolicy: string;
  tlb: TlbGeometry;
  /** Data caches modelled ('on', with the profile's geometry) or not ('off': every access an L1D hit). */
  caches: 'on' | 'off';
  cacheGeometry?: CacheGeometry;
}

export function machineJson(c: MachineConfig): MachineJson {
  return {
    paging: c.paging, memBytes: c.memBytes, nodes: c.nodes, cpus: c.cpus,
    profile: { name: c.profile.name, params: { ...c.profile.params }, overrides: profileOverrides(c.profile), programCosts: programCostsOf(c.profile.params) },
    seed: c.seed, aslr: c.aslr, tagPolicy: c.tagPolicy, tlb: c.tlb,
    caches: c.caches ? 'on' : 'off',
    ...(c.caches ? { cacheGeometry: c.profile.caches } : {}),
  };
}

export type JsonEnvelope<T extends object> = { version: number; command: string; ok: boolean } & T;

/** Wrap a command's result: `{ version, command, ok, ...body }`. */
export function jsonEnvelope<T extends object>(command: string, ok: boolean, body: T): JsonEnvelope<T> {
  return { version: JSON_VERSION, command, ok, ...body };
}

/** The document as printed: two-space indented, bigints as decimal strings, one trailing newline. */
export function formatJson(doc: object): string {
  return JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
}
