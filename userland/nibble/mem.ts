// What Nibble needs from the machine: 32/64-bit loads and stores through the calling thread's MMU,
// the core's time-stamp counter, its core and socket ids, and a way to charge modelled cycles for
// work that is computation rather than memory traffic. An emulated Cpu satisfies this as it is; the
// userland runtime's per-thread view can be adapted to it. There is no CAS: emulated threads only
// interleave where a body yields, so a load followed by a store with no yield between them is atomic.

import type { ProgramCosts } from '../../syscalls/abi.js';

export interface MemPort {
  load32(va: number): number;
  store32(va: number, v: number): void;
  /** Low half; the high half is left in `hi`. */
  load64(va: number): number;
  store64(va: number, lo: number, hi: number): void;
  readonly hi: number;
  /**
   * `words` pairs `lo = load64(src + 8i); store64(dst + 8i, lo, hi)`, i ascending: the same modelled
   * accesses as that loop (the CPU's copy64 moves runs within a page pair in bulk).
   */
  copy64(dst: number, src: number, words: number): void;
  /** `words` pairs `store32(dst + 4i, load32(src + 4i))`, i ascending (the CPU's copy32). */
  copy32(dst: number, src: number, words: number): void;
  /** The core's modelled clock (rdtsc). */
  rdtsc(): number;
  charge(component: string, cycles: number): void;
  /** The machine profile's program-side costs (what `charge` is given for hashing, spinning, ...). */
  readonly costs: ProgramCosts;
  /** Core id (rdtscp's TSC_AUX). */
  readonly id: number;
  /** Socket (NUMA node) of the core. */
  readonly node: number;
}

export const TWO32 = 4294967296;

/** What a store generator yields: a cooperative point (the scheduler may run another thread). */
export type Step = Generator<undefined, number, unknown>;

/** Drive a store generator to completion without a scheduler (single-threaded use). */
export function runSync(g: Step): number {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** Read a 64-bit number stored as two 32-bit halves (values below 2^53). */
export function loadNum(m: MemPort, va: number): number {
  const lo = m.load32(va);
  return (lo >>> 0) + (m.load32(va + 4) >>> 0) * TWO32;
}

export function storeNum(m: MemPort, va: number, v: number): void {
  m.store32(va, v % TWO32 | 0);
  m.store32(va + 4, Math.floor(v / TWO32) | 0);
}

/** Round up to a multiple of 8. */
export function pad8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Copy `bytes` (rounded up to whole 32-bit words) between two addresses of one block or buffer. When
 * both sides share their alignment modulo 8, the middle moves in 64-bit words: a word-at-a-time copy
 * loop, one modelled access per machine word, rather than the reference's rep movsb. The loops are
 * the CPU's copy64/copy32 (the same accesses in the same order, applied in bulk where they can be).
 */
export function copyWords(m: MemPort, src: number, dst: number, bytes: number): void {
  let n = (bytes + 3) >>> 2;
  if (n === 0) return;
  if (((src ^ dst) & 7) === 0) {
    if ((src & 4) !== 0) {
      m.store32(dst, m.load32(src));
      src += 4;
      dst += 4;
      n--;
    }
    if (n >= 2) {
      const w = n >>> 1;
      m.copy64(dst, src, w);
      src += 8 * w;
      dst += 8 * w;
      n -= 2 * w;
    }
  }
  if (n > 0) m.copy32(dst, src, n);
}
