// Where every piece of Nibble's state lives in emulated memory. The store is one contiguous range of
// virtual addresses, made of a metadata region (configuration, the epoch table, the per-core heads)
// and one region per socket (that socket's log: segment table, block table, free-block stack, its
// index subtables and its blocks). Each region can be backed by its own SpaceJMP segment allocated
// on its socket, so memory is local the way the reference binds it. A second process that maps the
// same range at the same address reads the configuration from the header and needs nothing else.

export const MAGIC = 0x4c42494e; // 'NIBL'
export const LAYOUT_VERSION = 1;
export const REGION_ALIGN = 2 * 1024 * 1024;

/** Bucket: 64-bit version, 15 keys, 15 values: 248 bytes padded to 256 (4 cache lines). */
export const BUCKET_BYTES = 256;
export const ENTRIES_PER_BUCKET = 15;
export const B_VERSION = 0;
export const B_KEYS = 8;
export const B_VALUES = 128;

/** Segment-table slot: one cache line per segment (the reference's SegmentInfo table). */
export const SEG_SLOT = 64;
export const S_LIVE = 0;
export const S_STATE = 4;
export const S_USED = 8;
export const S_NBLOCKS = 12;
export const S_FIRST = 16;
export const S_NOBJ = 20;
export const S_EPOCH = 24; // creation TSC (age for cost-benefit), 2 halves
export const S_TAG = 32; // reclamation tag TSC, 2 halves
export const S_LAST = 40; // last block of the list
/** Appends whose PUT has not yet reached the index; such a segment is no compaction candidate. */
export const S_INFLIGHT = 48;

export const SEG_FREE = 0;
export const SEG_HEAD = 1;
export const SEG_CLOSED = 2;
export const SEG_COMPACTING = 3;
export const SEG_RECLAIM = 4;
export const SEG_DEST = 5;

/** Block-table entry: owning segment (global id, -1 free) and the next block of that segment. */
export const BLK_SLOT = 8;

/** Global header fields. */
export const H_MAGIC = 0;
export const H_VERSION = 4;
export const H_NODES = 8;
export const H_CORES = 12;
export const H_BLOCK = 16;
export const H_SEGBLOCKS = 20;
export const H_BLOCKS_PER_NODE = 24;
export const H_RESERVE = 28;
export const H_TABLES_PER_NODE = 32;
export const H_INIT_BUCKETS = 36;
export const H_MAX_BUCKETS = 40;
export const H_MAX_THREADS = 44;
export const H_MODE = 48;
export const H_COMPACT_PERMILLE = 52;
export const H_THREADS = 56;
export const H_BATCH_SEGS = 60;

/** Per-node header fields (first page of a node region). */
export const N_FREE = 0;
export const N_COMPACTIONS = 4;
export const N_MOVED_LO = 8; // bytes relocated by compaction, 2 halves
export const N_RECLAIMED = 16;
export const N_ROLLS = 20;
export const N_SUBTABLES = 1024; // subtable headers, 64 bytes each
export const T_NBUCKETS = 0;
export const T_COUNT = 4;
export const T_RESIZING = 8;
export const T_RESIZES = 12;
export const SUBTABLE_HDR = 64;

export const EPOCH_SLOT = 64;
export const HEAD_SLOT = 64;

/** The configuration a store is created with; it is written into the header. */
export interface NibbleConfig {
  /** Sockets: one log (and its subtables) per socket. */
  nodes: number;
  /** Cores: one head segment per core id. */
  cores: number;
  blockSize: number;
  /** Blocks in a head segment. */
  segmentBlocks: number;
  blocksPerNode: number;
  /** Blocks per socket that only compaction may take. */
  reserveBlocks: number;
  tablesPerNode: number;
  initialBuckets: number;
  maxBuckets: number;
  /** Epoch-table slots (threads that may ever register). */
  maxThreads: number;
  /** 1 = Nibble (append every PUT); 2 = Nibble-2 (overwrite in place when it fits). */
  mode: 1 | 2;
  /** Compaction threads start working when free blocks fall below this share of a socket's blocks. */
  compactBelow: number;
  /** Candidate segments compacted together at most (their live bytes fill one destination). */
  batchSegments: number;
}

export interface Layout {
  metaBytes: number;
  epochs: number;
  heads: number;
  nodeStride: number;
  /** Offsets inside a node region. */
  segTable: number;
  blockTable: number;
  freeStack: number;
  tables: number;
  tableStride: number;
  blocks: number;
  maxSegsPerNode: number;
  totalBytes: number;
}

const up = (n: number, a: number): number => Math.ceil(n / a) * a;

export function computeLayout(c: NibbleConfig): Layout {
  const epochs = 4096;
  const heads = epochs + c.maxThreads * EPOCH_SLOT;
  const metaBytes = up(heads + c.cores * HEAD_SLOT, REGION_ALIGN);
  const maxSegsPerNode = c.blocksPerNode;
  const segTable = 4096;
  const blockTable = up(segTable + maxSegsPerNode * SEG_SLOT, 4096);
  const freeStack = up(blockTable + c.blocksPerNode * BLK_SLOT, 4096);
  const tables = up(freeStack + c.blocksPerNode * 4, 4096);
  const tableStride = c.maxBuckets * BUCKET_BYTES;
  const blocks = up(tables + c.tablesPerNode * tableStride, Math.max(c.blockSize, 4096));
  const nodeStride = up(blocks + c.blocksPerNode * c.blockSize, REGION_ALIGN);
  return { metaBytes, epochs, heads, nodeStride, segTable, blockTable, freeStack, tables, tableStride, blocks, maxSegsPerNode, totalBytes: metaBytes + c.nodes * nodeStride };
}

export function validateConfig(c: NibbleConfig): void {
  const pow2 = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
  const check = (ok: boolean, msg: string): void => { if (!ok) throw new RangeError(`nibble: ${msg}`); };
  check(Number.isInteger(c.nodes) && c.nodes >= 1 && c.nodes <= 16, 'nodes must be 1..16');
  check(Number.isInteger(c.cores) && c.cores >= 1 && c.cores <= 4096, 'cores must be 1..4096');
  check(c.blockSize % 4096 === 0 && c.blockSize > 0, 'block size must be a multiple of 4 KiB');
  check(Number.isInteger(c.segmentBlocks) && c.segmentBlocks >= 1, 'segmentBlocks must be >= 1');
  check(c.blocksPerNode >= c.segmentBlocks + c.reserveBlocks, 'a socket needs at least one segment plus the reserve');
  check(c.nodes * c.blocksPerNode < 65536, 'segment ids must fit the 16 bits of an index entry');
  check(pow2(c.tablesPerNode) && pow2(c.initialBuckets) && pow2(c.maxBuckets) && c.maxBuckets >= c.initialBuckets, 'table counts and bucket counts must be powers of two');
  check(pow2(c.nodes * c.tablesPerNode), 'nodes x tablesPerNode must be a power of two');
  check(c.mode === 1 || c.mode === 2, 'mode must be 1 (Nibble) or 2 (Nibble-2)');
  check(c.compactBelow > 0 && c.compactBelow < 1, 'compactBelow must be in (0, 1)');
  check(c.segmentBlocks * c.blockSize < 2 ** 31, 'a segment must be below 2 GiB');
}
