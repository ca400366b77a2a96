// The BAI index (SAMv1 §5.2): per reference, bins of the UCSC binning scheme each holding chunks
// [begin, end) of locations, a linear index of the smallest location per 16 kbp window, and a
// pseudo-bin with the reference's mapped/unmapped counts; the unplaced-read count at the end. A
// location is a BGZF virtual offset in the files design (a real .bai) and a position in the
// sorted order in the vas design. Building runs on host values of records the tool loaded; a
// query reads the image where it lies in emulated memory, through the CPU.

import type { Runtime } from '../runtime.js';
import type { IndexView } from './dataset.js';
import { reg2bins, SamError } from './record.js';

export const PSEUDO_BIN = 37450;
const TWO32 = 4294967296;

interface RefIndex {
  bins: Map<number, [number, number][]>;
  linear: number[];
  offBeg: number;
  offEnd: number;
  mapped: number;
  unmapped: number;
}

/** Feeds records in sorted order; fails like htslib's hts_idx_push on unsorted input. */
export class IndexBuilder {
  private refs: (RefIndex | undefined)[];
  noCoor = 0;
  private lastTid = -1;
  private lastPos = -1;
  private curBin = -1;
  private saveOff = 0;
  private lastOff = 0;
  private sawNoCoor = false;

  constructor(readonly nRef: number, readonly file: string) {
    this.refs = new Array<RefIndex | undefined>(nRef);
  }

  private saveChunk(): void {
    if (this.curBin < 0) return;
    const r = this.refs[this.lastTid]!;
    let list = r.bins.get(this.curBin);
    if (!list) r.bins.set(this.curBin, (list = []));
    const last = list[list.length - 1];
    if (last && last[1] === this.saveOff) last[1] = this.lastOff;
    else list.push([this.saveOff, this.lastOff]);
  }

  push(tid: number, pos: number, end: number, bin: number, unmapped: boolean, locBeg: number, locEnd: number): void {
    if (tid < 0) {
      this.saveChunk();
      this.curBin = -1;
      this.sawNoCoor = true;
      this.noCoor++;
      return;
    }
    if (this.sawNoCoor) throw new SamError(this.file, 'index', 'NO_COOR reads not in a single block at the end');
    if (tid < this.lastTid) throw new SamError(this.file, 'index', `chromosome blocks not continuous (reference #${tid + 1} after #${this.lastTid + 1})`);
    if (tid === this.lastTid && pos < this.lastPos) throw new SamError(this.file, 'index', `unsorted positions on sequence #${tid + 1}: ${this.lastPos + 1} followed by ${pos + 1}`);
    let r = this.refs[tid];
    if (!r) {
      r = this.refs[tid] = { bins: new Map(), linear: [], offBeg: locBeg, offEnd: locEnd, mapped: 0, unmapped: 0 };
    }
    if (tid !== this.lastTid || bin !== this.curBin) {
      this.saveChunk();
      this.curBin = bin;
      this.saveOff = locBeg;
    }
    this.lastTid = tid;
    this.lastPos = pos;
    this.lastOff = locEnd;
    const w0 = pos >> 14;
    const w1 = (Math.max(end, pos + 1) - 1) >> 14;
    for (let w = w0; w <= w1; w++) if (r.linear[w] === undefined) r.linear[w] = locBeg;
    r.offEnd = locEnd;
    if (unmapped) r.unmapped++;
    else r.mapped++;
  }

  /** The BAI file image. */
  finish(): Uint8Array {
    this.saveChunk();
    this.curBin = -1;
    const parts: number[] = [];
    const u32 = (v: number): void => { parts.push(v >>> 0); };
    const u64 = (v: number): void => { parts.push(v % TWO32, Math.floor(v / TWO32)); };
    u32(0x01494142); // "BAI\1"
    u32(this.nRef);
    for (let t = 0; t < this.nRef; t++) {
      const r = this.refs[t];
      if (!r) { u32(0); u32(0); continue; }
      u32(r.bins.size + 1);
      for (const [bin, chunks] of [...r.bins].sort((a, b) => a[0] - b[0])) {
        u32(bin);
        u32(chunks.length);
        for (const [b, e] of chunks) { u64(b); u64(e); }
      }
      u32(PSEUDO_BIN);
      u32(2);
      u64(r.offBeg);
      u64(r.offEnd);
      u64(r.mapped);
      u64(r.unmapped);
      // holes in the linear index take the previous window's location (a safe lower bound)
      let prev = r.offBeg;
      const lin = Array.from({ length: r.linear.length }, (_, i) => (prev = r.linear[i] ?? prev));
      u32(lin.length);
      for (const v of lin) u64(v);
    }
    u64(this.noCoor);
    return new Uint8Array(new Uint32Array(parts).buffer);
  }
}

function load64(rt: Runtime, va: number): number {
  return (rt.load32(va) >>> 0) + (rt.load32(va + 4) >>> 0) * TWO32;
}

/** Walk a BAI image in memory: where each reference's section starts, and the unplaced count. */
export function scanIndex(rt: Runtime, addr: number, length: number, unit: IndexView['unit'], file: string): IndexView {
  const bad = (m: string): never => { throw new SamError(file, 'index', m); };
  if (length < 8 || rt.load32(addr) !== 0x01494142) bad('not a BAI index');
  const nRef = rt.load32(addr + 4);
  const sections: number[] = [];
  let p = 8;
  let noCoorStart = 0;
  for (let t = 0; t < nRef; t++) {
    sections.push(p);
    const nBin = rt.load32(addr + p);
    p += 4;
    for (let b = 0; b < nBin; b++) {
      const bin = rt.load32(addr + p);
      const nChunk = rt.load32(addr + p + 4);
      if (bin === PSEUDO_BIN) noCoorStart = Math.max(noCoorStart, load64(rt, addr + p + 16));
      p += 8 + nChunk * 16;
      if (p > length) bad('truncated');
    }
    const nIntv = rt.load32(addr + p);
    p += 4 + nIntv * 8;
    if (p > length) bad('truncated');
  }
  const noCoor = p + 8 <= length ? load64(rt, addr + p) : 0;
  return { addr, sections, noCoorStart, noCoor, unit };
}

/** Mapped and unmapped counts of reference `tid` (its pseudo-bin), read from the image. */
export function refCounts(rt: Runtime, idx: IndexView, tid: number): { mapped: number; unmapped: number } {
  let p = idx.addr + idx.sections[tid];
  const nBin = rt.load32(p);
  p += 4;
  for (let b = 0; b < nBin; b++) {
    const bin = rt.load32(p);
    const nChunk = rt.load32(p + 4);
    if (bin === PSEUDO_BIN) return { mapped: load64(rt, p + 8 + 16), unmapped: load64(rt, p + 8 + 24) };
    p += 8 + nChunk * 16;
  }
  return { mapped: 0, unmapped: 0 };
}

/** The chunks to read for [beg, end) on `tid`, merged and in order (hts_itr_query). */
export function queryChunks(rt: Runtime, idx: IndexView, tid: number, beg: number, endIn: number): [number, number][] {
  const end = Math.min(endIn, 2 ** 29); // the binning scheme's extent (htslib clamps the same way)
  if (beg >= end) return [];
  const want = new Set(reg2bins(beg, end));
  let p = idx.addr + idx.sections[tid];
  const nBin = rt.load32(p);
  p += 4;
  const found: [number, number][] = [];
  for (let b = 0; b < nBin; b++) {
    const bin = rt.load32(p);
    const nChunk = rt.load32(p + 4);
    if (bin !== PSEUDO_BIN && want.has(bin)) {
      for (let c = 0; c < nChunk; c++) found.push([load64(rt, p + 8 + c * 16), load64(rt, p + 16 + c * 16)]);
    }
    p += 8 + nChunk * 16;
  }
  const nIntv = rt.load32(p);
  const w = beg >> 14;
  const minOff = nIntv === 0 ? 0 : load64(rt, p + 4 + Math.min(w, nIntv - 1) * 8);
  const live = found.filter((c) => c[1] > minOff).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const c of live) {
    const last = out[out.length - 1];
    if (last && c[0] <= last[1]) last[1] = Math.max(last[1], c[1]);
    else out.push([w < nIntv ? Math.max(c[0], minOff) : c[0], c[1]]);
  }
  return out;
}
