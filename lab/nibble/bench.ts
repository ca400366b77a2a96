// What `sjmp nibble` and `npm run bench -- nibble` run: the YCSB scaling matrix, throughput as the
// store fills (Figures 20 and 29), and the fragmentation benchmark (Figure 14). Results come back
// as table rows, chart series and one JSON-able document; every throughput names its clock
// (modelled, with the cost profile, or emulator wall-clock).

import { costsReport, type CostsReport } from '../programCosts.js';
import { resolveProfile } from '../../mmu/costModel.js';
import { runYcsb, type KeyDist, type YcsbRunResult } from './ycsb.js';
import { entryBytes } from '../../userland/nibble/log.js';
import { PATTERNS, fragNibble, fragMalloc, fragMallocUnbounded, type FragResult } from './fragmentation.js';

export type NibbleWorkload = 'ycsb' | 'fill' | 'frag';
export type NibbleMode = 'nibble' | 'nibble2';

export interface NibbleCommandOptions {
  /** Which experiments (default: all three). */
  workloads?: NibbleWorkload[];
  /** Stores to compare (default both). */
  modes?: NibbleMode[];
  /** Cost profile of the modelled machine (default m2) and seed (default 1). */
  profile?: string;
  /** Cost overrides, as --costs takes them ("nibbleHash=60,syscall=500"). */
  costs?: string;
  seed?: number;
  /** Sockets of the emulated machine (default 2). */
  nodes?: number;
  /** Log capacity per socket, MiB (default 32). */
  capacityMiB?: number;
  blockKiB?: number;
  /** Blocks per head segment (default 4). */
  segmentBlocks?: number;
  /** Compaction threads per socket, each on its own core (default 1). */
  compactors?: number;
  // --- YCSB
  objects?: number;
  valueSize?: number;
  /** Measured operations per configuration, all threads together. */
  ops?: number;
  /** GET percentages (default 100, 95, 50, 0). */
  gets?: number[];
  dists?: KeyDist[];
  /** Client thread counts (default 1, 2, 4, 8). */
  threads?: number[];
  // --- fill sweep
  /** Fractions of capacity holding live objects (default 0.1 .. 0.9). */
  fills?: number[];
  fillThreads?: number;
  /** GET percentages for the fill sweep (default 50 and 0). */
  fillGets?: number[];
  // --- fragmentation
  fragCapacityMiB?: number;
  /** Pattern names P1..P6 (default all). */
  patterns?: string[];
}

export interface NibbleProgress {
  workload: NibbleWorkload;
  /** Configurations done and in total for this workload. */
  done: number;
  total: number;
  label: string;
}

export interface Series {
  name: string;
  x: string;
  y: string;
  points: { x: number; y: number }[];
}

export interface NibbleResults {
  profile: string;
  /** The profile, its --costs overrides and the program-side costs Nibble and its clients charged. */
  costs: CostsReport;
  clockGHz: number;
  machine: string;
  ycsb: YcsbRunResult[];
  fill: YcsbRunResult[];
  frag: FragResult[];
  /** Rows for tables, one array per workload (plain values, ready to print). */
  tables: Record<NibbleWorkload, Record<string, string | number>[]>;
  series: Series[];
  notes: string[];
}

const fmtM = (x: number): number => Math.round(x / 1e4) / 100;

function resolve(o: NibbleCommandOptions) {
  const nodes = o.nodes ?? 2;
  return {
    workloads: o.workloads ?? ['ycsb', 'fill', 'frag'],
    modes: (o.modes ?? ['nibble', 'nibble2']).map((m) => (m === 'nibble' ? 1 : 2) as 1 | 2),
    profile: o.profile ?? 'm2',
    costs: o.costs ?? '',
    seed: o.seed ?? 1,
    nodes,
    logBytesPerNode: (o.capacityMiB ?? 32) * 2 ** 20,
    blockSize: (o.blockKiB ?? 64) * 1024,
    segmentBlocks: o.segmentBlocks ?? 4,
    compactors: o.compactors ?? 1,
    objects: o.objects ?? 8000,
    valueSize: o.valueSize ?? 1024,
    ops: o.ops ?? 16000,
    gets: o.gets ?? [100, 95, 50, 0],
    dists: o.dists ?? (['uniform', 'zipfian'] as KeyDist[]),
    threads: o.threads ?? [1, 2, 4, 8],
    fills: o.fills ?? [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    fillThreads: o.fillThreads ?? 8,
    fillGets: o.fillGets ?? [50, 0],
    fragCapacity: (o.fragCapacityMiB ?? 16) * 2 ** 20,
    patterns: o.patterns ?? PATTERNS.map((p) => p.name),
  };
}

function ycsbRow(r: YcsbRunResult): Record<string, string | number> {
  return {
    store: r.store, dist: r.dist, get: r.getPct, threads: r.threads, fill: Math.round(r.fill * 100),
    'modelled Mops/s': fmtM(r.modelledOpsPerSec), 'wall kops/s': Math.round(r.wallOpsPerSec / 100) / 10,
    compactions: r.compactions, 'moved MiB': Math.round((r.bytesMoved / 2 ** 20) * 10) / 10, 'in-place': r.inPlaceUpdates, retries: r.readRetries, failed: r.failedPuts,
  };
}

/** Run the selected experiments; `onProgress` hears about every finished configuration. */
export function runNibbleCommand(options: NibbleCommandOptions = {}, onProgress: (p: NibbleProgress) => void = () => {}): NibbleResults {
  const o = resolve(options);
  const prof = resolveProfile(o.profile, o.costs);
  const out: NibbleResults = {
    profile: prof.name,
    costs: costsReport(prof, 'nibble'),
    clockGHz: prof.params.clockGHz,
    machine: `${o.nodes} sockets; per configuration one core per client thread plus ${o.compactors} compaction core(s) per socket; log ${o.logBytesPerNode / 2 ** 20} MiB per socket in ${o.blockSize / 1024} KiB blocks, ${o.segmentBlocks}-block head segments`,
    ycsb: [], fill: [], frag: [],
    tables: { ycsb: [], fill: [], frag: [] },
    series: [],
    notes: [
      `modelled throughput: operations / modelled time of the measured phase at ${prof.params.clockGHz} GHz (profile ${prof.name}); wall throughput: the emulator's own speed`,
      'copies move 8-byte words, one modelled access each (the reference uses rep movsb); the modelled machine has no NUMA distance, so write-local has no modelled benefit',
    ],
  };
  const base = { nodes: o.nodes, compactorsPerNode: o.compactors, logBytesPerNode: o.logBytesPerNode, blockSize: o.blockSize, segmentBlocks: o.segmentBlocks, profile: o.profile, costs: o.costs, seed: o.seed };

  if (o.workloads.includes('ycsb')) {
    const total = o.modes.length * o.dists.length * o.gets.length * o.threads.length;
    let done = 0;
    for (const mode of o.modes) for (const dist of o.dists) for (const getPct of o.gets) {
      const pts: { x: number; y: number }[] = [];
      for (const threads of o.threads) {
        const r = runYcsb({ ...base, mode, threads, objects: o.objects, valueSize: o.valueSize, ops: o.ops, getPct, dist });
        out.ycsb.push(r);
        out.tables.ycsb.push(ycsbRow(r));
        pts.push({ x: threads, y: r.modelledOpsPerSec });
        onProgress({ workload: 'ycsb', done: ++done, total, label: `${r.store} ${dist} ${getPct}% GET, ${threads} threads` });
      }
      out.series.push({ name: `ycsb ${mode === 1 ? 'Nibble' : 'Nibble-2'} ${dist} ${getPct}% GET`, x: 'threads', y: 'modelled ops/s', points: pts });
    }
  }

  if (o.workloads.includes('fill')) {
    const total = o.modes.length * o.fillGets.length * o.fills.length;
    let done = 0;
    const capacity = o.nodes * o.logBytesPerNode;
    for (const getPct of o.fillGets) for (const mode of o.modes) {
      const pts: { x: number; y: number }[] = [];
      for (const f of o.fills) {
        const objects = Math.max(1, Math.floor((f * capacity) / entryBytes(o.valueSize)));
        const r = runYcsb({ ...base, mode, threads: o.fillThreads, objects, valueSize: o.valueSize, ops: o.ops, getPct, dist: 'uniform' });
        out.fill.push(r);
        out.tables.fill.push(ycsbRow(r));
        pts.push({ x: Math.round(f * 100), y: r.modelledOpsPerSec });
        onProgress({ workload: 'fill', done: ++done, total, label: `${r.store} ${getPct}% GET at ${Math.round(f * 100)}% full` });
      }
      out.series.push({ name: `fill ${mode === 1 ? 'Nibble' : 'Nibble-2'} ${getPct}% GET`, x: 'capacity used %', y: 'modelled ops/s', points: pts });
    }
  }

  if (o.workloads.includes('frag')) {
    const pats = PATTERNS.filter((p) => o.patterns.includes(p.name));
    const total = pats.length * 3;
    let done = 0;
    const fo = { capacityBytes: o.fragCapacity, blockSize: 32 * 1024, segmentBlocks: 4, seed: o.seed };
    for (const p of pats) {
      const n = fragNibble(p, fo);
      onProgress({ workload: 'frag', done: ++done, total, label: `${p.name} Nibble` });
      const m = fragMalloc(p, fo);
      onProgress({ workload: 'frag', done: ++done, total, label: `${p.name} malloc` });
      const u = fragMallocUnbounded(p, fo, m.liveAfterFirst);
      onProgress({ workload: 'frag', done: ++done, total, label: `${p.name} malloc (unbounded)` });
      for (const r of [n, m, u]) {
        out.frag.push(r);
        out.tables.frag.push({
          pattern: r.pattern, sizes: r.sizes, allocator: r.allocator, 'live MiB': Math.round((r.liveBytes / 2 ** 20) * 100) / 100,
          'used MiB': Math.round((r.usedBytes / 2 ** 20) * 100) / 100, 'used/live': Math.round(r.ratio * 1000) / 1000,
          'of which headers': Math.round(r.headerOverhead * 1000) / 1000, compactions: r.compactions,
        });
      }
    }
    for (const a of ['Nibble', 'segfit malloc', 'segfit malloc (unbounded)'] as const) {
      out.series.push({ name: `frag ${a}`, x: 'pattern', y: 'used / live', points: out.frag.filter((r) => r.allocator === a).map((r) => ({ x: Number(r.pattern.slice(1)), y: r.ratio })) });
    }
    out.notes.push(
      `fragmentation: ${o.fragCapacity / 2 ** 20} MiB for each allocator; first size until allocation fails, 90 % deleted at random, second size until it fails again; used/live at the end. ` +
      "'unbounded' is the reference's RSS measure for malloc: a 4x arena, each phase allocating until the first phase's live bytes. Pattern sizes follow RAMCloud's W2-W8 and frag.c (Figure 14b's table is not in the text).",
    );
  }
  return out;
}
