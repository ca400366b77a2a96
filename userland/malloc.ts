// malloc for emulated programs: a segregated-fit allocator whose every piece of metadata lives in
// emulated memory inside the arena it manages, so an arena is just a range of addresses — the
// process heap, a region the program mmap'ed, or (SpaceJMP) a segment that another process
// attaches and keeps allocating in. The JS object is only a view: any thread, in any process that
// maps the arena at the same address, can open it and carry on (fork's copy included).
//
// Blocks never move (non-copying). Sizes are rounded to 16 bytes with a 16-byte header, so every
// pointer is 16-aligned. Exact free lists serve blocks up to 1 KiB (LIFO, so a free is reused by
// the next request of its size); larger blocks sit in power-of-two bins searched first-fit, and a
// block larger than needed is split. Free neighbours are not coalesced: the arena keeps its
// shape, which is what the reference's segment heaps want, at the price of some fragmentation.
//
// Layout (little-endian u32 words; 64-bit values as lo/hi halves):
//   header  magic, version, arena size, bump offset (first never-used byte), live blocks,
//           live bytes, a bitmap of non-empty bins, then one list head (offset or 0) per bin
//   block   [size lo][size hi][state][0] payload... ; a free block's payload starts with `next`

/** Loads and stores of the calling thread (the Runtime), so the allocator pays modelled costs. */
export interface MemoryAccess {
  load32(va: number): number;
  store32(va: number, v: number): void;
}

export class MallocError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MallocError';
  }
}

const MAGIC = 0x4d4a5053; // "SPJM"
const VERSION = 1;
const USED = 0x44455355; // "USED"
const FREE = 0x45455246; // "FREE"
const TWO32 = 4294967296;

const ALIGN = 16;
const BLOCK_HEADER = 16;
const MIN_BLOCK = 32;
/** Bins 0..62: exact sizes 32..1024; bins 63..: (2^k, 2^(k+1)] for k = 10, 11, ... */
const EXACT_MAX = 1024;
const EXACT_BINS = (EXACT_MAX - MIN_BLOCK) / ALIGN + 1;
const BINS = 128;

const H_MAGIC = 0;
const H_VERSION = 4;
const H_SIZE = 8;
const H_BUMP = 16;
const H_COUNT = 24;
const H_BYTES = 32;
const H_BITMAP = 40;
const H_HEADS = H_BITMAP + BINS / 8;
export const ARENA_HEADER = Math.ceil((H_HEADS + BINS * 8) / 64) * 64;

function log2Floor(n: number): number {
  return n >= TWO32 ? 32 + 31 - Math.clz32(Math.floor(n / TWO32)) : 31 - Math.clz32(n);
}

/** The bin holding blocks of `size` bytes (a multiple of 16, at least 32). */
export function binOf(size: number): number {
  if (size <= EXACT_MAX) return (size - MIN_BLOCK) / ALIGN;
  return EXACT_BINS + log2Floor(size - 1) - 10;
}

export interface ArenaStats {
  size: number;
  /** Bytes handed out so far from the top (the rest has never been used). */
  used: number;
  liveBlocks: number;
  /** Bytes of live blocks, headers included. */
  liveBytes: number;
}

export class Arena {
  private constructor(readonly mem: MemoryAccess, readonly base: number, readonly size: number) {}

  /** Lay out a new arena over [base, base + size) (the range must be mapped read-write). */
  static format(mem: MemoryAccess, base: number, size: number): Arena {
    if (base % 4096 !== 0) throw new MallocError(`arena base 0x${base.toString(16)} must be page-aligned`);
    if (!Number.isSafeInteger(size) || size < ARENA_HEADER + MIN_BLOCK) throw new MallocError(`arena of ${size} bytes is too small`);
    const a = new Arena(mem, base, size - (size % ALIGN));
    for (let off = 0; off < ARENA_HEADER; off += 4) mem.store32(base + off, 0);
    a.set64(H_SIZE, a.size);
    a.set64(H_BUMP, ARENA_HEADER);
    mem.store32(base + H_VERSION, VERSION);
    mem.store32(base + H_MAGIC, MAGIC);
    return a;
  }

  /** Open an arena someone formatted at `base`. */
  static open(mem: MemoryAccess, base: number): Arena {
    if (mem.load32(base + H_MAGIC) !== MAGIC) throw new MallocError(`no arena at 0x${base.toString(16)}`);
    if (mem.load32(base + H_VERSION) !== VERSION) throw new MallocError(`arena at 0x${base.toString(16)} has an unknown version`);
    const probe = new Arena(mem, base, 0);
    return new Arena(mem, base, probe.get64(H_SIZE));
  }

  /** Open the arena at `base`, or format one of `size` bytes there if there is none. */
  static openOrFormat(mem: MemoryAccess, base: number, size: number): Arena {
    return mem.load32(base + H_MAGIC) === MAGIC ? Arena.open(mem, base) : Arena.format(mem, base, size);
  }

  private get64(off: number): number {
    return (this.mem.load32(this.base + off) >>> 0) + (this.mem.load32(this.base + off + 4) >>> 0) * TWO32;
  }

  private set64(off: number, v: number): void {
    this.mem.store32(this.base + off, v % TWO32 | 0);
    this.mem.store32(this.base + off + 4, Math.floor(v / TWO32) | 0);
  }

  private blockSize(o: number): number { return this.get64(o); }
  private state(o: number): number { return this.mem.load32(this.base + o + 8) >>> 0; }

  private setBlock(o: number, size: number, state: number): void {
    this.set64(o, size);
    this.mem.store32(this.base + o + 8, state | 0);
  }

  private head(bin: number): number { return this.get64(H_HEADS + bin * 8); }
  private setHead(bin: number, o: number): void { this.set64(H_HEADS + bin * 8, o); }
  private next(o: number): number { return this.get64(o + BLOCK_HEADER); }
  private setNext(o: number, n: number): void { this.set64(o + BLOCK_HEADER, n); }

  private markBin(bin: number, nonEmpty: boolean): void {
    const va = this.base + H_BITMAP + (bin >>> 5) * 4;
    const w = this.mem.load32(va);
    this.mem.store32(va, nonEmpty ? w | (1 << (bin & 31)) : w & ~(1 << (bin & 31)));
  }

  /** First non-empty bin at or above `from`, or -1. */
  private nonEmptyFrom(from: number): number {
    for (let word = from >>> 5; word < BINS / 32; word++) {
      let bits = this.mem.load32(this.base + H_BITMAP + word * 4);
      if (word === from >>> 5) bits &= ~0 << (from & 31);
      if (bits !== 0) return word * 32 + (31 - Math.clz32(bits & -bits));
    }
    return -1;
  }

  private push(o: number, size: number): void {
    const bin = binOf(size);
    const h = this.head(bin);
    this.setBlock(o, size, FREE);
    this.setNext(o, h);
    this.setHead(bin, o);
    if (h === 0) this.markBin(bin, true);
  }

  /** Unlink `o` (whose predecessor in its bin's list is `prev`, or 0 for the head). */
  private unlink(bin: number, o: number, prev: number): void {
    const n = this.next(o);
    if (prev === 0) {
      this.setHead(bin, n);
      if (n === 0) this.markBin(bin, false);
    } else {
      this.setNext(prev, n);
    }
  }

  /** A free block of at least `need` bytes taken off its list, or 0. */
  private takeFree(need: number): number {
    const bin = binOf(need);
    if (bin >= EXACT_BINS || this.head(bin) !== 0) {
      // Exact bins hold only `need`-sized blocks; a log bin is searched first-fit.
      let prev = 0;
      for (let o = this.head(bin); o !== 0; prev = o, o = this.next(o)) {
        if (this.blockSize(o) >= need) {
          this.unlink(bin, o, prev);
          return o;
        }
      }
    }
    const larger = this.nonEmptyFrom(bin + 1);
    if (larger < 0) return 0;
    const o = this.head(larger);
    this.unlink(larger, o, 0);
    return o;
  }

  /** Allocate `n` bytes: a 16-aligned address, or 0 when the arena is full. */
  malloc(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) throw new MallocError(`malloc(${n}): bad size`);
    const need = Math.max(MIN_BLOCK, Math.ceil((n + BLOCK_HEADER) / ALIGN) * ALIGN);
    if (need > this.size) return 0;
    let o = this.takeFree(need);
    if (o !== 0) {
      const have = this.blockSize(o);
      if (have - need >= MIN_BLOCK) this.push(o + need, have - need);
      else if (have > need) return this.finish(o, have);
    } else {
      const bump = this.get64(H_BUMP);
      if (bump + need > this.size) return 0;
      o = bump;
      this.set64(H_BUMP, bump + need);
    }
    return this.finish(o, need);
  }

  private finish(o: number, size: number): number {
    this.setBlock(o, size, USED);
    this.mem.store32(this.base + H_COUNT, (this.mem.load32(this.base + H_COUNT) + 1) | 0);
    this.set64(H_BYTES, this.get64(H_BYTES) + size);
    return this.base + o + BLOCK_HEADER;
  }

  /** The block offset of a pointer this arena handed out, or a MallocError. */
  private blockOf(ptr: number, what: string): number {
    const o = ptr - this.base - BLOCK_HEADER;
    if (!Number.isSafeInteger(o) || o < ARENA_HEADER || o % ALIGN !== 0 || o >= this.get64(H_BUMP)) {
      throw new MallocError(`${what}(0x${ptr.toString(16)}): not a pointer from the arena at 0x${this.base.toString(16)}`);
    }
    const s = this.state(o);
    if (s === FREE) throw new MallocError(`${what}(0x${ptr.toString(16)}): double free`);
    if (s !== USED) throw new MallocError(`${what}(0x${ptr.toString(16)}): invalid pointer or corrupted heap`);
    return o;
  }

  free(ptr: number): void {
    if (ptr === 0) return;
    const o = this.blockOf(ptr, 'free');
    const size = this.blockSize(o);
    this.push(o, size);
    this.mem.store32(this.base + H_COUNT, (this.mem.load32(this.base + H_COUNT) - 1) | 0);
    this.set64(H_BYTES, this.get64(H_BYTES) - size);
  }

  /** Bytes usable at `ptr` (at least what was asked). */
  usableSize(ptr: number): number {
    return this.blockSize(this.blockOf(ptr, 'usableSize')) - BLOCK_HEADER;
  }

  contains(ptr: number): boolean {
    return ptr >= this.base + ARENA_HEADER && ptr < this.base + this.size;
  }

  stats(): ArenaStats {
    return { size: this.size, used: this.get64(H_BUMP), liveBlocks: this.mem.load32(this.base + H_COUNT), liveBytes: this.get64(H_BYTES) };
  }

  /** Every block from the header to the bump offset (blocks tile that range exactly). */
  *blocks(): Generator<{ ptr: number; size: number; free: boolean }> {
    const end = this.get64(H_BUMP);
    for (let o = ARENA_HEADER; o < end;) {
      const size = this.blockSize(o);
      const s = this.state(o);
      if (size < MIN_BLOCK || size % ALIGN !== 0 || (s !== USED && s !== FREE)) throw new MallocError(`corrupted heap at 0x${(this.base + o).toString(16)}`);
      yield { ptr: this.base + o + BLOCK_HEADER, size, free: s === FREE };
      o += size;
    }
  }
}
