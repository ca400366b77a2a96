// Compaction (reference §4.4): closed segments of one socket are ranked by cost-benefit,
// (1 - u) * age / (1 + u) with u = live / length and age in TSC ticks since the segment was made;
// segments whose live bytes are 0 go straight to reclamation, those at least 98 % live are left
// alone. The best ones, up to `batchSegments` segments' worth of live bytes, are copied into one new
// segment just large enough — taken from the reserve when the pool is short. Each object is checked
// against the index and moved under its bucket lock; stale ones are skipped. The emptied segments
// wait in the reclamation state until every thread that was inside an operation when they were
// retired has left it (epoch.ts), and their blocks then go back to the pool.

import type { Shape } from './shape.js';
import type { NibbleThread } from './thread.js';
import { SEG_CLOSED, SEG_COMPACTING, SEG_DEST, SEG_RECLAIM, S_LIVE, S_STATE, S_USED, S_NBLOCKS, S_FIRST, S_EPOCH, S_TAG, S_INFLIGHT, N_COMPACTIONS, N_MOVED_LO, N_RECLAIMED, SEG_SLOT } from './layout.js';
import { loadNum, storeNum } from './mem.js';
import { allocSegment, releaseSegment, advance, headerWord, slotBytesOf, copyLogToLog, writeAddr, bump, liveAdd, freeBlocks } from './log.js';
import { locate, lockBucket, unlockBucket, findKey, readEntry, entryAddr, entrySeg, writeEntry } from './index.js';
import { reclaimTag, minEpoch } from './epoch.js';

/** A segment this full is not worth copying (reference: skip segments with <= 2 % free). */
const FULL_ENOUGH = 0.98;
/** Compaction yields to the scheduler after this many objects even without preemption. */
const OBJECTS_PER_STEP = 32;

export interface CompactResult {
  /** Segments queued for reclamation (emptied or found empty). */
  retired: number;
  /** Blocks returned to the pool by reclamation during the pass. */
  released: number;
  /** Blocks the pass will free once its retired segments are reclaimed, less the new segment's. */
  gain: number;
}

const RESULT: CompactResult = { retired: 0, released: 0, gain: 0 };

/** Release segments awaiting reclamation whose tag precedes every active epoch. Returns blocks freed. */
export function reclaim(s: Shape, t: NibbleThread, n: number, threads: number): number {
  const m = t.m;
  const min = s.unsafeReclaim ? Infinity : minEpoch(s, m, threads);
  const table = s.nodeBase(n) + s.L.segTable;
  let freed = 0;
  for (let local = 0; local < s.maxSegs; local++) {
    const sa = table + local * SEG_SLOT;
    if (m.load32(sa + S_STATE) !== SEG_RECLAIM) continue;
    if (loadNum(m, sa + S_TAG) >= min) continue;
    const g = n * s.maxSegs + local;
    for (let i = 0; i < s.reading.length; i++) if (s.reading[i] === g) s.stats.freedUnderReader++;
    freed += m.load32(sa + S_NBLOCKS);
    releaseSegment(s, m, g);
    s.stats.segmentsReclaimed++;
    const ra = s.nodeBase(n) + N_RECLAIMED;
    m.store32(ra, m.load32(ra) + 1);
  }
  return freed;
}

/** Segments of socket `n` waiting for a quiescent period or being compacted right now. */
export function pendingSegments(s: Shape, t: NibbleThread, n: number): number {
  const m = t.m;
  const table = s.nodeBase(n) + s.L.segTable;
  let k = 0;
  for (let local = 0; local < s.maxSegs; local++) {
    const st = m.load32(table + local * SEG_SLOT + S_STATE);
    if (st === SEG_RECLAIM || st === SEG_COMPACTING || st === SEG_DEST) k++;
  }
  return k;
}

function retire(s: Shape, t: NibbleThread, g: number, threads: number): void {
  const sa = s.segAddr(g);
  storeNum(t.m, sa + S_TAG, reclaimTag(s, t.m, threads));
  t.m.store32(sa + S_STATE, SEG_RECLAIM);
}

/** One compaction pass over socket `n`. The result object is reused between calls. */
export function* compactNode(s: Shape, t: NibbleThread, n: number, threads: number): Generator<undefined, CompactResult, unknown> {
  const m = t.m;
  RESULT.retired = 0;
  RESULT.gain = 0;
  RESULT.released = reclaim(s, t, n, threads);
  const now = m.rdtsc();
  const table = s.nodeBase(n) + s.L.segTable;
  const ids: number[] = [];
  const scores: number[] = [];
  const lives: number[] = [];
  for (let local = 0; local < s.maxSegs; local++) {
    const sa = table + local * SEG_SLOT;
    if (m.load32(sa + S_STATE) !== SEG_CLOSED || m.load32(sa + S_INFLIGHT) !== 0) continue;
    const g = n * s.maxSegs + local;
    const live = m.load32(sa + S_LIVE);
    if (live === 0) {
      retire(s, t, g, threads);
      RESULT.retired++;
      RESULT.gain += m.load32(sa + S_NBLOCKS);
      continue;
    }
    const u = live / (m.load32(sa + S_NBLOCKS) * s.B);
    if (u >= FULL_ENOUGH) continue;
    const age = Math.max(1, now - loadNum(m, sa + S_EPOCH));
    m.charge('nibble-compact', m.costs.nibbleScore);
    ids.push(g);
    scores.push(((1 - u) * age) / (1 + u));
    lives.push(live);
  }
  const order = ids.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  // The destination must come out of what is free now (the reserve at worst).
  const budget = Math.min(s.batchSegments * s.segBlocks, freeBlocks(s, m, n)) * s.B;
  const picked: number[] = [];
  let sum = 0;
  let blocks = 0;
  for (const i of order) {
    if (sum + lives[i] > budget) continue;
    sum += lives[i];
    blocks += m.load32(s.segAddr(ids[i]) + S_NBLOCKS);
    picked.push(ids[i]);
  }
  // Copying must free at least a block, or the pass would only shuffle objects around.
  if (picked.length === 0 || Math.ceil(sum / s.B) >= blocks) {
    RESULT.released += reclaim(s, t, n, threads);
    return RESULT;
  }
  const dest = allocSegment(s, m, n, Math.ceil(sum / s.B), SEG_DEST, true);
  if (dest < 0) {
    RESULT.released += reclaim(s, t, n, threads);
    return RESULT;
  }
  RESULT.gain += blocks - Math.ceil(sum / s.B);
  for (const g of picked) m.store32(s.segAddr(g) + S_STATE, SEG_COMPACTING);
  let dused = 0;
  let sinceYield = 0;
  for (const g of picked) {
    const sa = s.segAddr(g);
    const used = m.load32(sa + S_USED);
    let addr = s.blockAddr(n, m.load32(sa + S_FIRST));
    for (let off = 0; off < used;) {
      const word = headerWord(s, m, addr, 0);
      const klo = headerWord(s, m, addr, 4);
      const khi = headerWord(s, m, addr, 8);
      const size = slotBytesOf(word);
      locate(s, t, klo, khi);
      const odd = yield* lockBucket(s, t);
      const i = findKey(m, t.bucket, klo, khi);
      if (i >= 0) {
        readEntry(t, t.bucket, i);
        if (entrySeg(t.vhi) === g && entryAddr(t.vlo, t.vhi) === addr) {
          const to = writeAddr(s, m, dest, dused);
          copyLogToLog(s, m, addr, to, size);
          bump(s, m, dest, dused, size);
          dused += size;
          writeEntry(m, t.bucket, i, to, dest);
          liveAdd(s, m, dest, size);
          liveAdd(s, m, g, -size);
          s.stats.objectsMoved++;
          s.stats.bytesMoved += size;
        }
      }
      unlockBucket(m, t.bucket, odd);
      off += size;
      if (off < used) addr = advance(s, m, addr, size);
      if (++sinceYield >= OBJECTS_PER_STEP || t.maybe()) {
        sinceYield = 0;
        yield;
      }
    }
    retire(s, t, g, threads);
    RESULT.retired++;
  }
  const da = s.segAddr(dest);
  storeNum(m, da + S_EPOCH, m.rdtsc());
  m.store32(da + S_STATE, SEG_CLOSED);
  const na = s.nodeBase(n);
  m.store32(na + N_COMPACTIONS, m.load32(na + N_COMPACTIONS) + 1);
  storeNum(m, na + N_MOVED_LO, loadNum(m, na + N_MOVED_LO) + dused);
  s.stats.compactions++;
  s.stats.segmentsCompacted += picked.length;
  RESULT.released += reclaim(s, t, n, threads);
  return RESULT;
}

/** Should a compaction thread of socket `n` work now? */
export function needsCompaction(s: Shape, t: NibbleThread, n: number): boolean {
  return freeBlocks(s, t.m, n) < s.compactBelow * s.blocksPerNode;
}

