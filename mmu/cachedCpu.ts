// A core that models the data caches and keeps a fast path. A plain Cpu with caches sends every
// access down the slow path (translateHalves looks the line up); this subclass instead lets the
// front cache fill and does the line lookup on a front hit itself. Its modelled effects are those of
// the plain Cpu with the same caches, access for access (test/mmu/cache.test.ts checks it): a front
// hit is an L1 DTLB hit, and the line is looked up as the slow path would.
//
// A separate class rather than a flag so that the caches-off access functions carry no new check:
// a process that never builds a CachedCpu runs exactly today's code with monomorphic call sites.

import { Cpu, type CpuOptions } from './cpu.js';
import * as constants from './constants.js';
import * as address from './address.js';
import type { PhysicalMemory } from './physicalMemory.js';
import type { CacheHierarchy } from './cache.js';

// Module-local consts (V8 folds them; an imported binding is a Cell load and checks per use: constants.ts).
const { FC_MASK } = constants;
const { TWO32 } = address;

export class CachedCpu extends Cpu {
  constructor(mem: PhysicalMemory, opts: CpuOptions & { caches: CacheHierarchy }) {
    super(mem, opts);
    this.frontOk = true;
  }

  override load32(va: number): number {
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcRTag[i] === (lo & -4093) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.dataCacheAccess(this.fcPa[i] + (lo & 4095));
      return this.fcMem[i][this.fcWord[i] + ((lo & 4095) >>> 2)];
    }
    return this.load32Slow(lo | 0, (va - lo) / TWO32);
  }

  override store32(va: number, v: number): void {
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcWTag[i] === (lo & -4093) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.dataCacheAccess(this.fcPa[i] + (lo & 4095));
      this.fcMem[i][this.fcWord[i] + ((lo & 4095) >>> 2)] = v;
      return;
    }
    this.store32Slow(lo | 0, (va - lo) / TWO32, v);
  }

  override load8(va: number): number {
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcRTag[i] === (lo & -4096) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.dataCacheAccess(this.fcPa[i] + (lo & 4095));
      return this.fcMem8[i][this.fcWord[i] * 4 + (lo & 4095)];
    }
    return super.load8(va);
  }

  override store8(va: number, v: number): void {
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcWTag[i] === (lo & -4096) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.dataCacheAccess(this.fcPa[i] + (lo & 4095));
      this.fcMem8[i][this.fcWord[i] * 4 + (lo & 4095)] = v;
      return;
    }
    super.store8(va, v);
  }

  override load64(va: number): number {
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcRTag[i] === (lo & -4089) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.dataCacheAccess(this.fcPa[i] + (lo & 4095));
      const m = this.fcMem[i];
      const w = this.fcWord[i] + ((lo & 4095) >>> 2);
      this.hi = m[w + 1];
      return m[w];
    }
    return this.load64Slow(lo | 0, (va - lo) / TWO32);
  }

  override store64(va: number, vlo: number, vhi: number): void {
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcWTag[i] === (lo & -4089) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.dataCacheAccess(this.fcPa[i] + (lo & 4095));
      const m = this.fcMem[i];
      const w = this.fcWord[i] + ((lo & 4095) >>> 2);
      m[w] = vlo;
      m[w + 1] = vhi;
      return;
    }
    this.store64Slow(lo | 0, (va - lo) / TWO32, vlo, vhi);
  }

  override xor64(va: number, vlo: number, vhi: number): void {
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcWTag[i] === (lo & -4089) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.dataCacheAccess(this.fcPa[i] + (lo & 4095));
      const m = this.fcMem[i];
      const w = this.fcWord[i] + ((lo & 4095) >>> 2);
      m[w] ^= vlo;
      m[w + 1] ^= vhi;
      return;
    }
    this.xor64Slow(lo | 0, (va - lo) / TWO32, vlo, vhi);
  }

  /** n xor64 calls in order (the base class's batching bypasses the line lookup; so for every batch below). */
  override xor64Batch(vas: Float64Array, vlo: Int32Array, vhi: Int32Array, n: number): void {
    if (n > Cpu.BATCH) throw new RangeError(`xor64Batch: at most ${Cpu.BATCH} accesses`);
    for (let k = 0; k < n; k++) this.xor64(vas[k], vlo[k], vhi[k]);
  }

  /** n store64 calls in order (as xor64Batch). */
  override store64Batch(vas: Float64Array, vlo: Int32Array, vhi: Int32Array, n: number): void {
    if (n > Cpu.BATCH) throw new RangeError(`store64Batch: at most ${Cpu.BATCH} accesses`);
    for (let k = 0; k < n; k++) this.store64(vas[k], vlo[k], vhi[k]);
  }

  /** n load64 calls in order (as xor64Batch). */
  override load64Batch(vas: Float64Array, outLo: Int32Array, outHi: Int32Array, n: number): void {
    if (n > Cpu.BATCH) throw new RangeError(`load64Batch: at most ${Cpu.BATCH} accesses`);
    for (let k = 0; k < n; k++) {
      outLo[k] = this.load64(vas[k]);
      outHi[k] = this.hi;
    }
  }

  /** n load32 calls in order (as xor64Batch). */
  override load32Batch(vas: Float64Array, out: Int32Array, n: number): void {
    if (n > Cpu.BATCH) throw new RangeError(`load32Batch: at most ${Cpu.BATCH} accesses`);
    for (let k = 0; k < n; k++) out[k] = this.load32(vas[k]);
  }

  /** The loads one by one (as copy64). */
  override load32Seq(va: number, out: Int32Array, at: number, words: number): void {
    for (let i = 0; i < words; i++) out[at + i] = this.load32(va + 4 * i);
  }

  /** The stores one by one (as copy64). */
  override store32Seq(va: number, src: Int32Array, at: number, words: number): void {
    for (let i = 0; i < words; i++) this.store32(va + 4 * i, src[at + i]);
  }

  /** The load32/store32 pairs one by one (as copy64). */
  override copy32(dst: number, src: number, words: number): void {
    for (let i = 0; i < words; i++) this.store32(dst + 4 * i, this.load32(src + 4 * i));
  }

  /** The load64/store64 pairs one by one (the base class's bulk runs bypass the line lookup). */
  override copy64(dst: number, src: number, words: number): void {
    for (let i = 0; i < words; i++) {
      const lo = this.load64(src + 8 * i);
      this.store64(dst + 8 * i, lo, this.hi);
    }
  }
}
