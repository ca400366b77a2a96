// The alignment record in its in-memory form, which is BAM's record exactly (SAMv1 §4.2): a
// block_size word, then refID, pos, l_read_name, mapq, bin, n_cigar_op, flag, l_seq, next_refID,
// next_pos, tlen, the NUL-terminated read name, the CIGAR as u32 ops, the 4-bit sequence, the
// qualities and the aux fields. In emulated memory every record starts 4-aligned (the stride is
// block_size + 4 rounded up to 4), so the fixed fields are whole aligned words.
//
// This module is the pure part: SAM text line <-> record bytes, the header dictionary, reg2bin and
// the sort keys. It works on host byte arrays the programs filled through their own loads, or that
// they store back through their own stores; it never touches emulated memory itself.

export const R_BLOCK = 0;
export const R_REFID = 4;
export const R_POS = 8;
/** l_read_name (byte 12), mapq (13), bin (14..15). */
export const R_BIN_MQ_NL = 12;
/** n_cigar_op (16..17), flag (18..19). */
export const R_FLAG_NC = 16;
export const R_LSEQ = 20;
export const R_NEXT_REFID = 24;
export const R_NEXT_POS = 28;
export const R_TLEN = 32;
export const R_NAME = 36;
/** Bytes of the fixed part, block_size word included. */
export const FIXED = 36;

export const FLAG_PAIRED = 0x1;
export const FLAG_PROPER = 0x2;
export const FLAG_UNMAP = 0x4;
export const FLAG_MUNMAP = 0x8;
export const FLAG_REVERSE = 0x10;
export const FLAG_READ1 = 0x40;
export const FLAG_READ2 = 0x80;
export const FLAG_SECONDARY = 0x100;
export const FLAG_QCFAIL = 0x200;
export const FLAG_DUP = 0x400;
export const FLAG_SUPPLEMENTARY = 0x800;

/** Longest SAM line accepted (a longer one is an error, not an allocation). */
export const MAX_LINE = 16 * 1024 * 1024;

/** Bad input: where it is (file, line or byte offset) and what is wrong. */
export class SamError extends Error {
  constructor(readonly file: string, readonly where: string, readonly detail: string) {
    super(`${file}:${where}: ${detail}`);
    this.name = 'SamError';
  }
}

export interface RefSeq {
  name: string;
  length: number;
}

/** The header dictionary: the text as written and the @SQ lines in order (BAM tid = index). */
export interface SamHeader {
  text: string;
  refs: RefSeq[];
  /** name -> tid */
  byName: Map<string, number>;
}

export function makeHeader(text: string, refs: RefSeq[]): SamHeader {
  return { text, refs, byName: new Map(refs.map((r, i) => [r.name, i])) };
}

/** Parse the @-lines of a SAM file (without the alignments); `file` names errors. */
export function parseHeaderText(text: string, file: string): SamHeader {
  const refs: RefSeq[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line === '') return;
    if (!line.startsWith('@')) throw new SamError(file, `${i + 1}`, 'header line does not start with @');
    if (!line.startsWith('@SQ\t')) return;
    let name: string | undefined;
    let len: number | undefined;
    for (const f of line.split('\t').slice(1)) {
      if (f.startsWith('SN:')) name = f.slice(3);
      else if (f.startsWith('LN:')) {
        len = Number(f.slice(3));
        if (!/^\d+$/.test(f.slice(3)) || len < 1 || len > 2 ** 31 - 1) throw new SamError(file, `${i + 1}`, `bad @SQ length "${f.slice(3)}"`);
      }
    }
    if (name === undefined || len === undefined) throw new SamError(file, `${i + 1}`, '@SQ line needs SN and LN');
    refs.push({ name, length: len });
  });
  return makeHeader(text, refs);
}

// ------------------------------------------------------------------------------ CIGAR and bins

export const CIGAR_OPS = 'MIDNSHP=X';
const CIGAR_CODE = new Int8Array(128).fill(-1);
for (let i = 0; i < CIGAR_OPS.length; i++) CIGAR_CODE[CIGAR_OPS.charCodeAt(i)] = i;
/** Ops that consume the reference: M D N = X. */
export const CONSUMES_REF = 0b110001101;
/** Ops that consume the query: M I S = X. */
export const CONSUMES_QUERY = 0b110010011;

/** Reference length of a CIGAR given as packed u32 ops. */
export function cigarRefLength(ops: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < ops.length; i++) if ((CONSUMES_REF >> (ops[i] & 15)) & 1) n += ops[i] >>> 4;
  return n;
}

/** hts_reg2bin for the BAI scheme (min_shift 14, 5 levels): the smallest bin holding [beg, end). */
export function reg2bin(beg: number, end: number): number {
  end--;
  if (beg >> 14 === end >> 14) return ((1 << 15) - 1) / 7 + (beg >> 14);
  if (beg >> 17 === end >> 17) return ((1 << 12) - 1) / 7 + (beg >> 17);
  if (beg >> 20 === end >> 20) return ((1 << 9) - 1) / 7 + (beg >> 20);
  if (beg >> 23 === end >> 23) return ((1 << 6) - 1) / 7 + (beg >> 23);
  if (beg >> 26 === end >> 26) return ((1 << 3) - 1) / 7 + (beg >> 26);
  return 0;
}

/** Every bin that may hold records overlapping [beg, end) (hts reg2bins). */
export function reg2bins(beg: number, end: number): number[] {
  const out = [0];
  end--;
  const levels: [number, number][] = [[1, 26], [9, 23], [73, 20], [585, 17], [4681, 14]];
  for (const [off, shift] of levels) for (let k = off + (beg >> shift); k <= off + (end >> shift); k++) out.push(k);
  return out;
}

// ------------------------------------------------------------------------------ SAM text -> record

const SEQ_CODE = new Int8Array(256).fill(15);
const SEQ_CHARS = '=ACMGRSVTWYHKDBN';
for (let i = 0; i < 16; i++) {
  SEQ_CODE[SEQ_CHARS.charCodeAt(i)] = i;
  SEQ_CODE[SEQ_CHARS.toLowerCase().charCodeAt(i)] = i;
}

const TAB = 9;

class Writer {
  buf: Uint8Array;
  dv: DataView;
  n = 0;
  constructor(cap: number) {
    this.buf = new Uint8Array(cap);
    this.dv = new DataView(this.buf.buffer);
  }
  room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }
  u8(v: number): void { this.room(1); this.buf[this.n++] = v; }
  u16(v: number): void { this.room(2); this.dv.setUint16(this.n, v, true); this.n += 2; }
  i32(v: number): void { this.room(4); this.dv.setInt32(this.n, v, true); this.n += 4; }
  u32(v: number): void { this.room(4); this.dv.setUint32(this.n, v >>> 0, true); this.n += 4; }
  f32(v: number): void { this.room(4); this.dv.setFloat32(this.n, v, true); this.n += 4; }
  bytes(b: Uint8Array, from: number, to: number): void { this.room(to - from); this.buf.set(b.subarray(from, to), this.n); this.n += to - from; }
}

function intField(line: Uint8Array, s: number, e: number, fail: (m: string) => never, what: string, min: number, max: number): number {
  if (s === e) fail(`empty ${what}`);
  let i = s;
  let neg = false;
  if (line[i] === 45 /* - */ || line[i] === 43 /* + */) { neg = line[i] === 45; i++; }
  if (i === e) fail(`bad ${what}`);
  let v = 0;
  for (; i < e; i++) {
    const c = line[i] - 48;
    if (c < 0 || c > 9) fail(`bad ${what} "${latin1(line, s, e)}"`);
    v = v * 10 + c;
    if (v > 2 ** 53) fail(`${what} out of range`);
  }
  if (neg) v = -v;
  if (v < min || v > max) fail(`${what} ${v} out of range [${min}, ${max}]`);
  return v;
}

function latin1(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e && i < s + 64; i++) out += String.fromCharCode(b[i]);
  return e - s > 64 ? out + '...' : out;
}

function refId(h: SamHeader, line: Uint8Array, s: number, e: number): number {
  if (e - s === 1 && line[s] === 42 /* * */) return -1;
  return h.byName.get(latin1(line, s, e)) ?? -2;
}

/**
 * One SAM alignment line (without its newline) to record bytes, block_size word included (no
 * padding). Checks what samtools checks, plus what the issue asks (POS within the reference).
 */
export function parseSamLine(line: Uint8Array, h: SamHeader, fail: (m: string) => never): Uint8Array {
  const f: number[] = [0];
  for (let i = 0; i < line.length; i++) if (line[i] === TAB) f.push(i + 1);
  if (f.length < 11) fail(`${f.length} fields, a SAM alignment line needs 11`);
  const end = (k: number): number => (k + 1 < f.length ? f[k + 1] - 1 : line.length);
  // QNAME
  const qs = f[0];
  const qe = end(0);
  if (qe - qs < 1 || qe - qs > 254) fail(`QNAME length ${qe - qs} not in 1..254`);
  for (let i = qs; i < qe; i++) {
    const c = line[i];
    if (c < 33 || c > 126 || c === 64 /* @ */) fail(`QNAME has a character outside [!-?A-~] (byte 0x${c.toString(16)} at column ${i - qs + 1})`);
  }
  let flag = intField(line, f[1], end(1), fail, 'FLAG', 0, 65535);
  let tid = refId(h, line, f[2], end(2));
  if (tid === -2) {
    // samtools: "unrecognized reference name; treated as unmapped"
    tid = -1;
    flag |= FLAG_UNMAP;
  }
  const pos = intField(line, f[3], end(3), fail, 'POS', 0, 2 ** 31 - 1) - 1;
  if (tid >= 0 && pos >= h.refs[tid].length) fail(`POS ${pos + 1} is beyond the end of ${h.refs[tid].name} (length ${h.refs[tid].length})`);
  const mapq = intField(line, f[4], end(4), fail, 'MAPQ', 0, 255);
  // htslib: a mapped record needs a reference and a position, else it is treated as unmapped
  if (!(flag & FLAG_UNMAP) && tid >= 0 && pos < 0) tid = -1;
  if (!(flag & FLAG_UNMAP) && tid < 0) flag |= FLAG_UNMAP;
  // CIGAR
  const cigar: number[] = [];
  const cs = f[5];
  const ce = end(5);
  if (!(ce - cs === 1 && line[cs] === 42)) {
    let n = 0;
    let digits = 0;
    for (let i = cs; i < ce; i++) {
      const c = line[i];
      if (c >= 48 && c <= 57) { n = n * 10 + c - 48; digits++; if (n >= 2 ** 28) fail('CIGAR op length too large'); continue; }
      const op = c < 128 ? CIGAR_CODE[c] : -1;
      if (op < 0 || digits === 0) fail(`bad CIGAR "${latin1(line, cs, ce)}"`);
      cigar.push(n * 16 + op);
      n = 0;
      digits = 0;
    }
    if (digits) fail(`bad CIGAR "${latin1(line, cs, ce)}"`);
  }
  let mtid: number;
  if (end(6) - f[6] === 1 && line[f[6]] === 61 /* = */) mtid = tid;
  else {
    mtid = refId(h, line, f[6], end(6));
    if (mtid === -2) mtid = -1;
  }
  const mpos = intField(line, f[7], end(7), fail, 'PNEXT', 0, 2 ** 31 - 1) - 1;
  const tlen = intField(line, f[8], end(8), fail, 'TLEN', -(2 ** 31 - 1), 2 ** 31 - 1);
  const ss = f[9];
  const se = end(9);
  const noSeq = se - ss === 1 && line[ss] === 42;
  const lseq = noSeq ? 0 : se - ss;
  if (cigar.length && lseq) {
    let ql = 0;
    for (const op of cigar) if ((CONSUMES_QUERY >> (op & 15)) & 1) ql += op >>> 4;
    if (ql !== lseq) fail(`CIGAR and query sequence are of different length (CIGAR ${ql}, SEQ ${lseq})`);
  }
  const qls = f[10];
  const qle = end(10);
  const noQual = qle - qls === 1 && line[qls] === 42;
  if (!noQual && qle - qls !== lseq) fail(`SEQ and QUAL are of different length (${lseq} and ${qle - qls})`);
  const rlen = !(flag & FLAG_UNMAP) && cigar.length ? cigarRefLength(cigar) : 0;
  const bin = reg2bin(pos, pos + (rlen || 1));

  const w = new Writer(FIXED + (qe - qs) + 1 + cigar.length * 4 + lseq * 2 + (line.length - (f[11] ?? line.length)) * 2 + 16);
  w.u32(0); // block_size, set below
  w.i32(tid);
  w.i32(pos);
  w.u8(qe - qs + 1);
  w.u8(mapq);
  w.u16(bin);
  w.u16(cigar.length);
  w.u16(flag);
  w.u32(lseq);
  w.i32(mtid);
  w.i32(mpos);
  w.i32(tlen);
  w.bytes(line, qs, qe);
  w.u8(0);
  for (const op of cigar) w.u32(op);
  for (let i = 0; i < lseq; i += 2) {
    const hi = SEQ_CODE[line[ss + i]];
    const lo = i + 1 < lseq ? SEQ_CODE[line[ss + i + 1]] : 0;
    w.u8((hi << 4) | lo);
  }
  for (let i = 0; i < lseq; i++) {
    if (noQual) { w.u8(0xff); continue; }
    const q = line[qls + i] - 33;
    if (q < 0 || q > 93) fail(`QUAL character out of range at column ${i + 1}`);
    w.u8(q);
  }
  for (let k = 11; k < f.length; k++) parseAux(line, f[k], end(k), w, fail);
  w.dv.setUint32(0, w.n - 4, true);
  return w.buf.slice(0, w.n);
}

function parseAux(line: Uint8Array, s: number, e: number, w: Writer, fail: (m: string) => never): void {
  if (e - s < 5 || line[s + 2] !== 58 || line[s + 4] !== 58) fail(`bad optional field "${latin1(line, s, e)}"`);
  w.u8(line[s]);
  w.u8(line[s + 1]);
  const type = line[s + 3];
  const vs = s + 5;
  const text = latin1(line, vs, e);
  switch (type) {
    case 65: /* A */
      if (e - vs !== 1) fail(`bad A field "${text}"`);
      w.u8(65); w.u8(line[vs]); return;
    case 105: { /* i */
      const v = intField(line, vs, e, fail, 'integer field', -(2 ** 31), 2 ** 32 - 1);
      if (v >= 0) {
        if (v <= 255) { w.u8(67); w.u8(v); } else if (v <= 65535) { w.u8(83); w.u16(v); } else { w.u8(73); w.u32(v); }
      } else if (v >= -128) { w.u8(99); w.u8(v & 0xff); } else if (v >= -32768) { w.u8(115); w.u16(v & 0xffff); } else { w.u8(105); w.i32(v); }
      return;
    }
    case 102: { /* f */
      const v = Number(text);
      if (text.trim() === '' || Number.isNaN(v) && text !== 'nan' && text !== 'NaN') fail(`bad float field "${text}"`);
      w.u8(102); w.f32(v); return;
    }
    case 90: /* Z */ case 72: /* H */
      w.u8(type); w.bytes(line, vs, e); w.u8(0); return;
    case 66: { /* B */
      const parts = text.split(',');
      const sub = parts[0];
      const vals = parts.slice(1);
      const sizes: Record<string, number> = { c: 1, C: 1, s: 2, S: 2, i: 4, I: 4, f: 4 };
      if (!(sub in sizes)) fail(`bad B array type "${sub}"`);
      w.u8(66); w.u8(sub.charCodeAt(0)); w.u32(vals.length);
      for (const t of vals) {
        const v = Number(t);
        if (t === '' || Number.isNaN(v)) fail(`bad B array value "${t}"`);
        if (sub === 'f') w.f32(v);
        else if (sizes[sub] === 1) w.u8(v & 0xff);
        else if (sizes[sub] === 2) w.u16(v & 0xffff);
        else w.u32(v);
      }
      return;
    }
    default:
      fail(`unknown optional field type "${String.fromCharCode(type)}"`);
  }
}

// ------------------------------------------------------------------------------ record -> SAM text

/** C's printf("%g"): six significant digits, trailing zeros dropped. */
export function formatG(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(Number(v.toPrecision(6)))));
  if (exp < -4 || exp >= 6) {
    const [m, e] = v.toExponential(5).split('e');
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const s = v.toFixed(Math.max(0, 5 - exp));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** Record bytes (block_size word first) to its SAM line, without the newline. */
export function formatRecord(b: Uint8Array, h: SamHeader): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const blockEnd = 4 + dv.getUint32(0, true);
  const tid = dv.getInt32(R_REFID, true);
  const pos = dv.getInt32(R_POS, true);
  const nl = b[R_BIN_MQ_NL];
  const mapq = b[R_BIN_MQ_NL + 1];
  const ncig = dv.getUint16(R_FLAG_NC, true);
  const flag = dv.getUint16(R_FLAG_NC + 2, true);
  const lseq = dv.getUint32(R_LSEQ, true);
  const mtid = dv.getInt32(R_NEXT_REFID, true);
  const mpos = dv.getInt32(R_NEXT_POS, true);
  const tlen = dv.getInt32(R_TLEN, true);
  let p = R_NAME;
  let qname = '';
  for (let i = 0; i < nl - 1; i++) qname += String.fromCharCode(b[p + i]);
  p += nl;
  let cigar = '';
  for (let i = 0; i < ncig; i++, p += 4) {
    const op = dv.getUint32(p, true);
    cigar += `${op >>> 4}${CIGAR_OPS[op & 15]}`;
  }
  let seq = '';
  for (let i = 0; i < lseq; i++) seq += SEQ_CHARS[(b[p + (i >> 1)] >> ((~i & 1) << 2)) & 15];
  p += (lseq + 1) >> 1;
  let qual = '';
  if (lseq === 0 || b[p] === 0xff) qual = '*';
  else for (let i = 0; i < lseq; i++) qual += String.fromCharCode(b[p + i] + 33);
  p += lseq;
  const rname = tid < 0 ? '*' : h.refs[tid].name;
  const rnext = mtid < 0 ? '*' : mtid === tid ? '=' : h.refs[mtid].name;
  let out = `${qname}\t${flag}\t${rname}\t${pos + 1}\t${mapq}\t${ncig ? cigar : '*'}\t${rnext}\t${mpos + 1}\t${tlen}\t${lseq ? seq : '*'}\t${qual}`;
  while (p < blockEnd) {
    const tag = String.fromCharCode(b[p], b[p + 1]);
    const type = String.fromCharCode(b[p + 2]);
    p += 3;
    switch (type) {
      case 'A': out += `\t${tag}:A:${String.fromCharCode(b[p])}`; p += 1; break;
      case 'c': out += `\t${tag}:i:${dv.getInt8(p)}`; p += 1; break;
      case 'C': out += `\t${tag}:i:${dv.getUint8(p)}`; p += 1; break;
      case 's': out += `\t${tag}:i:${dv.getInt16(p, true)}`; p += 2; break;
      case 'S': out += `\t${tag}:i:${dv.getUint16(p, true)}`; p += 2; break;
      case 'i': out += `\t${tag}:i:${dv.getInt32(p, true)}`; p += 4; break;
      case 'I': out += `\t${tag}:i:${dv.getUint32(p, true)}`; p += 4; break;
      case 'f': out += `\t${tag}:f:${formatG(dv.getFloat32(p, true))}`; p += 4; break;
      case 'Z': case 'H': {
        let s = '';
        while (b[p] !== 0) s += String.fromCharCode(b[p++]);
        p++;
        out += `\t${tag}:${type}:${s}`;
        break;
      }
      case 'B': {
        const sub = String.fromCharCode(b[p]);
        const n = dv.getUint32(p + 1, true);
        p += 5;
        const vals: string[] = [];
        for (let i = 0; i < n; i++) {
          switch (sub) {
            case 'c': vals.push(String(dv.getInt8(p))); p += 1; break;
            case 'C': vals.push(String(dv.getUint8(p))); p += 1; break;
            case 's': vals.push(String(dv.getInt16(p, true))); p += 2; break;
            case 'S': vals.push(String(dv.getUint16(p, true))); p += 2; break;
            case 'i': vals.push(String(dv.getInt32(p, true))); p += 4; break;
            case 'I': vals.push(String(dv.getUint32(p, true))); p += 4; break;
            default: vals.push(formatG(dv.getFloat32(p, true))); p += 4;
          }
        }
        out += `\t${tag}:B:${sub}${vals.map((v) => `,${v}`).join('')}`;
        break;
      }
      default:
        throw new Error(`record has an unknown aux type "${type}"`);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------ sort keys

function isDigit(c: number): boolean { return c >= 48 && c <= 57; }

/**
 * samtools 1.16.1's strnum_cmp (bam_sort.c): names compared with embedded numbers as numbers;
 * when two numbers are equal but one had more leading zeros, the one that reached further into
 * its string sorts first (checked against samtools 1.16.1: x001 < x01 < x1).
 */
export function strnumCmp(a: Uint8Array, b: Uint8Array): number {
  let pa = 0;
  let pb = 0;
  const at = (s: Uint8Array, i: number): number => (i < s.length ? s[i] : 0);
  while (at(a, pa) && at(b, pb)) {
    if (isDigit(at(a, pa)) && isDigit(at(b, pb))) {
      while (at(a, pa) === 48) pa++;
      while (at(b, pb) === 48) pb++;
      while (isDigit(at(a, pa)) && isDigit(at(b, pb)) && at(a, pa) === at(b, pb)) { pa++; pb++; }
      if (isDigit(at(a, pa)) && isDigit(at(b, pb))) {
        let i = 0;
        while (isDigit(at(a, pa + i)) && isDigit(at(b, pb + i))) i++;
        return isDigit(at(a, pa + i)) ? 1 : isDigit(at(b, pb + i)) ? -1 : at(a, pa) - at(b, pb);
      }
      if (isDigit(at(a, pa))) return 1;
      if (isDigit(at(b, pb))) return -1;
      if (pa !== pb) return pa < pb ? 1 : -1;
    } else {
      if (at(a, pa) !== at(b, pb)) return at(a, pa) - at(b, pb);
      pa++;
      pb++;
    }
  }
  return at(a, pa) ? 1 : at(b, pb) ? -1 : 0;
}

/** Header text with SO set (the @HD line added or rewritten as samtools sort does). */
export function withSortOrder(text: string, so: 'coordinate' | 'queryname'): string {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length && lines[0].startsWith('@HD\t')) {
    const fields = lines[0].split('\t');
    const i = fields.findIndex((x) => x.startsWith('SO:'));
    if (i >= 0) fields[i] = `SO:${so}`;
    else fields.push(`SO:${so}`);
    // samtools drops a GO/SS that contradicts the new order
    lines[0] = fields.filter((x) => !x.startsWith('GO:') && !x.startsWith('SS:')).join('\t');
  } else lines.unshift(`@HD\tVN:1.6\tSO:${so}`);
  return lines.map((l) => l + '\n').join('');
}

/** The @PG line samtools appends (ID made unique, PP chained to the last @PG). */
export function withPg(text: string, commandLine: string): string {
  const lines = text.split('\n').filter((l) => l !== '');
  const ids = new Set<string>();
  let last: string | undefined;
  for (const l of lines) {
    if (!l.startsWith('@PG\t')) continue;
    const id = l.split('\t').find((x) => x.startsWith('ID:'))?.slice(3);
    if (id !== undefined) { ids.add(id); last = id; }
  }
  let id = 'samtools';
  for (let k = 1; ids.has(id); k++) id = `samtools.${k}`;
  const pg = `@PG\tID:${id}\tPN:samtools${last !== undefined ? `\tPP:${last}` : ''}\tVN:1.16.1\tCL:${commandLine}`;
  return [...lines, pg].map((l) => l + '\n').join('');
}
