// GUPS benchmark (issue 6): in one run, the raw typed-array GUPS loop (userland/gups/hpcc.ts
// rawGupsLoop) over a table of the same size, and the three designs (MAP, MP, VAS) on the emulator
// at a few configurations, each with its emulator wall-clock MUPS, its ratio to the raw loop of
// the same run, and its modelled MUPS. Prints ONE JSON document on stdout; progress on stderr.
//
//   npm run -s bench -- gups                  tables 64M,256M; windows 1,2,8; U 16,64; 4K and 2M
//   npm run -s bench -- gups --quick          a small subset (64M, windows 1,8, U 16)
//   npm run -s bench -- gups --scale          the VAS design on big tables (2M pages, few updates):
//                                             process RSS / arrayBuffers against touched bytes
// Options: --tables 64M,256M --windows 1,2,8 --update-sets 16,64 --page-sizes 4K,2M
//          --designs map,mp,vas --updates N --map-updates N --raw-reps N
//          --scale-tables 2G,4G,8G (with --scale)
//
// Two clocks, never mixed: `modelled` MUPS are updates per modelled second of the emulated
// machine (profile m2); `wall` MUPS are updates per host second the emulator takes.
// MAP remaps a whole window (munmap + mmap MAP_POPULATE: every PTE of the window rewritten) at
// nearly every window change, so it runs with fewer updates (--map-updates); rates are per update.

import os from 'node:os';
import { DEFAULT_MACHINE, describeMachine, type MachineConfig } from '../kernel/machineConfig.js';
import { Kernel } from '../kernel/kernel.js';
import { runGups, machineFor, type GupsResult } from '../lab/gups/engine.js';
import { createTable, rawGupsLoop } from '../userland/gups/hpcc.js';
import { GUPS_DESIGNS, type GupsDesign, type GupsParams } from '../userland/gups/designs.js';
import { parseSize, formatSize, MiB } from '../mmu/units.js';
import { hostJson, loadAverage } from './timing.js';

interface Args {
  tables: number[];
  windows: number[];
  updateSets: number[];
  pageSizes: (4096 | 2097152)[];
  designs: GupsDesign[];
  updates: number;
  mapUpdates: number;
  rawReps: number;
  scale: boolean;
  scaleTables: number[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    tables: [64 * MiB, 256 * MiB], windows: [1, 2, 8], updateSets: [16, 64], pageSizes: [4096, 2097152],
    designs: [...GUPS_DESIGNS], updates: 1 << 20, mapUpdates: 1 << 16, rawReps: 5, scale: false,
    scaleTables: [2 * 1024 * MiB, 4 * 1024 * MiB, 8 * 1024 * MiB],
  };
  const nums = (v: string): number[] => v.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`bench gups: "${s}" is not a positive integer`);
    return n;
  });
  const sizes = (v: string): number[] => v.split(',').map((s) => parseSize(s.trim()));
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    const need = (): string => { if (v === undefined) throw new RangeError(`bench gups: ${k} needs a value`); i++; return v; };
    if (k === '--quick') { a.tables = [64 * MiB]; a.windows = [1, 8]; a.updateSets = [16]; a.updates = 1 << 18; a.mapUpdates = 1 << 14; a.rawReps = 3; a.scaleTables = [1024 * MiB, 2048 * MiB]; }
    else if (k === '--scale') a.scale = true;
    else if (k === '--tables') a.tables = sizes(need());
    else if (k === '--scale-tables') a.scaleTables = sizes(need());
    else if (k === '--windows') a.windows = nums(need());
    else if (k === '--update-sets') a.updateSets = nums(need());
    else if (k === '--updates') a.updates = parseSize(need());
    else if (k === '--map-updates') a.mapUpdates = parseSize(need());
    else if (k === '--raw-reps') a.rawReps = nums(need())[0];
    else if (k === '--page-sizes') {
      a.pageSizes = need().split(',').map((s) => {
        const p = s.trim().toUpperCase();
        if (p === '4K') return 4096;
        if (p === '2M') return 2097152;
        throw new RangeError(`bench gups: page size 4K or 2M, got "${s}"`);
      });
    } else if (k === '--designs') {
      a.designs = need().split(',').map((s) => {
        const d = s.trim() as GupsDesign;
        if (!GUPS_DESIGNS.includes(d)) throw new RangeError(`bench gups: unknown design "${s}"`);
        return d;
      });
    } else throw new RangeError(`bench gups: bad argument "${k}"`);
  }
  return a;
}

const log = (s: string): void => { process.stderr.write(`[bench gups] ${s}\n`); };
const round = (x: number, d = 3): number => Number(x.toFixed(d));

/** The raw loop over a host table of `log2Table` words: best and median of `reps` calls (MUPS). */
function rawRate(log2Table: number, updates: number, reps: number): { bestMups: number; medianMups: number; reps: number } {
  const table = createTable(log2Table);
  const rates: number[] = [];
  rawGupsLoop(table, Math.min(updates, 1 << 16)); // warm-up (JIT)
  for (let r = 0; r < reps; r++) {
    const ms = rawGupsLoop(table, updates, r * updates);
    rates.push(updates / (ms / 1e3) / 1e6);
  }
  rates.sort((x, y) => x - y);
  return { bestMups: rates[rates.length - 1], medianMups: rates[rates.length >> 1], reps };
}

function summarise(r: GupsResult, raw: { bestMups: number; medianMups: number }): Record<string, unknown> {
  return {
    design: r.design, windows: r.windows, updateSet: r.updateSet, pageSize: r.pageSize === 4096 ? '4K' : '2M',
    updates: r.updates,
    wall: { mups: round(r.wallMups), ms: round(r.wallMs, 1), ratioToRawMedian: round(r.wallMups / raw.medianMups, 4), ratioToRawBest: round(r.wallMups / raw.bestMups, 4) },
    modelled: { mups: round(r.modelledMups), cycles: r.modelledCycles },
    windowChanges: r.windowChanges, tlbMissesPerUpdate: round(r.tlbMissesPerUpdate, 4), walksPerUpdate: round(r.walksPerUpdate, 4),
    verification: r.verification.passed ? 'ok' : `FAILED (${r.verification.errors} errors)`, checksum: r.checksum,
  };
}

async function sweep(a: Args, machine: MachineConfig): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const tableBytes of a.tables) {
    const log2Table = Math.log2(tableBytes / 8);
    if (!Number.isInteger(log2Table)) throw new RangeError(`bench gups: table ${formatSize(tableBytes)} is not a power of two of 64-bit words`);
    log(`table ${formatSize(tableBytes)}: raw baseline`);
    const raw = rawRate(log2Table, a.updates, a.rawReps);
    const results: unknown[] = [];
    for (const pageSize of a.pageSizes) {
      for (const u of a.updateSets) {
        for (const w of a.windows) {
          if ((tableBytes / w) % pageSize !== 0) continue;
          for (const design of a.designs) {
            const updates = design === 'map' ? Math.min(a.updates, a.mapUpdates) : a.updates;
            const p: GupsParams = { design, log2Table, windows: w, updateSet: u, updates, pageSize };
            log(`table ${formatSize(tableBytes)} ${design.toUpperCase()} W=${w} U=${u} ${pageSize === 4096 ? '4K' : '2M'} (${updates} updates)`);
            results.push(summarise(await runGups(machine, p), raw));
          }
        }
      }
    }
    out.push({
      table: formatSize(tableBytes),
      raw: { clock: 'emulator wall-clock host (same process)', loop: 'rawGupsLoop on a host Int32Array', updates: a.updates, bestMups: round(raw.bestMups), medianMups: round(raw.medianMups), reps: raw.reps },
      results,
    });
  }
  return out;
}

function memNow(): { rss: number; arrayBuffers: number; heapUsed: number } {
  const m = process.memoryUsage();
  return { rss: m.rss, arrayBuffers: m.arrayBuffers, heapUsed: m.heapUsed };
}

const mib = (b: number): number => round(b / MiB, 1);

/**
 * The VAS design on a big table with 2 MiB pages. The engine's machine is built inside runGups,
 * so the host memory is read around the run (the machine is garbage once the run returns): the
 * peak RSS / arrayBuffers during the run against the bytes the emulated memory holds.
 */
async function scale(a: Args, machine: MachineConfig): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const tableBytes of a.scaleTables) {
    const log2Table = Math.log2(tableBytes / 8);
    const w = Math.max(1, Math.min(8, tableBytes / (1024 * MiB)));
    const p: GupsParams = { design: 'vas', log2Table, windows: w, updateSet: 64, updates: a.updates, pageSize: 2097152 };
    const cfg = machineFor(machine, p);
    // The run touches the whole table (HPCC initialises Table[i] = i) and verification copies one
    // window out; ask for that plus slack before trying.
    const needHost = tableBytes + tableBytes / w + 1024 * MiB;
    if (os.freemem() < needHost) {
      out.push({ table: formatSize(tableBytes), skipped: `needs about ${formatSize(needHost)} of host memory (the touched table plus one window copied out by verification); ${formatSize(os.freemem())} free now` });
      continue;
    }
    log(`scale: VAS table ${formatSize(tableBytes)} W=${w} 2M pages, presented ${formatSize(cfg.memBytes)}, ${a.updates} updates`);
    const before = memNow();
    let peak = memNow();
    const sampler = setInterval(() => {
      const m = memNow();
      if (m.rss > peak.rss) peak = m;
    }, 50);
    // runGups builds its machine inside; its emulated memory is read through a wrapper on
    // Kernel.enter (restored right after), so the resident bytes are those of the run itself.
    let resident = 0;
    let presented = 0;
    const origEnter = Kernel.prototype.enter;
    let seen: Kernel | null = null;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper records which kernel ran
    Kernel.prototype.enter = function (this: Kernel, ...args: Parameters<Kernel['enter']>) { seen = this; return origEnter.apply(this, args); };
    let r: GupsResult;
    try {
      r = await runGups(machine, p);
    } finally {
      Kernel.prototype.enter = origEnter;
      clearInterval(sampler);
    }
    const after = memNow();
    if (after.rss > peak.rss) peak = after;
    if (seen !== null) {
      const k: Kernel = seen;
      resident = k.mem.residentBytes;
      presented = k.mem.size;
    }
    out.push({
      table: formatSize(tableBytes), windows: w, pageSize: '2M', updates: a.updates,
      machine: describeMachine(cfg), presentedBytes: presented,
      touched: { residentBytes: resident, residentMiB: mib(resident), tableMiB: mib(tableBytes) },
      host: {
        before: { rssMiB: mib(before.rss), arrayBuffersMiB: mib(before.arrayBuffers) },
        peak: { rssMiB: mib(peak.rss), arrayBuffersMiB: mib(peak.arrayBuffers), heapUsedMiB: mib(peak.heapUsed) },
        after: { rssMiB: mib(after.rss), arrayBuffersMiB: mib(after.arrayBuffers) },
        peakRssOverResident: resident > 0 ? round(peak.rss / resident, 3) : null,
        note: 'peak includes one window copied out of emulated memory by verification (table / windows)',
      },
      wall: { mups: round(r.wallMups), ms: round(r.wallMs, 1) },
      modelled: { mups: round(r.modelledMups) },
      verification: r.verification.passed ? 'ok' : `FAILED (${r.verification.errors} errors)`, checksum: r.checksum,
    });
    (globalThis as { gc?: () => void }).gc?.();
  }
  return out;
}

export async function main(argv: string[]): Promise<void> {
  const a = parseArgs(argv);
  const load0 = loadAverage();
  const machine = DEFAULT_MACHINE;
  const doc: Record<string, unknown> = {
    bench: 'gups',
    node: process.version,
    host: { ...hostJson(load0), totalMemMiB: mib(os.totalmem()) },
    machine: describeMachine(machine),
    clocks: {
      wall: 'emulator wall-clock: updates per host second of the measured phase (MUPS); ratio = design / raw loop of the same run',
      modelled: `modelled MUPS: updates per modelled second, profile ${machine.profile.name} at ${machine.profile.params.clockGHz} GHz`,
    },
    targets: { vasWallRatioToRaw: 0.25 },
    work: `every rate is per update; MP and VAS apply ${a.updates} updates per run, MAP ${Math.min(a.updates, a.mapUpdates)} (--map-updates) because each of its window changes rewrites a whole window's page tables; compare designs by their per-update rates (MUPS), not by run time`,
  };
  if (a.scale) doc.scale = await scale(a, machine);
  else doc.sweep = await sweep(a, machine);
  (doc.host as Record<string, unknown>).loadAverageAtEnd = loadAverage();
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}
