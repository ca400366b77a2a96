// MMU hot-path benchmark: emulator wall-clock rates of the MMU load/store path against a raw
// typed-array baseline measured in the same process, plus the modelled cycles and TLB counters of
// the emulated machine (profile m2). Prints one JSON document on stdout; progress goes to stderr.
//
// Kernels:
//   seq-load32  sequential 32-bit loads over a window the L1 DTLB covers (every access a TLB hit)
//   gups-xor64  HPCC RandomAccess updates (64-bit LFSR, table[ran & mask] ^= ran) over 256 MiB
// Each is run with 4 KiB and 2 MiB pages, in 4-level and 5-level (LA57) paging.

import { PhysicalMemory } from '../mmu/physicalMemory.js';
import { Cpu, type CpuCounters } from '../mmu/cpu.js';
import { PROFILE_M2 } from '../mmu/costModel.js';
import { CacheHierarchy, describeCacheGeometry } from '../mmu/cache.js';
import { CachedCpu } from '../mmu/cachedCpu.js';
import { KiB, MiB, GiB } from '../mmu/units.js';
import { PtBuilder, type PageSize, SIZE_BYTES } from '../test/mmu/ptBuilder.js';
import { hostJson, loadAverage, measureRate } from './timing.js';

export const REGION = 256 * MiB;
const DATA_PA = 1 * GiB;
/** 128 KiB: half the 4 KiB L1 DTLB reach (64 x 4 KiB), so the loop never leaves L1. */
export const SEQ_BYTES = 128 * KiB;
/**
 * Targets of issue 17 (emulated / raw, same run); null where it names none. Printed beside the
 * ratio, never turned into a verdict: the ratio is the result, the target is context.
 */
const TARGETS: Record<string, Record<string, number | null>> = {
  'seq-load32': { '4:4K': 0.25, '4:2M': 0.25, '5:4K': 0.25, '5:2M': 0.25 },
  'gups-xor64': { '4:4K': 0.125, '4:2M': 0.25, '5:4K': 0.10, '5:2M': null },
  'gups-xor64-batch': { '4:4K': 0.125, '4:2M': 0.25, '5:4K': 0.10, '5:2M': null },
};

interface Args { gupsOps: number; seqReps: number; reps: number; budgetMs: number; only: string | null }

function parseArgs(argv: string[]): Args {
  // Short calls, many of them, best one kept: the host may be shared, and a preempted call only
  // ever makes a rate look worse, so the best of many short calls is the least disturbed one.
  const a: Args = { gupsOps: 250_000, seqReps: 16, reps: 10, budgetMs: 1500, only: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = Number(argv[i + 1]);
    if (k === '--gups-ops' && Number.isSafeInteger(v) && v > 0) { a.gupsOps = v; i++; }
    else if (k === '--seq-reps' && Number.isSafeInteger(v) && v > 0) { a.seqReps = v; i++; }
    else if (k === '--reps' && Number.isSafeInteger(v) && v > 0) { a.reps = v; i++; }
    else if (k === '--budget-ms' && Number.isFinite(v) && v >= 0) { a.budgetMs = v; i++; }
    else if (k === '--only' && argv[i + 1]) { a.only = argv[i + 1]; i++; }
    else if (k === '--quick') { a.gupsOps = 100_000; a.seqReps = 8; a.reps = 3; a.budgetMs = 100; }
    else throw new RangeError(`bench mmu: bad argument "${k}" (use --gups-ops N, --seq-reps N, --reps N, --budget-ms N, --only KERNEL:LEVELS:SIZE[:caches], --quick)`);
  }
  return a;
}

// ---------------------------------------------------------------- kernels (kept monomorphic)

/** LFSR state as halves; HPCC: ran = (ran << 1) ^ (ran < 0 ? POLY : 0), POLY = 7. */
let ranLo = 1;
let ranHi = 0;

/** Restart the LFSR stream (the golden-counter test runs the kernels from a fixed start). */
export function resetStream(): void { ranLo = 1; ranHi = 0; }

function gupsRaw(m: Int32Array, mask: number, ops: number): void {
  let lo = ranLo;
  let hi = ranHi;
  for (let n = 0; n < ops; n++) {
    const neg = hi >> 31;
    hi = (hi << 1) | (lo >>> 31);
    lo = (lo << 1) ^ (neg & 7);
    const w = (lo & mask) << 1;
    m[w] ^= lo;
    m[w + 1] ^= hi;
  }
  ranLo = lo;
  ranHi = hi;
}

/** As gupsRaw, but each index depends on the value the previous update loaded: no overlap of misses. */
function gupsRawDependent(m: Int32Array, mask: number, ops: number): void {
  let lo = ranLo;
  let hi = ranHi;
  let x = 0;
  for (let n = 0; n < ops; n++) {
    const neg = hi >> 31;
    hi = (hi << 1) | (lo >>> 31);
    lo = (lo << 1) ^ (neg & 7);
    const w = ((lo ^ x) & mask) << 1;
    x = m[w] & 1;
    m[w] ^= lo;
    m[w + 1] ^= hi;
  }
  ranLo = lo;
  ranHi = hi;
}

export function gupsMmu(cpu: Cpu, base: number, mask: number, ops: number): void {
  let lo = ranLo;
  let hi = ranHi;
  for (let n = 0; n < ops; n++) {
    const neg = hi >> 31;
    hi = (hi << 1) | (lo >>> 31);
    lo = (lo << 1) ^ (neg & 7);
    cpu.xor64(base + (lo & mask) * 8, lo, hi);
  }
  ranLo = lo;
  ranHi = hi;
}

const BATCH = 64;
const bVa = new Float64Array(BATCH);
const bLo = new Int32Array(BATCH);
const bHi = new Int32Array(BATCH);

/** The same stream through Cpu.xor64Batch, 64 updates at a time (the same modelled accesses). */
export function gupsMmuBatch(cpu: Cpu, base: number, mask: number, ops: number): void {
  let lo = ranLo;
  let hi = ranHi;
  for (let n = 0; n < ops; n += BATCH) {
    const m = Math.min(BATCH, ops - n);
    for (let j = 0; j < m; j++) {
      const neg = hi >> 31;
      hi = (hi << 1) | (lo >>> 31);
      lo = (lo << 1) ^ (neg & 7);
      bVa[j] = base + (lo & mask) * 8;
      bLo[j] = lo;
      bHi[j] = hi;
    }
    cpu.xor64Batch(bVa, bLo, bHi, m);
  }
  ranLo = lo;
  ranHi = hi;
}

function seqRaw(m: Int32Array, firstWord: number, words: number, reps: number): number {
  let s = 0;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < words; i++) s = (s + m[firstWord + i]) | 0;
  }
  return s;
}

export function seqMmu(cpu: Cpu, va: number, bytes: number, reps: number): number {
  let s = 0;
  for (let r = 0; r < reps; r++) {
    for (let off = 0; off < bytes; off += 4) s = (s + cpu.load32(va + off)) | 0;
  }
  return s;
}

// ---------------------------------------------------------------- harness

function delta(a: CpuCounters, b: CpuCounters): Record<string, number> {
  return {
    accesses: b.accesses - a.accesses,
    l1Hits: b.l1Hits - a.l1Hits,
    l1Misses: b.l1Misses - a.l1Misses,
    stlbHits: b.stlbHits - a.stlbHits,
    stlbMisses: b.stlbMisses - a.stlbMisses,
    walks: b.walks - a.walks,
    walkRefs: b.walkRefs - a.walkRefs,
    modelledCycles: b.modelledCycles - a.modelledCycles,
  };
}

export interface Machine { cpu: Cpu; va: number; mode: 4 | 5; pageSize: PageSize; caches: boolean }

/** aliasBytes > 0: every page maps into the first aliasBytes of the data frames (host-cache resident). */
export function buildMachine(mem: PhysicalMemory, mode: 4 | 5, pageSize: PageSize, tableBase: number, aliasBytes = 0, caches = false): Machine {
  const pt = new PtBuilder(mem, mode, { base: tableBase, limit: tableBase + 4 * MiB });
  // 5-level uses a VA only LA57 can reach (2^52, PML5 index 16), still exact as a JS number.
  const va = mode === 5 ? 2 ** 52 : 0x7f00_0000_0000;
  const step = SIZE_BYTES[pageSize];
  for (let off = 0; off < REGION; off += step) {
    pt.map(va + off, DATA_PA + (aliasBytes > 0 ? off % aliasBytes : off), { size: pageSize, writable: true, user: true });
  }
  const g = PROFILE_M2.caches;
  const cpu = caches
    ? new CachedCpu(mem, { paging: mode, costs: PROFILE_M2.params, caches: CacheHierarchy.forCore(g, CacheHierarchy.newLlc(g)) })
    : new Cpu(mem, { paging: mode, costs: PROFILE_M2.params });
  cpu.writeCr3(pt.root);
  return { cpu, va, mode, pageSize, caches };
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.only !== null) {
    const ids = ['seq-load32', 'gups-xor64', 'gups-xor64-batch'].flatMap((k) => ['4:4K', '4:2M', '5:4K', '5:2M', '4:4K:caches', '4:2M:caches'].map((c) => `${k}:${c}`));
    if (!ids.includes(args.only)) throw new RangeError(`bench mmu: unknown --only "${args.only}" (one of: ${ids.join(', ')})`);
  }
  const load0 = loadAverage();
  const log = (s: string): void => { process.stderr.write(`[bench mmu] ${s}\n`); };
  const mem = new PhysicalMemory({ bytes: 2 * GiB, nodes: 1 });
  const raw = new Int32Array(REGION / 4);
  const gupsMask = REGION / 8 - 1;
  const seqWords = SEQ_BYTES / 4;
  const machines: Machine[] = [];
  let tableBase = 16 * MiB;
  for (const mode of [4, 5] as const) {
    for (const size of ['4K', '2M'] as const) {
      machines.push(buildMachine(mem, mode, size, tableBase));
      tableBase += 4 * MiB;
    }
  }
  // The same kernels with the data caches modelled (4-level only): every access then takes the
  // slow path, so these rows show what the cache model costs the emulator.
  for (const size of ['4K', '2M'] as const) {
    machines.push(buildMachine(mem, 4, size, tableBase, 0, true));
    tableBase += 4 * MiB;
  }
  const results: unknown[] = [];
  // The raw loop's rate is not one number per run: V8 may run it as on-stack-replaced code (fast,
  // the first row of a run and any --only run) and later as the regularly compiled function (the
  // seq loop measured 1,846 vs 1,231 M/s on a quiet host). Each row keeps its own ratio, and the
  // summary also divides by the best raw rate the whole run saw for that loop, the stricter figure.
  const rowsForSummary: { kernel: string; label: string; rawKey: string; mmu: number; raw: number; target: number | null }[] = [];
  for (const m of machines) {
    const label = `${m.mode}-level ${m.pageSize}${m.caches ? ' caches on' : ''}`;
    for (const kernel of ['seq-load32', 'gups-xor64', 'gups-xor64-batch'] as const) {
      const id = `${kernel}:${m.mode}:${m.pageSize}${m.caches ? ':caches' : ''}`;
      if (args.only !== null && args.only !== id) continue;
      const ops = kernel === 'seq-load32' ? seqWords * args.seqReps : args.gupsOps;
      log(`${kernel} ${label}: baseline`);
      const runRaw = kernel === 'seq-load32'
        ? (): void => { seqRaw(raw, 0, seqWords, args.seqReps); }
        : (): void => { gupsRaw(raw, gupsMask, args.gupsOps); };
      const runMmu = kernel === 'seq-load32'
        ? (): void => { seqMmu(m.cpu, m.va, SEQ_BYTES, args.seqReps); }
        : kernel === 'gups-xor64'
          ? (): void => { gupsMmu(m.cpu, m.va, gupsMask, args.gupsOps); }
          : (): void => { gupsMmuBatch(m.cpu, m.va, gupsMask, args.gupsOps); };
      runRaw(); // warm the JIT and the host pages
      const baseline = measureRate(args.reps, args.budgetMs, ops, runRaw);
      log(`${kernel} ${label}: mmu`);
      runMmu(); // warm the JIT, the emulated TLB and the A/D bits
      const before = m.cpu.counters();
      const mmu = measureRate(args.reps, args.budgetMs, ops, runMmu);
      const after = m.cpu.counters();
      const d = delta(before, after);
      const ratio = mmu.opsPerSec / baseline.opsPerSec;
      const target = m.caches ? null : TARGETS[kernel][`${m.mode}:${m.pageSize}`] ?? null;
      log(`${kernel} ${label}: ${(mmu.opsPerSec / 1e6).toFixed(1)} M/s vs raw ${(baseline.opsPerSec / 1e6).toFixed(1)} M/s = ${ratio.toFixed(3)} (target ${target === null ? 'none' : target.toFixed(3)})`);
      rowsForSummary.push({ kernel, label, rawKey: kernel === 'seq-load32' ? 'seq' : 'gups', mmu: mmu.opsPerSec, raw: baseline.opsPerSec, target });
      results.push({
        kernel,
        paging: `${m.mode}-level`,
        pageSize: m.pageSize,
        caches: m.caches ? 'on' : 'off',
        opsPerCall: ops,
        wallClock: {
          clock: 'emulator wall-clock',
          baselineOpsPerSec: baseline.opsPerSec,
          mmuOpsPerSec: mmu.opsPerSec,
          ratio: Number(ratio.toFixed(4)),
          target,
          calls: { baseline: baseline.calls, mmu: mmu.calls },
          cpuTimeRatio: Number((mmu.cpuTimeOpsPerSec / baseline.cpuTimeOpsPerSec).toFixed(4)),
        },
        modelled: {
          clock: `modelled cycles, profile ${PROFILE_M2.name}`,
          cyclesPerAccess: Number((d.modelledCycles / d.accesses).toFixed(3)),
          counters: d,
          l1HitRate: Number((d.l1Hits / d.accesses).toFixed(4)),
          walksPerAccess: Number((d.walks / d.accesses).toFixed(4)),
          refsPerWalk: d.walks ? Number((d.walkRefs / d.walks).toFixed(3)) : 0,
        },
        tlb: m.cpu.tlbCounters(),
        ...(m.caches ? { caches: m.cpu.cacheCounters() } : {}),
      });
    }
  }
  const bestRaw: Record<string, number> = {};
  for (const r of rowsForSummary) bestRaw[r.rawKey] = Math.max(bestRaw[r.rawKey] ?? 0, r.raw);
  const strictRatios: Record<string, number> = {};
  if (rowsForSummary.length > 0) log('summary (emulator wall-clock, best call; ratio to the row\'s raw loop / to the best raw rate of the run):');
  for (const r of rowsForSummary) {
    const strict = r.mmu / bestRaw[r.rawKey];
    strictRatios[`${r.kernel} ${r.label}`] = Number(strict.toFixed(4));
    log(`  ${`${r.kernel} ${r.label}`.padEnd(36)} ${(r.mmu / r.raw).toFixed(3)} / ${strict.toFixed(3)}  target ${r.target === null ? 'none' : r.target.toFixed(3)}`);
  }
  // Diagnostics: where the time goes in GUPS. The dependent raw loop is bound by the latency of
  // one random host access (no overlap); the aliased MMU runs keep every data access in the host
  // cache, so they measure the emulator's translation work alone.
  const diagnostics: unknown[] = [];
  if (args.only === null) {
    log('diagnostics');
    const dep = measureRate(args.reps, args.budgetMs, args.gupsOps, () => { gupsRawDependent(raw, gupsMask, args.gupsOps); });
    const rawGups = measureRate(args.reps, args.budgetMs, args.gupsOps, () => { gupsRaw(raw, gupsMask, args.gupsOps); });
    diagnostics.push({
      what: 'raw GUPS, each index dependent on the previous load (latency-bound: one exposed host miss per update)',
      clock: 'emulator wall-clock', opsPerSec: dep.opsPerSec, nsPerOp: Number((1e9 / dep.opsPerSec).toFixed(1)),
      rawIndependentNsPerOp: Number((1e9 / rawGups.opsPerSec).toFixed(1)),
    });
    for (const size of ['4K', '2M'] as const) {
      const m = buildMachine(mem, 4, size, tableBase, size === '4K' ? 64 * KiB : 2 * MiB);
      tableBase += 4 * MiB;
      gupsMmu(m.cpu, m.va, gupsMask, args.gupsOps);
      const r = measureRate(args.reps, args.budgetMs, args.gupsOps, () => { gupsMmu(m.cpu, m.va, gupsMask, args.gupsOps); });
      diagnostics.push({
        what: `MMU GUPS, 4-level ${size}, every page aliased onto ${size === '4K' ? '64K' : '2M'} of frames (translation work without host misses)`,
        clock: 'emulator wall-clock', opsPerSec: r.opsPerSec, nsPerOp: Number((1e9 / r.opsPerSec).toFixed(1)),
      });
    }
  }
  const doc = {
    bench: 'mmu',
    node: process.version,
    host: hostJson(load0),
    clocks: {
      wallClock: 'emulator wall-clock: host seconds the emulator takes; rates are operations per host second (best of reps)',
      modelled: `modelled cycles, profile ${PROFILE_M2.name}: cycles of the emulated machine (${PROFILE_M2.description})`,
    },
    profile: { name: PROFILE_M2.name, params: PROFILE_M2.params },
    config: {
      region: '256M', seqWindow: '128K', gupsOpsPerCall: args.gupsOps, seqPassesPerCall: args.seqReps,
      minCalls: args.reps, budgetMsPerMeasurement: args.budgetMs,
      rate: 'best call of at least minCalls short calls repeated for the budget (wall-clock); cpuTimeRatio uses process CPU time over all calls',
      tlb: 'Skylake geometry (L1 DTLB 64x4 4K, 32x4 2M; STLB 1536x12), paging-structure caches on',
      caches: `rows with caches "on": ${describeCacheGeometry(PROFILE_M2.caches)}, latencies from profile ${PROFILE_M2.name}; cache counters are cumulative over the row's warm-up and calls`,
      baseline: 'the same kernel on a host Int32Array of the same size, same LFSR stream',
    },
    results,
    ratiosToBestRawOfRun: { note: 'emulated rate / the best rate the same raw loop reached anywhere in this run (see the comment on rowsForSummary)', bestRawOpsPerSec: bestRaw, ratios: strictRatios },
    diagnostics,
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}
