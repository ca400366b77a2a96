// BAM files on the emulated tmpfs: the header's binary form, a reader that inflates BGZF blocks
// read with read() (and can seek to a virtual offset, as index queries do), and a writer that
// deflates blocks and writes them with write(). Compressed bytes pass through a buffer in the
// program's own memory (loaded and stored through its CPU); zlib's work is charged per byte.

import type { Runtime } from '../runtime.js';
import { BGZF_BLOCK_DATA, BGZF_EOF, BGZF_HEADER, BgzfError, blockSize, deflateBlock, inflateBlock } from './bgzf.js';
import { loadBytes, storeBytes } from './mem.js';
import { SamError, makeHeader, type SamHeader } from './record.js';

const latin1 = new TextDecoder('latin1');

/** The header as BAM stores it: magic, text, then the reference dictionary. */
export function encodeBamHeader(h: SamHeader): Uint8Array {
  const text = Buffer.from(h.text, 'latin1');
  let size = 12 + text.length;
  const names = h.refs.map((r) => Buffer.from(r.name, 'latin1'));
  for (const n of names) size += 9 + n.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set([66, 65, 77, 1]);
  dv.setUint32(4, text.length, true);
  out.set(text, 8);
  let p = 8 + text.length;
  dv.setUint32(p, h.refs.length, true);
  p += 4;
  h.refs.forEach((r, i) => {
    dv.setUint32(p, names[i].length + 1, true);
    out.set(names[i], p + 4);
    p += 4 + names[i].length + 1;
    dv.setUint32(p, r.length, true);
    p += 4;
  });
  return out;
}

/** A source of inflated bytes that can report its position. */
interface ByteSource {
  take(n: number): Uint8Array | null;
}

export function decodeBamHeader(src: ByteSource, file: string): SamHeader {
  const bad = (m: string): never => { throw new SamError(file, 'header', m); };
  const magic = src.take(4) ?? bad('truncated');
  if (magic[0] !== 66 || magic[1] !== 65 || magic[2] !== 77 || magic[3] !== 1) bad('not a BAM file (bad magic)');
  const u32 = (): number => { const b = src.take(4) ?? bad('truncated'); return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true); };
  const lText = u32();
  const text = latin1.decode(src.take(lText) ?? bad('truncated text')).replace(/\0+$/, '');
  const nRef = u32();
  const refs = [];
  for (let i = 0; i < nRef; i++) {
    const ln = u32();
    const name = latin1.decode((src.take(ln) ?? bad('truncated reference name')).subarray(0, ln - 1));
    refs.push({ name, length: u32() });
  }
  return makeHeader(text, refs);
}

/** Reads a BAM file block by block through a buffer at `buf` (`bufSize` bytes). */
export class BamReader implements ByteSource {
  private comp: Uint8Array = new Uint8Array(0);
  private compPos = 0;
  /** File offset of comp[0]. */
  private compOffset = 0;
  private data: Uint8Array = new Uint8Array(0);
  private dataPos = 0;
  /** File offset of the block `data` came from, and of the next block. */
  private blockOffset = 0;
  private nextBlock = 0;
  private eof = false;
  inflated = 0;

  constructor(readonly rt: Runtime, readonly fd: number, readonly file: string, readonly buf: number, readonly bufSize: number) {}

  /** Virtual offset of the next byte: block offset << 16 | offset inside the inflated block. */
  tell(): number {
    if (this.dataPos === this.data.length && this.data.length > 0) return this.nextBlock * 65536;
    return this.blockOffset * 65536 + this.dataPos;
  }

  seek(voffset: number): void {
    const coffset = Math.floor(voffset / 65536);
    this.rt.call('lseek', this.fd, coffset, 0);
    this.comp = new Uint8Array(0);
    this.compPos = 0;
    this.compOffset = coffset;
    this.nextBlock = coffset;
    this.data = new Uint8Array(0);
    this.dataPos = 0;
    this.eof = false;
    if (!this.nextData()) return;
    this.dataPos = voffset % 65536;
  }

  /** More compressed bytes from the file: false at end of file. */
  private readMore(): boolean {
    const n = this.rt.call('read', this.fd, this.buf, this.bufSize);
    if (n === 0) return false;
    const fresh = loadBytes(this.rt, this.buf, n);
    const rest = this.comp.subarray(this.compPos);
    const c = new Uint8Array(rest.length + n);
    c.set(rest);
    c.set(fresh, rest.length);
    this.compOffset += this.compPos;
    this.comp = c;
    this.compPos = 0;
    return true;
  }

  /** Inflate the next block into `data`; false at end of file. */
  private nextData(): boolean {
    for (;;) {
      if (this.eof) return false;
      while (this.comp.length - this.compPos < BGZF_HEADER) {
        if (!this.readMore()) {
          if (this.comp.length - this.compPos > 0) throw new SamError(this.file, `byte ${this.compOffset + this.compPos}`, 'truncated BGZF block header');
          this.eof = true;
          return false;
        }
      }
      const at = this.compOffset + this.compPos;
      let size: number;
      try {
        size = blockSize(this.comp.subarray(this.compPos, this.compPos + BGZF_HEADER), at);
        while (this.comp.length - this.compPos < size) {
          if (!this.readMore()) throw new BgzfError(at, `truncated: ${this.comp.length - this.compPos} of ${size} bytes`);
        }
        this.data = inflateBlock(this.comp.subarray(this.compPos, this.compPos + size), at);
      } catch (e) {
        if (e instanceof BgzfError) throw new SamError(this.file, `byte ${e.offset}`, e.message.replace(/^BGZF block at byte offset \d+: /, 'BGZF block: '));
        throw e;
      }
      this.rt.compute(this.data.length * this.rt.costs.bgzfInflatePerByte);
      this.inflated += this.data.length;
      this.blockOffset = at;
      this.compPos += size;
      this.nextBlock = at + size;
      this.dataPos = 0;
      if (this.data.length > 0) return true;
    }
  }

  /** The next `n` inflated bytes (spanning blocks), or null at a clean end of file. */
  take(n: number): Uint8Array | null {
    if (this.dataPos + n <= this.data.length) {
      const out = this.data.subarray(this.dataPos, this.dataPos + n);
      this.dataPos += n;
      return out;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (this.dataPos === this.data.length && !this.nextData()) {
        if (got === 0) return null;
        throw new SamError(this.file, `byte ${this.blockOffset}`, `truncated BAM record (${got} of ${n} bytes)`);
      }
      const k = Math.min(n - got, this.data.length - this.dataPos);
      out.set(this.data.subarray(this.dataPos, this.dataPos + k), got);
      this.dataPos += k;
      got += k;
    }
    return out;
  }

  /** The next record (block_size word included), or null at end of file. */
  nextRecord(): Uint8Array | null {
    const head = this.take(4);
    if (!head) return null;
    const size = head[0] | (head[1] << 8) | (head[2] << 16) | (head[3] << 24);
    if (size < 32 || size > 1 << 28) throw new SamError(this.file, `byte ${this.blockOffset}`, `bad BAM record size ${size}`);
    const body = this.take(size);
    if (!body) throw new SamError(this.file, `byte ${this.blockOffset}`, 'truncated BAM record');
    const rec = new Uint8Array(4 + size);
    rec.set(head);
    rec.set(body, 4);
    return rec;
  }
}

/** Writes a BAM file: bytes gather in a block, each full block is deflated and written. */
export class BamWriter {
  private block = new Uint8Array(BGZF_BLOCK_DATA);
  private n = 0;
  written = 0;

  constructor(readonly rt: Runtime, readonly fd: number, readonly buf: number, readonly bufSize: number) {}

  add(b: Uint8Array): void {
    let p = 0;
    while (p < b.length) {
      const k = Math.min(b.length - p, BGZF_BLOCK_DATA - this.n);
      this.block.set(b.subarray(p, p + k), this.n);
      this.n += k;
      p += k;
      if (this.n === BGZF_BLOCK_DATA) this.flush();
    }
  }

  flush(): void {
    if (this.n === 0) return;
    const data = this.block.subarray(0, this.n);
    this.rt.compute(this.n * this.rt.costs.bgzfDeflatePerByte);
    this.writeRaw(deflateBlock(data));
    this.n = 0;
  }

  private writeRaw(b: Uint8Array): void {
    for (let p = 0; p < b.length; p += this.bufSize) {
      const k = Math.min(this.bufSize, b.length - p);
      storeBytes(this.rt, this.buf, b, p, p + k);
      this.rt.call('write', this.fd, this.buf, k);
    }
    this.written += b.length;
  }

  close(): void {
    this.flush();
    this.writeRaw(BGZF_EOF);
  }
}
