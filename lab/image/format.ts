// The machine-image file format (docs/image-format.md): a fixed header, then sections, each with
// its own header and a CRC32 over its payload. Metadata sections are UTF-8 JSON
// (a third-party tool reads them with any JSON parser); the DATA section is a run of fixed-size
// binary records, one per 4 KiB block that holds a nonzero byte. Both the writer and the reader
// stream, so an image larger than a host buffer can be written and read. Format version 2 adds one
// section flag: the payload is a run of zlib-compressed frames (written only when asked for, so an
// uncompressed image stays version 1 and readable by a version-1 reader).

import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32, deflateSync, inflateSync, constants as zlibConstants } from 'node:zlib';

export const MAGIC = Buffer.from('SJMPIMG\0', 'latin1');
/** The newest version this code reads (and writes, for a compressed image). */
export const FORMAT_VERSION = 2;
/** The version an image without compressed sections is written as. */
export const PLAIN_VERSION = 1;
/** Section flag (version 2): the payload is a run of compressed frames (docs/image-format.md). */
export const FLAG_COMPRESSED = 1;
export const FRAME_HEADER_BYTES = 8;
export const HEADER_BYTES = 32;
export const SECTION_HEADER_BYTES = 24;
/** Contents are stored in blocks of this size, whatever the page size of their owner. */
export const BLOCK_BYTES = 4096;
export const RECORD_HEADER_BYTES = 16;
export const RECORD_BYTES = RECORD_HEADER_BYTES + BLOCK_BYTES;
/** Uncompressed bytes per frame of a compressed section: 256 whole DATA records. */
export const FRAME_RAW_BYTES = 256 * RECORD_BYTES;

/** Record kinds of the DATA section. */
export const REC_SEGMENT = 1;
export const REC_FILE = 2;

/** Section types, as four ASCII characters read little-endian into a u32. */
export const SECTIONS = ['MACH', 'SEGS', 'SPCS', 'FILE', 'DATA', 'END!'] as const;
export type SectionName = (typeof SECTIONS)[number];

export function sectionCode(name: string): number {
  return Buffer.from(name, 'latin1').readUInt32LE(0);
}
export function sectionName(code: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(code >>> 0);
  return /^[ -~]{4}$/.test(b.toString('latin1')) ? b.toString('latin1') : `0x${(code >>> 0).toString(16)}`;
}

/** What is wrong with an image file: one line, naming the file. */
export class ImageError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`image ${file}: ${problem}`);
    this.name = 'ImageError';
  }
}

// ------------------------------------------------------------------ writing

/**
 * Writes an image to an open descriptor: header first (patched with the final length and section
 * count at the end), sections streamed, each section header patched with its length and CRC.
 */
export class ImageWriter {
  private pos = HEADER_BYTES;
  private sections = 0;
  private open: { start: number; code: number; length: number; crc: number; flags: number } | null = null;
  private buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  /** Raw bytes of a compressed section not yet put into a frame. */
  private raw: Buffer | null = null;
  private rawUsed = 0;
  private anyCompressed = false;
  /** Bytes before and after compression, over every compressed section. */
  readonly compression = { raw: 0, stored: 0 };

  constructor(private readonly fd: number) {}

  /** Open a section; `compressed`: its payload is written as compressed frames (format version 2). */
  begin(name: SectionName, compressed = false): void {
    if (this.open) throw new Error('ImageWriter: section already open');
    this.flush();
    this.open = { start: this.pos, code: sectionCode(name), length: 0, crc: 0, flags: compressed ? FLAG_COMPRESSED : 0 };
    this.pos += SECTION_HEADER_BYTES;
    if (compressed) {
      this.anyCompressed = true;
      this.raw ??= Buffer.allocUnsafe(FRAME_RAW_BYTES);
      this.rawUsed = 0;
    }
  }

  write(data: Uint8Array): void {
    if (this.open!.flags & FLAG_COMPRESSED) {
      for (let at = 0; at < data.length;) {
        const n = Math.min(data.length - at, FRAME_RAW_BYTES - this.rawUsed);
        this.raw!.set(data.subarray(at, at + n), this.rawUsed);
        this.rawUsed += n;
        at += n;
        if (this.rawUsed === FRAME_RAW_BYTES) this.frame();
      }
      return;
    }
    this.put(data);
  }

  /** Compress what is pending into one frame: u32 stored length, u32 raw length, zlib stream. */
  private frame(): void {
    if (this.rawUsed === 0) return;
    const z = deflateSync(this.raw!.subarray(0, this.rawUsed), { level: zlibConstants.Z_BEST_SPEED });
    const h = Buffer.alloc(FRAME_HEADER_BYTES);
    h.writeUInt32LE(z.length, 0);
    h.writeUInt32LE(this.rawUsed, 4);
    this.put(h);
    this.put(z);
    this.compression.raw += this.rawUsed;
    this.compression.stored += FRAME_HEADER_BYTES + z.length;
    this.rawUsed = 0;
  }

  /** Stored bytes of the open section: into its CRC and onto the file. */
  private put(data: Uint8Array): void {
    const s = this.open!;
    s.crc = crc32(data, s.crc);
    s.length += data.length;
    if (this.used + data.length > this.buf.length) this.flush();
    if (data.length > this.buf.length) {
      writeAll(this.fd, data, data.length, this.pos);
      this.pos += data.length;
      return;
    }
    this.buf.set(data, this.used);
    this.used += data.length;
  }

  private flush(): void {
    if (this.used === 0) return;
    writeAll(this.fd, this.buf, this.used, this.pos);
    this.pos += this.used;
    this.used = 0;
  }

  end(): void {
    const s = this.open!;
    if (s.flags & FLAG_COMPRESSED) this.frame();
    this.flush();
    const h = sectionHeader(s.code, s.flags, s.length, s.crc);
    writeAll(this.fd, h, h.length, s.start);
    this.sections++;
    this.open = null;
  }

  json(name: SectionName, value: unknown): void {
    this.begin(name);
    this.write(Buffer.from(JSON.stringify(value), 'utf8'));
    this.end();
  }

  /** Finish: an empty END! section, then the header with the total length. Returns the length. */
  finish(): number {
    this.begin('END!');
    this.end();
    const h = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(h, 0);
    h.writeUInt32LE(this.anyCompressed ? FORMAT_VERSION : PLAIN_VERSION, 8);
    h.writeUInt32LE(this.sections, 12);
    h.writeBigUInt64LE(BigInt(this.pos), 16);
    h.writeUInt32LE(crc32(h.subarray(0, 24)) >>> 0, 24);
    writeAll(this.fd, h, h.length, 0);
    return this.pos;
  }
}

/** writeSync until every byte is written (a write may be short). */
function writeAll(fd: number, data: Uint8Array, len: number, pos: number): void {
  for (let done = 0; done < len;) done += writeSync(fd, data, done, len - done, pos + done);
}

function sectionHeader(code: number, flags: number, length: number, crc: number): Buffer {
  const h = Buffer.alloc(SECTION_HEADER_BYTES);
  h.writeUInt32LE(code >>> 0, 0);
  h.writeUInt32LE(flags, 4);
  h.writeBigUInt64LE(BigInt(length), 8);
  h.writeUInt32LE(crc >>> 0, 16);
  return h;
}

// ------------------------------------------------------------------ reading

export interface SectionEntry {
  name: string;
  /** File offset of the payload. */
  offset: number;
  length: number;
  crc: number;
  /** The payload is compressed frames (FLAG_COMPRESSED). */
  compressed: boolean;
}

/** An image opened for reading: header checked, section table walked (payload CRCs not yet). */
export class ImageReader {
  readonly sections: SectionEntry[] = [];
  readonly fileBytes: number;
  readonly version: number;

  private constructor(readonly file: string, private readonly fd: number) {
    const size = fstatSync(fd).size;
    this.fileBytes = size;
    if (size < HEADER_BYTES) throw new ImageError(file, `truncated: ${size} bytes, shorter than the ${HEADER_BYTES}-byte header`);
    const h = this.read(0, HEADER_BYTES);
    if (!h.subarray(0, 8).equals(MAGIC)) throw new ImageError(file, 'not a spacejmp-emu machine image (bad magic)');
    this.version = h.readUInt32LE(8);
    if ((crc32(h.subarray(0, 24)) >>> 0) !== h.readUInt32LE(24)) throw new ImageError(file, 'header checksum mismatch (corrupt header)');
    if (this.version > FORMAT_VERSION) throw new ImageError(file, `format version ${this.version} is newer than this sjmp reads (${FORMAT_VERSION})`);
    if (this.version < 1) throw new ImageError(file, `format version ${this.version} is not valid`);
    if (h.readUInt32LE(28) !== 0) throw new ImageError(file, 'header reserved field is not zero');
    const count = h.readUInt32LE(12);
    const length = Number(h.readBigUInt64LE(16));
    if (length !== size) throw new ImageError(file, length > size ? `truncated: ${size} of ${length} bytes` : `${size - length} bytes of trailing data after the image`);
    let pos = HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      if (pos + SECTION_HEADER_BYTES > size) throw new ImageError(file, `section ${i} header runs past the end of the file`);
      const sh = this.read(pos, SECTION_HEADER_BYTES);
      const name = sectionName(sh.readUInt32LE(0));
      const len = sh.readBigUInt64LE(8);
      if (len > BigInt(size - pos - SECTION_HEADER_BYTES)) throw new ImageError(file, `section ${name} (${i}) claims ${len} bytes, more than the file holds`);
      if (!(SECTIONS as readonly string[]).includes(name)) throw new ImageError(file, `unknown section ${name} at offset ${pos}`);
      const flags = sh.readUInt32LE(4);
      // Version 2 defines one flag, on DATA only; version 1 none.
      const allowed = this.version >= 2 && name === 'DATA' ? FLAG_COMPRESSED : 0;
      if ((flags & ~allowed) !== 0) throw new ImageError(file, `section ${name} has unknown flags ${flags}`);
      if (sh.readUInt32LE(20) !== 0) throw new ImageError(file, `section ${name} reserved field is not zero`);
      this.sections.push({ name, offset: pos + SECTION_HEADER_BYTES, length: Number(len), crc: sh.readUInt32LE(16), compressed: (flags & FLAG_COMPRESSED) !== 0 });
      pos += SECTION_HEADER_BYTES + Number(len);
    }
    if (pos !== size) throw new ImageError(file, `sections end at ${pos}, the file at ${size}`);
    const end = this.sections.at(-1);
    if (end?.name !== 'END!') throw new ImageError(file, 'no END! section (incomplete image)');
    // Checked here because nothing reads END!: it is empty, so its CRC is 0.
    if (end.length !== 0 || end.crc !== 0) throw new ImageError(file, 'END! section is not empty (corrupt)');
    // Section flags are outside every checksum; the version (inside the header's) decides them:
    // version 2 is written exactly when DATA is compressed.
    const data = this.sections.find((x) => x.name === 'DATA');
    if (this.version >= 2 && data && !data.compressed) throw new ImageError(file, `format version ${this.version} with an uncompressed DATA section (corrupt section flags)`);
  }

  /** Open and check the header and section table; ImageError for anything wrong, never a crash. */
  static open(file: string): ImageReader {
    let fd: number;
    try { fd = openSync(file, 'r'); } catch (e) { throw new ImageError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message); }
    try {
      return new ImageReader(file, fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  close(): void { closeSync(this.fd); }

  read(pos: number, len: number): Buffer {
    const b = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, b, got, len - got, pos + got);
      if (n === 0) throw new ImageError(this.file, `unexpected end of file at ${pos + got}`);
      got += n;
    }
    return b;
  }

  section(name: SectionName): SectionEntry {
    const all = this.sections.filter((s) => s.name === name);
    if (all.length !== 1) throw new ImageError(this.file, all.length === 0 ? `missing section ${name}` : `section ${name} appears ${all.length} times`);
    return all[0];
  }

  /**
   * Stream a section's payload in chunks (multiples of `chunk`; a compressed section: one chunk
   * per frame, inflated), then check its CRC, which is over the stored bytes.
   */
  stream(s: SectionEntry, chunk: number, fn: (data: Buffer) => void): void {
    if (s.compressed) return this.streamFrames(s, fn);
    let crc = 0;
    for (let off = 0; off < s.length; off += chunk) {
      const data = this.read(s.offset + off, Math.min(chunk, s.length - off));
      crc = crc32(data, crc);
      fn(data);
    }
    if ((crc >>> 0) !== s.crc) throw new ImageError(this.file, `section ${s.name} checksum mismatch (corrupt data)`);
  }

  private streamFrames(s: SectionEntry, fn: (data: Buffer) => void): void {
    let crc = 0;
    let n = 0;
    for (let off = 0; off < s.length; n++) {
      if (off + FRAME_HEADER_BYTES > s.length) throw new ImageError(this.file, `section ${s.name} frame ${n} header runs past the section's end`);
      const h = this.read(s.offset + off, FRAME_HEADER_BYTES);
      const stored = h.readUInt32LE(0);
      const raw = h.readUInt32LE(4);
      if (stored > s.length - off - FRAME_HEADER_BYTES) throw new ImageError(this.file, `section ${s.name} frame ${n} claims ${stored} bytes, more than the section holds`);
      if (raw === 0 || raw > FRAME_RAW_BYTES) throw new ImageError(this.file, `section ${s.name} frame ${n} inflates to ${raw} bytes (at most ${FRAME_RAW_BYTES})`);
      const z = this.read(s.offset + off + FRAME_HEADER_BYTES, stored);
      crc = crc32(z, crc32(h, crc));
      let data: Buffer;
      try {
        data = inflateSync(z, { maxOutputLength: raw });
      } catch {
        throw new ImageError(this.file, `section ${s.name} frame ${n} does not inflate (corrupt data)`);
      }
      if (data.length !== raw) throw new ImageError(this.file, `section ${s.name} frame ${n} inflates to ${data.length} bytes, not the ${raw} it claims`);
      fn(data);
      off += FRAME_HEADER_BYTES + stored;
    }
    if ((crc >>> 0) !== s.crc) throw new ImageError(this.file, `section ${s.name} checksum mismatch (corrupt data)`);
  }

  /** Bytes of a section's payload once inflated (its stored length when not compressed); frame headers only are read. */
  rawLength(s: SectionEntry): number {
    if (!s.compressed) return s.length;
    let total = 0;
    for (let off = 0; off + FRAME_HEADER_BYTES <= s.length;) {
      const h = this.read(s.offset + off, FRAME_HEADER_BYTES);
      total += h.readUInt32LE(4);
      off += FRAME_HEADER_BYTES + h.readUInt32LE(0);
    }
    return total;
  }

  /** Whether any section is compressed. */
  get compressed(): boolean {
    return this.sections.some((x) => x.compressed);
  }

  /** A JSON section, CRC checked before it is parsed. */
  json(name: SectionName): unknown {
    const s = this.section(name);
    if (s.length > 256 * 2 ** 20) throw new ImageError(this.file, `section ${name} is implausibly large (${s.length} bytes)`);
    const data = this.read(s.offset, s.length);
    if ((crc32(data) >>> 0) !== s.crc) throw new ImageError(this.file, `section ${name} checksum mismatch (corrupt data)`);
    try {
      return JSON.parse(data.toString('utf8'));
    } catch {
      throw new ImageError(this.file, `section ${name} is not valid JSON`);
    }
  }

  /** Check every section's CRC (and that compressed frames inflate) without interpreting anything. */
  verifyAll(): void {
    for (const s of this.sections) this.stream(s, 1 << 20, () => {});
  }
}
