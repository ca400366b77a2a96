// Moving bytes between emulated memory and the host values a program computes with, a 32-bit word
// per access (what a word-at-a-time copy loop does), so every byte a tool reads or writes is a
// modelled load or store of the calling thread.

import type { Runtime } from '../runtime.js';

/** `n` bytes at `va` (any alignment) into a host array, loaded through the CPU. */
export function loadBytes(rt: Runtime, va: number, n: number, out = new Uint8Array(n)): Uint8Array {
  let i = 0;
  for (; i < n && (va + i) % 4 !== 0; i++) out[i] = rt.load8(va + i);
  for (; i + 4 <= n; i += 4) {
    const w = rt.load32(va + i);
    out[i] = w & 0xff;
    out[i + 1] = (w >>> 8) & 0xff;
    out[i + 2] = (w >>> 16) & 0xff;
    out[i + 3] = w >>> 24;
  }
  for (; i < n; i++) out[i] = rt.load8(va + i);
  return out;
}

/** Store `b` at `va` (any alignment) through the CPU. */
export function storeBytes(rt: Runtime, va: number, b: Uint8Array, from = 0, to = b.length): void {
  let i = from;
  let a = va;
  for (; i < to && a % 4 !== 0; i++, a++) rt.store8(a, b[i]);
  for (; i + 4 <= to; i += 4, a += 4) rt.store32(a, b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
  for (; i < to; i++, a++) rt.store8(a, b[i]);
}

export function align4(n: number): number {
  return (n + 3) & ~3;
}

export const enc = new TextEncoder();
export const dec = new TextDecoder('latin1');
