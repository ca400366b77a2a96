// A GUPS sweep: designs x window counts x update-set sizes on one machine description, with a
// raw typed-array baseline measured in the same run. Shared by `sjmp gups`, the shell and bench/.

import type { MachineConfig } from '../../kernel/machineConfig.js';
import { describeMachine } from '../../kernel/machineConfig.js';
import os from 'node:os';
import { runGups, rawBaseline, machineMemoryFor, hostBytesFor, type GupsResult } from './engine.js';
import { GUPS_DESIGNS, type GupsDesign } from '../../userland/gups/designs.js';
import { parseSize, formatSize } from '../../mmu/units.js';
import { costsReport, type CostsReport } from '../programCosts.js';

/** The built-in default: small enough that the whole comparison runs in well under a minute. */
export const DEFAULT_TABLE = '1M';
export const DEFAULT_WINDOWS = '1,2,4,8';

export interface GupsPlan {
  designs: GupsDesign[];
  windows: number[];
  updateSets: number[];
  log2Table: number;
  updates: number;
  pageSize: 4096 | 2097152;
  machine: MachineConfig;
}

export interface GupsOptionsText {
  /** The machine's --mem as given (undefined: the machine grows to fit the table). */
  mem?: string | number;
  design?: string;
  windows?: string;
  updateSet?: string;
  table?: string;
  updates?: string;
  pageSize?: string;
}

export interface GupsReport {
  machine: string;
  profile: string;
  /** The profile, its --costs overrides and the program-side costs GUPS charged. */
  costs: CostsReport;
  seed: number;
  tagPolicy: string;
  /** Data caches modelled or not (docs/cost-model.md). */
  caches: 'on' | 'off';
  clockGHz: number;
  tableBytes: number;
  updates: number;
  pageSize: number;
  clocks: { modelled: string; wall: string };
  raw: { wallMs: number; mups: number } | null;
  results: GupsResult[];
}

export interface GupsProgress { done: number; total: number; label: string }

/** Check and resolve the options; throws a RangeError with one clear sentence. */
export function planGups(o: GupsOptionsText, machine: MachineConfig): GupsPlan {
  const designs = !o.design || o.design === 'all' ? [...GUPS_DESIGNS] : o.design.split(',').map((d) => d.trim());
  for (const d of designs) if (!GUPS_DESIGNS.includes(d as GupsDesign)) throw new RangeError(`--design: unknown design "${d}" (map, mp, vas or all)`);
  const list = (name: string, text: string): number[] => text.split(',').map((w) => {
    const n = Number(w.trim());
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`--${name}: "${w.trim()}" is not a positive integer`);
    return n;
  });
  let tableBytes: number;
  try { tableBytes = parseSize(o.table ?? DEFAULT_TABLE); } catch { throw new RangeError(`--table: not a size: "${o.table}"`); }
  if (tableBytes <= 0) throw new RangeError('--table must be positive');
  const words = tableBytes / 8;
  const log2Table = Math.log2(words);
  if (!Number.isInteger(log2Table)) throw new RangeError(`--table ${o.table}: HPCC tables hold a power of two of 64-bit words`);
  if (log2Table > 32) throw new RangeError('--table: at most 32G (2^32 words)');
  let pageSize: 4096 | 2097152;
  const ps = (o.pageSize ?? '4K').toUpperCase();
  if (ps === '4K' || ps === '4096') pageSize = 4096;
  else if (ps === '2M' || ps === '2097152') pageSize = 2097152;
  else throw new RangeError(`--page-size: 4K or 2M, got "${o.pageSize}"`);
  const table = formatSize(tableBytes);
  if (tableBytes < pageSize) {
    throw new RangeError(`--page-size ${formatSize(pageSize)}: the table (--table ${table}) is smaller than one page; use --table ${formatSize(pageSize)} or larger (${formatSize(pageSize)} per window), or --page-size 4K`);
  }
  const windows = list('windows', o.windows ?? DEFAULT_WINDOWS);
  for (const w of windows) {
    if ((w & (w - 1)) !== 0) throw new RangeError(`--windows: ${w} is not a power of two (a table of ${words} words splits into 1, 2, 4, ... windows)`);
    if ((tableBytes / w) % pageSize !== 0 || words % w !== 0) {
      throw new RangeError(`--windows ${w}: a window would be ${formatSize(tableBytes / w)}, not a whole number of ${formatSize(pageSize)} pages; with --table ${table} --page-size ${formatSize(pageSize)} at most ${tableBytes / pageSize} windows work (or use --table ${formatSize(w * pageSize)} or larger)`);
    }
  }
  const updateSets = list('update-set', o.updateSet ?? '16,64');
  let updates = 4 * words;
  if (o.updates !== undefined) {
    try { updates = parseSize(o.updates); } catch { throw new RangeError(`--updates: not a number: "${o.updates}"`); }
    if (updates <= 0) throw new RangeError('--updates must be positive');
  }
  if (designs.includes('mp') && Math.max(...windows) > 256) throw new RangeError('--windows: MP needs one core per window (at most 256)');
  checkMemory(tableBytes, Math.min(...windows), log2Table, machine, o.mem !== undefined);
  return { designs: designs as GupsDesign[], windows, updateSets, log2Table, updates, pageSize, machine };
}

/**
 * Impossible sizes fail here, before anything runs: the table must fit the emulated machine's
 * memory (when --mem was given; otherwise the machine is made large enough), and what the emulator
 * touches on the host (the table, a verification chunk, the raw baseline) must fit this host.
 */
function checkMemory(tableBytes: number, minWindows: number, log2Table: number, machine: MachineConfig, memGiven: boolean): void {
  const table = formatSize(tableBytes);
  const need = machineMemoryFor(machine, tableBytes);
  if (memGiven && machine.memBytes < need) {
    throw new RangeError(`--table ${table} needs at least ${formatSize(need)} of emulated memory (table, page tables, kernel); --mem ${formatSize(machine.memBytes)} is too small: use --mem ${formatSize(need)} or more, or a smaller --table`);
  }
  const host = hostBytesFor(tableBytes, minWindows, log2Table);
  const have = os.totalmem();
  if (host > 0.9 * have) {
    throw new RangeError(`--table ${table} needs about ${formatSize(roundUp(host))} of this host's memory (the emulator backs every touched byte), and this host has ${formatSize(roundUp(have))}: use --table ${formatSize(largestTable(have))} or smaller`);
  }
}

const roundUp = (b: number): number => Math.ceil(b / 2 ** 20) * 2 ** 20;
function largestTable(hostBytes: number): number {
  let t = 2 ** 20;
  while (hostBytesFor(t * 2, 1, Math.log2(t * 2 / 8)) <= 0.9 * hostBytes) t *= 2;
  return t;
}

/** Run every configuration of the plan, in order, each on a fresh machine. */
export async function runGupsPlan(plan: GupsPlan, onProgress?: (p: GupsProgress) => void, signal?: AbortSignal): Promise<GupsReport> {
  const runs = plan.updateSets.flatMap((u) => plan.windows.flatMap((w) => plan.designs.map((d) => ({ d, w, u }))));
  const total = runs.length * plan.updates;
  const raw = rawBaseline(plan.log2Table, plan.updates);
  const results: GupsResult[] = [];
  for (const [i, r] of runs.entries()) {
    const label = `run ${i + 1}/${runs.length}: ${r.d.toUpperCase()}, ${r.w} window${r.w > 1 ? 's' : ''}, update set ${r.u}`;
    const res = await runGups(plan.machine, {
      design: r.d, log2Table: plan.log2Table, windows: r.w, updateSet: r.u, updates: plan.updates, pageSize: plan.pageSize,
    }, (done) => onProgress?.({ done: i * plan.updates + done, total, label }), signal);
    results.push(res);
  }
  return {
    machine: describeMachine(plan.machine),
    profile: plan.machine.profile.name,
    costs: costsReport(plan.machine.profile, 'gups'),
    seed: plan.machine.seed,
    tagPolicy: plan.machine.tagPolicy,
    caches: plan.machine.caches ? 'on' : 'off',
    clockGHz: plan.machine.profile.params.clockGHz,
    tableBytes: 2 ** plan.log2Table * 8,
    updates: plan.updates,
    pageSize: plan.pageSize,
    clocks: { modelled: `modelled cycles of the emulated machine, profile ${plan.machine.profile.name} at ${plan.machine.profile.params.clockGHz} GHz`, wall: 'emulator wall-clock (this host)' },
    raw,
    results,
  };
}
