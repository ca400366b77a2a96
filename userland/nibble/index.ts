// The index (reference §4.3): subtables spread over the sockets, each an array of 256-byte buckets
// with a 64-bit version and 15 (key, entry) pairs. A key lives in exactly one bucket; a full bucket
// makes its subtable double. Writers lock a bucket by making its version odd and unlock by making it
// even again; readers record the even version, read, and start over if it changed. An entry is the
// object's 48-bit virtual address with the segment id in its top 16 bits.
//
// Resizing locks every bucket of the subtable in turn (waiting on buckets held by others), publishes
// the doubled bucket count, moves the keys whose new bucket differs (each goes to b + old count,
// which starts empty and has room for all 15), then unlocks. Readers check the bucket count again
// after a lookup, so a lookup that raced a resize starts over.

import type { MemPort, Step } from './mem.js';
import { TWO32 } from './mem.js';
import type { Shape } from './shape.js';
import type { NibbleThread } from './thread.js';
import { H, fnv1a64 } from './hash.js';
import { BUCKET_BYTES, ENTRIES_PER_BUCKET, B_KEYS, B_VALUES, T_NBUCKETS, T_COUNT, T_RESIZING, T_RESIZES } from './layout.js';

/** Hash a key into the thread's scratch: subtable, hash bits, current bucket address and count. */
export function locate(s: Shape, t: NibbleThread, klo: number, khi: number): void {
  fnv1a64(klo, khi);
  t.m.charge('nibble-hash', t.m.costs.nibbleHash);
  t.table = ((H.hi << 3) | (H.lo >>> 29)) & s.tableMask;
  t.hashLo = H.lo;
  bucketFor(s, t);
}

/** Recompute the bucket from the subtable's current size. */
export function bucketFor(s: Shape, t: NibbleThread): void {
  const nb = t.m.load32(s.tableHdr(t.table) + T_NBUCKETS);
  t.nbuckets = nb;
  t.bucket = s.tableBuckets(t.table) + (t.hashLo & (nb - 1)) * BUCKET_BYTES;
}

/** Slot of the key in bucket `b`, or -1. */
export function findKey(m: MemPort, b: number, klo: number, khi: number): number {
  for (let i = 0; i < ENTRIES_PER_BUCKET; i++) {
    const a = b + B_KEYS + i * 8;
    if (m.load32(a) === klo && m.load32(a + 4) === khi) return i;
  }
  return -1;
}

export function findEmpty(m: MemPort, b: number): number {
  for (let i = 0; i < ENTRIES_PER_BUCKET; i++) {
    const a = b + B_KEYS + i * 8;
    if (m.load32(a) === 0 && m.load32(a + 4) === 0) return i;
  }
  return -1;
}

/** Read slot i's entry into t.vlo / t.vhi. */
export function readEntry(t: NibbleThread, b: number, i: number): void {
  t.vlo = t.m.load64(b + B_VALUES + i * 8);
  t.vhi = t.m.hi;
}

export function entryAddr(vlo: number, vhi: number): number { return (vlo >>> 0) + (vhi & 0xffff) * TWO32; }
export function entrySeg(vhi: number): number { return vhi >>> 16; }

export function writeEntry(m: MemPort, b: number, i: number, addr: number, seg: number): void {
  m.store64(b + B_VALUES + i * 8, addr % TWO32 | 0, (Math.floor(addr / TWO32) & 0xffff) | (seg << 16));
}

/** Lock the thread's current bucket: spin (yielding) while another holder has it. Returns the odd version. */
export function* lockBucket(s: Shape, t: NibbleThread): Step {
  const m = t.m;
  for (;;) {
    bucketFor(s, t);
    const v = m.load32(t.bucket);
    if ((v & 1) === 0) {
      m.store32(t.bucket, (v + 1) | 0);
      return (v + 1) | 0;
    }
    t.lockSpins++;
    s.stats.lockSpins++;
    m.charge('nibble-spin', m.costs.nibbleSpin);
    yield;
  }
}

export function unlockBucket(m: MemPort, b: number, odd: number): void {
  m.store32(b, (odd + 1) | 0);
}

/**
 * Double subtable `table` (all buckets locked meanwhile). Returns false when it is at its largest.
 * Another thread's resize in progress is waited for; the caller then simply retries its insert.
 */
export function* resizeTable(s: Shape, t: NibbleThread, table: number): Step {
  const m = t.m;
  const hdr = s.tableHdr(table);
  if (m.load32(hdr + T_RESIZING) !== 0) {
    while (m.load32(hdr + T_RESIZING) !== 0) {
      m.charge('nibble-spin', m.costs.nibbleSpin);
      yield;
    }
    return 1;
  }
  const nb = m.load32(hdr + T_NBUCKETS);
  if (nb * 2 > s.maxBuckets) return 0;
  m.store32(hdr + T_RESIZING, 1);
  const base = s.tableBuckets(table);
  for (let b = 0; b < nb; b++) {
    const a = base + b * BUCKET_BYTES;
    for (;;) {
      const v = m.load32(a);
      if ((v & 1) === 0) { m.store32(a, (v + 1) | 0); break; }
      m.charge('nibble-spin', m.costs.nibbleSpin);
      yield;
    }
  }
  // New buckets start locked and empty; their versions continue from the old bucket's.
  for (let b = nb; b < 2 * nb; b++) {
    const a = base + b * BUCKET_BYTES;
    m.store32(a, m.load32(a - nb * BUCKET_BYTES));
    m.store32(a + 4, 0);
    for (let i = 0; i < ENTRIES_PER_BUCKET; i++) m.store64(a + B_KEYS + i * 8, 0, 0);
  }
  m.store32(hdr + T_NBUCKETS, nb * 2);
  const mask = nb * 2 - 1;
  for (let b = 0; b < nb; b++) {
    const a = base + b * BUCKET_BYTES;
    const to = a + nb * BUCKET_BYTES;
    let fill = 0;
    for (let i = 0; i < ENTRIES_PER_BUCKET; i++) {
      const ka = a + B_KEYS + i * 8;
      const klo = m.load32(ka);
      const khi = m.load32(ka + 4);
      if (klo === 0 && khi === 0) continue;
      fnv1a64(klo, khi);
      if ((H.lo & mask) === b) continue;
      const vlo = m.load64(a + B_VALUES + i * 8);
      const vhi = m.hi;
      m.store64(to + B_KEYS + fill * 8, klo, khi);
      m.store64(to + B_VALUES + fill * 8, vlo, vhi);
      fill++;
      m.store64(ka, 0, 0);
    }
    m.charge('nibble-hash', m.costs.nibbleHash * ENTRIES_PER_BUCKET);
  }
  for (let b = 0; b < 2 * nb; b++) {
    const a = base + b * BUCKET_BYTES;
    m.store32(a, (m.load32(a) + 1) | 0);
  }
  m.store32(hdr + T_RESIZES, m.load32(hdr + T_RESIZES) + 1);
  m.store32(hdr + T_RESIZING, 0);
  s.stats.resizes++;
  return 1;
}

export function countAdd(m: MemPort, s: Shape, table: number, d: number): void {
  const a = s.tableHdr(table) + T_COUNT;
  m.store32(a, m.load32(a) + d);
}
