// Physical frame allocator: a binary buddy allocator per NUMA node over orders 0..18
// (4 KiB .. 1 GiB), handing out naturally aligned blocks.
//
// Memory is presented at sizes up to petabytes but backed lazily, so the allocator's own state
// must scale with what has been handed out, never with what is presented. Two choices make that
// hold:
//  - whole free 1 GiB blocks are kept as sorted extents [start, end) rather than one entry per
//    block, so a node that was never touched costs one entry however large it is;
//  - orders below 1 GiB hold only the blocks that splitting actually produced.
// Each order's free blocks sit in an indexed min-heap: taking the lowest address keeps
// placement deterministic and compact (low addresses first, which also reads well in
// page-table dumps), and the index lets a free coalesce with its buddy in O(log n).
//
// Frames are not zeroed here: the kernel decides when contents matter, and zero-filling memory
// that was never touched is free in PhysicalMemory anyway.

import type { PhysicalMemory } from '../../mmu/physicalMemory.js';
import { MiB, PAGE_SIZE } from '../../mmu/units.js';

export const MAX_ORDER = 18;
export const ORDER_4K = 0;
export const ORDER_2M = 9;
export const ORDER_1G = 18;

/** Bytes in a block of each order: ORDER_BYTES[o] = 4096 * 2^o. */
export const ORDER_BYTES: readonly number[] = Array.from({ length: MAX_ORDER + 1 }, (_, o) => PAGE_SIZE * 2 ** o);

const GIB_BLOCK = ORDER_BYTES[MAX_ORDER];

/** Smallest order whose block holds `bytes` (0 for 0 bytes); throws beyond 1 GiB. */
export function orderForSize(bytes: number): number {
  if (!(bytes >= 0) || !Number.isSafeInteger(bytes)) throw new RangeError(`bad size: ${bytes}`);
  for (let o = 0; o <= MAX_ORDER; o++) if (ORDER_BYTES[o] >= bytes) return o;
  throw new RangeError(`size ${bytes} exceeds the largest frame (1 GiB)`);
}

function checkOrder(order: number): void {
  if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER) {
    throw new RangeError(`frame order must be an integer 0..${MAX_ORDER}, got ${order}`);
  }
}

/** A kernel invariant violation detected by the allocator (double free, bad free, corruption). */
export class FrameAllocatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameAllocatorError';
  }
}

export interface FrameAllocatorOptions {
  /** Bytes at physical 0 that are never handed out (default 1 MiB), so 0 never names a frame. */
  reservedLow?: number;
}

export interface AllocOptions {
  /** Try other nodes when the requested one cannot satisfy the request (default true). */
  fallback?: boolean;
}

export interface FrameBlock {
  pa: number;
  order: number;
}

export interface FrameNodeStats {
  node: number;
  /** First physical address of the node. */
  base: number;
  /** Presented bytes of the node. */
  bytes: number;
  /** Bytes of the node inside the low reservation; never free, never used. */
  reservedBytes: number;
  freeBytes: number;
  usedBytes: number;
  /** Allocated blocks living on this node. */
  allocatedBlocks: number;
  /** Free blocks per order (index = order); order 18 counts the 1 GiB blocks in free extents. */
  freeBlocksByOrder: number[];
  /** Largest order with a free block, or -1 when the node is full. */
  largestFreeOrder: number;
}

/**
 * Physical address (a multiple of 4 KiB) -> small non-negative integer, as an open-addressing hash
 * table (linear probing, deletion by backward shift: no tombstones). It replaces a Map, whose
 * delete-then-re-add of the same heap-number keys (addresses above 2^31) degrades in V8 to tens
 * of microseconds per operation and worse as it repeats, exactly the pattern of page-table pages
 * and windows being freed and re-allocated. Iteration keeps a Map's order (first insertion of a
 * key; re-setting a live key keeps its place) through a per-entry sequence number.
 */
class PaTable {
  private keys: Float64Array;
  private vals: Int32Array;
  private seqs: Float64Array;
  private mask: number;
  private shift: number;
  private nextSeq = 0;
  size = 0;

  constructor(private readonly minCapacity = 64) {
    this.keys = new Float64Array(minCapacity).fill(-1);
    this.vals = new Int32Array(minCapacity);
    this.seqs = new Float64Array(minCapacity);
    this.mask = minCapacity - 1;
    this.shift = 32 - Math.log2(minCapacity);
  }

  private home(k: number): number {
    const lo = (k / 4096) >>> 0;
    const hi = Math.floor(k / 17592186044416); // 2^44: page-number bits above 32
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  private find(k: number): number {
    const keys = this.keys;
    for (let i = this.home(k); ; i = (i + 1) & this.mask) {
      const x = keys[i];
      if (x === k) return i;
      if (x === -1) return -1;
    }
  }

  has(k: number): boolean {
    return this.find(k) >= 0;
  }

  /** The value for k, or -1. */
  get(k: number): number {
    const i = this.find(k);
    return i >= 0 ? this.vals[i] : -1;
  }

  set(k: number, v: number): void {
    const keys = this.keys;
    let i = this.home(k);
    for (; ; i = (i + 1) & this.mask) {
      const x = keys[i];
      if (x === k) { this.vals[i] = v; return; }
      if (x === -1) break;
    }
    keys[i] = k;
    this.vals[i] = v;
    this.seqs[i] = this.nextSeq++;
    if (++this.size * 2 > keys.length) this.resize(keys.length * 2);
  }

  delete(k: number): boolean {
    let i = this.find(k);
    if (i < 0) return false;
    const keys = this.keys;
    const mask = this.mask;
    for (let j = i; ;) {
      j = (j + 1) & mask;
      const x = keys[j];
      if (x === -1) break;
      const h = this.home(x);
      // The entry at j may stay when its home lies cyclically in (i, j].
      if (i <= j ? (i < h && h <= j) : (i < h || h <= j)) continue;
      keys[i] = x;
      this.vals[i] = this.vals[j];
      this.seqs[i] = this.seqs[j];
      i = j;
    }
    keys[i] = -1;
    this.size--;
    if (this.size * 8 < keys.length && keys.length > this.minCapacity) this.resize(keys.length / 2);
    return true;
  }

  private resize(cap: number): void {
    const { keys, vals, seqs } = this;
    this.keys = new Float64Array(cap).fill(-1);
    this.vals = new Int32Array(cap);
    this.seqs = new Float64Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    for (let s = 0; s < keys.length; s++) {
      const k = keys[s];
      if (k === -1) continue;
      let i = this.home(k);
      while (this.keys[i] !== -1) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.vals[i] = vals[s];
      this.seqs[i] = seqs[s];
    }
  }

  /** [key, value] pairs in first-insertion order (like a Map). O(n log n): for checks and listings. */
  entries(): [number, number][] {
    const idx: number[] = [];
    for (let s = 0; s < this.keys.length; s++) if (this.keys[s] !== -1) idx.push(s);
    idx.sort((a, b) => this.seqs[a] - this.seqs[b]);
    return idx.map((s) => [this.keys[s], this.vals[s]]);
  }
}

/** Min-heap of addresses with a position index, so arbitrary removal (a buddy) is O(log n). */
class AddrHeap {
  readonly keys: number[] = [];
  readonly pos = new PaTable();

  get size(): number {
    return this.keys.length;
  }

  has(k: number): boolean {
    return this.pos.has(k);
  }

  push(k: number): void {
    const i = this.keys.length;
    this.keys.push(k);
    this.pos.set(k, i);
    this.up(i);
  }

  popMin(): number {
    const top = this.keys[0];
    this.removeAt(0);
    return top;
  }

  remove(k: number): boolean {
    const i = this.pos.get(k);
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  private removeAt(i: number): void {
    const keys = this.keys;
    const k = keys[i];
    const last = keys.pop()!;
    this.pos.delete(k);
    if (i < keys.length) {
      keys[i] = last;
      this.pos.set(last, i);
      if (i > 0 && keys[(i - 1) >> 1] > last) this.up(i);
      else this.down(i);
    }
  }

  private up(i: number): void {
    const keys = this.keys;
    const k = keys[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = keys[p];
      if (pk <= k) break;
      keys[i] = pk;
      this.pos.set(pk, i);
      i = p;
    }
    keys[i] = k;
    this.pos.set(k, i);
  }

  private down(i: number): void {
    const keys = this.keys;
    const n = keys.length;
    const k = keys[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && keys[c + 1] < keys[c]) c++;
      const ck = keys[c];
      if (ck >= k) break;
      keys[i] = ck;
      this.pos.set(ck, i);
      i = c;
    }
    keys[i] = k;
    this.pos.set(k, i);
  }
}

/** Free state of one NUMA node. */
class NodeArena {
  /** heaps[o] for o < MAX_ORDER; whole 1 GiB blocks live in the extents instead. */
  readonly heaps: AddrHeap[] = Array.from({ length: MAX_ORDER }, () => new AddrHeap());
  /** Sorted, non-adjacent runs of free 1 GiB blocks: [extStart[i], extEnd[i]). */
  readonly extStart: number[] = [];
  readonly extEnd: number[] = [];
  freeBytes = 0;
  usedBytes = 0;
  allocatedBlocks = 0;

  constructor(
    readonly node: number,
    readonly base: number,
    readonly end: number,
    /** First byte the allocator manages (above the low reservation). */
    readonly managedStart: number,
  ) {}

  get managedBytes(): number {
    return Math.max(0, this.end - this.managedStart);
  }

  /** Add a free block without coalescing (initial carving). */
  addFree(pa: number, order: number): void {
    if (order === MAX_ORDER) this.insertExtent(pa);
    else this.heaps[order].push(pa);
    this.freeBytes += ORDER_BYTES[order];
  }

  insertExtent(pa: number): void {
    const s = this.extStart;
    const e = this.extEnd;
    const end = pa + GIB_BLOCK;
    // First extent starting after pa.
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid] <= pa) lo = mid + 1;
      else hi = mid;
    }
    const joinPrev = lo > 0 && e[lo - 1] === pa;
    const joinNext = lo < s.length && s[lo] === end;
    if (joinPrev && joinNext) {
      e[lo - 1] = e[lo];
      s.splice(lo, 1);
      e.splice(lo, 1);
    } else if (joinPrev) {
      e[lo - 1] = end;
    } else if (joinNext) {
      s[lo] = pa;
    } else {
      s.splice(lo, 0, pa);
      e.splice(lo, 0, end);
    }
  }

  takeExtent(): number {
    const pa = this.extStart[0];
    if (this.extEnd[0] === pa + GIB_BLOCK) {
      this.extStart.shift();
      this.extEnd.shift();
    } else {
      this.extStart[0] = pa + GIB_BLOCK;
    }
    return pa;
  }

  gibFree(): number {
    let n = 0;
    for (let i = 0; i < this.extStart.length; i++) n += (this.extEnd[i] - this.extStart[i]) / GIB_BLOCK;
    return n;
  }

  largestFreeOrder(): number {
    if (this.extStart.length > 0) return MAX_ORDER;
    for (let o = MAX_ORDER - 1; o >= 0; o--) if (this.heaps[o].size > 0) return o;
    return -1;
  }

  /** Take a block of `order`, splitting a larger one if needed; -1 when none fits. */
  alloc(order: number): number {
    let j = order;
    while (j < MAX_ORDER && this.heaps[j].size === 0) j++;
    let pa: number;
    if (j < MAX_ORDER) pa = this.heaps[j].popMin();
    else if (this.extStart.length > 0) pa = this.takeExtent();
    else return -1;
    // Keep the low half, give the upper halves back: allocations pack towards low addresses.
    while (j > order) {
      j--;
      this.heaps[j].push(pa + ORDER_BYTES[j]);
    }
    const size = ORDER_BYTES[order];
    this.freeBytes -= size;
    this.usedBytes += size;
    this.allocatedBlocks++;
    return pa;
  }

  /** Return a block and merge it with free buddies as far as they go. */
  release(pa: number, order: number): void {
    const size = ORDER_BYTES[order];
    this.freeBytes += size;
    this.usedBytes -= size;
    this.allocatedBlocks--;
    let p = pa;
    let o = order;
    while (o < MAX_ORDER) {
      const bs = ORDER_BYTES[o];
      const buddy = (p / bs) % 2 === 0 ? p + bs : p - bs;
      // A buddy outside this node or in the reservation is never in this heap, so edge blocks
      // stop coalescing by themselves.
      if (!this.heaps[o].remove(buddy)) break;
      if (buddy < p) p = buddy;
      o++;
    }
    if (o === MAX_ORDER) this.insertExtent(p);
    else this.heaps[o].push(p);
  }
}

export class FrameAllocator {
  readonly mem: PhysicalMemory;
  readonly reservedLow: number;
  private readonly arenas: NodeArena[] = [];
  /** Every live block: pa -> order. The only state that grows with allocations. */
  private readonly allocated = new PaTable();

  constructor(mem: PhysicalMemory, opts: FrameAllocatorOptions = {}) {
    const reservedLow = opts.reservedLow ?? MiB;
    if (!Number.isSafeInteger(reservedLow) || reservedLow < 0 || reservedLow % PAGE_SIZE !== 0 || reservedLow > mem.size) {
      throw new RangeError(`reservedLow must be a multiple of 4K within memory, got ${reservedLow}`);
    }
    this.mem = mem;
    this.reservedLow = reservedLow;
    for (let n = 0; n < mem.nodes; n++) {
      const base = mem.nodeBase(n);
      const end = base + mem.nodeSize;
      const arena = new NodeArena(n, base, end, Math.min(end, Math.max(base, reservedLow)));
      // Carve the managed range greedily into the largest naturally aligned blocks that fit.
      let p = arena.managedStart;
      while (p < end) {
        let o = MAX_ORDER;
        while (p % ORDER_BYTES[o] !== 0 || p + ORDER_BYTES[o] > end) o--;
        arena.addFree(p, o);
        p += ORDER_BYTES[o];
      }
      this.arenas.push(arena);
    }
  }

  /** NUMA nodes the allocator manages. */
  get nodes(): number {
    return this.arenas.length;
  }

  /**
   * Allocate a naturally aligned block of 4 KiB * 2^order on `node` (default 0), falling back
   * to the other nodes in ascending order unless `fallback` is false. Returns the physical
   * address, or -1 when no node can satisfy it (the kernel maps that to ENOMEM).
   */
  alloc(order: number, node = 0, opts: AllocOptions = {}): number {
    checkOrder(order);
    this.checkNode(node);
    let pa = this.arenas[node].alloc(order);
    if (pa < 0 && opts.fallback !== false) {
      for (let n = 0; n < this.arenas.length && pa < 0; n++) {
        if (n !== node) pa = this.arenas[n].alloc(order);
      }
    }
    if (pa >= 0) this.allocated.set(pa, order);
    return pa;
  }

  /** alloc of one 4 KiB page. */
  allocPage(node?: number, opts?: AllocOptions): number {
    return this.alloc(ORDER_4K, node, opts);
  }

  /** alloc of one 2 MiB block. */
  alloc2M(node?: number, opts?: AllocOptions): number {
    return this.alloc(ORDER_2M, node, opts);
  }

  /** alloc of one 1 GiB block. */
  alloc1G(node?: number, opts?: AllocOptions): number {
    return this.alloc(ORDER_1G, node, opts);
  }

  /** Return a block obtained from alloc (or split). Throws FrameAllocatorError on any misuse. */
  free(pa: number, order: number): void {
    checkOrder(order);
    if (!Number.isSafeInteger(pa) || pa < 0 || pa >= this.mem.size) {
      throw new FrameAllocatorError(`free of physical address outside memory: ${hex(pa)}`);
    }
    if (pa % ORDER_BYTES[order] !== 0) {
      throw new FrameAllocatorError(`free of misaligned ${sizeName(order)} frame at ${hex(pa)}`);
    }
    const have = this.allocated.get(pa);
    if (have !== order) {
      if (have >= 0) {
        throw new FrameAllocatorError(`free of ${hex(pa)} as ${sizeName(order)}, but it was allocated as ${sizeName(have)}`);
      }
      const owner = this.blockAt(pa);
      if (owner !== undefined) {
        throw new FrameAllocatorError(`free of ${hex(pa)} which lies inside the ${sizeName(owner.order)} frame at ${hex(owner.pa)}`);
      }
      throw new FrameAllocatorError(`free of ${hex(pa)} which is not allocated (double free or never allocated)`);
    }
    this.allocated.delete(pa);
    this.arenas[this.mem.nodeOf(pa)].release(pa, order);
  }

  /**
   * Turn the allocated block (pa, order) into 2^(order - toOrder) allocated blocks of toOrder,
   * so the pieces can be freed one by one (e.g. when a 2 MiB mapping is broken into 4 KiB pages).
   */
  split(pa: number, order: number, toOrder = 0): void {
    checkOrder(order);
    checkOrder(toOrder);
    if (toOrder > order) throw new RangeError(`cannot split order ${order} into larger order ${toOrder}`);
    if (this.allocated.get(pa) !== order) {
      throw new FrameAllocatorError(`split of ${hex(pa)} as ${sizeName(order)}, which is not an allocated block of that size`);
    }
    const arena = this.arenas[this.mem.nodeOf(pa)];
    const step = ORDER_BYTES[toOrder];
    const count = ORDER_BYTES[order] / step;
    for (let i = 0; i < count; i++) this.allocated.set(pa + i * step, toOrder);
    arena.allocatedBlocks += count - 1;
  }

  /** Free bytes on `node`, or on all nodes. */
  freeBytes(node?: number): number {
    if (node !== undefined) {
      this.checkNode(node);
      return this.arenas[node].freeBytes;
    }
    return this.arenas.reduce((s, a) => s + a.freeBytes, 0);
  }

  /** Allocated bytes on `node`, or on all nodes. */
  usedBytes(node?: number): number {
    if (node !== undefined) {
      this.checkNode(node);
      return this.arenas[node].usedBytes;
    }
    return this.arenas.reduce((s, a) => s + a.usedBytes, 0);
  }

  /** Bytes the allocator manages (presented minus reserved) on `node`, or on all nodes. */
  managedBytes(node?: number): number {
    if (node !== undefined) {
      this.checkNode(node);
      return this.arenas[node].managedBytes;
    }
    return this.arenas.reduce((s, a) => s + a.managedBytes, 0);
  }

  /** The allocated block containing pa, if any. */
  blockAt(pa: number): FrameBlock | undefined {
    if (!(pa >= 0 && pa < this.mem.size)) return undefined;
    for (let o = 0; o <= MAX_ORDER; o++) {
      const start = pa - (pa % ORDER_BYTES[o]);
      if (this.allocated.get(start) === o) return { pa: start, order: o };
    }
    return undefined;
  }

  /** Whether the byte at pa belongs to an allocated block. */
  isAllocated(pa: number): boolean {
    return this.blockAt(pa) !== undefined;
  }

  /** Number of live allocated blocks. */
  get allocatedCount(): number {
    return this.allocated.size;
  }

  /** Every live allocated block, in allocation order (for kernel invariant checks). */
  *allocatedBlocks(): IterableIterator<FrameBlock> {
    for (const [pa, order] of this.allocated.entries()) yield { pa, order };
  }

  /**
   * Every free block on `node` (or all nodes), sorted by address. Free 1 GiB runs are expanded
   * block by block, so on huge untouched memories this is long: iterate lazily.
   */
  *freeBlocks(node?: number): IterableIterator<FrameBlock> {
    const arenas = node === undefined ? this.arenas : [this.arenas[node]];
    for (const a of arenas) {
      const small: FrameBlock[] = [];
      for (let o = 0; o < MAX_ORDER; o++) for (const pa of a.heaps[o].keys) small.push({ pa, order: o });
      small.sort((x, y) => x.pa - y.pa);
      let i = 0;
      for (let e = 0; e < a.extStart.length; e++) {
        for (let pa = a.extStart[e]; pa < a.extEnd[e]; pa += GIB_BLOCK) {
          while (i < small.length && small[i].pa < pa) yield small[i++];
          yield { pa, order: MAX_ORDER };
        }
      }
      while (i < small.length) yield small[i++];
    }
  }

  /** Per node: free and used bytes, free blocks by order. Reads only. */
  stats(): FrameNodeStats[] {
    return this.arenas.map((a) => {
      const freeBlocksByOrder = a.heaps.map((h) => h.size);
      freeBlocksByOrder.push(a.gibFree());
      return {
        node: a.node,
        base: a.base,
        bytes: a.end - a.base,
        reservedBytes: a.end - a.base - a.managedBytes,
        freeBytes: a.freeBytes,
        usedBytes: a.usedBytes,
        allocatedBlocks: a.allocatedBlocks,
        freeBlocksByOrder,
        largestFreeOrder: a.largestFreeOrder(),
      };
    });
  }

  /**
   * Entries held in the allocator's own structures (free-heap slots, free 1 GiB extents and
   * allocation records). Bounded by O(allocations + orders * nodes), independent of memory size.
   */
  metadataEntries(): number {
    let n = this.allocated.size;
    for (const a of this.arenas) {
      n += a.extStart.length;
      for (const h of a.heaps) n += h.size;
    }
    return n;
  }

  /**
   * Verify the allocator's internal consistency: free and allocated blocks aligned, inside their
   * node's managed range, disjoint and covering it exactly; no two free buddies left unmerged;
   * counters agree. Throws FrameAllocatorError on the first violation. Costs O(n log n) in
   * metadata entries, so it is meant for tests and debug checks, not hot paths.
   */
  checkInvariants(): void {
    const fail = (m: string): never => {
      throw new FrameAllocatorError(`frame allocator invariant: ${m}`);
    };
    const allocByNode: [number, number][][] = this.arenas.map(() => []);
    for (const [pa, order] of this.allocated.entries()) {
      if (pa % ORDER_BYTES[order] !== 0) fail(`allocated block ${hex(pa)} misaligned for order ${order}`);
      allocByNode[this.mem.nodeOf(pa)].push([pa, pa + ORDER_BYTES[order]]);
    }
    for (const a of this.arenas) {
      const ranges: [number, number, boolean][] = [];
      let free = 0;
      for (let o = 0; o < MAX_ORDER; o++) {
        const h = a.heaps[o];
        if (h.pos.size !== h.keys.length) fail(`node ${a.node} order ${o} heap index size mismatch`);
        h.keys.forEach((pa, i) => {
          if (h.pos.get(pa) !== i) fail(`node ${a.node} order ${o} heap index wrong for ${hex(pa)}`);
          if (i > 0 && h.keys[(i - 1) >> 1] > pa) fail(`node ${a.node} order ${o} heap order broken`);
          const bs = ORDER_BYTES[o];
          if (pa % bs !== 0) fail(`free block ${hex(pa)} misaligned for order ${o}`);
          const buddy = (pa / bs) % 2 === 0 ? pa + bs : pa - bs;
          if (h.has(buddy)) fail(`free buddies ${hex(pa)} and ${hex(buddy)} of order ${o} not coalesced`);
          ranges.push([pa, pa + bs, true]);
          free += bs;
        });
      }
      for (let i = 0; i < a.extStart.length; i++) {
        const s = a.extStart[i];
        const e = a.extEnd[i];
        if (s % GIB_BLOCK !== 0 || e % GIB_BLOCK !== 0 || e <= s) fail(`bad free extent ${hex(s)}..${hex(e)}`);
        if (i > 0 && a.extEnd[i - 1] >= s) fail(`free extents unsorted or unmerged at ${hex(s)}`);
        ranges.push([s, e, true]);
        free += e - s;
      }
      let used = 0;
      for (const [s, e] of allocByNode[a.node]) {
        ranges.push([s, e, false]);
        used += e - s;
      }
      if (free !== a.freeBytes) fail(`node ${a.node} free bytes ${a.freeBytes} but blocks hold ${free}`);
      if (used !== a.usedBytes) fail(`node ${a.node} used bytes ${a.usedBytes} but blocks hold ${used}`);
      if (allocByNode[a.node].length !== a.allocatedBlocks) fail(`node ${a.node} allocated block count mismatch`);
      ranges.sort((x, y) => x[0] - y[0]);
      let p = a.managedStart;
      for (const [s, e, isFree] of ranges) {
        if (s !== p) fail(`node ${a.node}: ${s < p ? 'overlap' : 'hole'} at ${hex(Math.min(s, p))} (${isFree ? 'free' : 'allocated'} block ${hex(s)})`);
        p = e;
      }
      if (p !== Math.max(a.end, a.managedStart)) fail(`node ${a.node}: blocks end at ${hex(p)}, node ends at ${hex(a.end)}`);
    }
  }

  private checkNode(node: number): void {
    if (!Number.isInteger(node) || node < 0 || node >= this.arenas.length) {
      throw new RangeError(`NUMA node must be an integer 0..${this.arenas.length - 1}, got ${node}`);
    }
  }
}

function hex(pa: number): string {
  return Number.isSafeInteger(pa) && pa >= 0 ? '0x' + pa.toString(16) : String(pa);
}

function sizeName(order: number): string {
  const b = ORDER_BYTES[order];
  return b >= GIB_BLOCK ? `${b / GIB_BLOCK}G` : b >= MiB ? `${b / MiB}M` : `${b / 1024}K`;
}
