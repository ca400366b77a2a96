// The data-cache hierarchy under the MMU: per-core L1D and L2, one last-level cache shared by the
// cores of a socket (NUMA node), 64-byte lines, LRU within a set, write-allocate. Every data access
// and every memory reference of the page walker goes through it when a machine runs with caches on
// (as on x86, where page-table lines live in the data caches; the paging-structure caches stay as
// they are). Off by default: the model without it is the one the golden counters record.
//
// The model is a tag store only (no data: emulated memory holds the data), non-inclusive with
// fill on every level that missed (an access that misses L1 and L2 and hits the LLC leaves the line
// in all three). Set index = line number modulo the number of sets, so geometries whose set count
// is not a power of two (a 25 MiB 20-way LLC has 20480 sets) work; real LLCs hash lines over slices,
// which this does not model. Typed arrays only; an access allocates nothing.

export const LINE_BYTES = 64;

/** The level that served an access: index into latency tables and counters. */
export const LEVEL_L1 = 0;
export const LEVEL_L2 = 1;
export const LEVEL_LLC = 2;
export const LEVEL_DRAM = 3;
export const LEVEL_NAMES = ['L1D', 'L2', 'LLC', 'DRAM'] as const;

export interface CacheLevelGeometry {
  /** Capacity in bytes: a multiple of ways × 64. */
  bytes: number;
  ways: number;
}

/** The geometry of one socket's hierarchy; latencies live in the cost parameters. */
export interface CacheGeometry {
  l1d: CacheLevelGeometry;
  l2: CacheLevelGeometry;
  /** Shared by every core of one NUMA node. */
  llc: CacheLevelGeometry;
}

/** One set-associative cache level (a tag store with true LRU per set). */
export class SetAssocCache {
  readonly sets: number;
  readonly ways: number;
  /** Line number (physical address / 64) per way; -1 = invalid. */
  readonly tags: Float64Array;
  /** Last-use tick per way (LRU: the smallest valid stamp in a set is the victim). */
  readonly stamps: Float64Array;
  private tick = 0;
  /** The line of the last access and its way: a sequential stream looks the same line up 16 times
   *  running, and a repeat only refreshes its stamp (the line is still there: only an access to
   *  another line of its set could have evicted it, and that access would be the last one). */
  private lastLine = -1;
  private lastWay = 0;

  constructor(readonly geometry: CacheLevelGeometry, readonly name = 'cache') {
    const { bytes, ways } = geometry;
    if (!Number.isInteger(ways) || ways < 1) throw new RangeError(`${name}: ways must be a positive integer, got ${ways}`);
    if (!Number.isInteger(bytes) || bytes < LINE_BYTES * ways || bytes % (LINE_BYTES * ways) !== 0) {
      throw new RangeError(`${name}: ${bytes} bytes is not a whole number of ${ways}-way sets of ${LINE_BYTES}-byte lines`);
    }
    this.ways = ways;
    this.sets = bytes / (LINE_BYTES * ways);
    this.tags = new Float64Array(this.sets * ways).fill(-1);
    this.stamps = new Float64Array(this.sets * ways);
  }

  /** The set a line maps to. */
  setOf(line: number): number { return line % this.sets; }

  /**
   * Look a line up. A hit refreshes its LRU stamp and returns true; a miss allocates it (into an
   * invalid way if there is one, the lowest-numbered, else over the least recently used way) and
   * returns false. Reads and writes behave alike: writes allocate, and dirtiness is not modelled
   * (write-backs cost nothing here).
   */
  access(line: number): boolean {
    if (line === this.lastLine) {
      this.stamps[this.lastWay] = ++this.tick;
      return true;
    }
    this.lastLine = line;
    const ways = this.ways;
    const base = (line % this.sets) * ways;
    const tags = this.tags;
    const stamps = this.stamps;
    const t = ++this.tick;
    let victim = base;
    let oldest = Infinity;
    for (let w = base, end = base + ways; w < end; w++) {
      const tag = tags[w];
      if (tag === line) { stamps[w] = t; this.lastWay = w; return true; }
      if (tag === -1) {
        if (oldest !== -1) { victim = w; oldest = -1; }
      } else if (stamps[w] < oldest) {
        oldest = stamps[w];
        victim = w;
      }
    }
    tags[victim] = line;
    stamps[victim] = t;
    this.lastWay = victim;
    return false;
  }

  /** Whether a line is present (no LRU update): for tests and reports. */
  contains(line: number): boolean {
    const base = (line % this.sets) * this.ways;
    for (let w = base; w < base + this.ways; w++) if (this.tags[w] === line) return true;
    return false;
  }

  /** Lines currently valid. */
  get validLines(): number {
    let n = 0;
    for (let i = 0; i < this.tags.length; i++) if (this.tags[i] !== -1) n++;
    return n;
  }

  /** Invalidate everything (e.g. WBINVD). */
  clear(): void {
    this.tags.fill(-1);
    this.stamps.fill(0);
    this.tick = 0;
    this.lastLine = -1;
  }
}

/**
 * One core's view of the hierarchy: its private L1D and L2 and its socket's shared LLC. The core
 * owns the counters (mmu/cpu.ts); this only answers which level served a physical address.
 */
export class CacheHierarchy {
  constructor(readonly l1d: SetAssocCache, readonly l2: SetAssocCache, readonly llc: SetAssocCache) {}

  /** Build a core's hierarchy over its socket's LLC (build one LLC per node with `newLlc`). */
  static forCore(g: CacheGeometry, llc: SetAssocCache): CacheHierarchy {
    return new CacheHierarchy(new SetAssocCache(g.l1d, 'L1D'), new SetAssocCache(g.l2, 'L2'), llc);
  }

  static newLlc(g: CacheGeometry): SetAssocCache { return new SetAssocCache(g.llc, 'LLC'); }

  /** Access the line holding physical address pa; returns the level that served it (LEVEL_*). */
  access(pa: number): number {
    const line = Math.floor(pa / LINE_BYTES);
    if (this.l1d.access(line)) return LEVEL_L1;
    if (this.l2.access(line)) return LEVEL_L2;
    if (this.llc.access(line)) return LEVEL_LLC;
    return LEVEL_DRAM;
  }
}

/** Describe a geometry the way a report prints it: "L1D 32K/8, L2 256K/8, LLC 25M/20 per node". */
export function describeCacheGeometry(g: CacheGeometry): string {
  const size = (b: number): string => (b >= 2 ** 20 && b % 2 ** 20 === 0 ? `${b / 2 ** 20}M` : `${b / 1024}K`);
  return `L1D ${size(g.l1d.bytes)}/${g.l1d.ways}-way, L2 ${size(g.l2.bytes)}/${g.l2.ways}-way, LLC ${size(g.llc.bytes)}/${g.llc.ways}-way per node, ${LINE_BYTES}-byte lines, LRU`;
}
