// Property tests against plain-JS oracles written from the specification (workloads.md §5), not
// from our code: coordinate sort is a stable permutation by (tid as unsigned, pos, strand);
// flagstat counts equal a recount; a region query through the index equals a linear scan.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SamMachine, type SamDesign } from '../../lab/sam/machine.js';
import { DEFAULT_MACHINE } from '../../kernel/machineConfig.js';

const REFS = [['chr1', 40_000], ['chr2', 30_000], ['chrM', 600]] as const;

interface Rec { name: string; flag: number; ref: number; pos: number; mapq: number; cigar: string; mref: number; line: string }

const recArb = fc.record({
  name: fc.stringMatching(/^[a-c]{1,2}[0-9]{0,3}$/),
  flag: fc.integer({ min: 0, max: 0xfff }),
  ref: fc.integer({ min: -1, max: 2 }),
  pos: fc.integer({ min: 1, max: 600 }),
  spread: fc.integer({ min: 0, max: 60 }),
  mapq: fc.integer({ min: 0, max: 70 }),
  // short ops, and now and then a long skip so reads span several 16 kbp windows and bin levels
  ops: fc.array(fc.oneof(
    { arbitrary: fc.tuple(fc.integer({ min: 1, max: 40 }), fc.constantFrom('M', 'D', 'N', 'I', 'S')), weight: 6 },
    { arbitrary: fc.tuple(fc.integer({ min: 1000, max: 40_000 }), fc.constant('N')), weight: 1 },
  ), { minLength: 1, maxLength: 4 }),
  mref: fc.integer({ min: -1, max: 2 }),
});

type RawRec = typeof recArb extends fc.Arbitrary<infer T> ? T : never;

function toRecs(raw: RawRec[]): Rec[] {
  return raw.map((r, i) => {
    const cigar = r.ops.map(([n, op]) => `${n}${op}`).join('');
    const qlen = r.ops.filter(([, op]) => 'MIS'.includes(op)).reduce((s, [n]) => s + n, 0) || 1;
    const cig = qlen === r.ops.reduce((s, [n, op]) => s + ('MIS'.includes(op) ? n : 0), 0) ? cigar : `${qlen}M`;
    const ref = r.ref;
    const pos = ref < 0 ? 0 : Math.min(REFS[ref][1], r.pos * (1 + r.spread * 10));
    // htslib: a mapped record without a reference or position is unmapped
    const flag = ref < 0 ? r.flag | 4 : r.flag;
    const name = `${r.name}_${i % 7}`;
    const line = [name, flag, ref < 0 ? '*' : REFS[ref][0], pos, r.mapq, cig, r.mref < 0 ? '*' : REFS[r.mref][0], r.mref < 0 ? 0 : 100, 0, 'A'.repeat(qlen), 'I'.repeat(qlen)].join('\t');
    return { name, flag, ref, pos, mapq: r.mapq, cigar: cig, mref: r.mref, line };
  });
}

const header = REFS.map(([n, l]) => `@SQ\tSN:${n}\tLN:${l}`).join('\n') + '\n';
const fileOf = (recs: Rec[]): Buffer => Buffer.from(header + recs.map((r) => r.line + '\n').join(''), 'latin1');

function refEnd(r: Rec): number {
  if (r.flag & 4) return r.pos + 1 - 1; // 1-based pos; span of one base
  let len = 0;
  for (const m of r.cigar.matchAll(/(\d+)([MIDNSHP=X])/g)) if ('MDN=X'.includes(m[2])) len += Number(m[1]);
  return r.pos - 1 + (len || 1);
}

/** flagstat by workloads.md §5.2, index 0 = QC-passed. */
function recount(recs: Rec[]): number[][] {
  const c = [new Array(16).fill(0), new Array(16).fill(0)];
  for (const r of recs) {
    const f = r.flag;
    const k = c[f & 0x200 ? 1 : 0];
    const mapped = !(f & 4);
    k[0]++;
    if (f & 0x100) k[2]++;
    else if (f & 0x800) k[3]++;
    else {
      k[1]++;
      if (f & 1) {
        k[8]++;
        if (f & 2 && mapped) k[11]++;
        if (f & 0x40) k[9]++;
        if (f & 0x80) k[10]++;
        if (f & 8 && mapped) k[13]++;
        if (mapped && !(f & 8)) {
          k[12]++;
          if (r.mref !== r.ref) { k[14]++; if (r.mapq >= 5) k[15]++; }
        }
      }
      if (mapped) k[7]++;
      if (f & 0x400) k[5]++;
    }
    if (mapped) k[6]++;
    if (f & 0x400) k[4]++;
  }
  return c;
}

const out = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('sam properties', () => {
  const m = new SamMachine(DEFAULT_MACHINE);
  let n = 0;

  it('flagstat equals a plain recount (both designs)', () => {
    fc.assert(fc.property(fc.array(recArb, { maxLength: 40 }), (raw) => {
      const recs = toRecs(raw);
      const path = `/p/f${++n}.sam`;
      m.putFile(path, fileOf(recs));
      const want = recount(recs);
      const text = out(m.tool('files', ['flagstat', '-O', 'tsv', path]).stdout);
      const f = text.split('\n').filter((l) => l && !l.includes('%'));
      const got = [f.map((l) => Number(l.split('\t')[0])), f.map((l) => Number(l.split('\t')[1]))];
      expect(got).toEqual(want);
      expect(m.importDataset(`f${n}`, path).code).toBe(0);
      expect(out(m.tool('vas', ['flagstat', '-O', 'tsv', `f${n}`]).stdout)).toBe(text);
    }), { numRuns: 25 });
  }, 120_000);

  it.each(['files', 'vas'] as SamDesign[])('%s: coordinate sort is the stable permutation by (tid unsigned, pos, reverse)', (design) => {
    fc.assert(fc.property(fc.array(recArb, { maxLength: 40 }), (raw) => {
      const recs = toRecs(raw);
      const path = `/p/s${++n}.sam`;
      m.putFile(path, fileOf(recs));
      let input = path;
      if (design === 'vas') { input = `s${n}`; expect(m.importDataset(input, path).code).toBe(0); }
      const r = m.tool(design, ['sort', '--no-PG', '-O', 'sam', input]);
      expect(r.code).toBe(0);
      const body = out(r.stdout).split('\n').filter((l) => l && !l.startsWith('@'));
      const key = (x: Rec): [number, number, number] => [x.ref < 0 ? 2 ** 32 - 1 : x.ref, x.pos, x.flag & 0x10 ? 1 : 0];
      const want = recs.map((x, i) => ({ x, i })).sort((a, b) => {
        const ka = key(a.x);
        const kb = key(b.x);
        return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2] || a.i - b.i;
      }).map(({ x }) => `${x.name}\t${x.flag}`);
      expect(body.map((l) => l.split('\t').slice(0, 2).join('\t'))).toEqual(want);
    }), { numRuns: 20 });
  }, 120_000);

  it.each(['files', 'vas'] as SamDesign[])('%s: region counts through the index equal a linear scan', (design) => {
    fc.assert(fc.property(fc.array(recArb, { minLength: 1, maxLength: 60 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 40_000 }), fc.integer({ min: 1, max: 20_000 })), { minLength: 1, maxLength: 4 }), (raw, regions) => {
      const recs = toRecs(raw);
      const path = `/p/r${++n}.sam`;
      m.putFile(path, fileOf(recs));
      let input: string;
      if (design === 'files') {
        input = `/p/r${n}.bam`;
        expect(m.tool('files', ['sort', '-o', input, path]).code).toBe(0);
        expect(m.tool('files', ['index', input]).code).toBe(0);
      } else {
        input = `r${n}`;
        expect(m.importDataset(input, path).code).toBe(0);
        expect(m.tool('vas', ['sort', input]).code).toBe(0);
        expect(m.tool('vas', ['index', input]).code).toBe(0);
      }
      for (const [t, b, len] of regions) {
        const text = `${REFS[t][0]}:${b}-${b + len}`;
        const want = recs.filter((x) => x.ref === t && x.pos - 1 < b + len && refEnd(x) > b - 1).length;
        const r = m.tool(design, ['view', '-c', input, text]);
        expect({ text, got: out(r.stdout) }).toEqual({ text, got: `${want}\n` });
      }
      const star = recs.filter((x) => x.ref < 0).length;
      expect(out(m.tool(design, ['view', '-c', input, '*']).stdout)).toBe(`${star}\n`);
    }), { numRuns: 15 });
  }, 180_000);
});
