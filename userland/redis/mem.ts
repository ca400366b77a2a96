// What the Redis dataset needs from the machine: byte and word loads and stores through the calling
// thread's MMU (the Runtime is one), and a way to charge CPU work that is not memory traffic. Every
// piece of the dataset is reached through these, so its costs land on the CPU that runs the command.
// Pointers are virtual addresses stored as two 32-bit halves (they lie above 2^46).

import type { ProgramCosts } from '../../syscalls/abi.js';
import { type SeqMem, loadWordBytes, storeWordBytes } from '../seqBytes.js';

export interface RedisMem extends SeqMem {
  load8(va: number): number;
  store8(va: number, v: number): void;
  load32(va: number): number;
  store32(va: number, v: number): void;
  compute(cycles: number): void;
  /** The machine profile's program-side costs (what `compute` is given per command, per hash, ...). */
  readonly costs: ProgramCosts;
}

const TWO32 = 4294967296;

export function loadPtr(m: RedisMem, va: number): number {
  return (m.load32(va) >>> 0) + (m.load32(va + 4) >>> 0) * TWO32;
}

export function storePtr(m: RedisMem, va: number, p: number): void {
  m.store32(va, p % TWO32 | 0);
  m.store32(va + 4, Math.floor(p / TWO32) | 0);
}

const f64 = new Float64Array(1);
const f64w = new Int32Array(f64.buffer);

export function loadF64(m: RedisMem, va: number): number {
  f64w[0] = m.load32(va);
  f64w[1] = m.load32(va + 4);
  return f64[0];
}

export function storeF64(m: RedisMem, va: number, v: number): void {
  f64[0] = v;
  m.store32(va, f64w[0]);
  m.store32(va + 4, f64w[1]);
}

/** Store `bytes` at `va` (a word at a time where `va` is aligned: the CPU's store32Seq run). */
export function storeBytes(m: RedisMem, va: number, bytes: Uint8Array): void {
  const n = bytes.length;
  let i = 0;
  for (; i < n && ((va + i) & 3) !== 0; i++) m.store8(va + i, bytes[i]);
  const words = (n - i) >>> 2;
  if (words > 0) {
    storeWordBytes(m, va + i, bytes, i, words);
    i += 4 * words;
  }
  for (; i < n; i++) m.store8(va + i, bytes[i]);
}

/** Load `n` bytes at `va` into a new array (a word at a time where aligned: the CPU's load32Seq run). */
export function loadBytes(m: RedisMem, va: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let i = 0;
  for (; i < n && ((va + i) & 3) !== 0; i++) out[i] = m.load8(va + i);
  const words = (n - i) >>> 2;
  if (words > 0) {
    loadWordBytes(m, va + i, out, i, words);
    i += 4 * words;
  }
  for (; i < n; i++) out[i] = m.load8(va + i);
  return out;
}

/** True when the `bytes.length` bytes at `va` equal `bytes`. */
export function equalBytes(m: RedisMem, va: number, bytes: Uint8Array): boolean {
  const n = bytes.length;
  let i = 0;
  for (; i < n && ((va + i) & 3) !== 0; i++) if (m.load8(va + i) !== bytes[i]) return false;
  for (; i + 4 <= n; i += 4) {
    if (m.load32(va + i) !== (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) return false;
  }
  for (; i < n; i++) if (m.load8(va + i) !== bytes[i]) return false;
  return true;
}

/** A 32-bit hash of a key (FNV-1a mixed by a murmur finaliser); the CPU work is charged per byte. */
export function hashBytes(m: RedisMem, bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  m.compute(m.costs.redisHashBase + m.costs.redisHashPerByte * bytes.length);
  return h >>> 0;
}
