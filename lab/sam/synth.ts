// A deterministic synthetic alignment data set, shaped like an aligner's output: read pairs in
// name order over a few references (about 20x coverage), mostly proper pairs with high MAPQ, and
// the usual minority cases — duplicates, secondary and supplementary alignments, QC failures,
// pairs with one or both mates unmapped (placed next to the mate, or unplaced), mates on another
// reference, soft clips, insertions and deletions. Same seed, same bytes.

import type { RefSeq } from '../../userland/sam/record.js';

export interface SynthOptions {
  reads: number;
  seed?: number;
  readLength?: number;
}

export interface SynthData {
  text: Uint8Array;
  refs: RefSeq[];
  records: number;
}

/** xorshift32: small, fast and deterministic. */
class Rng {
  private s: number;
  constructor(seed: number) { this.s = (seed | 0) || 0x9e3779b9; }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return (x >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  chance(p: number): boolean { return this.next() < p; }
}

const BASES = 'ACGT';
const latin1 = new TextDecoder('latin1');

/** References sized for ~20x coverage: three, of 1/2, 3/10 and 1/5 of the total. */
export function synthRefs(reads: number, readLength = 100): RefSeq[] {
  const total = Math.max(20_000, Math.round((reads * readLength) / 20));
  return [
    { name: 'chr1', length: Math.round(total * 0.5) },
    { name: 'chr2', length: Math.round(total * 0.3) },
    { name: 'chr3', length: Math.round(total * 0.2) },
  ];
}

export function synthSam(o: SynthOptions): SynthData {
  const rng = new Rng(o.seed ?? 1);
  const L = o.readLength ?? 100;
  const refs = synthRefs(o.reads, L);
  const lines: string[] = ['@HD\tVN:1.6\tSO:unsorted', ...refs.map((r) => `@SQ\tSN:${r.name}\tLN:${r.length}`), '@RG\tID:sim\tSM:sample1\tPL:ILLUMINA', '@PG\tID:synth\tPN:sjmp-synth\tVN:1'];
  // Built as bytes, not by `+=` per character: cons-string trees of millions of reads exhaust the heap.
  const bytes = new Uint8Array(1024);
  const seqOf = (n: number): string => { for (let i = 0; i < n; i++) bytes[i] = BASES.charCodeAt(rng.int(4)); return latin1.decode(bytes.subarray(0, n)); };
  const qualOf = (n: number): string => { for (let i = 0; i < n; i++) bytes[i] = 33 + 20 + rng.int(21); return latin1.decode(bytes.subarray(0, n)); };
  const parts: Buffer[] = [];
  const pickRef = (): number => { const x = rng.next(); return x < 0.5 ? 0 : x < 0.8 ? 1 : 2; };
  /** A CIGAR of query length L: mostly all-match, sometimes a clip, an insertion or a deletion. */
  const cigarOf = (): { cigar: string; refLen: number } => {
    const x = rng.next();
    if (x < 0.85) return { cigar: `${L}M`, refLen: L };
    if (x < 0.92) { const c = 1 + rng.int(20); return { cigar: `${c}S${L - c}M`, refLen: L - c }; }
    if (x < 0.96) { const a = 10 + rng.int(L - 30); const i = 1 + rng.int(3); return { cigar: `${a}M${i}I${L - a - i}M`, refLen: L - i }; }
    const a = 10 + rng.int(L - 30); const d = 1 + rng.int(5);
    return { cigar: `${a}M${d}D${L - a}M`, refLen: L + d };
  };
  let records = 0;
  const pairs = Math.ceil(o.reads / 2);
  for (let p = 0; p < pairs && records < o.reads; p++) {
    const name = `SIM:1:${1101 + (p % 7)}:${p + 1}`;
    const tid = pickRef();
    const len = refs[tid].length;
    const insert = 250 + rng.int(150);
    const pos1 = 1 + rng.int(Math.max(1, len - insert - L));
    const pos2 = pos1 + insert - L;
    const kind = rng.next();
    const dup = rng.chance(0.05) ? 0x400 : 0;
    const qc = rng.chance(0.005) ? 0x200 : 0;
    const mq1 = rng.chance(0.1) ? rng.int(30) : 60;
    const mq2 = rng.chance(0.1) ? rng.int(30) : 60;
    const s1 = seqOf(L);
    const s2 = seqOf(L);
    const q1 = qualOf(L);
    const q2 = qualOf(L);
    const c1 = cigarOf();
    const c2 = cigarOf();
    const tags = (nm: number): string => `\tNM:i:${nm}\tAS:i:${L - 5 * nm}\tRG:Z:sim`;
    const out: string[] = [];
    if (kind < 0.02) {
      // both unmapped, unplaced
      out.push(`${name}\t${77 | qc}\t*\t0\t0\t*\t*\t0\t0\t${s1}\t${q1}\tRG:Z:sim`);
      out.push(`${name}\t${141 | qc}\t*\t0\t0\t*\t*\t0\t0\t${s2}\t${q2}\tRG:Z:sim`);
    } else if (kind < 0.05) {
      // mate 2 unmapped, placed at mate 1's position
      out.push(`${name}\t${73 | dup | qc}\t${refs[tid].name}\t${pos1}\t${mq1}\t${c1.cigar}\t=\t${pos1}\t0\t${s1}\t${q1}${tags(rng.int(4))}`);
      out.push(`${name}\t${133 | qc}\t${refs[tid].name}\t${pos1}\t0\t*\t=\t${pos1}\t0\t${s2}\t${q2}\tRG:Z:sim`);
    } else if (kind < 0.06) {
      // mates on different references
      const t2 = (tid + 1) % refs.length;
      const p2 = 1 + rng.int(refs[t2].length - L);
      out.push(`${name}\t${65 | dup | qc}\t${refs[tid].name}\t${pos1}\t${mq1}\t${c1.cigar}\t${refs[t2].name}\t${p2}\t0\t${s1}\t${q1}${tags(rng.int(4))}`);
      out.push(`${name}\t${145 | dup | qc}\t${refs[t2].name}\t${p2}\t${mq2}\t${c2.cigar}\t${refs[tid].name}\t${pos1}\t0\t${s2}\t${q2}${tags(rng.int(4))}`);
    } else {
      // a proper pair, forward/reverse
      const tlen = pos2 + c2.refLen - pos1;
      out.push(`${name}\t${99 | dup | qc}\t${refs[tid].name}\t${pos1}\t${mq1}\t${c1.cigar}\t=\t${pos2}\t${tlen}\t${s1}\t${q1}${tags(rng.int(4))}`);
      out.push(`${name}\t${147 | dup | qc}\t${refs[tid].name}\t${pos2}\t${mq2}\t${c2.cigar}\t=\t${pos1}\t${-tlen}\t${s2}\t${q2}${tags(rng.int(4))}`);
      if (rng.chance(0.01)) {
        // a secondary alignment of read 1 elsewhere
        const t3 = pickRef();
        out.push(`${name}\t${99 | 0x100}\t${refs[t3].name}\t${1 + rng.int(refs[t3].length - L)}\t0\t${L}M\t=\t${pos2}\t0\t*\t*\tRG:Z:sim`);
      }
      if (rng.chance(0.01)) {
        // a supplementary (chimeric) part of read 2, hard-clipped
        const t3 = pickRef();
        const h = 30 + rng.int(40);
        out.push(`${name}\t${147 | 0x800}\t${refs[t3].name}\t${1 + rng.int(refs[t3].length - L)}\t${rng.int(60)}\t${h}H${L - h}M\t${refs[tid].name}\t${pos1}\t0\t${s2.slice(h)}\t${q2.slice(h)}\tRG:Z:sim`);
      }
    }
    for (const l of out) {
      if (records >= o.reads) break;
      lines.push(l);
      records++;
    }
    if (lines.length >= 4096) {
      parts.push(Buffer.from(lines.join('\n') + '\n', 'latin1'));
      lines.length = 0;
    }
  }
  if (lines.length) parts.push(Buffer.from(lines.join('\n') + '\n', 'latin1'));
  return { text: Buffer.concat(parts), refs, records };
}
