// The tools, written once over records in emulated memory (wherever they are: the tool's own heap
// in the files design, a named space's segments in the vas design). Every field a tool looks at
// is a load of the calling thread; output text is stored into a buffer and written with write().
// Semantics and output formats are samtools 1.16.1's (docs/sam.md, workloads.md §5).

import type { Runtime } from '../runtime.js';
import { forEachRecord, type Dataset, type IndexView } from './dataset.js';
import { queryChunks, refCounts } from './index.js';
import { loadBytes, storeBytes } from './mem.js';
import {
  CONSUMES_REF, FLAG_DUP, FLAG_MUNMAP, FLAG_PAIRED, FLAG_PROPER, FLAG_QCFAIL, FLAG_READ1, FLAG_READ2,
  FLAG_REVERSE, FLAG_SECONDARY, FLAG_SUPPLEMENTARY, FLAG_UNMAP, R_BIN_MQ_NL, R_BLOCK, R_FLAG_NC, R_NAME,
  R_NEXT_REFID, R_POS, R_REFID, formatRecord, strnumCmp, type SamHeader,
} from './record.js';


/** A usage or data error the way samtools reports it: message for stderr, exit status 1. */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

// ------------------------------------------------------------------------------ output

/** Text output through a buffer in the program's memory, written to `fd` with write(). */
export class Out {
  private n = 0;
  bytes = 0;
  constructor(readonly rt: Runtime, readonly fd: number, readonly buf: number, readonly size: number) {}

  text(s: string): void {
    this.bin(Buffer.from(s, 'latin1'));
  }

  bin(b: Uint8Array): void {
    let p = 0;
    while (p < b.length) {
      const k = Math.min(b.length - p, this.size - this.n);
      storeBytes(this.rt, this.buf + this.n, b, p, p + k);
      this.n += k;
      p += k;
      if (this.n === this.size) this.flush();
    }
  }

  flush(): void {
    if (this.n === 0) return;
    this.rt.call('write', this.fd, this.buf, this.n);
    this.bytes += this.n;
    this.n = 0;
  }
}

// ------------------------------------------------------------------------------ record fields

export function recFlag(rt: Runtime, a: number): number { return rt.load32(a + R_FLAG_NC) >>> 16; }
export function recTid(rt: Runtime, a: number): number { return rt.load32(a + R_REFID); }
export function recPos(rt: Runtime, a: number): number { return rt.load32(a + R_POS); }
export function recMapq(rt: Runtime, a: number): number { return (rt.load32(a + R_BIN_MQ_NL) >>> 8) & 0xff; }

/** One past the last reference base the record covers (pos + 1 without an aligned CIGAR). */
export function recEnd(rt: Runtime, a: number): number {
  const pos = recPos(rt, a);
  const w = rt.load32(a + R_FLAG_NC);
  const nCig = w & 0xffff;
  if (nCig === 0 || (w >>> 16) & FLAG_UNMAP) return pos + 1;
  const c0 = a + R_NAME + (rt.load32(a + R_BIN_MQ_NL) & 0xff);
  let len = 0;
  for (let i = 0; i < nCig; i++) {
    const op = rt.load32(c0 + i * 4) >>> 0;
    if ((CONSUMES_REF >> (op & 15)) & 1) len += op >>> 4;
  }
  return len ? pos + len : pos + 1;
}

/** The record's bytes (block_size word included), loaded through the CPU. */
export function recBytes(rt: Runtime, a: number): Uint8Array {
  return loadBytes(rt, a, 4 + (rt.load32(a + R_BLOCK) >>> 0));
}

// ------------------------------------------------------------------------------ flagstat

export const FLAGSTAT_FIELDS = [
  'total', 'primary', 'secondary', 'supplementary', 'duplicates', 'primary duplicates', 'mapped', 'primary mapped',
  'paired in sequencing', 'read1', 'read2', 'properly paired', 'with itself and mate mapped', 'singletons',
  'with mate mapped to a different chr', 'with mate mapped to a different chr (mapQ>=5)',
] as const;
export type FlagstatCounts = [number[], number[]];

/** bam_stat.c's flagstat_loop over fields of one record. */
export function flagstatAdd(s: FlagstatCounts, flag: number, tid: number, mtid: number, mapq: number): void {
  const c = s[flag & FLAG_QCFAIL ? 1 : 0];
  c[0]++;
  if (flag & FLAG_SECONDARY) c[2]++;
  else if (flag & FLAG_SUPPLEMENTARY) c[3]++;
  else {
    c[1]++;
    if (flag & FLAG_PAIRED) {
      c[8]++;
      if (flag & FLAG_PROPER && !(flag & FLAG_UNMAP)) c[11]++;
      if (flag & FLAG_READ1) c[9]++;
      if (flag & FLAG_READ2) c[10]++;
      if (flag & FLAG_MUNMAP && !(flag & FLAG_UNMAP)) c[13]++;
      if (!(flag & FLAG_UNMAP) && !(flag & FLAG_MUNMAP)) {
        c[12]++;
        if (mtid !== tid) {
          c[14]++;
          if (mapq >= 5) c[15]++;
        }
      }
    }
    if (!(flag & FLAG_UNMAP)) c[7]++;
    if (flag & FLAG_DUP) c[5]++;
  }
  if (!(flag & FLAG_UNMAP)) c[6]++;
  if (flag & FLAG_DUP) c[4]++;
}

export function flagstat(rt: Runtime, ds: Dataset): FlagstatCounts {
  const s: FlagstatCounts = [new Array<number>(16).fill(0), new Array<number>(16).fill(0)];
  forEachRecord(rt, ds, (a) => {
    const fw = rt.load32(a + R_FLAG_NC) >>> 16;
    flagstatAdd(s, fw, rt.load32(a + R_REFID), rt.load32(a + R_NEXT_REFID), (rt.load32(a + R_BIN_MQ_NL) >>> 8) & 0xff);
  });
  return s;
}

function pct(n: number, d: number): string {
  return d ? `${((100 * n) / d).toFixed(2)}%` : 'N/A';
}

export function formatFlagstat(s: FlagstatCounts, format: 'default' | 'tsv' | 'json'): string {
  const [p, f] = s;
  if (format === 'default') {
    const line = (i: number, label: string, ratio?: [number, number]): string =>
      `${p[i]} + ${f[i]} ${label}${ratio ? ` (${pct(p[i], p[ratio[1]])} : ${pct(f[i], f[ratio[1]])})` : ''}\n`;
    return [
      line(0, 'in total (QC-passed reads + QC-failed reads)'), line(1, 'primary'), line(2, 'secondary'), line(3, 'supplementary'),
      line(4, 'duplicates'), line(5, 'primary duplicates'), line(6, 'mapped', [6, 0]), line(7, 'primary mapped', [7, 1]),
      line(8, 'paired in sequencing'), line(9, 'read1'), line(10, 'read2'), line(11, 'properly paired', [11, 8]),
      line(12, 'with itself and mate mapped'), line(13, 'singletons', [13, 8]), line(14, 'with mate mapped to a different chr'),
      line(15, 'with mate mapped to a different chr (mapQ>=5)'),
    ].join('');
  }
  const rows: [string, (c: number[]) => string | number][] = [];
  const pctOf = (i: number, d: number) => (c: number[]): string => (c[d] ? ((100 * c[i]) / c[d]).toFixed(2) : 'null');
  FLAGSTAT_FIELDS.forEach((name, i) => {
    const label = i === 0 ? (format === 'tsv' ? 'total (QC-passed reads + QC-failed reads)' : 'total') : i === 15 && format === 'json' ? 'with mate mapped to a different chr (mapQ >= 5)' : name;
    rows.push([label, (c) => c[i]]);
    const ratio = ({ 6: 0, 7: 1, 11: 8, 13: 8 } as Record<number, number>)[i];
    if (ratio !== undefined) rows.push([`${name} %`, pctOf(i, ratio)]);
  });
  if (format === 'tsv') {
    return rows.map(([label, v]) => {
      const a = v(p);
      const b = v(f);
      const t = (x: string | number): string => (x === 'null' ? 'N/A' : typeof x === 'string' ? `${x}%` : String(x));
      return `${t(a)}\t${t(b)}\t${label}\n`;
    }).join('');
  }
  const obj = (c: number[]): string => rows.map(([label, v]) => `  "${label}": ${v(c)}`).join(', \n');
  return `{\n "QC-passed reads": { \n${obj(p)} \n },\n "QC-failed reads": { \n${obj(f)} \n }\n}\n`;
}

// ------------------------------------------------------------------------------ view

export interface ViewFilter {
  requireAll: number;
  excludeAny: number;
  excludeAll: number;
  minMapq: number;
}

export function passes(rt: Runtime, a: number, f: ViewFilter): boolean {
  const flag = recFlag(rt, a);
  if ((flag & f.requireAll) !== f.requireAll) return false;
  if (flag & f.excludeAny) return false;
  if (f.excludeAll && (flag & f.excludeAll) === f.excludeAll) return false;
  if (f.minMapq && recMapq(rt, a) < f.minMapq) return false;
  return true;
}

/** A region as samtools takes it: `*` (unplaced reads) or a reference with a 0-based [beg, end). */
export interface Region { tid: number; beg: number; end: number; text: string }

const FLAG_NAMES: Record<string, number> = {
  PAIRED: 0x1, PROPER_PAIR: 0x2, UNMAP: 0x4, MUNMAP: 0x8, REVERSE: 0x10, MREVERSE: 0x20, READ1: 0x40, READ2: 0x80,
  SECONDARY: 0x100, QCFAIL: 0x200, DUP: 0x400, SUPPLEMENTARY: 0x800,
};

/** bam_str2flag: a number (decimal, 0x hex, 0 octal) or comma-separated flag names. */
export function parseFlags(text: string): number {
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^0[0-7]*$/.test(text)) v = parseInt(text, 8);
  else if (/^[1-9][0-9]*$/.test(text)) v = parseInt(text, 10);
  else {
    v = 0;
    for (const name of text.split(',')) {
      const bit = FLAG_NAMES[name.toUpperCase()];
      if (bit === undefined) throw new ToolError(`Could not parse "${text}" as a flag`);
      v |= bit;
    }
  }
  if (!(v >= 0 && v <= 0xffff)) throw new ToolError(`Could not parse "${text}" as a flag`);
  return v;
}

/** chr, chr:beg, chr:beg-end (1-based, inclusive; commas allowed in numbers) or `*`. */
export function parseRegion(text: string, h: SamHeader): Region {
  if (text === '*') return { tid: -1, beg: 0, end: 0, text };
  const whole = h.byName.get(text);
  // a bare name means the whole reference and beyond (htslib's HTS_POS_MAX), as reads may overhang
  if (whole !== undefined) return { tid: whole, beg: 0, end: 2 ** 31 - 1, text };
  const m = /^(.+):([0-9,]+)(?:-([0-9,]*))?$/.exec(text);
  const tid = m ? h.byName.get(m[1]) : undefined;
  if (!m || tid === undefined) throw new ToolError(`region "${text}" specifies an invalid region or unknown reference`);
  const beg = Math.max(0, Number(m[2].replace(/,/g, '')) - 1);
  const end = m[3] ? Number(m[3].replace(/,/g, '')) : 2 ** 31 - 1;
  if (end <= beg) throw new ToolError(`region "${text}" specifies an invalid region or unknown reference`);
  return { tid, beg, end: Math.min(end, 2 ** 31 - 1), text };
}

/** Reads the records of one chunk of index locations, each at an address, until `visit` says stop. */
export interface ChunkSource {
  each(beg: number, end: number, visit: (addr: number) => boolean): void;
}

/** The data set's own chunks: locations are positions in its sorted order. */
export function orderChunks(rt: Runtime, ds: Dataset): ChunkSource {
  return {
    each(beg, end, visit) {
      const order = ds.order!.addr;
      for (let i = beg; i < Math.min(end, ds.count); i++) if (!visit(ds.recBase + (rt.load32(order + i * 4) >>> 0) * 4)) return;
    },
  };
}

/** Records overlapping `r`, found through the index (hts_itr_query + sam_itr_next). */
export function regionRecords(rt: Runtime, idx: IndexView, src: ChunkSource, r: Region, visit: (addr: number) => void): void {
  if (r.tid < 0) {
    src.each(idx.noCoorStart, Infinity, (a) => { visit(a); return true; });
    return;
  }
  if (r.tid >= idx.sections.length) return;
  for (const [b, e] of queryChunks(rt, idx, r.tid, r.beg, r.end)) {
    src.each(b, e, (a) => {
      const tid = recTid(rt, a);
      if (tid !== r.tid) return tid >= 0 && tid < r.tid;
      if (recPos(rt, a) >= r.end) return false;
      if (recEnd(rt, a) > r.beg) visit(a);
      return true;
    });
  }
}

export function writeRecord(rt: Runtime, out: Out, a: number, h: SamHeader): void {
  const line = formatRecord(recBytes(rt, a), h) + '\n';
  rt.compute(line.length * rt.costs.samFormatPerByte);
  out.text(line);
}

// ------------------------------------------------------------------------------ sort

export interface SortResult {
  /** Record addresses in sorted order. */
  order: number[];
  comparisons: number;
}

/** Records whose sort keys one gather loads (3 loads each, within the runtime's BATCH_MAX). */
const KEY_BATCH = 64;
const keyVa = new Float64Array(3 * KEY_BATCH);
const keyWord = new Int32Array(3 * KEY_BATCH);

/**
 * samtools sort's order: coordinate (tid as unsigned, pos + 1, reverse strand) or natural name
 * order then (flag & 0xC0); equal keys keep their input order (a stable sort). Keys are loaded
 * once per record; each comparison is charged the profile's samSortCompare.
 */
export function sortRecords(rt: Runtime, ds: Dataset, kind: 'coordinate' | 'queryname'): SortResult {
  const addrs: number[] = [];
  forEachRecord(rt, ds, (a) => { addrs.push(a); });
  const n = addrs.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  let comparisons = 0;
  if (kind === 'coordinate') {
    const major = new Float64Array(n);
    const minor = new Float64Array(n);
    // The keys' loads (tid, pos, flag of each record, in that order) depend on no loaded value, so
    // they go as gathers of KEY_BATCH records: the same loads in the same order as one by one.
    for (let i0 = 0; i0 < n; i0 += KEY_BATCH) {
      const m = Math.min(KEY_BATCH, n - i0);
      for (let j = 0; j < m; j++) {
        const a = addrs[i0 + j];
        keyVa[3 * j] = a + R_REFID;
        keyVa[3 * j + 1] = a + R_POS;
        keyVa[3 * j + 2] = a + R_FLAG_NC;
      }
      rt.load32Batch(keyVa, keyWord, 3 * m);
      for (let j = 0; j < m; j++) {
        major[i0 + j] = keyWord[3 * j] >>> 0;
        minor[i0 + j] = (keyWord[3 * j + 1] + 1) * 2 + (((keyWord[3 * j + 2] >>> 16) & FLAG_REVERSE) ? 1 : 0);
      }
    }
    idx.sort((x, y) => { comparisons++; return major[x] - major[y] || minor[x] - minor[y]; });
  } else {
    const names: Uint8Array[] = [];
    const pair = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const a = addrs[i];
      names.push(loadBytes(rt, a + R_NAME, (rt.load32(a + R_BIN_MQ_NL) & 0xff) - 1));
      pair[i] = recFlag(rt, a) & 0xc0;
    }
    idx.sort((x, y) => { comparisons++; return strnumCmp(names[x], names[y]) || pair[x] - pair[y]; });
  }
  rt.compute(comparisons * rt.costs.samSortCompare);
  return { order: idx.map((i) => addrs[i]), comparisons };
}

// ------------------------------------------------------------------------------ idxstats

export function formatIdxstats(rt: Runtime, idx: IndexView, h: SamHeader): string {
  let s = '';
  h.refs.forEach((r, t) => {
    const c = t < idx.sections.length ? refCounts(rt, idx, t) : { mapped: 0, unmapped: 0 };
    s += `${r.name}\t${r.length}\t${c.mapped}\t${c.unmapped}\n`;
  });
  return s + `*\t0\t0\t${idx.noCoor}\n`;
}

/** samtools idxstats without an index: one pass, which needs reads grouped by reference. */
export function slowIdxstats(rt: Runtime, ds: Dataset, file: string): string {
  const mapped = new Array<number>(ds.header.refs.length + 1).fill(0);
  const unmapped = new Array<number>(ds.header.refs.length + 1).fill(0);
  const seen = new Set<number>();
  let last = -2;
  forEachRecord(rt, ds, (a) => {
    const tid = recTid(rt, a);
    if (tid !== last) {
      if (seen.has(tid)) throw new ToolError(`samtools idxstats: file is not position sorted\nsamtools idxstats: failed to process "${file}"`);
      seen.add(tid);
      last = tid;
    }
    const k = tid < 0 ? ds.header.refs.length : tid;
    if (recFlag(rt, a) & FLAG_UNMAP) unmapped[k]++;
    else mapped[k]++;
  });
  let s = '';
  ds.header.refs.forEach((r, t) => { s += `${r.name}\t${r.length}\t${mapped[t]}\t${unmapped[t]}\n`; });
  return s + `*\t0\t${mapped[ds.header.refs.length]}\t${unmapped[ds.header.refs.length]}\n`;
}

// ------------------------------------------------------------------------------ depth

/** Reads samtools depth leaves out by default. */
export const DEPTH_EXCLUDE = FLAG_UNMAP | FLAG_SECONDARY | FLAG_QCFAIL | FLAG_DUP;

/** Positions the depth ring holds (a read may span at most this many). */
export const DEPTH_RING = 1 << 20;

/**
 * samtools depth over records arriving in coordinate order: each aligned base (M, =, X) adds one
 * to its position; a position under a deletion or a skip (D, N) of a counted read is printed too,
 * with what the other reads give it (samtools depth without -J / -a). Counters are a ring of u32
 * in the program's memory: 0 = not covered, else depth + 1; positions are printed and cleared as
 * the reads move past them. Only positions in [beg, end) are counted.
 */
export class DepthStream {
  private tid = -1;
  /** First position still held, and one past the highest touched. */
  private base = 0;
  private top = 0;

  constructor(readonly rt: Runtime, readonly ring: number, readonly out: Out, readonly h: SamHeader, readonly beg = 0, readonly end = 2 ** 31 - 1) {}

  private flushTo(p: number): void {
    const rt = this.rt;
    const stop = Math.min(p, this.top);
    if (this.tid >= 0) {
      const name = this.h.refs[this.tid].name;
      for (let q = this.base; q < stop; q++) {
        const va = this.ring + (q & (DEPTH_RING - 1)) * 4;
        const v = rt.load32(va);
        if (v) {
          this.out.text(`${name}\t${q + 1}\t${v - 1}\n`);
          rt.store32(va, 0);
        }
      }
    }
    this.base = Math.max(this.base, p);
    this.top = Math.max(this.top, this.base);
  }

  add(a: number): void {
    const rt = this.rt;
    if (recFlag(rt, a) & DEPTH_EXCLUDE) return;
    const tid = recTid(rt, a);
    const pos = recPos(rt, a);
    if (tid !== this.tid) {
      if (tid < this.tid) throw new ToolError('samtools depth: Data is not position sorted');
      this.finish();
      this.tid = tid;
      this.base = this.top = pos;
    }
    if (pos < this.base) throw new ToolError('samtools depth: Data is not position sorted');
    this.flushTo(pos);
    let ref = pos;
    const nCig = rt.load32(a + R_FLAG_NC) & 0xffff;
    const c0 = a + R_NAME + (rt.load32(a + R_BIN_MQ_NL) & 0xff);
    for (let i = 0; i < nCig; i++) {
      const op = rt.load32(c0 + i * 4) >>> 0;
      const code = op & 15;
      const len = op >>> 4;
      if ((CONSUMES_REF >> code) & 1) {
        const from = Math.max(ref, this.beg);
        const to = Math.min(ref + len, this.end);
        if (to - this.base > DEPTH_RING) throw new ToolError(`samtools depth: a read spans more than ${DEPTH_RING} positions`);
        const aligned = code === 0 || code === 7 || code === 8;
        for (let p = from; p < to; p++) {
          const va = this.ring + (p & (DEPTH_RING - 1)) * 4;
          const v = rt.load32(va);
          if (aligned) rt.store32(va, v ? v + 1 : 2);
          else if (!v) rt.store32(va, 1);
        }
        if (to > this.top) this.top = to;
        ref += len;
      }
    }
  }

  finish(): void {
    this.flushTo(this.top);
  }
}

/** Bytes of the depth ring. */
export const DEPTH_RING_BYTES = DEPTH_RING * 4;
