// The wall-clock harness every benchmark shares.

import os from 'node:os';
import { jitFlags } from '../mmu/jitTuning.js';

export interface Rate { opsPerSec: number; calls: number; bestCallSeconds: number; cpuTimeOpsPerSec: number }

/**
 * Call fn at least `reps` times and until `budgetMs` has passed; the rate is that of the fastest
 * call (the least disturbed on a shared host). cpuTimeOpsPerSec is all ops over the process CPU
 * time of all calls: a cross-check that preemption by other host load does not count against us.
 */
export function measureRate(reps: number, budgetMs: number, ops: number, fn: () => void): Rate {
  let bestT = Infinity;
  let calls = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  while (calls < reps || performance.now() - start < budgetMs) {
    const t0 = performance.now();
    fn();
    const t = (performance.now() - t0) / 1000;
    if (t < bestT) bestT = t;
    calls++;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = Math.max(1e-6, (cpu.user + cpu.system) / 1e6);
  return {
    opsPerSec: Math.round(ops / Math.max(bestT, 1e-9)),
    calls,
    bestCallSeconds: Number(bestT.toFixed(6)),
    cpuTimeOpsPerSec: Math.round((ops * calls) / cpuSeconds),
  };
}

/**
 * The host a benchmark ran on, for its JSON: CPU, load average at start (taken by the caller before
 * the work) and now, and the V8 flags the runner set (mmu/jitTuning.ts; empty = V8's defaults).
 */
export function hostJson(loadAverageAtStart: number[]): Record<string, unknown> {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    loadAverageAtStart,
    loadAverageAtEnd: loadAverage(),
    v8JitFlags: [...jitFlags()],
  };
}

/** The host's load averages (1, 5, 15 minutes), to two decimals. */
export function loadAverage(): number[] {
  return os.loadavg().map((x) => Number(x.toFixed(2)));
}
