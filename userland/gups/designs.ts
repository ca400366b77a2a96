// GUPS (HPCC RandomAccess) over a table split into W windows, in the three designs of the
// reference's §10.2. The work is the same in all three — every value of HPCC's stream is applied
// exactly once — only the way a window is reached differs:
//   MAP  one virtual window; changing window = munmap + mmap(MAP_FIXED) of the next part of a
//        tmpfs file already in the page cache (page-table edits and TLB invalidation)
//   MP   one process per window, each pinned to its own core; the master (which owns window 0)
//        sends each update set by message queue to the owner and waits for the reply
//   VAS  each window is a segment in its own named address space; pending updates live in a heap
//        segment mapped in all of them; changing window = vas_switch
// Stream values wait per window as pending updates; the window whose set of U fills first is
// visited next, so the order of windows is as random as the stream; leftovers are flushed last.

import type { Runtime, Blocking } from '../runtime.js';
import { HpccStream, POLY } from './hpcc.js';
import { RESERVED_START, SEG_2M, XOR_BATCH_MAX, type PerfCounters } from '../../syscalls/abi.js';
import { O_CREAT, O_RDWR, MAP_SHARED, MAP_FIXED, MAP_POPULATE, MAP_PRIVATE, MAP_ANON, PROT_READ, PROT_WRITE } from '../../syscalls/constants.js';

export type GupsDesign = 'map' | 'mp' | 'vas';
export const GUPS_DESIGNS: readonly GupsDesign[] = ['map', 'mp', 'vas'];

export interface GupsParams {
  design: GupsDesign;
  /** log2 of the table size in 64-bit words. */
  log2Table: number;
  windows: number;
  updateSet: number;
  updates: number;
  pageSize: 4096 | 2097152;
}

/** What the program reports back to the engine (host side). */
export interface GupsProgramReport {
  startCycles: number;
  endCycles: number;
  wallMs: number;
  /** Window changes: remaps (MAP), RPCs (MP) or vas_switch calls (VAS). */
  windowChanges: number;
  /** Where the table lives, for verification: one entry per window. */
  windows: { kind: 'file' | 'segment'; name: string; offset: number }[];
  /** Summed CPU counters at the start and end of the measured phase. */
  countersStart: TlbCounts;
  countersEnd: TlbCounts;
  /** Every core's counters at the start and end of the measured phase (the engine explains runs with them). */
  perfStart: PerfCounters[];
  perfEnd: PerfCounters[];
  done: boolean;
  /** Updates applied so far (progress). */
  progress: number;
}

export interface TlbCounts { l1Misses: number; walks: number; walkRefs: number; accesses: number }

function tlbCounts(perf: PerfCounters[]): TlbCounts {
  const c: TlbCounts = { l1Misses: 0, walks: 0, walkRefs: 0, accesses: 0 };
  for (const cpu of perf) {
    c.l1Misses += cpu.l1Misses;
    c.walks += cpu.walks;
    c.walkRefs += cpu.walkRefs;
    c.accesses += cpu.accesses;
  }
  return c;
}

export function emptyReport(): GupsProgramReport {
  const z = { l1Misses: 0, walks: 0, walkRefs: 0, accesses: 0 };
  return { startCycles: 0, endCycles: 0, wallMs: 0, windowChanges: 0, windows: [], countersStart: z, countersEnd: z, perfStart: [], perfEnd: [], done: false, progress: 0 };
}

const RW = PROT_READ | PROT_WRITE;
const VAS_TABLE_BASE = RESERVED_START + 2 ** 40;
const VAS_HEAP_BASE = RESERVED_START;
const PROGRESS_EVERY = 1 << 16;

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

export function windowWords(p: GupsParams): number {
  return 2 ** p.log2Table / p.windows;
}

/** Pending sets: W buffers of U 64-bit values. */
function pendingBytes(p: GupsParams): number {
  return roundUp(p.windows * p.updateSet * 8, 4096);
}

/**
 * Window visitor: switch to window `w` if needed and apply `n` pending values from its set.
 * Plain designs return undefined; MP returns a generator to run (it blocks on IPC).
 */
interface Design {
  visit(w: number, n: number): Blocking<void> | undefined;
  changes: number;
}

const batchVa = new Float64Array(XOR_BATCH_MAX);
const batchLo = new Int32Array(XOR_BATCH_MAX);
const batchHi = new Int32Array(XOR_BATCH_MAX);

/**
 * XOR `n` pending values of set `w` into the window mapped at `windowVa`: read a batch of pending
 * values into registers, then apply them (as an unrolled GUPS loop would), so the table accesses
 * go to the CPU as one batch and the host overlaps their memory misses.
 */
function applySet(rt: Runtime, pend: number, w: number, n: number, u: number, windowVa: number, winMask: number): void {
  let a = pend + w * u * 8;
  for (let done = 0; done < n; done += XOR_BATCH_MAX) {
    const m = Math.min(XOR_BATCH_MAX, n - done);
    for (let j = 0; j < m; j++, a += 8) {
      const lo = rt.load64(a);
      batchLo[j] = lo;
      batchHi[j] = rt.hi;
      batchVa[j] = windowVa + (lo & winMask) * 8;
    }
    rt.xor64Batch(batchVa, batchLo, batchHi, m);
  }
  rt.compute(rt.costs.gupsUpdate * n); // the profile's per-update ALU work (docs/cost-model.md)
}

/** The stream loop shared by every design. */
function* updateLoop(rt: Runtime, p: GupsParams, pend: number, d: Design, report: GupsProgramReport): Blocking<void> {
  const u = p.updateSet;
  const counts = new Int32Array(p.windows);
  const tableMask = 2 ** p.log2Table - 1;
  const winShift = Math.log2(windowWords(p));
  const stream = new HpccStream(0);
  let lo = stream.lo;
  let hi = stream.hi;
  for (let i = 0; i < p.updates; i++) {
    // HPCC's step inlined on purpose (see hpcc.ts stepHalves): this is the measured update loop.
    const t = (lo << 1) ^ ((hi >> 31) & POLY);
    hi = (hi << 1) | (lo >>> 31);
    lo = t;
    const w = ((lo & tableMask) >>> 0) >>> winShift;
    const c = counts[w];
    rt.store64(pend + (w * u + c) * 8, lo, hi);
    if (c + 1 === u) {
      counts[w] = 0;
      const g = d.visit(w, u);
      if (g) yield* g;
    } else {
      counts[w] = c + 1;
    }
    if ((i & (PROGRESS_EVERY - 1)) === PROGRESS_EVERY - 1) {
      report.progress = i + 1;
      yield; // a cooperative point: lets the engine show progress
    }
  }
  for (let w = 0; w < p.windows; w++) {
    if (counts[w] === 0) continue;
    const g = d.visit(w, counts[w]);
    if (g) yield* g;
  }
  report.progress = p.updates;
}

/** Table[i] = i for the window mapped at `va` whose first word is Table[first]. */
function initWindow(rt: Runtime, va: number, first: number, words: number): void {
  for (let i = 0; i < words; i++) rt.store64(va + i * 8, (first + i) | 0, Math.floor((first + i) / 4294967296));
}

function measure(rt: Runtime, report: GupsProgramReport): void {
  report.perfStart = rt.perfCounters();
  report.countersStart = tlbCounts(report.perfStart);
  report.startCycles = rt.clock;
  report.wallMs = performance.now();
}

function finish(rt: Runtime, report: GupsProgramReport, d: Design): void {
  report.endCycles = rt.clock;
  report.wallMs = performance.now() - report.wallMs;
  report.perfEnd = rt.perfCounters();
  report.countersEnd = tlbCounts(report.perfEnd);
  report.windowChanges = d.changes;
  report.done = true;
}

/** The measured phase: the stream loop between the two counter reads. */
function* measuredRun(rt: Runtime, p: GupsParams, pend: number, d: Design, report: GupsProgramReport): Blocking<void> {
  measure(rt, report);
  yield* updateLoop(rt, p, pend, d, report);
  finish(rt, report, d);
}

/**
 * A design whose windows are reached by a plain call (MAP: remap; VAS: vas_switch): change window
 * with `switchTo` when the set is for another one, then apply the set at `windowVa`. It starts with
 * `current` mapped (the last one initialised).
 */
function switchingDesign(rt: Runtime, p: GupsParams, pend: number, windowVa: number, current: number, switchTo: (w: number) => void): Design {
  const winMask = windowWords(p) - 1;
  return {
    changes: 0,
    visit(w, n) {
      if (w !== current) {
        switchTo(w);
        current = w;
        this.changes++;
      }
      applySet(rt, pend, w, n, p.updateSet, windowVa, winMask);
      return undefined;
    },
  };
}

// ------------------------------------------------------------------------------------------ MAP

export function* mapDesign(rt: Runtime, p: GupsParams, report: GupsProgramReport): Blocking<number> {
  const ww = windowWords(p);
  const wbytes = ww * 8;
  const fd = rt.open('/gups/table', O_CREAT | O_RDWR, 0o600, p.pageSize);
  rt.ftruncate(fd, wbytes * p.windows);
  const pend = rt.mmap(pendingBytes(p));
  // One virtual window, placed once; every later window lands on the same range.
  const va = rt.mmap(wbytes, RW, MAP_SHARED | MAP_POPULATE, 0, fd, 0);
  for (let w = 0; w < p.windows; w++) {
    if (w > 0) {
      rt.munmap(va, wbytes);
      rt.mmap(wbytes, RW, MAP_SHARED | MAP_FIXED | MAP_POPULATE, va, fd, w * wbytes);
    }
    initWindow(rt, va, w * ww, ww);
  }
  const d = switchingDesign(rt, p, pend, va, p.windows - 1, (w) => {
    rt.munmap(va, wbytes);
    rt.mmap(wbytes, RW, MAP_SHARED | MAP_FIXED | MAP_POPULATE, va, fd, w * wbytes);
  });
  yield* measuredRun(rt, p, pend, d, report);
  report.windows = Array.from({ length: p.windows }, (_, w) => ({ kind: 'file' as const, name: '/gups/table', offset: w * wbytes }));
  return 0;
}

// ------------------------------------------------------------------------------------------ VAS

export function* vasDesign(rt: Runtime, p: GupsParams, report: GupsProgramReport): Blocking<number> {
  const ww = windowWords(p);
  const wbytes = ww * 8;
  const segFlags = p.pageSize === 2097152 ? SEG_2M : 0;
  const heapBytes = roundUp(pendingBytes(p), p.pageSize);
  const heap = rt.call('seg_alloc', 'gups-heap', VAS_HEAP_BASE, heapBytes, 0o600, segFlags);
  const vh: number[] = [];
  for (let w = 0; w < p.windows; w++) {
    const sid = rt.call('seg_alloc', `gups-window-${w}`, VAS_TABLE_BASE, wbytes, 0o600, segFlags);
    const vid = rt.call('vas_create', `gups-${w}`, 0o600);
    rt.call('seg_attach', vid, sid);
    rt.call('seg_attach', vid, heap);
    vh.push(rt.call('vas_attach', vid));
  }
  for (let w = 0; w < p.windows; w++) {
    rt.call('vas_switch', vh[w]);
    initWindow(rt, VAS_TABLE_BASE, w * ww, ww);
  }
  const d = switchingDesign(rt, p, VAS_HEAP_BASE, VAS_TABLE_BASE, p.windows - 1, (w) => { rt.call('vas_switch', vh[w]); });
  yield* measuredRun(rt, p, VAS_HEAP_BASE, d, report);
  report.windows = Array.from({ length: p.windows }, (_, w) => ({ kind: 'segment' as const, name: `gups-window-${w}`, offset: 0 }));
  return 0;
}

// ------------------------------------------------------------------------------------------- MP

/**
 * Map and initialise window `w` in the calling MP process's memory: a shared tmpfs mapping, so the
 * final table can be verified after the process exits.
 */
function ownWindow(rt: Runtime, p: GupsParams, w: number): number {
  const ww = windowWords(p);
  const fd = rt.open(`/gups/mp-window-${w}`, O_CREAT | O_RDWR, 0o600, p.pageSize);
  rt.ftruncate(fd, ww * 8);
  const va = rt.mmap(ww * 8, RW, MAP_SHARED | MAP_POPULATE, 0, fd, 0);
  initWindow(rt, va, w * ww, ww);
  return va;
}

/** Message layout: U values of 8 bytes; an empty message tells a worker to finish. */
function* mpWorker(rt: Runtime, p: GupsParams, w: number): Blocking<number> {
  const ww = windowWords(p);
  rt.setAffinity(w);
  const req = rt.msgqOpen(`gups-req-${w}`);
  const rep = rt.msgqOpen(`gups-rep-${w}`);
  const va = ownWindow(rt, p, w);
  const buf = rt.mmap(roundUp(p.updateSet * 8, 4096));
  const winMask = ww - 1;
  yield* rt.msgqSend(rep, buf, 0); // ready
  for (;;) {
    const n = yield* rt.msgqRecv(req, buf, p.updateSet * 8);
    if (n === 0) break;
    applySet(rt, buf, 0, n / 8, p.updateSet, va, winMask);
    yield* rt.msgqSend(rep, buf, 0);
  }
  return 0;
}

export function* mpDesign(rt: Runtime, p: GupsParams, report: GupsProgramReport): Blocking<number> {
  const ww = windowWords(p);
  rt.setAffinity(0);
  const pend = rt.mmap(pendingBytes(p));
  const req: number[] = [0];
  const rep: number[] = [0];
  for (let w = 1; w < p.windows; w++) {
    req.push(rt.msgqCreate(`gups-req-${w}`, { maxMessages: 2, maxSize: p.updateSet * 8 }));
    rep.push(rt.msgqCreate(`gups-rep-${w}`, { maxMessages: 2, maxSize: 8 }));
    rt.fork((child) => mpWorker(child, p, w));
  }
  const va = ownWindow(rt, p, 0); // window 0 is the master's own
  const ack = rt.mmap(4096, RW, MAP_PRIVATE | MAP_ANON);
  for (let w = 1; w < p.windows; w++) yield* rt.msgqRecv(rep[w], ack, 8); // workers ready
  const winMask = ww - 1;
  const d: Design = {
    changes: 0,
    visit(w, n) {
      if (w === 0) {
        applySet(rt, pend, 0, n, p.updateSet, va, winMask);
        return undefined;
      }
      this.changes++;
      return rpc(rt, req[w], rep[w], pend + w * p.updateSet * 8, n * 8, ack);
    },
  };
  yield* measuredRun(rt, p, pend, d, report);
  for (let w = 1; w < p.windows; w++) yield* rt.msgqSend(req[w], ack, 0);
  for (let w = 1; w < p.windows; w++) yield* rt.wait();
  report.windows = Array.from({ length: p.windows }, (_, w) => ({ kind: 'file' as const, name: `/gups/mp-window-${w}`, offset: 0 }));
  return 0;
}

function* rpc(rt: Runtime, req: number, rep: number, buf: number, len: number, ack: number): Blocking<void> {
  yield* rt.msgqSend(req, buf, len);
  yield* rt.msgqRecv(rep, ack, 8);
}
