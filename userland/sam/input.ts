// The conversion every samtools run starts with: a SAM or BAM file read from the tmpfs with read()
// into a buffer of the program's memory, loaded from there, parsed, and each record stored into
// the in-memory record area. Text parsing (field splitting, number conversion, table lookups) is
// charged per input byte; the bytes themselves move as modelled loads and stores.

import type { Runtime } from '../runtime.js';
import { BamReader, decodeBamHeader } from './bam.js';
import type { RecordSink } from './dataset.js';
import { loadBytes } from './mem.js';
import { MAX_LINE, SamError, parseHeaderText, parseSamLine, type SamHeader } from './record.js';

export interface ConvertOptions {
  /** Longest line accepted (default MAX_LINE). */
  maxLine?: number;
  /** Called every few thousand records. */
  progress?: (records: number) => void;
}

export interface ConvertResult {
  header: SamHeader;
  records: number;
  bytesRead: number;
  format: 'sam' | 'bam';
}

/** True when the file starts like a gzip member (BGZF). */
function looksCompressed(rt: Runtime, fd: number, buf: number): boolean {
  const n = rt.call('read', fd, buf, 2);
  rt.call('lseek', fd, 0, 0);
  return n === 2 && rt.load8(buf) === 0x1f && rt.load8(buf + 1) === 0x8b;
}

/** Convert the open file `fd` (named `file` in errors) into `sink`. */
export function convertFile(rt: Runtime, fd: number, file: string, buf: number, bufSize: number, sink: RecordSink, opts: ConvertOptions = {}): ConvertResult {
  if (looksCompressed(rt, fd, buf)) return convertBam(rt, fd, file, buf, bufSize, sink, opts);
  return convertSam(rt, fd, file, buf, bufSize, sink, opts);
}

function convertBam(rt: Runtime, fd: number, file: string, buf: number, bufSize: number, sink: RecordSink, opts: ConvertOptions): ConvertResult {
  const r = new BamReader(rt, fd, file, buf, bufSize);
  const header = decodeBamHeader(r, file);
  sink.setHeader(header);
  let records = 0;
  for (let rec = r.nextRecord(); rec; rec = r.nextRecord()) {
    const tid = rec[4] | (rec[5] << 8) | (rec[6] << 16) | (rec[7] << 24);
    if (tid < -1 || tid >= header.refs.length) throw new SamError(file, `record ${records + 1}`, `reference id ${tid} is not in the header`);
    sink.append(rec);
    if (++records % 8192 === 0) opts.progress?.(records);
  }
  return { header, records, bytesRead: r.inflated, format: 'bam' };
}

function convertSam(rt: Runtime, fd: number, file: string, buf: number, bufSize: number, sink: RecordSink, opts: ConvertOptions): ConvertResult {
  const maxLine = opts.maxLine ?? MAX_LINE;
  let headerText = '';
  let header: SamHeader | null = null;
  let lineNo = 0;
  let records = 0;
  let bytesRead = 0;
  const pieces: Uint8Array[] = [];
  let pieceBytes = 0;
  const chunk = new Uint8Array(bufSize);
  const finishHeader = (): SamHeader => {
    header = parseHeaderText(headerText, file);
    sink.setHeader(header);
    return header;
  };
  const line = (b: Uint8Array): void => {
    lineNo++;
    if (header === null && b[0] === 64 /* @ */) {
      headerText += Buffer.from(b).toString('latin1') + '\n';
      return;
    }
    const h = header ?? finishHeader();
    if (b.length === 0) throw new SamError(file, `${lineNo}`, 'empty line');
    const fail = (m: string): never => { throw new SamError(file, `${lineNo}`, m); };
    sink.append(parseSamLine(b, h, fail));
    if (++records % 8192 === 0) opts.progress?.(records);
  };
  for (;;) {
    const n = rt.call('read', fd, buf, bufSize);
    if (n === 0) break;
    bytesRead += n;
    loadBytes(rt, buf, n, chunk);
    rt.compute(n * rt.costs.samParsePerByte);
    let start = 0;
    for (let i = 0; i < n; i++) {
      if (chunk[i] !== 10) continue;
      if (pieceBytes + i - start > maxLine) throw new SamError(file, `${lineNo + 1}`, `line longer than ${maxLine} bytes`);
      if (pieces.length) {
        pieces.push(chunk.slice(start, i));
        line(Buffer.concat(pieces));
        pieces.length = 0;
        pieceBytes = 0;
      } else line(chunk.subarray(start, i));
      start = i + 1;
    }
    if (start < n) {
      pieceBytes += n - start;
      if (pieceBytes > maxLine) throw new SamError(file, `${lineNo + 1}`, `line longer than ${maxLine} bytes`);
      pieces.push(chunk.slice(start, n));
    }
  }
  if (pieces.length) line(Buffer.concat(pieces));
  return { header: header ?? finishHeader(), records, bytesRead, format: 'sam' };
}
