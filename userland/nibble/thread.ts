// A client's handle on the store: its memory port (the core it runs on), its epoch slot, and scratch
// fields the operations reuse so that an operation allocates nothing per access.

import type { MemPort } from './mem.js';

export class NibbleThread {
  /** Probability of yielding at each internal preemption point (0: yield only between operations). */
  preempt: number;
  private rng: number;
  // Scratch of the current operation.
  table = 0;
  hashLo = 0;
  bucket = 0;
  nbuckets = 0;
  version = 0;
  entry = -1;
  vlo = 0;
  vhi = 0;
  // Counters (JS side: statistics, not store state).
  ops = 0;
  readRetries = 0;
  lockSpins = 0;
  spaceWaits = 0;

  constructor(readonly m: MemPort, readonly slot: number, preempt = 0, seed = 1) {
    this.preempt = preempt;
    this.rng = (seed * 0x9e3779b1) | 1;
  }

  /** True when the thread should give the scheduler a chance here (test-driven interleavings). */
  maybe(): boolean {
    if (this.preempt <= 0) return false;
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    return (x >>> 0) / 4294967296 < this.preempt;
  }
}
