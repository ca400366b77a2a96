// Runs GUPS designs on a fresh emulated machine each, checks HPCC's verification on the final
// table, and reports modelled and wall-clock rates. Host-side work (building the machine,
// reading the final table out of emulated memory, verification) is outside the measured phase.

import { Kernel } from '../../kernel/kernel.js';
import type { CoreCounters } from '../../mmu/cpu.js';
import type { MachineConfig } from '../../kernel/machineConfig.js';
import { lookupPage, type VmObject } from '../../kernel/vm/vmObject.js';
import { Scheduler, type RunResult } from '../../kernel/proc/scheduler.js';
import { mapDesign, mpDesign, vasDesign, emptyReport, windowWords, type GupsParams, type GupsProgramReport, type GupsDesign } from '../../userland/gups/designs.js';
import { TableChecksum, verificationPassed, verifyWindow, rawGupsLoop, createTable } from '../../userland/gups/hpcc.js';
import { GiB, MiB } from '../../mmu/units.js';
import { cyclesToSeconds } from '../../mmu/costModel.js';
import { runProgram } from '../launch.js';
import type { PerfCounters } from '../../syscalls/abi.js';

export interface GupsResult {
  design: GupsDesign;
  windows: number;
  updateSet: number;
  updates: number;
  tableWords: number;
  pageSize: number;
  /** Modelled: updates per modelled second / 1e6 (profile named in `profile`). */
  modelledMups: number;
  modelledSeconds: number;
  modelledCycles: number;
  /** Emulator wall-clock of the measured phase. */
  wallMs: number;
  wallMups: number;
  /** Window changes (remap / RPC / vas_switch) per modelled second. */
  windowChanges: number;
  changesPerSecond: number;
  tlbMissesPerUpdate: number;
  walksPerUpdate: number;
  verification: { errors: number; passed: boolean };
  /** Sum over i of Table[i] * (2i + 1) mod 2^64, 16 hex digits (docs/gups.md). */
  checksum: string;
  profile: string;
  /** What happened in the measured phase, the events that explain the run's modelled time. */
  events: GupsEvents;
  /** Every counter of every core at the end of the run (the CPU's own, as views read them). */
  machineCounters: CoreCounters[];
}

/** Which level served the lines of one kind (data or page-table), summed over cores. */
export interface LineEvents { accesses: number; l1dMisses: number; l2Misses: number; llcMisses: number; dramLocal: number; dramRemote: number }

/**
 * The measured phase's events, summed over every core (for MP the workers' cores too): window
 * changes, TLB misses and walks, the lines each cache level served for data and for the walker's
 * page-table reads (caches on only), and the modelled cycles by component — on every core, and on
 * the core of the thread that runs the stream (cpu 0), whose clock is the run's modelled time.
 */
export interface GupsEvents {
  windowChanges: number;
  tlbMisses: number;
  walks: number;
  walkRefs: number;
  data: LineEvents | null;
  pageTable: LineEvents | null;
  cyclesBy: Record<string, number>;
  streamCoreCyclesBy: Record<string, number>;
  /** Per update: LLC misses of data and page-table lines, walks, and modelled cycles of the run. */
  perUpdate: { dataLlcMisses: number | null; pageTableLlcMisses: number | null; walks: number; cycles: number };
}

function cyclesDelta(a: PerfCounters, b: PerfCounters, into: Record<string, number>): void {
  for (const [k, v] of Object.entries(b.cyclesBy)) {
    const d = v - (a.cyclesBy[k] ?? 0);
    if (d !== 0) into[k] = (into[k] ?? 0) + d;
  }
}

/** The events between two snapshots of every core's counters. */
export function gupsEvents(start: PerfCounters[], end: PerfCounters[], windowChanges: number, updates: number, cycles: number): GupsEvents {
  const cyclesBy: Record<string, number> = {};
  const streamCoreCyclesBy: Record<string, number> = {};
  let tlbMisses = 0;
  let walks = 0;
  let walkRefs = 0;
  const caches = end.some((c) => c.caches !== undefined);
  const lines = (): LineEvents => ({ accesses: 0, l1dMisses: 0, l2Misses: 0, llcMisses: 0, dramLocal: 0, dramRemote: 0 });
  const data = lines();
  const pageTable = lines();
  for (const [i, b] of end.entries()) {
    const a = start[i];
    tlbMisses += b.l1Misses - a.l1Misses;
    walks += b.walks - a.walks;
    walkRefs += b.walkRefs - a.walkRefs;
    cyclesDelta(a, b, cyclesBy);
    if (i === 0) cyclesDelta(a, b, streamCoreCyclesBy);
    if (a.caches && b.caches) {
      for (const [into, ka, kb] of [[data, a.caches.data, b.caches.data], [pageTable, a.caches.pageTable, b.caches.pageTable]] as const) {
        for (const k of Object.keys(into) as (keyof LineEvents)[]) into[k] += kb[k] - ka[k];
      }
    }
  }
  return {
    windowChanges, tlbMisses, walks, walkRefs,
    data: caches ? data : null, pageTable: caches ? pageTable : null,
    cyclesBy, streamCoreCyclesBy,
    perUpdate: {
      dataLlcMisses: caches ? data.llcMisses / updates : null,
      pageTableLlcMisses: caches ? pageTable.llcMisses / updates : null,
      walks: walks / updates,
      cycles: cycles / updates,
    },
  };
}

/** Tables up to 2^27 words (1 GiB) also get the raw host-loop baseline. */
const RAW_BASELINE_MAX_LOG2 = 27;

const DESIGNS = { map: mapDesign, mp: mpDesign, vas: vasDesign } as const;

/** Emulated memory a GUPS run needs: the table, page tables and slack, in whole 2M units per node. */
export function machineMemoryFor(base: MachineConfig, tableBytes: number): number {
  return Math.ceil((tableBytes * 1.1 + 256 * MiB) / (2 * MiB * base.nodes)) * 2 * MiB * base.nodes;
}

/** Words verification reads out of emulated memory at a time (bounded host copies). */
const VERIFY_CHUNK_WORDS = 8 * 2 ** 20;

/** Host memory a run touches: the emulated table, one verification chunk, the raw baseline's table. */
export function hostBytesFor(tableBytes: number, minWindows: number, log2Table: number): number {
  // (A table of up to one chunk is verified whole, in one pass: see verify.)
  const chunk = tableBytes <= VERIFY_CHUNK_WORDS * 8 ? tableBytes : Math.min(tableBytes / minWindows, VERIFY_CHUNK_WORDS * 8);
  const raw = log2Table <= RAW_BASELINE_MAX_LOG2 ? tableBytes : 0;
  return tableBytes * 1.02 + chunk + raw + 256 * MiB;
}

/** The machine a run uses: the base machine, grown to fit the table, with a core per MP window. */
export function machineFor(base: MachineConfig, p: GupsParams): MachineConfig {
  const need = machineMemoryFor(base, 2 ** p.log2Table * 8);
  const cpus = p.design === 'mp' ? Math.max(base.cpus, p.windows) : base.cpus;
  return { ...base, memBytes: Math.max(base.memBytes, need), cpus };
}

/**
 * Run one design/configuration on its own machine. The scheduler runs in slices with a pause
 * between them, so progress can be shown and a cancel (signal.aborted) is noticed.
 */
export async function runGups(base: MachineConfig, p: GupsParams, onProgress?: (done: number) => void, signal?: AbortSignal): Promise<GupsResult> {
  const config = machineFor(base, p);
  const kernel = new Kernel(config);
  const report = emptyReport();
  const design = DESIGNS[p.design];
  const proc = runProgram(kernel, { main: (rt) => design(rt, p, report), name: `gups-${p.design}` }, { cpu: 0 });
  const sched = new Scheduler(kernel);
  const cancel = { cancelled: false };
  let r: RunResult;
  let pausedMs = 0;
  for (;;) {
    const until = performance.now() + 100;
    r = sched.run({ until: () => performance.now() > until, signal: cancel });
    if (!r.stopped) break;
    // Time outside the scheduler (progress display, other tasks) is not the emulator's.
    const pauseStart = performance.now();
    onProgress?.(report.progress);
    await new Promise((res) => setImmediate(res));
    if (report.wallMs > 0 && !report.done) pausedMs += performance.now() - pauseStart;
    if (signal?.aborted) throw new Error('cancelled');
  }
  onProgress?.(report.progress);
  report.wallMs -= pausedMs;
  if (proc.killedBy) throw new Error(`gups ${p.design}: the program was killed: ${proc.killedBy}`);
  if (!report.done || r.deadlock) throw new Error(`gups ${p.design}: the run did not finish${r.deadlock ? ' (deadlock)' : ''}`);
  const { checksum, errors } = verify(kernel, p, report);
  const cycles = report.endCycles - report.startCycles;
  const seconds = cyclesToSeconds(cycles, config.profile.params);
  const c0 = report.countersStart;
  const c1 = report.countersEnd;
  return {
    design: p.design, windows: p.windows, updateSet: p.updateSet, updates: p.updates,
    tableWords: 2 ** p.log2Table, pageSize: p.pageSize,
    modelledMups: p.updates / seconds / 1e6, modelledSeconds: seconds, modelledCycles: cycles,
    wallMs: report.wallMs, wallMups: p.updates / (report.wallMs / 1e3) / 1e6,
    windowChanges: report.windowChanges, changesPerSecond: report.windowChanges / seconds,
    tlbMissesPerUpdate: (c1.l1Misses - c0.l1Misses) / p.updates,
    walksPerUpdate: (c1.walks - c0.walks) / p.updates,
    verification: { errors, passed: verificationPassed(errors, 2 ** p.log2Table) },
    checksum, profile: config.profile.name,
    events: gupsEvents(report.perfStart, report.perfEnd, report.windowChanges, p.updates, cycles),
    machineCounters: kernel.cpus.map((c) => c.allCounters()),
  };
}

/** The object and byte offset holding window w of the final table. */
function windowObject(kernel: Kernel, w: GupsProgramReport['windows'][number]): VmObject {
  if (w.kind === 'segment') {
    const seg = [...kernel.spacejmp.segments.values()].find((s) => s.name === w.name && !s.deleted);
    if (!seg) throw new Error(`gups: segment ${w.name} is gone`);
    return seg.object;
  }
  return kernel.tmpfs.lookup(w.name).object;
}

/** Copy `words` 64-bit words at byte `offset` of `obj` out of emulated memory. */
function readWords(kernel: Kernel, obj: VmObject, offset: number, words: number): Int32Array {
  const out = new Int32Array(words * 2);
  const bytes = new Uint8Array(out.buffer);
  const ps = obj.pageSize;
  for (let done = 0; done < words * 8;) {
    const off = offset + done;
    const n = Math.min(words * 8 - done, ps - (off % ps));
    const pa = lookupPage(obj, off);
    if (pa >= 0) bytes.set(kernel.mem.readBytes(pa + (off % ps), n), done);
    done += n;
  }
  return out;
}

/**
 * HPCC's verification, window by window and in bounded chunks of a window: the checksum of the
 * final table first, then the stream is applied again to the chunk (XOR twice restores
 * Table[i] = i) and entries that differ are counted. Chunks keep host copies small whatever the
 * table size; each chunk replays the whole stream. A table of up to one chunk is done whole.
 */
function verify(kernel: Kernel, p: GupsParams, report: GupsProgramReport): { checksum: string; errors: number } {
  const ww = windowWords(p);
  if (2 ** p.log2Table <= VERIFY_CHUNK_WORDS) {
    // A table of up to one chunk: every window read into one host table and the stream replayed
    // once, not once per window (W replays were ~10 % of a run's host time at 4 windows). The
    // same checksum (a sum over indices, in any order) and the same error count.
    const table = new Int32Array(2 * 2 ** p.log2Table);
    for (let w = 0; w < p.windows; w++) {
      const win = report.windows[w];
      table.set(readWords(kernel, windowObject(kernel, win), win.offset, ww), 2 * w * ww);
    }
    const whole = new TableChecksum();
    whole.addWords(table, 0);
    return { checksum: whole.hex(), errors: verifyWindow(table, 0, p.log2Table, p.updates) };
  }
  const chunkWords = Math.min(ww, VERIFY_CHUNK_WORDS);
  const sum = new TableChecksum();
  let errors = 0;
  for (let w = 0; w < p.windows; w++) {
    const win = report.windows[w];
    const obj = windowObject(kernel, win);
    for (let c = 0; c < ww; c += chunkWords) {
      const words = readWords(kernel, obj, win.offset + c * 8, chunkWords);
      const first = w * ww + c;
      sum.addWords(words, first);
      errors += verifyWindow(words, first, p.log2Table, p.updates);
    }
  }
  return { checksum: sum.hex(), errors };
}

/** The raw baseline of the same run: a plain typed-array GUPS loop over a table of the same size. */
export function rawBaseline(log2Table: number, updates: number): { wallMs: number; mups: number } | null {
  if (log2Table > RAW_BASELINE_MAX_LOG2) return null; // the host table would not fit comfortably
  const table = createTable(log2Table);
  const ms = rawGupsLoop(table, updates);
  return { wallMs: ms, mups: updates / (ms / 1e3) / 1e6 };
}

export { GiB };
