// Moving bytes between emulated memory and the host values a program computes with, a 32-bit word
// per access (what a word-at-a-time copy loop does), so every byte a tool reads or writes is a
// modelled load or store of the calling thread. The aligned middle goes through the CPU's
// sequential runs (../seqBytes.ts): the same accesses, a page's run applied at once.

import type { Runtime } from '../runtime.js';
import { loadWordBytes, storeWordBytes } from '../seqBytes.js';

/** `n` bytes at `va` (any alignment) into a host array, loaded through the CPU. */
export function loadBytes(rt: Runtime, va: number, n: number, out = new Uint8Array(n)): Uint8Array {
  let i = 0;
  for (; i < n && (va + i) % 4 !== 0; i++) out[i] = rt.load8(va + i);
  const words = (n - i) >>> 2;
  if (words > 0) {
    loadWordBytes(rt, va + i, out, i, words);
    i += 4 * words;
  }
  for (; i < n; i++) out[i] = rt.load8(va + i);
  return out;
}

/** Store `b` at `va` (any alignment) through the CPU. */
export function storeBytes(rt: Runtime, va: number, b: Uint8Array, from = 0, to = b.length): void {
  let i = from;
  let a = va;
  for (; i < to && a % 4 !== 0; i++, a++) rt.store8(a, b[i]);
  const words = Math.max(0, (to - i) >>> 2);
  if (words > 0) {
    storeWordBytes(rt, a, b, i, words);
    i += 4 * words;
    a += 4 * words;
  }
  for (; i < to; i++, a++) rt.store8(a, b[i]);
}

export function align4(n: number): number {
  return (n + 3) & ~3;
}

export const enc = new TextEncoder();
export const dec = new TextDecoder('latin1');
