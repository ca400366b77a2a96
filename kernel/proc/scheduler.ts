// The scheduler: N emulated CPUs, each with its own modelled clock. The runnable thread that can
// start earliest (its CPU's clock, or later if it was woken later) runs next, until it yields or
// blocks — threads yield at blocking calls and at points of their choosing, never per access.
// Ties break by a draw from the machine seed, so a seed fixes the interleaving.

import type { Kernel } from '../kernel.js';
import { ProcessKilled } from '../kernel.js';
import type { Thread } from './process.js';

export interface RunResult {
  /** Thread resumptions performed. */
  steps: number;
  /** True when threads remain but all are blocked. */
  deadlock: boolean;
  /** True when stopped by `until`, `maxSteps` or cancellation rather than running out of work. */
  stopped: boolean;
}

export interface RunOptions {
  maxSteps?: number;
  /** Checked before each step; true stops the run. */
  until?: () => boolean;
  /** Called every `progressEvery` steps. */
  onProgress?: (steps: number) => void;
  progressEvery?: number;
  signal?: { cancelled: boolean };
}

export class Scheduler {
  constructor(readonly kernel: Kernel) {}

  /** Threads with a body that are not exited. */
  private candidates(): Thread[] {
    const out: Thread[] = [];
    for (const p of this.kernel.processes.values()) {
      if (!p.live) continue;
      for (const t of p.threads) if (t.body && t.state !== 'exited') out.push(t);
    }
    return out;
  }

  /** Pick the next thread: earliest possible start; ties by seeded draw. Null if none runnable. */
  pick(): Thread | null {
    let best: Thread | null = null;
    let bestStart = Infinity;
    let ties = 0;
    for (const t of this.candidates()) {
      if (t.state === 'blocked') continue;
      const start = Math.max(this.kernel.cpus[t.cpu].clock, t.readyAt);
      if (start < bestStart) {
        best = t;
        bestStart = start;
        ties = 1;
      } else if (start === bestStart) {
        ties++;
        if (this.kernel.rng.below(ties) === 0) best = t; // reservoir choice among equals
      }
    }
    return best;
  }

  /** Resume one thread until it yields, blocks or ends. */
  step(t: Thread): void {
    const k = this.kernel;
    const cpu = k.cpus[t.cpu];
    if (cpu.clock < t.readyAt) cpu.charge('idle', t.readyAt - cpu.clock);
    k.enter(t);
    const body = t.body!;
    let r: IteratorResult<unknown, number | void>;
    try {
      const v = t.resumeValue;
      t.resumeValue = undefined;
      r = body.next(v);
    } catch (e) {
      if (e instanceof ProcessKilled) return; // already torn down by the kernel
      const msg = e instanceof Error ? e.message : String(e);
      if (t.process.live) k.exit(t.process, 134, `program error in ${t.describe()}: ${msg}`);
      return;
    }
    if (r.done) {
      if (t.state !== 'exited') k.exitThread(t, typeof r.value === 'number' ? r.value : 0);
      return;
    }
    const req = r.value as { kind?: string; channel?: import('./process.js').WaitChannel } | undefined;
    if (req && req.kind === 'block' && req.channel) k.block(t, req.channel);
    else if (t.state === 'running') t.state = 'runnable';
  }

  /** Run threads until none can run (or a stop condition). */
  run(opts: RunOptions = {}): RunResult {
    let steps = 0;
    const every = opts.progressEvery ?? 1000;
    for (;;) {
      if (opts.signal?.cancelled || (opts.maxSteps !== undefined && steps >= opts.maxSteps) || opts.until?.()) {
        return { steps, deadlock: false, stopped: true };
      }
      const t = this.pick();
      if (!t) {
        const blocked = this.candidates().some((x) => x.state === 'blocked');
        return { steps, deadlock: blocked, stopped: false };
      }
      this.step(t);
      steps++;
      if (opts.onProgress && steps % every === 0) opts.onProgress(steps);
    }
  }
}
