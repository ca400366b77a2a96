// Binary-safe strings in emulated memory (Redis's sds): an 8-byte header — a tag word (0 for a plain
// string, the value type when the string is itself a key's value object) and the length — followed
// by the bytes. Strings are allocated from the dataset's own arena; OOM is reported, never patched.

import type { Arena } from '../malloc.js';
import { type RedisMem, storeBytes, loadBytes, equalBytes } from './mem.js';

export const SDS_HEADER = 8;

/** The arena is full: the command fails with Redis's OOM error and the dataset stays consistent. */
export class OomError extends Error {
  constructor() {
    super("command not allowed when used memory > 'maxmemory'.");
    this.name = 'OomError';
  }
}

/** malloc or throw OomError. */
export function alloc(a: Arena, n: number): number {
  const p = a.malloc(n);
  if (p === 0) throw new OomError();
  return p;
}

export function sdsNew(m: RedisMem, a: Arena, bytes: Uint8Array, tag = 0): number {
  const p = alloc(a, SDS_HEADER + bytes.length);
  m.store32(p, tag);
  m.store32(p + 4, bytes.length);
  storeBytes(m, p + SDS_HEADER, bytes);
  return p;
}

export function sdsLen(m: RedisMem, p: number): number {
  return m.load32(p + 4) >>> 0;
}

export function sdsBytes(m: RedisMem, p: number): Uint8Array {
  return loadBytes(m, p + SDS_HEADER, sdsLen(m, p));
}

export function sdsEquals(m: RedisMem, p: number, bytes: Uint8Array): boolean {
  return sdsLen(m, p) === bytes.length && equalBytes(m, p + SDS_HEADER, bytes);
}

/** Room for `n` bytes at `p` without moving it. */
export function sdsFits(a: Arena, p: number, n: number): boolean {
  return a.usableSize(p) >= SDS_HEADER + n;
}
