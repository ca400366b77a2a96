// YCSB's key choosers (workloads.md §2.3-2.4): the Zipfian generator of Gray et al. (SIGMOD'94) and
// the ScrambledZipfian that YCSB uses for `requestdistribution=zipfian`, which draws from a
// Zipfian over 10^10 items (with the precomputed zeta) and spreads popular items over the key space
// by fnvhash64. Each takes the uniform draw as an argument so the caller owns the random stream.

import { ycsbHashMod } from './hash.js';

export const ZIPFIAN_CONSTANT = 0.99;
export const SCRAMBLED_ITEM_COUNT = 10_000_000_000;
/** zeta(10^10, 0.99), precomputed by YCSB to avoid a 10^10-term sum. */
export const SCRAMBLED_ZETAN = 26.46902820178302;

export function zeta(n: number, theta: number): number {
  let s = 0;
  for (let i = 1; i <= n; i++) s += 1 / Math.pow(i, theta);
  return s;
}

export class Zipfian {
  readonly alpha: number;
  readonly eta: number;
  readonly zeta2: number;
  readonly half: number;

  constructor(readonly base: number, readonly items: number, readonly theta = ZIPFIAN_CONSTANT, readonly zetan = zeta(items, theta)) {
    this.alpha = 1 / (1 - theta);
    this.zeta2 = zeta(2, theta);
    this.eta = (1 - Math.pow(2 / items, 1 - theta)) / (1 - this.zeta2 / zetan);
    this.half = 1 + Math.pow(0.5, theta);
  }

  /** The item for uniform draw u in [0, 1). */
  next(u: number): number {
    const uz = u * this.zetan;
    if (uz < 1) return this.base;
    if (uz < this.half) return this.base + 1;
    return this.base + Math.floor(this.items * Math.pow(this.eta * u - this.eta + 1, this.alpha));
  }
}

export class ScrambledZipfian {
  private readonly zipf = new Zipfian(0, SCRAMBLED_ITEM_COUNT + 1, ZIPFIAN_CONSTANT, SCRAMBLED_ZETAN);
  readonly count: number;

  constructor(readonly min: number, readonly max: number) {
    this.count = max - min + 1;
  }

  /** The raw Zipfian value behind a draw (for checking against YCSB's vectors). */
  raw(u: number): number { return this.zipf.next(u); }

  next(u: number): number { return this.min + ycsbHashMod(this.zipf.next(u), this.count); }
}
