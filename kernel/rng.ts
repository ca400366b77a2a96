// A small seeded PRNG (xorshift128+ in 32-bit halves is overkill here; mulberry32 is enough) so that
// every modelled choice — ASLR offsets, scheduler tie-breaks, workload keys — follows the seed.

export class Rng {
  private s: number;
  constructor(seed: number) { this.s = (seed >>> 0) || 0x9e3779b9; }

  /** Start the stream again from `seed` (as a new Rng(seed) would). */
  reseed(seed: number): void { this.s = (seed >>> 0) || 0x9e3779b9; }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number { return this.nextU32() / 4294967296; }

  /** Uniform integer in [0, n). */
  below(n: number): number { return Math.floor(this.next() * n); }
}
