// Emulated physical memory: presented at its full size, split into NUMA nodes, backed lazily by
// host chunks so the emulator's footprint grows with what is touched, not with what is presented.
// Untouched memory reads as zero. Little-endian, like x86.

import { MiB, PAGE_SIZE } from './units.js';

export const CHUNK_SHIFT = 20;
export const CHUNK_SIZE = 1 << CHUNK_SHIFT; // 1 MiB host chunks
const CHUNK_MASK = CHUNK_SIZE - 1;
/**
 * Chunks are found through a two-level directory: one slot per 4 GiB, each holding (once anything
 * in it is touched) 4096 chunk slots. A flat table of every chunk would cost 8 bytes per presented
 * MiB before anything is touched (512 MiB of host memory and a minute at 64 TiB); the directory
 * costs 8 bytes per presented 4 GiB.
 */
const DIR_CHUNKS = 4096;
const DIR_SPAN = CHUNK_SIZE * DIR_CHUNKS;

type Dir<T> = (T | undefined)[];

export interface PhysicalMemoryOptions {
  /** Presented size in bytes; a multiple of 2 MiB. */
  bytes: number;
  /** NUMA nodes; memory is split into equal contiguous ranges. */
  nodes?: number;
}

export class PhysicalMemory {
  readonly size: number;
  readonly nodes: number;
  readonly nodeSize: number;
  /** Word (Int32) and byte views per chunk, by directory; `undefined` until touched. */
  private readonly dir32: (Dir<Int32Array> | undefined)[];
  private readonly dir8: (Dir<Uint8Array> | undefined)[];
  private touchedChunks = 0;

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
  }

  /** The words of the chunk holding pa, or undefined while it is untouched (reads as zero). */
  words(pa: number): Int32Array | undefined {
    const d = this.dir32[Math.floor(pa / DIR_SPAN)];
    return d === undefined ? undefined : d[(pa / CHUNK_SIZE) & (DIR_CHUNKS - 1)];
  }

  /** The bytes of the chunk holding pa, or undefined while it is untouched. */
  bytes(pa: number): Uint8Array | undefined {
    const d = this.dir8[Math.floor(pa / DIR_SPAN)];
    return d === undefined ? undefined : d[(pa / CHUNK_SIZE) & (DIR_CHUNKS - 1)];
  }

  /** The words of the chunk holding pa, materialised (for writes); a RangeError beyond memory. */
  wordsFor(pa: number): Int32Array {
    return this.words(pa) ?? this.materialise(pa).words;
  }

  /** The bytes of the chunk holding pa, materialised. */
  bytesFor(pa: number): Uint8Array {
    return this.bytes(pa) ?? this.materialise(pa).bytes;
  }

  /** The views of the chunk `views(pa)` last materialised (its words and its bytes). */
  viewWords: Int32Array = new Int32Array(0);
  viewBytes: Uint8Array = new Uint8Array(0);

  /**
   * Materialise the chunk holding pa and leave both its views in viewWords/viewBytes: one
   * directory lookup where wordsFor + bytesFor take two (the CPU's front-cache fill wants both).
   */
  views(pa: number): void {
    const d = Math.floor(pa / DIR_SPAN);
    const c = (pa / CHUNK_SIZE) & (DIR_CHUNKS - 1);
    const d32 = this.dir32[d];
    const w = d32 === undefined ? undefined : d32[c];
    if (w === undefined) {
      const m = this.materialise(pa);
      this.viewWords = m.words;
      this.viewBytes = m.bytes;
      return;
    }
    this.viewWords = w;
    this.viewBytes = this.dir8[d]![c]!;
  }

  /** Every touched chunk with its first physical address (for checks and views). */
  *touched(): IterableIterator<{ pa: number; words: Int32Array }> {
    for (let d = 0; d < this.dir32.length; d++) {
      const dir = this.dir32[d];
      if (dir === undefined) continue;
      for (let c = 0; c < DIR_CHUNKS; c++) {
        const w = dir[c];
        if (w !== undefined) yield { pa: d * DIR_SPAN + c * CHUNK_SIZE, words: w };
      }
    }
  }

  private materialise(pa: number): { words: Int32Array; bytes: Uint8Array } {
    if (!(pa >= 0 && pa < this.size)) throw new RangeError(`physical address out of range: ${pa}`);
    const d = Math.floor(pa / DIR_SPAN);
    const c = (pa / CHUNK_SIZE) & (DIR_CHUNKS - 1);
    const d32 = this.dir32[d] ?? (this.dir32[d] = new Array<Int32Array | undefined>(DIR_CHUNKS).fill(undefined));
    const d8 = this.dir8[d] ?? (this.dir8[d] = new Array<Uint8Array | undefined>(DIR_CHUNKS).fill(undefined));
    const buf = new ArrayBuffer(CHUNK_SIZE);
    const words = new Int32Array(buf);
    const bytes = new Uint8Array(buf);
    d32[c] = words;
    d8[c] = bytes;
    this.touchedChunks++;
    return { words, bytes };
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
    return b === undefined ? 0 : b[pa & CHUNK_MASK];
  }

  /** Store the low byte of `v` at `pa`. RangeError outside memory (nothing written). */
  write8(pa: number, v: number): void {
    this.check(pa, 1);
    this.bytesFor(pa)[pa & CHUNK_MASK] = v;
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
    return w === undefined ? 0 : w[(pa & CHUNK_MASK) >>> 2];
  }

  /** Little-endian 32-bit store (any alignment). RangeError outside memory (nothing written). */
  write32(pa: number, v: number): void {
    this.check(pa, 4); // before any part, so a straddling write changes nothing
    if ((pa & 3) !== 0) {
      this.write16(pa, v & 0xffff);
      this.write16(pa + 2, (v >>> 16) & 0xffff);
      return;
    }
    this.wordsFor(pa)[(pa & CHUNK_MASK) >>> 2] = v;
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
        this.bytesFor(p).fill(v & 0xff, off, off + n);
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
      else this.copyBytes(from, s & CHUNK_MASK, d, n);
      off += n;
    }
  }

  private copyBytes(from: Uint8Array, fromOff: number, dst: number, n: number): void {
    const to = this.bytesFor(dst);
    if (to === from) to.copyWithin(dst & CHUNK_MASK, fromOff, fromOff + n);
    else to.set(from.subarray(fromOff, fromOff + n), dst & CHUNK_MASK);
  }

  /** Read bytes out into a host buffer (for syscalls that copy in). */
  readBytes(pa: number, len: number): Uint8Array {
    this.check(pa, len);
    const out = new Uint8Array(len);
    let off = 0;
    while (off < len) {
      const p = pa + off;
      const o = p & CHUNK_MASK;
      const n = Math.min(len - off, CHUNK_SIZE - o);
      const b = this.bytes(p);
      if (b !== undefined) out.set(b.subarray(o, o + n), off);
      off += n;
    }
    return out;
  }

  /** Store `data` at `pa`. RangeError when any byte is outside memory (nothing written). */
  writeBytes(pa: number, data: Uint8Array): void {
    this.check(pa, data.length);
    let off = 0;
    while (off < data.length) {
      const p = pa + off;
      const o = p & CHUNK_MASK;
      const n = Math.min(data.length - off, CHUNK_SIZE - o);
      this.bytesFor(p).set(data.subarray(off, off + n), o);
      off += n;
    }
  }
}
