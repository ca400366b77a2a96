// The log of one socket (reference §4.2, §4.4): fixed-size blocks handed out from a free stack,
// grouped into segments (a chained list of not necessarily contiguous blocks), one head segment per
// core appended to by bumping its offset. An object is a 12-byte header — 32-bit length, 64-bit key
// — followed by its value, and may run from one block into the next block of the same segment.
//
// Objects start on 8-byte boundaries so the emulator's aligned fast path serves every copy (the
// reference packs them at byte granularity; this costs at most 7 bytes per object). The length word
// holds the value length in its low 24 bits and, in its top 8 bits, spare 8-byte units at the end of
// the slot that a smaller in-place overwrite (Nibble-2) left behind, so the log stays scannable.

import type { MemPort } from './mem.js';
import { pad8, copyWords, TWO32 } from './mem.js';
import type { Shape } from './shape.js';
import { N_FREE, N_ROLLS, S_LIVE, S_STATE, S_USED, S_NBLOCKS, S_FIRST, S_NOBJ, S_EPOCH, S_TAG, S_LAST, S_INFLIGHT, SEG_FREE } from './layout.js';

export const HEADER_BYTES = 12;
export const MAX_VALUE = (1 << 24) - 1;
/** Scratch for the per-node free-slot search: where the last search ended. */
const N_SEGHINT = 24;
/** The block that contains offset `used` of a segment being written (head or compaction target). */
const S_CUR = 44;

/** Bytes a value of `len` occupies in the log, header and alignment included. */
export function entryBytes(len: number): number { return pad8(HEADER_BYTES + len); }

export function slotBytesOf(word: number): number {
  return pad8(HEADER_BYTES + (word & MAX_VALUE)) + (word >>> 24) * 8;
}

export function freeBlocks(s: Shape, m: MemPort, n: number): number {
  return m.load32(s.nodeBase(n) + N_FREE);
}

/**
 * A new segment of `nblocks` blocks on socket `n`, in state `state`; -1 when the free pool cannot
 * give that many without eating into the compaction reserve (which `useReserve` may).
 */
export function allocSegment(s: Shape, m: MemPort, n: number, nblocks: number, state: number, useReserve: boolean): number {
  const nb = s.nodeBase(n);
  const free = m.load32(nb + N_FREE);
  if (free - nblocks < (useReserve ? 0 : s.reserve)) return -1;
  let local = m.load32(nb + N_SEGHINT);
  for (let k = 0; k < s.maxSegs; k++, local = local + 1 === s.maxSegs ? 0 : local + 1) {
    if (m.load32(nb + s.L.segTable + local * 64 + S_STATE) === SEG_FREE) break;
  }
  m.store32(nb + N_SEGHINT, local + 1 === s.maxSegs ? 0 : local + 1);
  const g = n * s.maxSegs + local;
  const stack = nb + s.L.freeStack;
  let first = -1;
  let prev = -1;
  for (let i = 0; i < nblocks; i++) {
    const b = m.load32(stack + (free - 1 - i) * 4);
    const e = s.blockEntry(n, b);
    m.store32(e, g);
    m.store32(e + 4, -1);
    if (prev >= 0) m.store32(s.blockEntry(n, prev) + 4, b); else first = b;
    prev = b;
  }
  m.store32(nb + N_FREE, free - nblocks);
  const sa = s.segAddr(g);
  m.store32(sa + S_LIVE, 0);
  m.store32(sa + S_USED, 0);
  m.store32(sa + S_NBLOCKS, nblocks);
  m.store32(sa + S_FIRST, first);
  m.store32(sa + S_LAST, prev);
  m.store32(sa + S_CUR, first);
  m.store32(sa + S_NOBJ, 0);
  m.store32(sa + S_INFLIGHT, 0);
  const tsc = m.rdtsc();
  m.store32(sa + S_EPOCH, tsc % TWO32 | 0);
  m.store32(sa + S_EPOCH + 4, Math.floor(tsc / TWO32) | 0);
  m.store32(sa + S_TAG, 0);
  m.store32(sa + S_TAG + 4, 0);
  m.store32(sa + S_STATE, state);
  return g;
}

/** Give a segment's blocks back to its socket's pool. */
export function releaseSegment(s: Shape, m: MemPort, g: number): void {
  const n = s.segNode(g);
  const nb = s.nodeBase(n);
  const sa = s.segAddr(g);
  let free = m.load32(nb + N_FREE);
  const stack = nb + s.L.freeStack;
  let b = m.load32(sa + S_FIRST);
  while (b >= 0) {
    const e = s.blockEntry(n, b);
    const next = m.load32(e + 4);
    m.store32(e, -1);
    m.store32(e + 4, -1);
    m.store32(stack + free * 4, b);
    free++;
    b = next;
  }
  m.store32(nb + N_FREE, free);
  m.store32(sa + S_STATE, SEG_FREE);
  m.store32(sa + S_NBLOCKS, 0);
  m.store32(sa + S_FIRST, -1);
}

export function countRoll(s: Shape, m: MemPort, n: number): void {
  const a = s.nodeBase(n) + N_ROLLS;
  m.store32(a, m.load32(a) + 1);
}

/** Address `delta` bytes past `addr` along the segment's block chain (delta >= 0). */
export function advance(s: Shape, m: MemPort, addr: number, delta: number): number {
  const n = s.nodeOfAddr(addr);
  let b = s.blockOfAddr(n, addr);
  let off = addr - s.blockAddr(n, b) + delta;
  while (off >= s.B) {
    b = m.load32(s.blockEntry(n, b) + 4);
    off -= s.B;
  }
  return s.blockAddr(n, b) + off;
}

/** Load the 32-bit word at byte `k` (0, 4 or 8) of the header at `addr`. */
export function headerWord(s: Shape, m: MemPort, addr: number, k: number): number {
  const a = addr + k;
  return (a & (s.B - 1)) === 0 && k !== 0 ? m.load32(advance(s, m, addr, k)) : m.load32(a);
}

/**
 * Copy between the log and a contiguous buffer, following the block chain. `toLog` writes the
 * buffer into the log. At most `limit` bytes are moved; returns how many were (a whole number of
 * words), so a caller may stop in between to let another thread run.
 */
export function copyLogPiece(s: Shape, m: MemPort, logAddr: number, buf: number, bytes: number, toLog: boolean, limit: number): number {
  const room = s.B - (logAddr & (s.B - 1));
  const n = Math.min(bytes, room, limit);
  if (toLog) copyWords(m, buf, logAddr, n); else copyWords(m, logAddr, buf, n);
  return (n + 3) & ~3;
}

/** Copy `bytes` from log address `from` to log address `to` (both along their own chains). */
export function copyLogToLog(s: Shape, m: MemPort, from: number, to: number, bytes: number): void {
  while (bytes > 0) {
    const rf = s.B - (from & (s.B - 1));
    const rt = s.B - (to & (s.B - 1));
    const n = Math.min(bytes, rf, rt);
    copyWords(m, from, to, n);
    bytes -= n;
    if (bytes <= 0) break;
    from = n === rf ? advance(s, m, from, n) : from + n;
    to = n === rt ? advance(s, m, to, n) : to + n;
  }
}

/** Where the next byte of segment `g` goes (its write cursor), given its `used` offset. */
export function writeAddr(s: Shape, m: MemPort, g: number, used: number): number {
  const n = s.segNode(g);
  return s.blockAddr(n, m.load32(s.segAddr(g) + S_CUR)) + (used & (s.B - 1));
}

/** Move a segment's write cursor past `bytes` written at offset `used`. */
export function bump(s: Shape, m: MemPort, g: number, used: number, bytes: number): void {
  const sa = s.segAddr(g);
  const n = s.segNode(g);
  let cur = m.load32(sa + S_CUR);
  const end = used + bytes;
  for (let crossed = (end >> s.blockShift) - (used >> s.blockShift); crossed > 0 && cur >= 0; crossed--) {
    cur = m.load32(s.blockEntry(n, cur) + 4);
  }
  m.store32(sa + S_CUR, cur);
  m.store32(sa + S_USED, end);
  m.store32(sa + S_NOBJ, m.load32(sa + S_NOBJ) + 1);
}

/** Write the header of an object at log address `addr`. */
export function writeHeader(s: Shape, m: MemPort, addr: number, word: number, klo: number, khi: number): void {
  m.store32(addr, word);
  if (((addr + 8) & (s.B - 1)) === 0) {
    m.store32(addr + 4, klo);
    m.store32(advance(s, m, addr, 8), khi);
  } else {
    m.store32(addr + 4, klo);
    m.store32(addr + 8, khi);
  }
}

export function liveAdd(s: Shape, m: MemPort, g: number, d: number): void {
  const a = s.segAddr(g) + S_LIVE;
  m.store32(a, m.load32(a) + d);
}
