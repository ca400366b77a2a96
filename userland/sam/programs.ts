// The samtools programs in the two designs.
//
// files: every run is a fresh process that opens the input on the tmpfs, converts it into records
//   in its own memory (read(), loads, parsing, stores), works, and writes its output files.
// vas:   `import` converts a file once into segments of a named address space; every tool finds
//   the space, attaches it, switches in and works on the records where they are. `sort` adds a
//   sorted-order segment and `index` an index segment, both used by the tools that come after.
//
// A program reports through files: what samtools would print on stdout and stderr goes to the
// paths the caller names, and its exit status says whether it worked.

import type { Blocking, Runtime, ProgramMain } from '../runtime.js';
import { O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from '../../syscalls/constants.js';
import { SPACEJMP_CONSTANTS } from '../../syscalls/calls/spacejmpConstants.js';
import { BamReader, BamWriter, decodeBamHeader, encodeBamHeader } from './bam.js';
import { RecordArea, forEachRecord, type Dataset, type IndexView, type SortKind } from './dataset.js';
import { IndexBuilder, scanIndex } from './index.js';
import { convertFile, type ConvertResult } from './input.js';
import { align4, loadBytes, storeBytes } from './mem.js';
import { parseToolArgs, type ToolArgs } from './args.js';
import { FLAG_UNMAP, R_BIN_MQ_NL, SamError, makeHeader, withPg, withSortOrder, type SamHeader } from './record.js';
import {
  DEPTH_RING_BYTES, DepthStream, Out, ToolError, flagstat, formatFlagstat, formatIdxstats, orderChunks, parseRegion, passes, recBytes, recEnd,
  recFlag, recPos, recTid, regionRecords, slowIdxstats, sortRecords, writeRecord, type ChunkSource,
} from './tools.js';

const { PRIMARY, SEG_CTL_DELETE, VAS_CTL_DELETE, VAS_CTL_PTPOLICY, PT_SHARED } = SPACEJMP_CONSTANTS;

/** Where the data sets' segments live: inside the segment region [2^46, 2^47 - 2^39) (docs/spacejmp.md). */
export const DATA_BASE = 2 ** 46 + 2 ** 40;
export const HDR_OFF = 0;
export const SORT_OFF = 2 ** 36;
export const IDX_OFF = 2 ** 37;
export const REC_OFF = 2 ** 38;
const PAGE = 4096;

/** Header-segment words. */
export const DS_MAGIC = 0x44534d53; // "SMSD"
const H_MAGIC = 0;
const H_COUNT = 4;
const H_REC_LO = 8;
const H_REC_HI = 12;
const H_CHUNKS = 16;
const H_HDRLEN = 20;
const H_SORT = 24; // 0 none, 1 coordinate, 2 queryname
const H_INDEX_LEN = 28; // 0: no index
const H_MODE = 32; // mode bits the data set was imported with (sort/index segments get the same)
const H_BODY = 64;
/** Sort-segment words: kind, count, length of the header the sort wrote, where the order starts. */
const S_HDRLEN = 0;
const S_ORDER = 4;
const S_BODY = 64;

const IO_BUF = 64 * 1024;
const OUT_BUF = 64 * 1024;

export interface SamIo {
  stdout: string;
  stderr: string;
  /** Called with records converted so far (long imports). */
  progress?: (records: number) => void;
  /** Longest SAM line accepted (tests lower it). */
  maxLine?: number;
  /** The command line for @PG lines, when the caller's differs from ARGV (paths as the user typed them). */
  commandLine?: string;
  /** Filled in by the program: what it did, for the harness's tables. */
  report?: SamRunReport;
}

export interface SamRunReport {
  /** Modelled cycles spent converting (reading and parsing the input into records). */
  convertCycles: number;
  records: number;
  inputBytes: number;
  /** Data-set name → segment names it created (vas). */
  segments?: string[];
}

function pageUp(n: number): number {
  return Math.ceil(n / PAGE) * PAGE;
}

function errorText(tool: string, e: unknown): string {
  if (e instanceof ToolError) return e.message;
  if (e instanceof SamError) return `samtools ${tool}: ${e.message}`;
  if (e instanceof Error && e.name === 'SysError') return `samtools ${tool}: ${e.message}`;
  throw e;
}

/** Run `body`, turning a data or usage error into a stderr line and exit status 1. */
function guarded(rt: Runtime, io: SamIo, tool: string, body: (out: Out) => void, cleanup?: () => void): number {
  const heapOut = rt.malloc(OUT_BUF);
  const fd = rt.open(io.stdout, O_CREAT | O_WRONLY | O_TRUNC, 0o644);
  const out = new Out(rt, fd, heapOut, OUT_BUF);
  try {
    body(out);
    out.flush();
    return 0;
  } catch (e) {
    const msg = errorText(tool, e);
    cleanup?.();
    const efd = rt.open(io.stderr, O_CREAT | O_WRONLY | O_TRUNC, 0o644);
    const eo = new Out(rt, efd, heapOut, OUT_BUF);
    eo.text(msg + '\n');
    eo.flush();
    return 1;
  }
}

function fileSize(rt: Runtime, fd: number): number {
  const n = rt.call('lseek', fd, 0, 2);
  rt.call('lseek', fd, 0, 0);
  return n;
}

function tryOpen(rt: Runtime, path: string): number {
  const fd = Number(rt.raw('open', path, O_RDONLY, 0, 4096));
  return fd >= 0 ? fd : -1;
}

/** The input as the user typed it (the command line's last word for single-operand tools). */
function typedInput(a: ToolArgs): string {
  return a.commandLine.split(' ').pop() ?? a.input;
}

function headerWithPg(h: SamHeader, a: ToolArgs): string {
  return a.noPg ? h.text : withPg(h.text, a.commandLine);
}

/** view without regions, or with regions through an index. */
function runView(rt: Runtime, out: Out, a: ToolArgs, h: SamHeader, all: () => Dataset, regions: () => { idx: IndexView; src: ChunkSource } | null): void {
  if (!a.count && (a.withHeader || a.headerOnly)) out.text(headerWithPg(h, a));
  if (a.headerOnly) return;
  let n = 0;
  const take = (addr: number): void => {
    if (!passes(rt, addr, a.filter)) return;
    n++;
    if (!a.count) writeRecord(rt, out, addr, h);
  };
  if (a.regions.length === 0) forEachRecord(rt, all(), take);
  else {
    const r = regions();
    if (!r) throw new ToolError('samtools view: Random alignment retrieval only works for indexed SAM.gz, BAM or CRAM files.');
    for (const text of a.regions) regionRecords(rt, r.idx, r.src, parseRegion(text, h), take);
  }
  if (a.count) out.text(`${n}\n`);
}

/** depth over regions through the index, or over the whole sorted data set. */
function runDepth(rt: Runtime, out: Out, h: SamHeader, regions: string[], access: () => { idx: IndexView; src: ChunkSource } | null, all: () => Dataset): void {
  const ring = rt.mmap(DEPTH_RING_BYTES);
  if (regions.length) {
    const r = access();
    if (!r) throw new ToolError('samtools depth: cannot load index for the input (sort and index it first)');
    for (const text of regions) {
      const reg = parseRegion(text, h);
      if (reg.tid < 0) throw new ToolError(`samtools depth: region "${text}" has no positions`);
      const d = new DepthStream(rt, ring, out, h, reg.beg, reg.end);
      regionRecords(rt, r.idx, r.src, reg, (addr) => d.add(addr));
      d.finish();
    }
  } else {
    const ds = all();
    const d = new DepthStream(rt, ring, out, ds.header);
    forEachRecord(rt, ds, (addr) => { if (recTid(rt, addr) >= 0) d.add(addr); });
    d.finish();
  }
  rt.munmap(ring, DEPTH_RING_BYTES);
}

// ============================================================================== files design

/** Convert the input file into records in this process's memory. */
function loadFile(rt: Runtime, io: SamIo, path: string, buf: number): { ds: Dataset; conv: ConvertResult } {
  const c0 = rt.cpu.clock;
  const fd = rt.open(path, O_RDONLY);
  const size = fileSize(rt, fd);
  // Room for the records: generous and untouched until used (anonymous memory is lazy).
  const reserve = pageUp(Math.max(64 * 1024 * 1024, size * 24));
  const base = rt.mmap(reserve);
  const area = new RecordArea(rt, base, reserve, (end) => { throw new ToolError(`samtools: ${path}: records need more than ${reserve} bytes (${end - base})`); });
  const conv = convertFile(rt, fd, path, buf, IO_BUF, area, { progress: io.progress, maxLine: io.maxLine });
  rt.close(fd);
  if (io.report) {
    io.report.convertCycles += rt.cpu.clock - c0;
    io.report.records = conv.records;
    io.report.inputBytes += size;
  }
  return { ds: { header: conv.header, recBase: base, recBytes: area.bytes, count: area.count, order: null, index: null }, conv };
}

/** A BAM file and its .bai, for index queries: the header and the index are all that is loaded. */
function openIndexed(rt: Runtime, io: SamIo, path: string, buf: number): { h: SamHeader; idx: IndexView; src: ChunkSource } | null {
  const ifd = tryOpen(rt, `${path}.bai`);
  if (ifd < 0) return null;
  const c0 = rt.cpu.clock;
  const len = fileSize(rt, ifd);
  const img = rt.mmap(pageUp(Math.max(len, 1)));
  for (let done = 0; done < len;) done += rt.call('read', ifd, img + done, len - done);
  rt.close(ifd);
  const idx = scanIndex(rt, img, len, 'voffset', `${path}.bai`);
  const fd = rt.open(path, O_RDONLY);
  const reader = new BamReader(rt, fd, path, buf, IO_BUF);
  const h = decodeBamHeader(reader, path);
  // With no placed reads the .bai says nothing about where the unplaced ones start: after the header.
  idx.noCoorStart = Math.max(idx.noCoorStart, reader.tell());
  const slot = rt.mmap(16 * 1024 * 1024);
  // Reading a record (seek, inflate, copy into the slot) is conversion; looking at it is not.
  const src: ChunkSource = {
    each(beg, end, visit) {
      let c = rt.cpu.clock;
      reader.seek(beg);
      while (reader.tell() < end) {
        const rec = reader.nextRecord();
        if (!rec) break;
        storeBytes(rt, slot, rec);
        if (io.report) io.report.convertCycles += rt.cpu.clock - c;
        const more = visit(slot);
        c = rt.cpu.clock;
        if (!more) return;
      }
      if (io.report) io.report.convertCycles += rt.cpu.clock - c;
    },
  };
  if (io.report) io.report.convertCycles += rt.cpu.clock - c0;
  return { h, idx, src };
}

function writeSam(rt: Runtime, out: Out, text: string, ds: Dataset, order: number[]): void {
  out.text(text);
  for (const a of order) writeRecord(rt, out, a, ds.header);
}

function writeBamFile(rt: Runtime, path: string, buf: number, h: SamHeader, order: number[]): void {
  const fd = rt.open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644);
  writeBam(rt, fd, buf, h, order);
  rt.close(fd);
}

function writeBam(rt: Runtime, fd: number, buf: number, h: SamHeader, order: number[]): void {
  const w = new BamWriter(rt, fd, buf, IO_BUF);
  w.add(encodeBamHeader(h));
  for (const a of order) w.add(recBytes(rt, a));
  w.close();
}

function filesTool(rt: Runtime, io: SamIo, a: ToolArgs, out: Out): void {
  const buf = rt.malloc(IO_BUF);
  const path = a.input;
  switch (a.tool) {
    case 'flagstat':
      out.text(formatFlagstat(flagstat(rt, loadFile(rt, io, path, buf).ds), a.format));
      return;
    case 'view': {
      if (a.regions.length) {
        const r = openIndexed(rt, io, path, buf);
        if (!r) throw new ToolError(`[E::idx_find_and_load] Could not retrieve index file for '${path}'\nsamtools view: Random alignment retrieval only works for indexed SAM.gz, BAM or CRAM files.`);
        runView(rt, out, a, r.h, () => { throw new Error('unreachable'); }, () => r);
        return;
      }
      const { ds } = loadFile(rt, io, path, buf);
      runView(rt, out, a, ds.header, () => ds, () => null);
      return;
    }
    case 'sort': {
      const { ds } = loadFile(rt, io, path, buf);
      const kind: SortKind = a.byName ? 'queryname' : 'coordinate';
      const { order } = sortRecords(rt, ds, kind);
      const text = headerWithPg(makeHeader(withSortOrder(ds.header.text, kind), ds.header.refs), a);
      const h = makeHeader(text, ds.header.refs);
      const fmt = a.outFormat ?? (a.output?.endsWith('.sam') ? 'sam' : 'bam');
      if (a.output) {
        if (fmt === 'bam') writeBamFile(rt, a.output, buf, h, order);
        else {
          const fd = rt.open(a.output, O_CREAT | O_WRONLY | O_TRUNC, 0o644);
          const o = new Out(rt, fd, rt.malloc(OUT_BUF), OUT_BUF);
          writeSam(rt, o, text, ds, order);
          o.flush();
          rt.close(fd);
        }
      } else if (fmt === 'sam') writeSam(rt, out, text, ds, order);
      else {
        out.flush();
        writeBam(rt, out.fd, buf, h, order);
      }
      return;
    }
    case 'index': {
      const fd = rt.open(path, O_RDONLY);
      const reader = new BamReader(rt, fd, path, buf, IO_BUF);
      const h = decodeBamHeader(reader, path);
      const slot = rt.mmap(16 * 1024 * 1024);
      const b = new IndexBuilder(h.refs.length, path);
      for (;;) {
        const c = rt.cpu.clock;
        const beg = reader.tell();
        const rec = reader.nextRecord();
        if (rec) storeBytes(rt, slot, rec);
        if (io.report) io.report.convertCycles += rt.cpu.clock - c;
        if (!rec) break;
        const bin = rt.load32(slot + R_BIN_MQ_NL) >>> 16;
        b.push(recTid(rt, slot), recPos(rt, slot), recEnd(rt, slot), bin, (recFlag(rt, slot) & FLAG_UNMAP) !== 0, beg, reader.tell());
      }
      rt.close(fd);
      const img = b.finish();
      const ofd = rt.open(a.output ?? `${path}.bai`, O_CREAT | O_WRONLY | O_TRUNC, 0o644);
      const o = new Out(rt, ofd, rt.malloc(OUT_BUF), OUT_BUF);
      o.bin(img);
      o.flush();
      rt.close(ofd);
      return;
    }
    case 'idxstats': {
      const r = openIndexed(rt, io, path, buf);
      if (r) out.text(formatIdxstats(rt, r.idx, r.h));
      else {
        const { ds } = loadFile(rt, io, path, buf);
        out.text(slowIdxstats(rt, ds, typedInput(a)));
      }
      return;
    }
    case 'depth': {
      if (a.regions.length) {
        const r = openIndexed(rt, io, path, buf);
        if (!r) throw new ToolError(`samtools depth: cannot load index for "${path}"`);
        runDepth(rt, out, r.h, a.regions, () => r, () => { throw new Error('unreachable'); });
        return;
      }
      const { ds } = loadFile(rt, io, path, buf);
      runDepth(rt, out, ds.header, [], () => null, () => ds);
      return;
    }
  }
}

/** The files design: `samtools ARGV` as a fresh process reading its input from the tmpfs. */
export function filesSamtools(argv: readonly string[], io: SamIo): ProgramMain {
  return function* samtools(rt: Runtime) {
    yield* rt.yield();
    let tool = argv[0] ?? '';
    const code = guarded(rt, io, tool, (out) => {
      const a = parseToolArgs(argv);
      if (io.commandLine) a.commandLine = io.commandLine;
      tool = a.tool;
      filesTool(rt, io, a, out);
    });
    return code;
  };
}

// ============================================================================== vas design

interface Attached {
  vid: number;
  ds: Dataset;
  /** The header segment's address (data set words live there). */
  hdr: number;
}

/** The data set's view as stored in its segments (read through the calling thread). */
function readDataset(rt: Runtime, name: string, base: number): Dataset {
  const hdr = base + HDR_OFF;
  if (rt.load32(hdr + H_MAGIC) !== DS_MAGIC) throw new ToolError(`samtools: "${name}" is not a data set`);
  const count = rt.load32(hdr + H_COUNT) >>> 0;
  const recBytes = (rt.load32(hdr + H_REC_LO) >>> 0) + (rt.load32(hdr + H_REC_HI) >>> 0) * 4294967296;
  const sortKind = rt.load32(hdr + H_SORT);
  let header: SamHeader;
  let order: Dataset['order'] = null;
  const bytesAt = (addr: number, n: number): Uint8Array => loadBytes(rt, addr, n);
  const headerFrom = (addr: number, n: number): SamHeader => {
    const b = bytesAt(addr, n);
    let p = 0;
    return decodeBamHeader({ take: (k) => (p + k <= b.length ? b.subarray(p, (p += k)) : null) }, name);
  };
  if (sortKind) {
    const s = base + SORT_OFF;
    header = headerFrom(s + S_BODY, rt.load32(s + S_HDRLEN));
    order = { addr: s + rt.load32(s + S_ORDER), kind: sortKind === 1 ? 'coordinate' : 'queryname' };
  } else header = headerFrom(hdr + H_BODY, rt.load32(hdr + H_HDRLEN));
  const idxLen = rt.load32(hdr + H_INDEX_LEN) >>> 0;
  const index = idxLen ? scanIndex(rt, base + IDX_OFF, idxLen, 'ordinal', name) : null;
  return { header, recBase: base + REC_OFF, recBytes, count, order, index };
}

function* attach(rt: Runtime, name: string): Blocking<Attached> {
  const vid = rt.call('vas_find', name);
  const vh = rt.call('vas_attach', vid);
  yield* rt.callBlocking('vas_switch', vh, 0);
  return { vid, ds: readDataset(rt, name, DATA_BASE), hdr: DATA_BASE + HDR_OFF };
}

/** Replace (or create) the data set's segment `suffix` with one of `size` bytes at `base`. */
function replaceSegment(rt: Runtime, vid: number, name: string, suffix: string, base: number, size: number, mode: number): number {
  const segName = `${name}.${suffix}`;
  const old = Number(rt.raw('seg_find', segName));
  if (old >= 0) {
    rt.raw('seg_detach', vid, old);
    rt.call('seg_ctl', old, SEG_CTL_DELETE, 0);
  }
  const sid = rt.call('seg_alloc', segName, base, pageUp(size), mode, 0);
  try {
    rt.call('seg_attach', vid, sid);
  } catch (e) {
    rt.raw('seg_ctl', sid, SEG_CTL_DELETE, 0); // no stray segment when the space refuses us
    throw e;
  }
  return sid;
}

function vasTool(rt: Runtime, io: SamIo, a: ToolArgs, out: Out, at: Attached): void {
  const { ds } = at;
  const name = a.input;
  const regionAccess = (): { idx: IndexView; src: ChunkSource } | null =>
    ds.index && ds.order?.kind === 'coordinate' ? { idx: ds.index, src: orderChunks(rt, ds) } : null;
  switch (a.tool) {
    case 'flagstat':
      out.text(formatFlagstat(flagstat(rt, ds), a.format));
      return;
    case 'view':
      runView(rt, out, a, ds.header, () => ds, regionAccess);
      return;
    case 'sort': {
      const kind: SortKind = a.byName ? 'queryname' : 'coordinate';
      const { order } = sortRecords(rt, ds, kind);
      const text = headerWithPg(makeHeader(withSortOrder(ds.header.text, kind), ds.header.refs), a);
      const h = makeHeader(text, ds.header.refs);
      const hb = encodeBamHeader(h);
      const orderOff = align4(S_BODY + hb.length);
      // Segment calls first: they check the caller's rights on the space (a reader gets EACCES
      // here, before any store could fault). The old index goes too: it indexes another order.
      replaceSegment(rt, at.vid, name, 'sort', DATA_BASE + SORT_OFF, orderOff + order.length * 4, rt.load32(at.hdr + H_MODE) & 0o777);
      const old = Number(rt.raw('seg_find', `${name}.idx`));
      if (old >= 0) {
        rt.call('seg_detach', at.vid, old);
        rt.call('seg_ctl', old, SEG_CTL_DELETE, 0);
      }
      rt.store32(at.hdr + H_SORT, 0);
      rt.store32(at.hdr + H_INDEX_LEN, 0);
      const s = DATA_BASE + SORT_OFF;
      storeBytes(rt, s + S_BODY, hb);
      for (let i = 0; i < order.length; i++) rt.store32(s + orderOff + i * 4, (order[i] - ds.recBase) / 4);
      rt.store32(s + S_HDRLEN, hb.length);
      rt.store32(s + S_ORDER, orderOff);
      rt.store32(at.hdr + H_SORT, kind === 'coordinate' ? 1 : 2);
      if (a.outFormat === 'sam' && !a.output) {
        const sorted = { ...ds, header: h, order: { addr: s + orderOff, kind } };
        out.text(text);
        forEachRecord(rt, sorted, (addr) => writeRecord(rt, out, addr, h));
      } else if (a.output || a.outFormat === 'bam') {
        throw new ToolError('samtools sort: in the vas design the sorted order stays in the data set (use -O sam to print it)');
      }
      return;
    }
    case 'index': {
      if (ds.order?.kind !== 'coordinate') {
        // samtools index refuses unsorted input; find where, as it does.
        const b = new IndexBuilder(ds.header.refs.length, name);
        forEachRecord(rt, ds, (addr, i) => b.push(recTid(rt, addr), recPos(rt, addr), recEnd(rt, addr), rt.load32(addr + R_BIN_MQ_NL) >>> 16, (recFlag(rt, addr) & FLAG_UNMAP) !== 0, i, i + 1));
        throw new ToolError(`samtools index: "${name}" is not sorted by coordinate (run sort first)`);
      }
      const b = new IndexBuilder(ds.header.refs.length, name);
      forEachRecord(rt, ds, (addr, i) => b.push(recTid(rt, addr), recPos(rt, addr), recEnd(rt, addr), rt.load32(addr + R_BIN_MQ_NL) >>> 16, (recFlag(rt, addr) & FLAG_UNMAP) !== 0, i, i + 1));
      const img = b.finish();
      replaceSegment(rt, at.vid, name, 'idx', DATA_BASE + IDX_OFF, img.length, rt.load32(at.hdr + H_MODE) & 0o777);
      rt.store32(at.hdr + H_INDEX_LEN, 0);
      storeBytes(rt, DATA_BASE + IDX_OFF, img);
      rt.store32(at.hdr + H_INDEX_LEN, img.length);
      return;
    }
    case 'idxstats':
      if (ds.index) out.text(formatIdxstats(rt, ds.index, ds.header));
      else out.text(slowIdxstats(rt, ds, typedInput(a)));
      return;
    case 'depth':
      if (a.regions.length && !regionAccess()) throw new ToolError(`samtools depth: "${name}" has no index (run sort and index first)`);
      runDepth(rt, out, ds.header, a.regions, regionAccess, () => ds);
      return;
  }
}

/** The vas design: `samtools ARGV` where the input is a data set's name; attaches and switches in. */
export function vasSamtools(argv: readonly string[], io: SamIo): ProgramMain {
  return function* samtools(rt: Runtime) {
    let a: ToolArgs | null = null;
    let at: Attached | null = null;
    let early: unknown = null;
    try {
      a = parseToolArgs(argv);
      if (io.commandLine) a.commandLine = io.commandLine;
      at = yield* attach(rt, a.input);
    } catch (e) {
      early = e;
    }
    const tool = a?.tool ?? argv[0] ?? '';
    return guarded(rt, io, tool, (out) => {
      if (early) throw early;
      vasTool(rt, io, a!, out, at!);
    });
  };
}

/**
 * `import NAME FILE`: a named address space holding the file's records in their in-memory form.
 * All or nothing: on any error every segment and the space itself are deleted (their frames go
 * back) before the program exits with status 1.
 */
export function vasImport(name: string, path: string, io: SamIo, mode = 0o644): ProgramMain {
  return function* importer(rt: Runtime) {
    yield* rt.yield();
    const sids: number[] = [];
    let vid = -1;
    const cleanup = (): void => {
      for (const sid of sids) {
        rt.raw('seg_detach', PRIMARY, sid);
        if (vid >= 0) rt.raw('seg_detach', vid, sid);
        rt.raw('seg_ctl', sid, SEG_CTL_DELETE, 0);
      }
      if (vid >= 0) rt.raw('vas_ctl', VAS_CTL_DELETE, vid, 0);
    };
    return guarded(rt, io, 'import', () => {
      const c0 = rt.cpu.clock;
      const buf = rt.malloc(IO_BUF);
      const fd = rt.open(path, O_RDONLY);
      const size = fileSize(rt, fd);
      vid = rt.call('vas_create', name, mode);
      // Attachers link the space's page-table subtrees instead of copying an entry per page of
      // the records: attach stays cheap however big the data set is (docs/spacejmp.md).
      rt.call('vas_ctl', VAS_CTL_PTPOLICY, vid, PT_SHARED);
      const seg = (suffix: string, base: number, bytes: number): void => {
        const sid = rt.call('seg_alloc', `${name}.${suffix}`, base, bytes, mode, 0);
        sids.push(sid);
        rt.call('seg_attach', vid, sid);
        rt.call('seg_attach', PRIMARY, sid);
      };
      // Records: contiguous chunks of segments, each about the size of the input, added as needed.
      const chunk = pageUp(Math.min(256 * 1024 * 1024, Math.max(1024 * 1024, Math.ceil(size * 1.1))));
      const recBase = DATA_BASE + REC_OFF;
      let chunks = 0;
      const grow = (end: number): number => {
        while (recBase + chunks * chunk < end) {
          seg(`rec${chunks}`, recBase + chunks * chunk, chunk);
          chunks++;
        }
        return recBase + chunks * chunk;
      };
      grow(recBase + 1);
      const area = new RecordArea(rt, recBase, chunk, grow);
      const conv = convertFile(rt, fd, path, buf, IO_BUF, area, { progress: io.progress, maxLine: io.maxLine });
      rt.close(fd);
      const hb = encodeBamHeader(conv.header);
      seg('hdr', DATA_BASE + HDR_OFF, pageUp(H_BODY + hb.length));
      const hdr = DATA_BASE + HDR_OFF;
      storeBytes(rt, hdr + H_BODY, hb);
      rt.store32(hdr + H_COUNT, area.count);
      rt.store32(hdr + H_REC_LO, area.bytes % 4294967296);
      rt.store32(hdr + H_REC_HI, Math.floor(area.bytes / 4294967296));
      rt.store32(hdr + H_CHUNKS, chunks);
      rt.store32(hdr + H_HDRLEN, hb.length);
      rt.store32(hdr + H_MODE, mode);
      rt.store32(hdr + H_MAGIC, DS_MAGIC);
      // The importer's own view goes; the space keeps the segments.
      for (const sid of sids) rt.call('seg_detach', PRIMARY, sid);
      if (io.report) {
        io.report.convertCycles += rt.cpu.clock - c0;
        io.report.records = conv.records;
        io.report.inputBytes += size;
        io.report.segments = [...sids].map((_, i) => (i < chunks ? `${name}.rec${i}` : `${name}.hdr`));
      }
    }, cleanup);
  };
}
