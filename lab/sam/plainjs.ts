// The same pipeline as plain JavaScript over a JS array of records (no emulated memory, no
// system calls): what the tools cost on the host, to show what emulation costs in wall-clock.

import { IndexBuilder } from '../../userland/sam/index.js';
import {
  CONSUMES_REF, FLAG_REVERSE, FLAG_UNMAP, formatRecord, parseHeaderText, parseSamLine, strnumCmp, type SamHeader,
} from '../../userland/sam/record.js';
import { DEPTH_EXCLUDE, flagstatAdd, formatFlagstat, type FlagstatCounts } from '../../userland/sam/tools.js';

export interface PlainJsResult {
  wallMs: number;
  stagesMs: Record<string, number>;
  records: number;
  /** Bytes the depth step printed (so the work is not optimised away). */
  depthBytes: number;
}

interface Rec {
  bytes: Uint8Array;
  tid: number;
  pos: number;
  end: number;
  flag: number;
  mapq: number;
  mtid: number;
  bin: number;
  cigar: number[];
}

function toRec(b: Uint8Array): Rec {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const nl = b[12];
  const nc = dv.getUint16(16, true);
  const cigar: number[] = [];
  for (let i = 0; i < nc; i++) cigar.push(dv.getUint32(36 + nl + i * 4, true));
  const flag = dv.getUint16(18, true);
  const pos = dv.getInt32(8, true);
  let rl = 0;
  for (const op of cigar) if ((CONSUMES_REF >> (op & 15)) & 1) rl += op >>> 4;
  return { bytes: b, tid: dv.getInt32(4, true), pos, end: flag & FLAG_UNMAP || !rl ? pos + 1 : pos + rl, flag, mapq: b[13], mtid: dv.getInt32(24, true), bin: dv.getUint16(14, true), cigar };
}

export function runPlainJs(text: Uint8Array, region: string, sortKey: 'coordinate' | 'queryname' = 'coordinate'): PlainJsResult {
  const stagesMs: Record<string, number> = {};
  const t0 = performance.now();
  let t = t0;
  const lap = (name: string): void => { const n = performance.now(); stagesMs[name] = n - t; t = n; };
  // parse: lines straight out of the byte array, as the emulated reader does
  let p = 0;
  let headerText = '';
  while (p < text.length && text[p] === 64 /* @ */) {
    const nl = text.indexOf(10, p);
    const e = nl < 0 ? text.length : nl;
    headerText += Buffer.from(text.subarray(p, e)).toString('latin1') + '\n';
    p = e + 1;
  }
  const h: SamHeader = parseHeaderText(headerText, 'input');
  const recs: Rec[] = [];
  const fail = (m: string): never => { throw new Error(m); };
  while (p < text.length) {
    const nl = text.indexOf(10, p);
    const e = nl < 0 ? text.length : nl;
    if (e > p) recs.push(toRec(parseSamLine(text.subarray(p, e), h, fail)));
    p = e + 1;
  }
  lap('parse');
  const fs: FlagstatCounts = [new Array<number>(16).fill(0), new Array<number>(16).fill(0)];
  for (const r of recs) flagstatAdd(fs, r.flag, r.tid, r.mtid, r.mapq);
  formatFlagstat(fs, 'default');
  lap('flagstat');
  const sorted = recs.slice();
  if (sortKey === 'coordinate') sorted.sort((a, b) => (a.tid >>> 0) - (b.tid >>> 0) || a.pos - b.pos || (a.flag & FLAG_REVERSE) - (b.flag & FLAG_REVERSE));
  else {
    const names = new Map(recs.map((r) => [r, r.bytes.subarray(36, 36 + r.bytes[12] - 1)]));
    sorted.sort((a, b) => strnumCmp(names.get(a)!, names.get(b)!) || (a.flag & 0xc0) - (b.flag & 0xc0));
  }
  lap('sort');
  const ib = new IndexBuilder(h.refs.length, 'input');
  sorted.forEach((r, k) => ib.push(r.tid, r.pos, r.end, r.bin, (r.flag & FLAG_UNMAP) !== 0, k, k + 1));
  ib.finish();
  lap('index');
  const mapped = new Array<number>(h.refs.length).fill(0);
  for (const r of sorted) if (r.tid >= 0 && !(r.flag & FLAG_UNMAP)) mapped[r.tid]++;
  lap('idxstats');
  const m = /^(.+):(\d+)-(\d+)$/.exec(region);
  const tid = m ? h.byName.get(m[1]) ?? 0 : 0;
  const beg = m ? Number(m[2]) - 1 : 0;
  const end = m ? Number(m[3]) : h.refs[tid].length;
  const hits = sorted.filter((r) => r.tid === tid && r.pos < end && r.end > beg);
  hits.map((r) => formatRecord(r.bytes, h)).join('\n');
  lap('view');
  const depth = new Int32Array(end - beg);
  for (const r of hits) {
    if (r.flag & DEPTH_EXCLUDE) continue;
    let ref = r.pos;
    for (const op of r.cigar) {
      const code = op & 15;
      const len = op >>> 4;
      if (code === 0 || code === 7 || code === 8) for (let p = Math.max(ref, beg); p < Math.min(ref + len, end); p++) depth[p - beg]++;
      if ((CONSUMES_REF >> code) & 1) ref += len;
    }
  }
  let out = '';
  for (let p = 0; p < depth.length; p++) if (depth[p]) out += `${h.refs[tid].name}\t${p + beg + 1}\t${depth[p]}\n`;
  lap('depth');
  return { wallMs: performance.now() - t0, stagesMs, records: recs.length, depthBytes: out.length };
}
