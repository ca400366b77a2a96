// TLB tagging benchmark (issue 4, Benchmarks (2); the reference's Figure 47). Prints one JSON
// document on stdout, progress on stderr; never pass/fail.
//
// For a working set of P pages (4 KiB) of a segment that two attached spaces both map (one
// segment in two named spaces, each attached by the process, so the same frames at the same
// addresses), each iteration makes a CR3 write and then loads one 32-bit word (one cache line)
// from a randomly chosen page. The figure is the modelled cycles of that load alone (cpu.clock
// read just before and just after it), not of the switch. Series:
//   untagged          vas_switch (syscall path) to the other space; tag 0: the CR3 load flushes
//   tagged            vas_switch to the other space; each space has its own PCID (no flush). Both
//                     spaces hold their own copy of every translation: twice the TLB pressure
//   taggedSameSpace   the CR3 rewritten with the current space and its PCID, no flush (the
//                     kernel's loadSpace; no vas_switch): the reference's literal "write to CR3"
//   noSwitch          no CR3 write at all: the baseline
// Page choice and line offset come from a seeded generator, the same sequence for every series.
// Every series runs with caches off and on (m2's geometry): with caches on each point starts cold
// and warms every line of the working set once, and walk references cost the level serving them.

import { syscall } from '../syscalls/dispatch.js';
import { Rng } from '../kernel/rng.js';
import { resolveProfile } from '../mmu/costModel.js';
import { GiB } from '../mmu/units.js';
import { DEFAULT_MACHINE } from '../kernel/machineConfig.js';
import { describeCacheGeometry } from '../mmu/cache.js';
import type { CostParams } from '../mmu/costModel.js';
import type { TlbGeometry } from '../mmu/tlb.js';
import { switchRig, setTags, type SwitchRig } from './vasSwitch.js';
import { hostJson, loadAverage } from './timing.js';

export type Fig47Series = 'untagged' | 'tagged' | 'taggedSameSpace' | 'noSwitch';
export const FIG47_SERIES: readonly Fig47Series[] = ['untagged', 'tagged', 'taggedSameSpace', 'noSwitch'];

export const DEFAULT_PAGES = Array.from({ length: 15 }, (_, i) => 2 ** i); // 1 .. 16384

export interface Fig47Point {
  pages: number;
  series: Fig47Series;
  accesses: number;
  /** Modelled cycles of the load alone, averaged over the measured accesses. */
  cyclesPerAccess: number;
  l1HitRate: number;
  stlbHitRate: number;
  walksPerAccess: number;
  refsPerWalk: number;
  /** Modelled cycles of the CR3 write (the switch, syscall included) per iteration; 0 for noSwitch. */
  switchCyclesPerIteration: number;
}

export interface Fig47Options {
  pages?: readonly number[];
  accesses?: number;
  /** Warm-up iterations for a working set of P pages (not measured). */
  warmup?: (pages: number) => number;
  seed?: number;
  series?: readonly Fig47Series[];
  profile?: string;
  /** Model the data caches (profile's geometry): the load and every walk reference look lines up. */
  caches?: boolean;
}

export function defaultWarmup(pages: number): number {
  return Math.min(8 * pages + 500, 20_000);
}

/** Run the Figure 47 experiment; one point per (series, working-set size). */
export function measureFigure47(opts: Fig47Options = {}): Fig47Point[] {
  const pagesList = opts.pages ?? DEFAULT_PAGES;
  const accesses = opts.accesses ?? 16_384;
  const warmup = opts.warmup ?? defaultWarmup;
  const seed = opts.seed ?? 47;
  const maxPages = Math.max(...pagesList);
  const rig = switchRig({ profile: resolveProfile(opts.profile ?? 'm2'), segPages: maxPages, tagged: false, memBytes: Math.max(1 * GiB, 2 ** Math.ceil(Math.log2(maxPages * 4096 * 4))), caches: opts.caches ?? false });
  const out: Fig47Point[] = [];
  for (const series of opts.series ?? FIG47_SERIES) {
    setTags(rig, series === 'tagged' || series === 'taggedSameSpace');
    enterSpace(rig, rig.vhA);
    for (const pages of pagesList) {
      const rng = new Rng(seed + pages);
      // Every series draws the same lines: with caches on, start each point cold, or a later series
      // would find the lines an earlier one left in the LLC. The warm-up then warms them as it goes.
      coldCaches(rig);
      warmLines(rig, pages);
      run(rig, series, pages, warmup(pages), rng);
      out.push(run(rig, series, pages, accesses, rng));
    }
  }
  return out;
}

function coldCaches(r: SwitchRig): void {
  for (const cpu of r.k.cpus) {
    const h = cpu.caches;
    if (h === null) continue;
    h.l1d.clear();
    h.l2.clear();
    h.llc.clear();
  }
}

/**
 * With caches on, load every line of the working set once (no switches): the caches then hold what
 * a long random run would leave in them (a random run over W bytes keeps the last C bytes touched
 * of a C-byte cache), where a warm-up of a few thousand random loads would leave most lines cold.
 */
function warmLines(r: SwitchRig, pages: number): void {
  const cpu = r.k.enter(r.t);
  if (cpu.caches === null) return;
  for (let p = 0; p < pages; p++) for (let l = 0; l < 64; l++) cpu.load32(r.segBase + p * 4096 + l * 64);
}

function enterSpace(r: SwitchRig, vh: number): void {
  const res = syscall(r.k, r.t, 'vas_switch', [vh]);
  if (res !== 0) throw new Error(`bench: vas_switch(${vh}) returned ${String(res)}`);
}

/** `n` iterations of: CR3 write (per series), then one load from a random page; returns the point. */
function run(r: SwitchRig, series: Fig47Series, pages: number, n: number, rng: Rng): Fig47Point {
  const { k, t } = r;
  const cpu = k.enter(t);
  const base = r.segBase;
  let loadCycles = 0;
  let switchCycles = 0;
  let l1Misses = 0;
  let stlbHits = 0;
  let walks = 0;
  let refs = 0;
  let inA = t.vh === r.vhA;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const s0 = cpu.clock;
    if (series === 'untagged' || series === 'tagged') {
      inA = !inA;
      if (syscall(k, t, 'vas_switch', [inA ? r.vhA : r.vhB]) !== 0) throw new Error('bench: vas_switch failed');
    } else if (series === 'taggedSameSpace') {
      k.loadSpace(cpu, t.space, true);
    }
    const va = base + rng.below(pages) * 4096 + rng.below(64) * 64;
    const m0 = cpu.l1Misses;
    const h0 = cpu.stlbHits;
    const w0 = cpu.walks;
    const r0 = cpu.walkRefs;
    const c0 = cpu.clock;
    sink = (sink + cpu.load32(va)) | 0;
    const c1 = cpu.clock;
    loadCycles += c1 - c0;
    switchCycles += c0 - s0;
    l1Misses += cpu.l1Misses - m0;
    stlbHits += cpu.stlbHits - h0;
    walks += cpu.walks - w0;
    refs += cpu.walkRefs - r0;
  }
  if (sink === 0x7fffffff) process.stderr.write(''); // keep the loads observable
  return {
    pages,
    series,
    accesses: n,
    cyclesPerAccess: round(loadCycles / n),
    l1HitRate: round(1 - l1Misses / n, 4),
    stlbHitRate: round(stlbHits / n, 4),
    walksPerAccess: round(walks / n, 4),
    refsPerWalk: walks ? round(refs / walks) : 0,
    switchCyclesPerIteration: round(switchCycles / n),
  };
}

function round(x: number, d = 3): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

type Fig47Row = { pages: number; workingSet: string; untagged: number; tagged: number; taggedSameSpace: number; noSwitch: number; taggedSpeedup: number };

/** What the curves show, in words, from the rows of one run. */
function summarise(rows: Fig47Row[], caches: boolean, p: CostParams, tlb: TlbGeometry): string {
  const small = rows[0];
  const big = rows.at(-1)!;
  const firstLoss = rows.find((r) => r.tagged > 1.5 * small.tagged);
  return `modelled cycles (profile m2) of one load from a random page after a CR3 write, the switch excluded. ` +
    `Within TLB reach: ${small.pages} page untagged ${small.untagged} vs tagged ${small.tagged} (the same-space CR3 rewrite ${small.taggedSameSpace}, no CR3 write ${small.noSwitch}), ${small.taggedSpeedup}x; ` +
    `tagged is above no-CR3-write there because the switch's kernel references take L1 DTLB entries under both tags (an STLB hit afterwards). ` +
    (firstLoss ? `Tagged first rises at ${firstLoss.pages} pages (${firstLoss.tagged})${caches ? ' as the data lines stop fitting the L1D and L2' : ': two spaces keep two copies of each translation'}. ` : '') +
    `Beyond the ${tlb.l1_4k.entries}+${tlb.stlb.entries}-entry reach the benefit tails off: at ${big.pages} pages (${big.workingSet}) untagged ${big.untagged}, tagged ${big.tagged}, no CR3 write ${big.noSwitch} (tagged gains ${big.taggedSpeedup}x). ` +
    (caches
      ? `With caches the walk's upper-level lines stay in L1D/L2 and the data line's own miss dominates as the working set outgrows the caches, so the tagged and untagged curves meet, as in the reference.`
      : `Without caches untagged stays at a full ${p.dataAccess}+4x${p.walkRef}-cycle walk (its flush empties the paging-structure caches and every walk reference costs a flat ${p.walkRef}), so the curves do not meet; run with caches on for that.`);
}

interface Args { accesses: number; seed: number; pages: number[] }

function parseArgs(argv: string[]): Args {
  const a: Args = { accesses: 16_384, seed: 47, pages: DEFAULT_PAGES };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = Number(argv[i + 1]);
    if (k === '--accesses' && Number.isSafeInteger(v) && v > 0) { a.accesses = v; i++; }
    else if (k === '--seed' && Number.isSafeInteger(v) && v >= 0) { a.seed = v; i++; }
    else if (k === '--max-pages' && Number.isSafeInteger(v) && v >= 1 && v <= 2 ** 18) { a.pages = DEFAULT_PAGES.concat([32768, 65536, 131072, 262144]).filter((p) => p <= v); i++; }
    else if (k === '--quick') { a.accesses = 2048; a.pages = DEFAULT_PAGES.filter((p) => p <= 4096); }
    else throw new RangeError(`bench tlb-tagging: bad argument "${k}" (use --accesses N, --seed N, --max-pages N, --quick)`);
  }
  return a;
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const log = (s: string): void => { process.stderr.write(`[bench tlb-tagging] ${s}\n`); };
  const load0 = loadAverage();
  const t0 = performance.now();
  const profile = resolveProfile('m2');
  const tlb = DEFAULT_MACHINE.tlb;
  const runs = ([false, true] as const).map((caches) => {
    const points: Fig47Point[] = [];
    for (const series of FIG47_SERIES) {
      const ts = performance.now();
      points.push(...measureFigure47({ pages: args.pages, accesses: args.accesses, seed: args.seed, series: [series], caches }));
      log(`caches ${caches ? 'on' : 'off'}, ${series}: ${((performance.now() - ts) / 1000).toFixed(1)} s`);
    }
    const get = (s: Fig47Series, p: number): Fig47Point => points.find((x) => x.series === s && x.pages === p)!;
    const rows = args.pages.map((p) => ({
      pages: p,
      workingSet: `${(p * 4) >= 1024 ? `${(p * 4) / 1024} MiB` : `${p * 4} KiB`}`,
      untagged: get('untagged', p).cyclesPerAccess,
      tagged: get('tagged', p).cyclesPerAccess,
      taggedSameSpace: get('taggedSameSpace', p).cyclesPerAccess,
      noSwitch: get('noSwitch', p).cyclesPerAccess,
      taggedSpeedup: round(get('untagged', p).cyclesPerAccess / get('tagged', p).cyclesPerAccess, 3),
    }));
    return { caches, rows, points, summary: summarise(rows, caches, profile.params, tlb) };
  });
  const [off, on] = runs;
  const summary = `Caches off: ${off.summary} Caches on: ${on.summary}`;
  const doc = {
    bench: 'tlb-tagging',
    figure: 'reference Figure 47: latency to access one cache line within a random page between CR3 writes, tagged vs untagged',
    node: process.version,
    host: hostJson(load0),
    clocks: {
      modelled: `modelled cycles, profile ${profile.name} (${profile.description}); every figure in this document is this clock except runSeconds`,
      wallClock: 'runSeconds only: emulator wall-clock (host) time of the run',
    },
    profile: { name: profile.name, dataAccess: profile.params.dataAccess, stlbHit: profile.params.stlbHit, walkRef: profile.params.walkRef },
    config: {
      pageSize: '4 KiB',
      tlb: { l1Dtlb4k: tlb.l1_4k, stlb: tlb.stlb, pagingStructureCaches: tlb.psc, reach: `${tlb.l1_4k.entries} + ${tlb.stlb.entries} entries (Skylake geometry)` },
      accessesPerPoint: args.accesses,
      warmup: 'min(8 * pages + 500, 20000) unmeasured iterations before each point; with caches on the caches are emptied and then every line of the working set is loaded once first',
      seed: args.seed,
      method: 'each iteration: a CR3 write (per series), then one 32-bit load at a seeded random page and 64-byte line; cycles = cpu.clock after the load minus before it (the switch excluded)',
      spaces: 'one segment attached to two named spaces; the process attaches both and alternates between the two shadows (same frames, same addresses, separate page tables)',
    },
    series: {
      untagged: 'vas_switch to the other attached space, tag 0 (CR3 load flushes the TLB and paging-structure caches); the syscall path\'s kernel references refill their own entries, competing with the user\'s',
      tagged: 'vas_switch to the other attached space, one PCID per space (no flush; the two spaces hold duplicate entries, the kernel\'s included)',
      taggedSameSpace: 'CR3 rewritten with the current space and its PCID, no-flush bit set (kernel loadSpace, no syscall): one copy of each translation',
      noSwitch: 'no CR3 write between loads',
    },
    cachesOff: { clock: `modelled cycles, profile ${profile.name}, caches off (every access an L1D hit; walk references ${profile.params.walkRef} cycles each)`, rows: off.rows, points: off.points, summary: off.summary },
    cachesOn: { clock: `modelled cycles, profile ${profile.name}, caches on (${describeCacheGeometry(profile.caches)}; data and page-table lines looked up; caches warmed by one pass over the working set before each point)`, rows: on.rows, points: on.points, summary: on.summary },
    summary,
    runSeconds: round((performance.now() - t0) / 1000, 1),
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}
