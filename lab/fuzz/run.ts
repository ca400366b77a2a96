// A fuzz run: seeds S, S+1, ... each with up to `seedCalls` calls until `calls` are spent, run
// `jobs` at a time on worker threads (or in this thread), with progress and a summary. Every
// failure is written as a trace script under `outDir`. Times are emulator wall-clock.

import { Worker } from 'node:worker_threads';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runSeed, DEFAULT_FUZZ, type FailureReport, type SeedResult } from './fuzz.js';
import { ALL_PHASES, type Phase } from './program.js';

export interface RunOptions {
  calls: number;
  seed: number;
  jobs: number;
  phases: readonly Phase[];
  /** Calls per seed; the run uses ceil(calls / seedCalls) seeds. */
  seedCalls: number;
  invariantsEvery: number;
  programCalls: number;
  shrinkMs: number;
  /** Where failure traces go (null: not written). */
  outDir: string | null;
  onProgress?: (p: Progress) => void;
}

export interface Progress { calls: number; total: number; failures: number; wallMs: number }

export interface FailureSummary extends Omit<FailureReport, 'trace'> { traceFile: string | null }

export interface RunSummary {
  clock: 'emulator wall-clock';
  calls: number;
  accesses: number;
  programs: number;
  seeds: number[];
  jobs: number;
  phases: Phase[];
  wallMs: number;
  callsPerSecond: number;
  failures: number;
  /** Failures whose steps ran in a known-bug phase (isolation work in progress) vs the rest. */
  knownBugFailures: number;
  otherFailures: number;
  byPhase: Record<string, number>;
  /** Per call name: [returned a value, returned an errno]. */
  byCall: Record<string, [number, number]>;
  byOracle: Record<string, number>;
  failureList: FailureSummary[];
}

export const DEFAULT_RUN: Omit<RunOptions, 'calls' | 'seed' | 'jobs' | 'phases' | 'outDir'> = {
  seedCalls: 5_000, invariantsEvery: DEFAULT_FUZZ.invariantsEvery, programCalls: DEFAULT_FUZZ.programCalls, shrinkMs: DEFAULT_FUZZ.shrinkMs,
};

interface Task { seed: number; calls: number; phases: Phase[]; invariantsEvery: number; programCalls: number; shrinkMs: number }

function tasks(o: RunOptions): Task[] {
  const out: Task[] = [];
  for (let done = 0, seed = o.seed; done < o.calls; seed++) {
    const calls = Math.min(o.seedCalls, o.calls - done);
    out.push({ seed, calls, phases: [...o.phases], invariantsEvery: o.invariantsEvery, programCalls: o.programCalls, shrinkMs: o.shrinkMs });
    done += calls;
  }
  return out;
}

function runTask(t: Task, onProgress: (calls: number, failures: number) => void): SeedResult {
  return runSeed({ ...t, maxFailures: DEFAULT_FUZZ.maxFailures, onProgress });
}

/** The compiled worker beside this module, if it exists (not when running from TypeScript sources). */
function workerFile(): string | null {
  const f = fileURLToPath(new URL('./worker.js', import.meta.url));
  return existsSync(f) ? f : null;
}

export async function runFuzz(o: RunOptions): Promise<RunSummary> {
  const t0 = Date.now();
  const queue = tasks(o);
  const results: SeedResult[] = [];
  const live = new Map<number, { calls: number; failures: number }>();
  const report = (): void => {
    let calls = 0;
    let failures = 0;
    for (const r of results) { calls += r.calls; failures += r.failures.length; }
    for (const v of live.values()) { calls += v.calls; failures += v.failures; }
    o.onProgress?.({ calls, total: o.calls, failures, wallMs: Date.now() - t0 });
  };
  const file = o.jobs > 1 ? workerFile() : null;
  if (!file) {
    for (const t of queue) {
      results.push(runTask(t, (calls, failures) => { live.set(t.seed, { calls, failures }); report(); }));
      live.delete(t.seed);
      report();
    }
  } else {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let running = 0;
      const start = (): void => {
        if (next >= queue.length) { if (running === 0) resolve(); return; }
        const t = queue[next++];
        running++;
        const w = new Worker(file, { workerData: t });
        w.on('message', (m: { type: 'progress'; calls: number; failures: number } | { type: 'done'; result: SeedResult }) => {
          if (m.type === 'progress') { live.set(t.seed, { calls: m.calls, failures: m.failures }); report(); return; }
          results.push(m.result);
          live.delete(t.seed);
          report();
        });
        w.on('error', reject);
        w.on('exit', () => { running--; start(); });
      };
      for (let i = 0; i < Math.min(o.jobs, queue.length); i++) start();
    });
  }
  results.sort((a, b) => a.seed - b.seed);
  return summarize(o, results, Date.now() - t0);
}

function summarize(o: RunOptions, results: SeedResult[], wallMs: number): RunSummary {
  const byPhase: Record<string, number> = {};
  const byCall: Record<string, [number, number]> = {};
  const byOracle: Record<string, number> = {};
  const failureList: FailureSummary[] = [];
  let calls = 0;
  let accesses = 0;
  let programs = 0;
  if (o.outDir && results.some((r) => r.failures.length)) mkdirSync(o.outDir, { recursive: true });
  for (const r of results) {
    calls += r.calls;
    accesses += r.accesses;
    programs += r.programs;
    for (const [p, n] of Object.entries(r.byPhase)) byPhase[p] = (byPhase[p] ?? 0) + n;
    for (const [c, [ok, err]] of Object.entries(r.byCall)) {
      const t = (byCall[c] ??= [0, 0]);
      t[0] += ok;
      t[1] += err;
    }
    for (const f of r.failures) {
      byOracle[f.oracle] = (byOracle[f.oracle] ?? 0) + 1;
      let traceFile: string | null = null;
      if (o.outDir) {
        traceFile = join(o.outDir, `seed-${f.seed}-program-${f.program}-${f.oracle}${f.knownBug ? '-known' : ''}.trace`);
        writeFileSync(traceFile, f.trace);
      }
      const { trace: _t, ...rest } = f;
      failureList.push({ ...rest, traceFile });
    }
  }
  const known = failureList.filter((f) => f.knownBug).length;
  return {
    clock: 'emulator wall-clock', calls, accesses, programs, seeds: results.map((r) => r.seed), jobs: o.jobs,
    phases: [...o.phases], wallMs, callsPerSecond: Math.round(calls / Math.max(0.001, wallMs / 1000)),
    failures: failureList.length, knownBugFailures: known, otherFailures: failureList.length - known,
    byPhase, byCall, byOracle, failureList,
  };
}

/** `--phases basic,hostile` or `all,-shadow-private`; unknown names are an error. */
export function parsePhases(text: string | undefined): Phase[] {
  if (!text || text === 'all') return [...ALL_PHASES];
  let set = new Set<Phase>();
  for (const w0 of text.split(',').map((w) => w.trim()).filter(Boolean)) {
    const neg = w0.startsWith('-');
    const w = neg ? w0.slice(1) : w0;
    if (w === 'all') { set = new Set(ALL_PHASES); continue; }
    if (w === 'known-bugs-excluded' || w === 'clean') { set = new Set(ALL_PHASES.filter((p) => !['shadow-private', 'fork-attached', 'shared-pt'].includes(p))); continue; }
    if (!(ALL_PHASES as string[]).includes(w)) throw new RangeError(`--phases: unknown phase "${w}" (phases: ${ALL_PHASES.join(', ')}, all, clean)`);
    if (neg) set.delete(w as Phase); else set.add(w as Phase);
  }
  if (!set.has('basic')) set.add('basic');
  return ALL_PHASES.filter((p) => set.has(p));
}
