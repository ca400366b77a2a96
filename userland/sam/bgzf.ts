// BGZF (SAMv1 §4.1): a BAM file is a series of gzip members of at most 64 KiB each, with the
// member's size in a "BC" extra field so a reader can seek to any block. Inflation and deflation
// are done by node:zlib on bytes the program loaded from (or will store to) emulated memory; the
// modelled cost of that computation is charged per byte by the caller (the profile's bgzfInflatePerByte and bgzfDeflatePerByte).

import { inflateRawSync, deflateRawSync } from 'node:zlib';

/** Uncompressed bytes per block (htslib's BGZF_BLOCK_SIZE). */
export const BGZF_BLOCK_DATA = 0xff00;
export const BGZF_HEADER = 18;
export const BGZF_FOOTER = 8;

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc32(b: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export class BgzfError extends Error {
  constructor(readonly offset: number, detail: string) {
    super(`BGZF block at byte offset ${offset}: ${detail}`);
    this.name = 'BgzfError';
  }
}

/** Total size of the block whose header starts at `b[0]` (needs the first 18 bytes), or an error. */
export function blockSize(h: Uint8Array, offset: number): number {
  if (h.length < BGZF_HEADER) throw new BgzfError(offset, 'truncated block header');
  if (h[0] !== 0x1f || h[1] !== 0x8b || h[2] !== 8 || (h[3] & 4) === 0) throw new BgzfError(offset, 'not a BGZF block (bad gzip magic or no extra field)');
  const xlen = h[10] | (h[11] << 8);
  if (xlen !== 6 || h[12] !== 66 || h[13] !== 67 || h[14] !== 2 || h[15] !== 0) throw new BgzfError(offset, 'no BC extra field');
  return (h[16] | (h[17] << 8)) + 1;
}

/** Inflate one whole block (header through footer) and check its CRC and size. */
export function inflateBlock(block: Uint8Array, offset: number): Uint8Array {
  const size = blockSize(block, offset);
  if (block.length < size) throw new BgzfError(offset, `truncated: ${block.length} of ${size} bytes`);
  const dv = new DataView(block.buffer, block.byteOffset, size);
  const crc = dv.getUint32(size - 8, true);
  const isize = dv.getUint32(size - 4, true);
  let data: Uint8Array;
  try {
    data = isize === 0 ? new Uint8Array(0) : inflateRawSync(block.subarray(BGZF_HEADER, size - BGZF_FOOTER));
  } catch (e) {
    throw new BgzfError(offset, `corrupt deflate data (${(e as Error).message})`);
  }
  if (data.length !== isize) throw new BgzfError(offset, `inflated to ${data.length} bytes, the block says ${isize}`);
  if (crc32(data) !== crc) throw new BgzfError(offset, 'CRC mismatch');
  return data;
}

/** One BGZF block holding `data` (at most BGZF_BLOCK_DATA bytes). */
export function deflateBlock(data: Uint8Array): Uint8Array {
  const body = data.length ? deflateRawSync(data, { level: 6 }) : new Uint8Array([3, 0]);
  const size = BGZF_HEADER + body.length + BGZF_FOOTER;
  const out = new Uint8Array(size);
  out.set([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 66, 67, 2, 0, (size - 1) & 0xff, (size - 1) >> 8]);
  out.set(body, BGZF_HEADER);
  const dv = new DataView(out.buffer);
  dv.setUint32(size - 8, crc32(data), true);
  dv.setUint32(size - 4, data.length, true);
  return out;
}

/** The 28-byte empty block that ends every BAM file. */
export const BGZF_EOF = new Uint8Array([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 66, 67, 2, 0, 0x1b, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
