// Emulated physical memory: presented at its full size, split into NUMA nodes, backed lazily by
// host chunks (1 MiB buffers, or views into a 2 GiB host slab once a region is dense) so the
// emulator's footprint grows with what is touched, not with what is presented. Untouched memory
// reads as zero. Little-endian, like x86.

import { MiB, PAGE_SIZE } from './units.js';
import * as constants from './constants.js';

// CHUNK_SIZE (1 MiB, the unit of materialisation) and SLAB_BYTES are defined in constants.ts and
// read through module-local consts, which V8 folds into the code (see there).
export { CHUNK_SHIFT, CHUNK_SIZE, SLAB_BYTES } from './constants.js';
const { CHUNK_SHIFT, CHUNK_SIZE, SLAB_BYTES } = constants;
const CHUNK_MASK = CHUNK_SIZE - 1;
const CHUNK_WORDS = CHUNK_SIZE / 4;
/**
 * Chunks are found through a two-level directory: one slot per 4 GiB, each holding (once anything
 * in it is touched) 4096 chunk slots. A flat table of every chunk would cost 8 bytes per presented
 * MiB before anything is touched (512 MiB of host memory and a minute at 64 TiB); the directory
 * costs 8 bytes per presented 4 GiB.
 */
const DIR_CHUNKS = 4096;
/** 2^32 (words() and bytes() rely on it: a directory is the span of an address's high half). */
const DIR_SPAN = CHUNK_SIZE * DIR_CHUNKS;
/**
 * Host slabs: once SLAB_AFTER_CHUNKS chunks of an aligned SLAB_BYTES region are touched, the region
 * is backed by one host ArrayBuffer (a slab): its touched chunks are copied in, and from then on
 * its chunks are views into the slab (word offsets into one typed array) instead of separate 1 MiB
 * buffers. Random accesses over a large table then index one typed array, which V8 serves cheaper
 * than many small ones (the batched GUPS data phase; see docs/performance.md). The host kernel
 * zeroes a large buffer lazily, so a slab costs host memory only for the host pages written.
 * - 2 GiB keeps every byte index of a slab an int32 (V8's fast index type).
 * - Only dense regions get one: a slab reserves its whole size of host address space (and commit,
 *   under strict overcommit) and its allocation makes V8 collect garbage at once (external memory
 *   pressure, ~3-20 ms), so a machine that touches little (most tests build hundreds) or scatters
 *   its touches over terabytes keeps 1 MiB chunks; reservations stay within 32x what is touched.
 * - A slab the host refuses leaves its region in chunks (nothing else changes).
 * Moving chunks into a slab retires their old views: holders of views (the CPUs' front caches, the
 * page walkers) register with onRemap and drop them; `remaps` counts the moves.
 */
const SLAB_MASK = SLAB_BYTES - 1;
export const SLAB_AFTER_CHUNKS = 64;

/** Told when chunk views were retired (moved into a slab): drop every view held. */
export interface RemapListener {
  dropMemoryViews(): void;
}

type Dir<T> = (T | undefined)[];

/** Raised when the host cannot back memory the emulated machine touches (host out of memory). */
export class HostMemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostMemoryError';
  }
}

export interface PhysicalMemoryOptions {
  /** Presented size in bytes; a multiple of 2 MiB. */
  bytes: number;
  /** NUMA nodes; memory is split into equal contiguous ranges. */
  nodes?: number;
  /**
   * Touched chunks of a 2 GiB region after which it moves into a host slab (default
   * SLAB_AFTER_CHUNKS); 0 keeps every region in 1 MiB chunks (tests compare the two).
   */
  slabAfter?: number;
  /** How host buffers (slabs and chunks) are allocated; tests inject a refusing host. Default `new ArrayBuffer`. */
  allocHost?: (bytes: number) => ArrayBuffer;
}

export class PhysicalMemory {
  readonly size: number;
  readonly nodes: number;
  readonly nodeSize: number;
  /**
   * Per chunk, by directory: the word and byte views holding it (its own 1 MiB buffer, or the
   * slab it lies in). `undefined` until touched. A view's length tells which: a slab is never
   * 1 MiB (regions are whole 2 MiB units), and an address's index in it is its offset in the
   * region, `pa % SLAB_BYTES` (a mask, SLAB_BYTES being 2^31), or in the chunk, `pa % CHUNK_SIZE`.
   */
  private readonly dir32: (Dir<Int32Array> | undefined)[];
  private readonly dir8: (Dir<Uint8Array> | undefined)[];
  /** Slab views by region (SLAB_BYTES each); cold paths only (materialise, readSpan on a miss). */
  private readonly slab32 = new Map<number, Int32Array>();
  private readonly slab8 = new Map<number, Uint8Array>();
  /** Touched chunks per region while it has no slab; -1 once the host refused its slab. */
  private readonly regionChunks = new Map<number, number>();
  /** Physical address of each retired chunk view (moved into a slab), for holders to re-find. */
  private readonly retired = new WeakMap<Int32Array, number>();
  private readonly listeners: WeakRef<RemapListener>[] = [];
  private readonly allocHost: (bytes: number) => ArrayBuffer;
  private readonly slabAfter: number;
  private touchedChunks = 0;
  /** How many times chunk views were retired (moved into a slab). */
  remaps = 0;

  constructor(opts: PhysicalMemoryOptions) {
    const nodes = opts.nodes ?? 1;
    if (!Number.isSafeInteger(opts.bytes) || opts.bytes <= 0 || opts.bytes % (2 * MiB) !== 0) {
      throw new RangeError(`memory size must be a positive multiple of 2M, got ${opts.bytes}`);
    }
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) throw new RangeError(`nodes must be 1..64, got ${nodes}`);
    if (opts.bytes % (nodes * 2 * MiB) !== 0) throw new RangeError(`memory must split into ${nodes} nodes of whole 2M units`);
    if (opts.bytes > 2 ** 52) throw new RangeError('memory beyond 4 PiB exceeds MAXPHYADDR (52 bits)');
    this.size = opts.bytes;
    this.nodes = nodes;
    this.nodeSize = opts.bytes / nodes;
    const n = Math.ceil(opts.bytes / DIR_SPAN);
    this.dir32 = new Array<Dir<Int32Array> | undefined>(n).fill(undefined);
    this.dir8 = new Array<Dir<Uint8Array> | undefined>(n).fill(undefined);
    this.slabAfter = opts.slabAfter ?? SLAB_AFTER_CHUNKS;
    if (!Number.isInteger(this.slabAfter) || this.slabAfter < 0) throw new RangeError(`slabAfter must be a whole number of chunks, got ${this.slabAfter}`);
    this.allocHost = opts.allocHost ?? ((bytes) => new ArrayBuffer(bytes));
  }

  /**
   * The index in the view last returned by words/wordsFor of the word at the pa asked for (and,
   * after bytes/bytesFor, the index of that byte in the byte view). A field, not a return value,
   * so the hot paths allocate nothing.
   */
  at = 0;

  /** The word view holding pa, or undefined while its chunk is untouched (reads as zero); sets `at`. */
  words(pa: number): Int32Array | undefined {
    // pa's low 32 bits as an integer (`pa >>> 0`: exact, pa being a whole number below 2^53), and
    // pa's directory without a division below 4 GiB: one float-to-integer conversion, where
    // `Math.floor(pa / DIR_SPAN)`, `(pa / CHUNK_SIZE) & ...` and `pa & mask` took three and a
    // rounding (a fifth of the GUPS batch loop's own samples, docs/performance.md, seventh round).
    // DIR_SPAN is 2^32, so the chunk's slot in its directory is bits 20..31 of the low half.
    const lo = pa >>> 0;
    const dw = pa >= 0 && pa < DIR_SPAN ? this.dir32[0] : this.dir32[Math.floor(pa / DIR_SPAN)];
    if (dw === undefined) return undefined;
    const w = dw[lo >>> CHUNK_SHIFT];
    if (w !== undefined) this.at = (lo & (w.length === CHUNK_WORDS ? CHUNK_MASK : SLAB_MASK)) >>> 2;
    return w;
  }

  /** The byte view holding pa, or undefined while its chunk is untouched; sets `at`. */
  bytes(pa: number): Uint8Array | undefined {
    const lo = pa >>> 0; // as in words()
    const db = pa >= 0 && pa < DIR_SPAN ? this.dir8[0] : this.dir8[Math.floor(pa / DIR_SPAN)];
    if (db === undefined) return undefined;
    const b = db[lo >>> CHUNK_SHIFT];
    if (b !== undefined) this.at = lo & (b.length === CHUNK_SIZE ? CHUNK_MASK : SLAB_MASK);
    return b;
  }

  /** The word view holding pa, materialised (for writes), with `at` set; a RangeError beyond memory. */
  wordsFor(pa: number): Int32Array {
    const w = this.words(pa);
    if (w !== undefined) return w;
    this.materialise(pa);
    return this.words(pa)!;
  }

  /** The byte view holding pa, materialised, with `at` set. */
  bytesFor(pa: number): Uint8Array {
    const b = this.bytes(pa);
    if (b !== undefined) return b;
    this.materialise(pa);
    return this.bytes(pa)!;
  }

  /** The views `views(pa)` last materialised (words and bytes), and the index of pa's word in viewWords. */
  viewWords: Int32Array = new Int32Array(0);
  viewBytes: Uint8Array = new Uint8Array(0);
  viewWord = 0;

  /**
   * The physical address views() works on: set it, then call views(). A field rather than an
   * argument: views is not always inlined into the CPU's front-cache fill, and a double argument
   * of 2^31 or more to a call V8 did not inline is a fresh HeapNumber (one per fill, measured).
   */
  viewPa = 0;

  /**
   * Materialise the chunk holding viewPa and leave both its views in viewWords/viewBytes and the
   * index of viewPa's word in viewWord (the byte index is viewWord * 4 + viewPa % 4): one directory
   * lookup where wordsFor + bytesFor take two (the CPU's front-cache fill wants both).
   */
  views(): void {
    const pa = this.viewPa;
    let d = Math.floor(pa / DIR_SPAN);
    let c = (pa / CHUNK_SIZE) & (DIR_CHUNKS - 1);
    const d32 = this.dir32[d];
    let w = d32 === undefined ? undefined : d32[c];
    if (w === undefined) {
      this.materialise(pa);
      d = Math.floor(pa / DIR_SPAN);
      c = (pa / CHUNK_SIZE) & (DIR_CHUNKS - 1);
      w = this.dir32[d]![c]!;
    }
    this.viewWords = w;
    this.viewBytes = this.dir8[d]![c]!;
    this.viewWord = (pa & (w.length === CHUNK_WORDS ? CHUNK_MASK : SLAB_MASK)) >>> 2;
  }

  /**
   * A word view that may be read (not written) for any pa in [readSpanPa, readSpanPa +
   * readSpanBytes), word index (pa - readSpanPa) / 4, or undefined while pa's chunk is untouched
   * and not in a slab. A slab's untouched chunks read as zero through it (nothing writes a slab
   * but through the materialising calls), so a reader that caches the span (the page walker)
   * skips the directory for every page table in the slab.
   */
  readSpan(pa: number): Int32Array | undefined {
    if (this.slab32.size > 0) {
      const r = Math.floor(pa / SLAB_BYTES);
      const s = this.slab32.get(r);
      if (s !== undefined) {
        this.readSpanPa = r * SLAB_BYTES;
        this.readSpanBytes = s.length * 4;
        return s;
      }
    }
    const w = this.words(pa);
    if (w === undefined) return undefined;
    this.readSpanPa = pa - (pa % CHUNK_SIZE);
    this.readSpanBytes = CHUNK_SIZE;
    return w;
  }

  readSpanPa = 0;
  readSpanBytes = 0;

  /**
   * Every touched chunk, in address order: its first physical address, the word view holding it
   * and the index of its first word there (`words.subarray(first, first + CHUNK_SIZE / 4)` is the
   * chunk). Untouched chunks are skipped, slab or not.
   */
  *touched(): IterableIterator<{ pa: number; words: Int32Array; first: number }> {
    for (let d = 0; d < this.dir32.length; d++) {
      const dir = this.dir32[d];
      if (dir === undefined) continue;
      for (let c = 0; c < DIR_CHUNKS; c++) {
        const w = dir[c];
        if (w === undefined) continue;
        const pa = d * DIR_SPAN + c * CHUNK_SIZE;
        yield { pa, words: w, first: w.length === CHUNK_WORDS ? 0 : (pa % SLAB_BYTES) / 4 };
      }
    }
  }

  /** Host slabs allocated. */
  get slabs(): number {
    return this.slab32.size;
  }

  /** Register a holder of views, told when views are retired (held weakly: it may be collected). */
  onRemap(l: RemapListener): void {
    if (this.listeners.length >= 64) {
      for (let i = this.listeners.length - 1; i >= 0; i--) if (this.listeners[i].deref() === undefined) this.listeners.splice(i, 1);
    }
    this.listeners.push(new WeakRef(l));
  }

  /** The physical address of word 0 of a retired chunk view, or -1 for a view still in use. */
  retiredPa(view: Int32Array): number {
    return this.retired.get(view) ?? -1;
  }

  private materialise(pa: number): void {
    if (!(pa >= 0 && pa < this.size)) throw new RangeError(`physical address out of range: ${pa}`);
    const d = Math.floor(pa / DIR_SPAN);
    const c = (pa / CHUNK_SIZE) & (DIR_CHUNKS - 1);
    const d32 = this.dir32[d] ?? (this.dir32[d] = new Array<Int32Array | undefined>(DIR_CHUNKS).fill(undefined));
    const d8 = this.dir8[d] ?? (this.dir8[d] = new Array<Uint8Array | undefined>(DIR_CHUNKS).fill(undefined));
    const r = Math.floor(pa / SLAB_BYTES);
    const s32 = this.slab32.get(r);
    if (s32 !== undefined) {
      d32[c] = s32;
      d8[c] = this.slab8.get(r)!;
      this.touchedChunks++;
      return;
    }
    let buf: ArrayBuffer;
    try {
      buf = this.allocHost(CHUNK_SIZE);
    } catch (e) {
      throw new HostMemoryError(`host out of memory: cannot back the 1 MiB of emulated memory at physical address ${pa} `
        + `(${this.touchedChunks} MiB backed so far): ${e instanceof Error ? e.message : String(e)}`);
    }
    d32[c] = new Int32Array(buf);
    d8[c] = new Uint8Array(buf);
    this.touchedChunks++;
    const n = this.regionChunks.get(r) ?? 0;
    if (n < 0) return; // the host refused this region's slab
    this.regionChunks.set(r, n + 1);
    if (this.slabAfter > 0 && n + 1 >= this.slabAfter) this.moveIntoSlab(r);
  }

  /**
   * Back region r with a slab: copy its touched chunks in, point the directory at the slab, retire
   * the chunks' views and tell their holders. A host that refuses leaves the region in chunks.
   */
  private moveIntoSlab(r: number): void {
    const base = r * SLAB_BYTES;
    let buf: ArrayBuffer;
    try {
      buf = this.allocHost(Math.min(SLAB_BYTES, this.size - base));
    } catch {
      this.regionChunks.set(r, -1);
      return;
    }
    const s32 = new Int32Array(buf);
    const s8 = new Uint8Array(buf);
    const end = Math.min(base + SLAB_BYTES, this.size);
    for (let pa = base; pa < end; pa += CHUNK_SIZE) {
      const d = Math.floor(pa / DIR_SPAN);
      const c = (pa / CHUNK_SIZE) & (DIR_CHUNKS - 1);
      const old = this.dir32[d]?.[c];
      if (old === undefined) continue;
      const off = pa - base;
      s8.set(this.dir8[d]![c]!, off);
      this.retired.set(old, pa);
      this.dir32[d]![c] = s32;
      this.dir8[d]![c] = s8;
    }
    this.slab32.set(r, s32);
    this.slab8.set(r, s8);
    this.regionChunks.delete(r);
    this.remaps++;
    for (let i = 0; i < this.listeners.length; i++) {
      const l = this.listeners[i].deref();
      if (l === undefined) this.listeners.splice(i--, 1);
      else l.dropMemoryViews();
    }
  }

  /** NUMA node owning physical address pa. */
  nodeOf(pa: number): number {
    return Math.floor(pa / this.nodeSize);
  }

  /** First physical address of NUMA node `node`. */
  nodeBase(node: number): number {
    return node * this.nodeSize;
  }

  /** Host bytes actually backing emulated memory. */
  get residentBytes(): number {
    return this.touchedChunks * CHUNK_SIZE;
  }

  /** True when the host chunk holding `pa` exists (it has been written). */
  isTouched(pa: number): boolean {
    return this.words(pa) !== undefined;
  }

  private check(pa: number, len: number): void {
    if (!(pa >= 0 && pa + len <= this.size)) throw new RangeError(`physical access out of range: ${pa}+${len}`);
  }

  /** The byte at `pa` (0 if never written). RangeError outside memory. */
  read8(pa: number): number {
    this.check(pa, 1);
    const b = this.bytes(pa);
    return b === undefined ? 0 : b[this.at];
  }

  /** Store the low byte of `v` at `pa`. RangeError outside memory (nothing written). */
  write8(pa: number, v: number): void {
    this.check(pa, 1);
    const b = this.bytesFor(pa);
    b[this.at] = v;
  }

  /** Little-endian 16-bit load (any alignment). RangeError outside memory. */
  read16(pa: number): number {
    this.check(pa, 2);
    return this.read8(pa) | (this.read8(pa + 1) << 8);
  }

  /** Little-endian 16-bit store (any alignment). RangeError outside memory (nothing written). */
  write16(pa: number, v: number): void {
    this.check(pa, 2); // before the first byte, so a straddling write changes nothing
    this.write8(pa, v & 0xff);
    this.write8(pa + 1, (v >>> 8) & 0xff);
  }

  /** 32-bit load as a signed int32 (use >>> 0 for unsigned). Unaligned reads are allowed. */
  read32(pa: number): number {
    this.check(pa, 4);
    if ((pa & 3) !== 0) return (this.read16(pa) | (this.read16(pa + 2) << 16)) | 0;
    const w = this.words(pa);
    return w === undefined ? 0 : w[this.at];
  }

  /** Little-endian 32-bit store (any alignment). RangeError outside memory (nothing written). */
  write32(pa: number, v: number): void {
    this.check(pa, 4); // before any part, so a straddling write changes nothing
    if ((pa & 3) !== 0) {
      this.write16(pa, v & 0xffff);
      this.write16(pa + 2, (v >>> 16) & 0xffff);
      return;
    }
    const w = this.wordsFor(pa);
    w[this.at] = v;
  }

  /** 64-bit values are two 32-bit halves: lo at pa, hi at pa + 4. */
  read64(pa: number): [lo: number, hi: number] {
    return [this.read32(pa), this.read32(pa + 4)];
  }

  /** 64-bit store of halves: lo at pa, hi at pa + 4. RangeError outside memory (nothing written). */
  write64(pa: number, lo: number, hi: number): void {
    this.check(pa, 8);
    this.write32(pa, lo);
    this.write32(pa + 4, hi);
  }

  /** The unsigned 64-bit value at `pa` as a bigint (cold paths). */
  read64Big(pa: number): bigint {
    return (BigInt(this.read32(pa + 4) >>> 0) << 32n) | BigInt(this.read32(pa) >>> 0);
  }

  /** Store the low 64 bits of `v` at `pa` (cold paths). RangeError outside memory (nothing written). */
  write64Big(pa: number, v: bigint): void {
    this.check(pa, 8);
    this.write32(pa, Number(v & 0xffffffffn) | 0);
    this.write32(pa + 4, Number((v >> 32n) & 0xffffffffn) | 0);
  }

  /** Fill [pa, pa+len) with byte v; filling untouched memory with zero touches nothing. */
  fill(pa: number, len: number, v: number): void {
    this.check(pa, len);
    let p = pa;
    const end = pa + len;
    while (p < end) {
      const off = p & CHUNK_MASK;
      const n = Math.min(end - p, CHUNK_SIZE - off);
      if (v === 0 && this.bytes(p) === undefined) {
        // already zero
      } else {
        const b = this.bytesFor(p);
        b.fill(v & 0xff, this.at, this.at + n);
      }
      p += n;
    }
  }

  /** Zero `size` bytes (a page, 4 KiB by default) at `pa`. RangeError outside memory. */
  zeroPage(pa: number, size: number = PAGE_SIZE): void {
    this.fill(pa, size, 0);
  }

  /** Copy len bytes from src to dst; overlapping ranges behave like memmove. */
  copy(dst: number, src: number, len: number): void {
    this.check(dst, len);
    this.check(src, len);
    if (dst === src || len === 0) return;
    if (dst > src && dst < src + len) {
      this.writeBytes(dst, this.readBytes(src, len));
      return;
    }
    let off = 0;
    while (off < len) {
      const s = src + off;
      const d = dst + off;
      const n = Math.min(len - off, CHUNK_SIZE - (s & CHUNK_MASK), CHUNK_SIZE - (d & CHUNK_MASK));
      const from = this.bytes(s);
      if (from === undefined) this.fill(d, n, 0);
      else this.copyBytes(from, this.at, d, n);
      off += n;
    }
  }

  private copyBytes(from: Uint8Array, fromOff: number, dst: number, n: number): void {
    const to = this.bytesFor(dst);
    if (to === from) to.copyWithin(this.at, fromOff, fromOff + n);
    else to.set(from.subarray(fromOff, fromOff + n), this.at);
  }

  /** Read bytes out into a host buffer (for syscalls that copy in). */
  readBytes(pa: number, len: number): Uint8Array {
    this.check(pa, len); // before allocating `len` bytes
    const out = new Uint8Array(len);
    this.readInto(pa, out, 0, len);
    return out;
  }

  /** `len` bytes at `pa` into `out[at..]` (zeros where memory was never written). RangeError as readBytes. */
  readInto(pa: number, out: Uint8Array, at: number, len: number): void {
    this.check(pa, len);
    let off = 0;
    while (off < len) {
      const p = pa + off;
      const o = p & CHUNK_MASK;
      const n = Math.min(len - off, CHUNK_SIZE - o);
      const b = this.bytes(p);
      if (b !== undefined) out.set(b.subarray(this.at, this.at + n), at + off);
      else out.fill(0, at + off, at + off + n);
      off += n;
    }
  }

  /** Store `data` at `pa`. RangeError when any byte is outside memory (nothing written). */
  writeBytes(pa: number, data: Uint8Array): void {
    this.check(pa, data.length);
    let off = 0;
    while (off < data.length) {
      const p = pa + off;
      const o = p & CHUNK_MASK;
      const n = Math.min(data.length - off, CHUNK_SIZE - o);
      const b = this.bytesFor(p);
      b.set(data.subarray(off, off + n), this.at);
      off += n;
    }
  }
}
