// Nibble (reference chapter 4) and Nibble-2 (§6.2) over emulated memory: GET, PUT and DEL as
// generators an emulated thread runs with `yield*`. They yield only where a real thread could be
// overtaken by another and the protocol must cope — spinning on a held bucket, waiting for space,
// and, when a thread's `preempt` is set, at points inside an operation (after reading an index
// entry, between pieces of a copy, while holding a bucket lock) so tests can force interleavings.
//
// GET: pin the epoch, find the entry under an even bucket version, copy the value out, and start
//   over if the version (or the subtable's size) changed meanwhile.
// PUT (Nibble): append the object at the core's head segment on the core's socket ("write local"),
//   then lock the bucket and point the entry at it; the old copy's segment loses its live bytes.
// PUT (Nibble-2): when the key exists and the new value fits the old slot, overwrite it in place
//   under the bucket lock; otherwise as Nibble.
// DEL: remove the entry under the bucket lock; the segment loses the object's live bytes.

import type { MemPort, Step } from './mem.js';
import { TWO32 } from './mem.js';
import { Shape } from './shape.js';
import { NibbleThread } from './thread.js';
import {
  MAGIC, LAYOUT_VERSION, type NibbleConfig, validateConfig, H_MAGIC, H_VERSION, H_NODES, H_CORES, H_BLOCK, H_SEGBLOCKS, H_BLOCKS_PER_NODE, H_RESERVE,
  H_TABLES_PER_NODE, H_INIT_BUCKETS, H_MAX_BUCKETS, H_MAX_THREADS, H_MODE, H_COMPACT_PERMILLE, H_THREADS, H_BATCH_SEGS, N_FREE, N_COMPACTIONS,
  N_MOVED_LO, N_RECLAIMED, N_ROLLS, T_NBUCKETS, T_COUNT, T_RESIZES, BUCKET_BYTES, B_KEYS, ENTRIES_PER_BUCKET, SEG_SLOT, S_STATE, S_LIVE, S_USED,
  S_NBLOCKS, S_INFLIGHT, SEG_FREE, SEG_HEAD, SEG_CLOSED, SEG_RECLAIM, SEG_COMPACTING, SEG_DEST,
} from './layout.js';
import { pin, quiesce } from './epoch.js';
import { locate, bucketFor, findKey, findEmpty, readEntry, entryAddr, entrySeg, writeEntry, lockBucket, unlockBucket, resizeTable, countAdd } from './index.js';
import { HEADER_BYTES, MAX_VALUE, entryBytes, slotBytesOf, headerWord, advance, allocSegment, writeAddr, writeHeader, bump, liveAdd, copyLogPiece, freeBlocks, countRoll } from './log.js';
import { compactNode, pendingSegments, needsCompaction, reclaim } from './compaction.js';

export const PUT_OK = 0;
/** No space even after compaction. */
export const PUT_FULL = -1;
/** The key's subtable is at its largest and its bucket is full. */
export const PUT_INDEX_FULL = -2;
export const PUT_TOO_BIG = -3;

/** Largest piece copied between two preemption points. */
const PREEMPT_PIECE = 64;

export interface NodeUsage {
  node: number;
  blocks: number;
  freeBlocks: number;
  /** Blocks held by segments in each state. */
  headBlocks: number;
  closedBlocks: number;
  reclaimBlocks: number;
  liveBytes: number;
  usedBytes: number;
  compactions: number;
  bytesMoved: number;
  segmentsReclaimed: number;
  headRolls: number;
}

export interface Usage {
  nodes: NodeUsage[];
  objects: number;
  indexBuckets: number;
  indexResizes: number;
  /** Bytes of blocks held by segments, all sockets. */
  logBytesInUse: number;
  liveBytes: number;
  capacityBytes: number;
}

export class NibbleStore extends Shape {
  private constructor(base: number, config: NibbleConfig) {
    super(base, config);
  }

  /** Bytes of address space a store with `config` needs (meta region + one region per socket). */
  static bytesFor(config: NibbleConfig): number {
    return new Shape(0, config).totalBytes;
  }

  /** Lay a new, empty store out at `base` (the range must be mapped writable). */
  static create(m: MemPort, base: number, config: NibbleConfig): NibbleStore {
    validateConfig(config);
    const s = new NibbleStore(base, config);
    const w = (off: number, v: number): void => m.store32(base + off, v);
    w(H_VERSION, LAYOUT_VERSION);
    w(H_NODES, config.nodes);
    w(H_CORES, config.cores);
    w(H_BLOCK, config.blockSize);
    w(H_SEGBLOCKS, config.segmentBlocks);
    w(H_BLOCKS_PER_NODE, config.blocksPerNode);
    w(H_RESERVE, config.reserveBlocks);
    w(H_TABLES_PER_NODE, config.tablesPerNode);
    w(H_INIT_BUCKETS, config.initialBuckets);
    w(H_MAX_BUCKETS, config.maxBuckets);
    w(H_MAX_THREADS, config.maxThreads);
    w(H_MODE, config.mode);
    w(H_COMPACT_PERMILLE, Math.round(config.compactBelow * 1000));
    w(H_THREADS, 0);
    w(H_BATCH_SEGS, config.batchSegments);
    for (let i = 0; i < config.maxThreads; i++) m.store64(s.epochSlot(i), 0, 0);
    for (let c = 0; c < config.cores; c++) m.store32(s.headSlot(c), -1);
    for (let n = 0; n < config.nodes; n++) {
      const nb = s.nodeBase(n);
      for (let k = 0; k < 32; k++) m.store32(nb + k * 4, 0);
      m.store32(nb + N_FREE, config.blocksPerNode);
      for (let b = 0; b < config.blocksPerNode; b++) {
        m.store32(nb + s.L.freeStack + b * 4, config.blocksPerNode - 1 - b);
        m.store64(s.blockEntry(n, b), -1, -1);
      }
      for (let g = 0; g < s.maxSegs; g++) m.store32(nb + s.L.segTable + g * SEG_SLOT + S_STATE, SEG_FREE);
    }
    for (let t = 0; t <= s.tableMask; t++) {
      const hdr = s.tableHdr(t);
      for (let k = 0; k < 16; k++) m.store32(hdr + k * 4, 0);
      m.store32(hdr + T_NBUCKETS, config.initialBuckets);
      const b0 = s.tableBuckets(t);
      for (let b = 0; b < config.initialBuckets; b++) {
        const a = b0 + b * BUCKET_BYTES;
        m.store64(a, 0, 0);
        for (let i = 0; i < ENTRIES_PER_BUCKET; i++) m.store64(a + B_KEYS + i * 8, 0, 0);
      }
    }
    w(H_MAGIC, MAGIC); // last: a store is attachable only once it is complete
    return s;
  }

  /** Open the store another process laid out at `base`, reading its configuration from the header. */
  static attach(m: MemPort, base: number): NibbleStore {
    const r = (off: number): number => m.load32(base + off);
    if (r(H_MAGIC) !== MAGIC) throw new Error(`nibble: no store at 0x${base.toString(16)} (bad magic)`);
    if (r(H_VERSION) !== LAYOUT_VERSION) throw new Error(`nibble: layout version ${r(H_VERSION)} is not ${LAYOUT_VERSION}`);
    const mode = r(H_MODE);
    return new NibbleStore(base, {
      nodes: r(H_NODES), cores: r(H_CORES), blockSize: r(H_BLOCK), segmentBlocks: r(H_SEGBLOCKS), blocksPerNode: r(H_BLOCKS_PER_NODE),
      reserveBlocks: r(H_RESERVE), tablesPerNode: r(H_TABLES_PER_NODE), initialBuckets: r(H_INIT_BUCKETS), maxBuckets: r(H_MAX_BUCKETS),
      maxThreads: r(H_MAX_THREADS), mode: mode === 2 ? 2 : 1, compactBelow: r(H_COMPACT_PERMILLE) / 1000, batchSegments: r(H_BATCH_SEGS),
    });
  }

  /** Threads registered so far (the extent of the epoch table to scan). */
  threads(m: MemPort): number { return m.load32(this.base + H_THREADS); }

  /** Register the calling thread: it gets an epoch slot. `m` is the port of the core it runs on. */
  register(m: MemPort, opts: { preempt?: number; seed?: number } = {}): NibbleThread {
    const n = this.threads(m);
    if (n >= this.maxThreads) throw new RangeError(`nibble: more than ${this.maxThreads} threads`);
    m.store32(this.base + H_THREADS, n + 1);
    return new NibbleThread(m, n, opts.preempt ?? 0, opts.seed ?? n + 1);
  }

  // ------------------------------------------------------------------ GET

  /** Copy the value of (klo, khi) to `dst` (room for its length rounded up to 4). Returns its length, or -1. */
  *get(t: NibbleThread, klo: number, khi: number, dst: number): Step {
    const m = t.m;
    pin(this, m, t.slot);
    this.stats.gets++;
    locate(this, t, klo, khi);
    for (;;) {
      bucketFor(this, t);
      const b = t.bucket;
      const nb = t.nbuckets;
      const v = m.load32(b);
      if ((v & 1) !== 0) {
        t.lockSpins++;
        this.stats.lockSpins++;
        m.charge('nibble-spin', m.costs.nibbleSpin);
        yield;
        continue;
      }
      const i = findKey(m, b, klo, khi);
      if (i < 0) {
        if (m.load32(b) === v && m.load32(this.tableHdr(t.table) + T_NBUCKETS) === nb) {
          quiesce(this, m, t.slot);
          this.stats.getMisses++;
          return -1;
        }
        this.retry(t);
        continue;
      }
      readEntry(t, b, i);
      const addr = entryAddr(t.vlo, t.vhi);
      const g = entrySeg(t.vhi);
      if (t.maybe()) yield;
      this.reading[t.slot] = g;
      const len = headerWord(this, m, addr, 0) & MAX_VALUE;
      // The length is trusted only if nothing changed since the entry was read.
      if (m.load32(b) !== v) {
        this.reading[t.slot] = -1;
        this.retry(t);
        continue;
      }
      yield* this.copy(t, this.valueAddr(m, addr), dst, len, false);
      this.reading[t.slot] = -1;
      if (m.load32(b) === v && m.load32(this.tableHdr(t.table) + T_NBUCKETS) === nb) {
        quiesce(this, m, t.slot);
        t.ops++;
        return len;
      }
      this.retry(t);
    }
  }

  private retry(t: NibbleThread): void {
    t.readRetries++;
    this.stats.readRetries++;
  }

  // ------------------------------------------------------------------ PUT

  /** Store `len` bytes from `src` under (klo, khi). Returns PUT_OK or a negative PUT_* code. */
  *put(t: NibbleThread, klo: number, khi: number, src: number, len: number): Step {
    if (klo === 0 && khi === 0) throw new RangeError('nibble: key 0 is reserved for empty slots');
    if (len <= 0 || len > MAX_VALUE || entryBytes(len) > this.segBlocks * this.B) return PUT_TOO_BIG;
    const m = t.m;
    pin(this, m, t.slot);
    this.stats.puts++;
    if (this.mode === 2) {
      locate(this, t, klo, khi);
      const odd = yield* lockBucket(this, t);
      const i = findKey(m, t.bucket, klo, khi);
      if (i >= 0) {
        readEntry(t, t.bucket, i);
        const addr = entryAddr(t.vlo, t.vhi);
        const slot = slotBytesOf(headerWord(this, m, addr, 0));
        const need = entryBytes(len);
        if (need <= slot && (slot - need) / 8 <= 255) {
          m.store32(addr, len | (((slot - need) / 8) << 24));
          yield* this.copy(t, this.valueAddr(m, addr), src, len, true);
          unlockBucket(m, t.bucket, odd);
          quiesce(this, m, t.slot);
          this.stats.inPlace++;
          t.ops++;
          return PUT_OK;
        }
      }
      unlockBucket(m, t.bucket, odd);
    }
    const g = yield* this.append(t, klo, khi, src, len);
    if (g < 0) {
      quiesce(this, m, t.slot);
      return PUT_FULL;
    }
    const addr = t.entry;
    const size = entryBytes(len);
    this.stats.appends++;
    if (t.maybe()) yield;
    locate(this, t, klo, khi);
    for (;;) {
      const odd = yield* lockBucket(this, t);
      const b = t.bucket;
      const i = findKey(m, b, klo, khi);
      if (i >= 0) {
        readEntry(t, b, i);
        const old = entryAddr(t.vlo, t.vhi);
        const oldSeg = entrySeg(t.vhi);
        const oldSize = slotBytesOf(headerWord(this, m, old, 0));
        writeEntry(m, b, i, addr, g);
        unlockBucket(m, b, odd);
        liveAdd(this, m, oldSeg, -oldSize);
        this.landed(m, g);
        break;
      }
      const j = findEmpty(m, b);
      if (j >= 0) {
        m.store64(b + B_KEYS + j * 8, klo, khi);
        writeEntry(m, b, j, addr, g);
        unlockBucket(m, b, odd);
        countAdd(m, this, t.table, 1);
        this.stats.inserts++;
        this.landed(m, g);
        break;
      }
      unlockBucket(m, b, odd);
      if ((yield* resizeTable(this, t, t.table)) === 0) {
        liveAdd(this, m, g, -size);
        this.landed(m, g);
        quiesce(this, m, t.slot);
        return PUT_INDEX_FULL;
      }
    }
    quiesce(this, m, t.slot);
    t.ops++;
    return PUT_OK;
  }

  /** An appended object's PUT is over (indexed or abandoned). */
  private landed(m: MemPort, g: number): void {
    const a = this.segAddr(g) + S_INFLIGHT;
    m.store32(a, m.load32(a) - 1);
  }

  /** Address of the value of the object whose header is at `addr`. */
  private valueAddr(m: MemPort, addr: number): number {
    return ((addr + 8) & (this.B - 1)) === 0 ? advance(this, m, addr, HEADER_BYTES) : addr + HEADER_BYTES;
  }

  /** Copy a value between the log and a buffer, in pieces with preemption points between them. */
  private *copy(t: NibbleThread, logAddr: number, buf: number, len: number, toLog: boolean): Step {
    const m = t.m;
    const limit = t.preempt > 0 ? PREEMPT_PIECE : 0x7fffffff;
    let done = 0;
    while (done < len) {
      const k = copyLogPiece(this, m, logAddr, buf + done, len - done, toLog, limit);
      done += k;
      if (done >= len) break;
      logAddr = ((logAddr + k) & (this.B - 1)) === 0 ? advance(this, m, logAddr, k) : logAddr + k;
      if (t.maybe()) yield;
    }
    return 0;
  }

  /**
   * Append an object at the core's head segment; rolls the head over when it is full, and compacts
   * (or waits for compaction) when no segment can be had. Returns the segment id (object address in
   * t.entry) or -1 when the store is full.
   */
  private *append(t: NibbleThread, klo: number, khi: number, src: number, len: number): Step {
    const m = t.m;
    const size = entryBytes(len);
    const core = m.id % this.cores;
    const n = m.node % this.nodes;
    const hs = this.headSlot(core);
    for (;;) {
      const g = m.load32(hs);
      if (g >= 0) {
        const sa = this.segAddr(g);
        const used = m.load32(sa + S_USED);
        if (used + size <= m.load32(sa + S_NBLOCKS) * this.B) {
          // No yield from here to the bump: another thread on this core shares the head.
          const addr = writeAddr(this, m, g, used);
          writeHeader(this, m, addr, len, klo, khi);
          let to = this.valueAddr(m, addr);
          for (let done = 0; done < len;) {
            const k = copyLogPiece(this, m, to, src + done, len - done, true, 0x7fffffff);
            done += k;
            if (done < len) to = advance(this, m, to, k);
          }
          bump(this, m, g, used, size);
          liveAdd(this, m, g, size);
          // Until the index points at it, compaction must not take this segment for stale.
          m.store32(sa + S_INFLIGHT, m.load32(sa + S_INFLIGHT) + 1);
          t.entry = addr;
          return g;
        }
        m.store32(sa + S_STATE, SEG_CLOSED);
        m.store32(hs, -1);
        this.stats.headRolls++;
        countRoll(this, m, n);
      }
      const ng = allocSegment(this, m, n, this.segBlocks, SEG_HEAD, false);
      if (ng >= 0) {
        m.store32(hs, ng);
        continue;
      }
      // Out of blocks: compact here, as the reference's client threads do when the pool runs low.
      t.spaceWaits++;
      this.stats.spaceWaits++;
      quiesce(this, m, t.slot);
      const r = yield* compactNode(this, t, n, this.threads(m));
      const enough = freeBlocks(this, m, n) - this.segBlocks >= this.reserve;
      if (!enough && r.gain === 0 && r.released === 0 && pendingSegments(this, t, n) === 0) return -1;
      if (!enough) {
        m.charge('nibble-wait', m.costs.nibbleSpaceWait);
        yield;
      }
      pin(this, m, t.slot);
    }
  }

  // ------------------------------------------------------------------ DEL

  /** Remove (klo, khi). Returns 1 if it was there, 0 if not. */
  *del(t: NibbleThread, klo: number, khi: number): Step {
    const m = t.m;
    pin(this, m, t.slot);
    this.stats.dels++;
    locate(this, t, klo, khi);
    const odd = yield* lockBucket(this, t);
    const b = t.bucket;
    const i = findKey(m, b, klo, khi);
    if (i < 0) {
      unlockBucket(m, b, odd);
      quiesce(this, m, t.slot);
      return 0;
    }
    readEntry(t, b, i);
    const addr = entryAddr(t.vlo, t.vhi);
    const g = entrySeg(t.vhi);
    const size = slotBytesOf(headerWord(this, m, addr, 0));
    m.store64(b + B_KEYS + i * 8, 0, 0);
    writeEntry(m, b, i, 0, 0);
    unlockBucket(m, b, odd);
    liveAdd(this, m, g, -size);
    countAdd(m, this, t.table, -1);
    quiesce(this, m, t.slot);
    t.ops++;
    return 1;
  }

  // ------------------------------------------------------------------ compaction threads

  /**
   * Body of a compaction thread bound to socket `n`: compact while free blocks are below the
   * threshold, otherwise release what has become quiescent and poll again later. Ends when `stop()`.
   */
  *compactor(t: NibbleThread, n: number, stop: () => boolean): Step {
    const m = t.m;
    let passes = 0;
    while (!stop()) {
      if (needsCompaction(this, t, n)) {
        const r = yield* compactNode(this, t, n, this.threads(m));
        passes++;
        if (r.gain > 0 || r.released > 0) continue;
      } else {
        reclaim(this, t, n, this.threads(m));
      }
      m.charge('nibble-compactor-idle', m.costs.nibblePoll);
      yield;
    }
    return passes;
  }

  /** Compact every socket until no pass gains anything (single-threaded use, tests). */
  *compactAll(t: NibbleThread): Step {
    let total = 0;
    for (let n = 0; n < this.nodes; n++) {
      for (;;) {
        const r = yield* compactNode(this, t, n, this.threads(t.m));
        total += r.retired;
        if (r.gain === 0 && r.released === 0) break;
      }
    }
    return total;
  }

  // ------------------------------------------------------------------ reports

  /** What the log holds, read from emulated memory. */
  usage(m: MemPort): Usage {
    const nodes: NodeUsage[] = [];
    let inUse = 0;
    let live = 0;
    for (let n = 0; n < this.nodes; n++) {
      const nb = this.nodeBase(n);
      const u: NodeUsage = {
        node: n, blocks: this.blocksPerNode, freeBlocks: m.load32(nb + N_FREE), headBlocks: 0, closedBlocks: 0, reclaimBlocks: 0, liveBytes: 0, usedBytes: 0,
        compactions: m.load32(nb + N_COMPACTIONS), bytesMoved: (m.load32(nb + N_MOVED_LO) >>> 0) + (m.load32(nb + N_MOVED_LO + 4) >>> 0) * TWO32,
        segmentsReclaimed: m.load32(nb + N_RECLAIMED), headRolls: m.load32(nb + N_ROLLS),
      };
      for (let g = 0; g < this.maxSegs; g++) {
        const sa = nb + this.L.segTable + g * SEG_SLOT;
        const st = m.load32(sa + S_STATE);
        if (st === SEG_FREE) continue;
        const blocks = m.load32(sa + S_NBLOCKS);
        if (st === SEG_HEAD) u.headBlocks += blocks;
        else if (st === SEG_CLOSED || st === SEG_COMPACTING || st === SEG_DEST) u.closedBlocks += blocks;
        else if (st === SEG_RECLAIM) u.reclaimBlocks += blocks;
        u.liveBytes += m.load32(sa + S_LIVE);
        u.usedBytes += m.load32(sa + S_USED);
      }
      inUse += (this.blocksPerNode - u.freeBlocks) * this.B;
      live += u.liveBytes;
      nodes.push(u);
    }
    let objects = 0;
    let buckets = 0;
    let resizes = 0;
    for (let t = 0; t <= this.tableMask; t++) {
      const h = this.tableHdr(t);
      objects += m.load32(h + T_COUNT);
      buckets += m.load32(h + T_NBUCKETS);
      resizes += m.load32(h + T_RESIZES);
    }
    return { nodes, objects, indexBuckets: buckets, indexResizes: resizes, logBytesInUse: inUse, liveBytes: live, capacityBytes: this.nodes * this.blocksPerNode * this.B };
  }
}

export { NibbleThread };
