// The JS-side view of a store: where its structures are, derived from the header in emulated memory.
// It holds no store state of its own, only addresses and statistics counters (the emulator's
// instruments, which the reference keeps nowhere).

import { computeLayout, type Layout, type NibbleConfig, SEG_SLOT, BLK_SLOT, SUBTABLE_HDR, N_SUBTABLES, EPOCH_SLOT, HEAD_SLOT } from './layout.js';

export interface NibbleStats {
  gets: number;
  getMisses: number;
  puts: number;
  inserts: number;
  inPlace: number;
  appends: number;
  dels: number;
  readRetries: number;
  lockSpins: number;
  resizes: number;
  headRolls: number;
  spaceWaits: number;
  compactions: number;
  segmentsCompacted: number;
  bytesMoved: number;
  objectsMoved: number;
  segmentsReclaimed: number;
  /** Debug: a segment was freed while a reader was copying out of it (must stay 0). */
  freedUnderReader: number;
}

export function emptyStats(): NibbleStats {
  return { gets: 0, getMisses: 0, puts: 0, inserts: 0, inPlace: 0, appends: 0, dels: 0, readRetries: 0, lockSpins: 0, resizes: 0, headRolls: 0, spaceWaits: 0, compactions: 0, segmentsCompacted: 0, bytesMoved: 0, objectsMoved: 0, segmentsReclaimed: 0, freedUnderReader: 0 };
}

export class Shape {
  readonly L: Layout;
  readonly B: number;
  readonly blockShift: number;
  readonly nodes: number;
  readonly cores: number;
  readonly segBlocks: number;
  readonly blocksPerNode: number;
  readonly reserve: number;
  readonly tablesPerNode: number;
  readonly tableMask: number;
  readonly maxBuckets: number;
  readonly maxThreads: number;
  readonly mode: 1 | 2;
  readonly compactBelow: number;
  readonly batchSegments: number;
  readonly maxSegs: number;
  readonly stats: NibbleStats = emptyStats();
  /** Debug: per epoch slot, the global segment a reader is copying out of (-1 none). */
  readonly reading: Int32Array;
  /** Test hook: ignore epochs when reclaiming (shows that the epoch check matters). */
  unsafeReclaim = false;

  constructor(readonly base: number, readonly config: NibbleConfig) {
    this.L = computeLayout(config);
    this.B = config.blockSize;
    this.blockShift = Math.log2(config.blockSize);
    this.nodes = config.nodes;
    this.cores = config.cores;
    this.segBlocks = config.segmentBlocks;
    this.blocksPerNode = config.blocksPerNode;
    this.reserve = config.reserveBlocks;
    this.tablesPerNode = config.tablesPerNode;
    this.tableMask = config.nodes * config.tablesPerNode - 1;
    this.maxBuckets = config.maxBuckets;
    this.maxThreads = config.maxThreads;
    this.mode = config.mode;
    this.compactBelow = config.compactBelow;
    this.batchSegments = config.batchSegments;
    this.maxSegs = this.L.maxSegsPerNode;
    this.reading = new Int32Array(config.maxThreads).fill(-1);
    if (base + this.L.totalBytes > 2 ** 48) throw new RangeError('nibble: the store must lie below 2^48 (index entries hold 48-bit addresses)');
  }

  get totalBytes(): number { return this.L.totalBytes; }

  nodeBase(n: number): number { return this.base + this.L.metaBytes + n * this.L.nodeStride; }
  blocksBase(n: number): number { return this.nodeBase(n) + this.L.blocks; }
  epochSlot(i: number): number { return this.base + this.L.epochs + i * EPOCH_SLOT; }
  headSlot(core: number): number { return this.base + this.L.heads + core * HEAD_SLOT; }

  /** Segment-table slot of a global segment id (node * maxSegs + local). */
  segAddr(g: number): number {
    const n = Math.floor(g / this.maxSegs);
    return this.nodeBase(n) + this.L.segTable + (g - n * this.maxSegs) * SEG_SLOT;
  }

  segNode(g: number): number { return Math.floor(g / this.maxSegs); }

  blockEntry(n: number, b: number): number { return this.nodeBase(n) + this.L.blockTable + b * BLK_SLOT; }
  blockAddr(n: number, b: number): number { return this.blocksBase(n) + b * this.B; }

  /** Node and block index of a log address. */
  nodeOfAddr(addr: number): number { return Math.floor((addr - this.base - this.L.metaBytes) / this.L.nodeStride); }
  blockOfAddr(n: number, addr: number): number { return Math.floor((addr - this.blocksBase(n)) / this.B); }

  /** Subtable `t` (global index): its header and its first bucket. */
  tableHdr(t: number): number {
    const n = Math.floor(t / this.tablesPerNode);
    return this.nodeBase(n) + N_SUBTABLES + (t - n * this.tablesPerNode) * SUBTABLE_HDR;
  }

  tableBuckets(t: number): number {
    const n = Math.floor(t / this.tablesPerNode);
    return this.nodeBase(n) + this.L.tables + (t - n * this.tablesPerNode) * this.L.tableStride;
  }
}
