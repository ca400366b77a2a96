// The YCSB driver of the reference's evaluation (§5.4, Table 4) as an emulated program: a process
// lays a store out in SpaceJMP segments, loads N objects with one thread per client core, then
// client threads issue GET/PUT (update) at a given mix over uniform or scrambled-Zipfian keys.
// Compaction threads run on a core of their own on every socket. Throughput is reported on both
// clocks: modelled (operations over the modelled time from the first client's start to the last
// client's end, at the profile's clock rate) and emulator wall-clock.

import { Kernel } from '../../kernel/kernel.js';
import type { YieldRequest } from '../../kernel/proc/process.js';
import { resolveProfile, cyclesToSeconds } from '../../mmu/costModel.js';
import type { CoreCounters } from '../../mmu/cpu.js';
import { checkKernelInvariants } from '../../kernel/invariants.js';
import { type Runtime } from '../../userland/runtime.js';
import { createStore } from '../../userland/nibble/host.js';
import { RtPort } from '../../userland/nibble/rtPort.js';
import { computeLayout, type NibbleConfig } from '../../userland/nibble/layout.js';
import { PUT_OK, type NibbleStore } from '../../userland/nibble/store.js';
import { entryBytes } from '../../userland/nibble/log.js';
import { ScrambledZipfian } from '../../userland/nibble/zipfian.js';
import type { NibbleStats } from '../../userland/nibble/shape.js';
import { runProgram, runUntilDone } from '../launch.js';

export type KeyDist = 'uniform' | 'zipfian';

export interface YcsbRunConfig {
  mode: 1 | 2;
  nodes: number;
  /** Client threads, one per core, spread round-robin over the sockets. */
  threads: number;
  compactorsPerNode: number;
  objects: number;
  valueSize: number;
  /** Operations in the measured phase, all clients together. */
  ops: number;
  /** Percentage of GETs (the rest are PUTs of existing keys). */
  getPct: number;
  dist: KeyDist;
  /** Log capacity of each socket. */
  logBytesPerNode: number;
  blockSize: number;
  segmentBlocks: number;
  profile: string;
  /** Cost overrides (--costs text), applied to `profile`. */
  costs?: string;
  seed: number;
  /** Called now and then with measured-phase operations done so far. */
  onOps?: (done: number) => void;
}

export interface YcsbRunResult {
  store: 'Nibble' | 'Nibble-2';
  dist: KeyDist;
  getPct: number;
  threads: number;
  objects: number;
  valueSize: number;
  /** Live bytes / log capacity after loading. */
  fill: number;
  ops: number;
  failedPuts: number;
  profile: string;
  modelledCycles: number;
  modelledOpsPerSec: number;
  wallSeconds: number;
  wallOpsPerSec: number;
  compactions: number;
  objectsMoved: number;
  bytesMoved: number;
  segmentsReclaimed: number;
  inPlaceUpdates: number;
  appends: number;
  readRetries: number;
  lockSpins: number;
  spaceWaits: number;
  kernelProblems: number;
  /** Every counter of every core at the end of the run (the CPU's own, as views read them). */
  machineCounters: CoreCounters[];
}

const MiB = 1024 * 1024;
const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** Store geometry for a run: capacity per socket, index sized for the objects. */
export function storeConfig(c: Pick<YcsbRunConfig, 'mode' | 'nodes' | 'objects' | 'logBytesPerNode' | 'blockSize' | 'segmentBlocks'>, cores: number): NibbleConfig {
  const blocksPerNode = Math.ceil(c.logBytesPerNode / c.blockSize);
  const tablesPerNode = 2;
  const tables = c.nodes * tablesPerNode;
  // Start at about half full so a loaded index rarely resizes during measurement; allow 8x growth.
  const initialBuckets = nextPow2((2 * c.objects) / 15 / tables);
  return {
    nodes: c.nodes,
    cores,
    blockSize: c.blockSize,
    segmentBlocks: c.segmentBlocks,
    blocksPerNode,
    // The reference keeps 1-2 % of memory for compaction; at least two segments here.
    reserveBlocks: Math.max(2 * c.segmentBlocks, Math.ceil(0.02 * blocksPerNode)),
    tablesPerNode,
    initialBuckets,
    maxBuckets: initialBuckets * 8,
    maxThreads: 256,
    mode: c.mode,
    compactBelow: 0.2,
    batchSegments: 3,
  };
}

function diff(a: NibbleStats, b: NibbleStats, k: keyof NibbleStats): number { return a[k] - b[k]; }

export function runYcsb(c: YcsbRunConfig): YcsbRunResult {
  const nodes = c.nodes;
  const perNodeClients = Math.ceil(c.threads / nodes);
  const perNode = perNodeClients + c.compactorsPerNode;
  const cpus = nodes * perNode;
  const config = storeConfig(c, cpus);
  const L = computeLayout(config);
  const nodeMem = Math.ceil((L.nodeStride + L.metaBytes + 128 * MiB) / (2 * MiB)) * 2 * MiB;
  const profile = resolveProfile(c.profile, c.costs ?? '');
  const k = new Kernel({ memBytes: nodes * nodeMem, cpus, nodes, seed: c.seed, profile });
  const cpuOf = (node: number, local: number): number => node * perNode + local;
  const clientCpu = (i: number): number => cpuOf(i % nodes, Math.floor(i / nodes));

  let store: NibbleStore | null = null;
  let before: NibbleStats | null = null;
  let fill = 0;
  let failedPuts = 0;
  let opsDone = 0;
  let start = Infinity;
  let end = 0;
  let wallStart = 0;
  let wallEnd = 0;

  /**
   * Threads report completion by message: the driver sleeps in msgq_recv instead of polling, so
   * it takes no modelled time from the core it shares with a client.
   */
  let qid = -1;
  let mailbox = 0;
  function* arrive(r: Runtime, left: number, buf: number): Generator<YieldRequest, void, unknown> {
    if (left === 0) yield* r.msgqSend(qid, buf, 4);
  }

  function* main(rt: Runtime): Generator<YieldRequest, number, unknown> {
    const h = createStore(rt, 'nibble', config);
    const s = h.store;
    qid = rt.msgqCreate();
    mailbox = rt.mmap(4096);
    store = s;
    let stop = false;
    for (let n = 0; n < nodes; n++) {
      for (let j = 0; j < c.compactorsPerNode; j++) {
        rt.spawnThread(function* (r: Runtime) {
          yield* s.compactor(s.register(new RtPort(r)), n, () => stop);
        }, { cpu: cpuOf(n, perNodeClients + j), name: `compact${n}.${j}` });
      }
    }
    let loading = c.threads;
    for (let i = 0; i < c.threads; i++) {
      rt.spawnThread(function* (r: Runtime) {
        const t = s.register(new RtPort(r));
        const buf = r.mmap(c.valueSize + 64);
        for (let o = 0; o < c.valueSize; o += 4) r.store32(buf + o, (o * 2654435761) | 0);
        for (let key = i; key < c.objects; key += c.threads) {
          r.store32(buf, key);
          if ((yield* s.put(t, key + 1, 0, buf, c.valueSize)) !== PUT_OK) failedPuts++;
        }
        yield* arrive(r, --loading, buf);
      }, { cpu: clientCpu(i), name: `load${i}` });
    }
    yield* rt.msgqRecv(qid, mailbox, 64);
    fill = (c.objects * entryBytes(c.valueSize)) / (nodes * config.blocksPerNode * config.blockSize);
    before = { ...s.stats };
    failedPuts = 0;
    let running = c.threads;
    let ready = 0;
    const zipf = new ScrambledZipfian(0, c.objects - 1);
    for (let i = 0; i < c.threads; i++) {
      const quota = Math.floor(c.ops / c.threads) + (i < c.ops % c.threads ? 1 : 0);
      rt.spawnThread(function* (r: Runtime) {
        const t = s.register(new RtPort(r));
        const src = r.mmap(2 * c.valueSize + 128);
        const dst = src + c.valueSize + 64;
        let x = (c.seed * 0x9e3779b1 + i * 0x85ebca6b) | 1;
        // A starting line: the loaders finished at different times; measure from when all are set.
        ready++;
        while (ready < c.threads) {
          r.compute(r.costs.ycsbStartPoll);
          yield* r.yield();
        }
        const t0 = r.cpu.rdtsc();
        if (t0 < start) { start = t0; wallStart = performance.now(); }
        for (let op = 0; op < quota; op++) {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          const u1 = (x >>> 0) / 4294967296;
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          const u2 = (x >>> 0) / 4294967296;
          const keynum = c.dist === 'uniform' ? Math.floor(u2 * c.objects) : zipf.next(u2);
          r.compute(r.costs.ycsbChoose); // choosing the operation and the key
          if (u1 * 100 < c.getPct) {
            yield* s.get(t, keynum + 1, 0, dst);
          } else {
            r.store32(src, op);
            if ((yield* s.put(t, keynum + 1, 0, src, c.valueSize)) !== PUT_OK) failedPuts++;
          }
          if (++opsDone % 2000 === 0) c.onOps?.(opsDone);
          yield* r.yield();
        }
        const t1 = r.cpu.rdtsc();
        if (t1 > end) end = t1;
        wallEnd = performance.now();
        yield* arrive(r, --running, src);
      }, { cpu: clientCpu(i), name: `client${i}` });
    }
    yield* rt.msgqRecv(qid, mailbox, 64);
    stop = true;
    return 0;
  }

  runProgram(k, main, { name: 'ycsb' });
  const rr = runUntilDone(k);
  if (rr.deadlock) throw new Error('ycsb: the emulated threads deadlocked');
  const s = store as NibbleStore | null;
  if (!s || !before) throw new Error('ycsb: the program did not get to the measured phase');
  const cycles = Math.max(1, end - start);
  const wall = Math.max(1e-9, (wallEnd - wallStart) / 1000);
  const a = s.stats;
  const b = before as NibbleStats;
  return {
    store: c.mode === 1 ? 'Nibble' : 'Nibble-2',
    dist: c.dist,
    getPct: c.getPct,
    threads: c.threads,
    objects: c.objects,
    valueSize: c.valueSize,
    fill,
    ops: opsDone,
    failedPuts,
    profile: profile.name,
    modelledCycles: cycles,
    modelledOpsPerSec: opsDone / cyclesToSeconds(cycles, profile.params),
    wallSeconds: wall,
    wallOpsPerSec: opsDone / wall,
    compactions: diff(a, b, 'compactions'),
    objectsMoved: diff(a, b, 'objectsMoved'),
    bytesMoved: diff(a, b, 'bytesMoved'),
    segmentsReclaimed: diff(a, b, 'segmentsReclaimed'),
    inPlaceUpdates: diff(a, b, 'inPlace'),
    appends: diff(a, b, 'appends'),
    readRetries: diff(a, b, 'readRetries'),
    lockSpins: diff(a, b, 'lockSpins'),
    spaceWaits: diff(a, b, 'spaceWaits'),
    kernelProblems: countProblems(k),
    machineCounters: k.cpus.map((cpu) => cpu.allCounters()),
  };
}

/** Kernel invariant violations after the run (0 when healthy). */
export function countProblems(k: Kernel): number {
  return checkKernelInvariants(k).length;
}
