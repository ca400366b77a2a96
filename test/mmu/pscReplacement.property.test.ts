// Property: a paging-structure cache (mmu/tlb.ts PagingStructureCache: a hash index over the
// entries, a recency list for the LRU victim, the empty-entry mask) answers every lookup
// and picks every victim as the rule written out on plain arrays does: an entry per (tag, PCID);
// a lookup finds the valid entry with the address's tag and the PCID and stamps it; an insert
// replaces the same entry in place, else the lowest-numbered empty entry, else the one with the
// oldest stamp (the lowest index among equals). A 'fill' is what a walk does (Cpu.walkAndFill): a
// lookup, and on a miss an insert. Sizes up to and over 32 entries (the
// empty-entry bit mask and the scan that replaces it), every level's tag bits, with address bits
// below the tag that must not matter.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PagingStructureCache } from '../../mmu/tlb.js';

interface RefEntry { tag: number; pcid: number; table: number; rights: number; stamp: number }

class Reference {
  readonly e: RefEntry[];
  constructor(n: number) { this.e = Array.from({ length: n }, () => ({ tag: 0, pcid: -1, table: 0, rights: 0, stamp: -1 })); }

  find(tag: number, pcid: number): number {
    return this.e.findIndex((x) => x.pcid >= 0 && x.pcid === pcid && x.tag === tag);
  }

  lookup(tag: number, pcid: number, stamp: number): number {
    const s = this.find(tag, pcid);
    if (s >= 0) this.e[s].stamp = stamp;
    return s;
  }

  insert(tag: number, pcid: number, table: number, rights: number, stamp: number): number {
    let v = this.find(tag, pcid);
    if (v < 0) v = this.e.findIndex((x) => x.pcid < 0);
    if (v < 0) {
      v = 0;
      for (let s = 1; s < this.e.length; s++) if (this.e[s].stamp < this.e[v].stamp) v = s;
    }
    this.e[v] = { tag, pcid, table, rights, stamp };
    return v;
  }
}

/** The address (lo, hi) of tag t at a level, with `noise` in the bits below the tag. */
function addressOf(level: number, t: number, noise: number): [number, number] {
  if (level === 2) return [((t << 21) | (noise & 0x1fffff)) >>> 0, 0];
  if (level === 3) return [(((t & 3) << 30) | (noise & 0x3fffffff)) >>> 0, t >>> 2];
  if (level === 4) return [noise >>> 0, ((t << 7) | (noise & 0x7f)) >>> 0];
  return [noise >>> 0, ((t << 16) | (noise & 0xffff)) >>> 0];
}

type Op =
  | { op: 'lookup' | 'fill' | 'insert'; t: number; pcid: number; noise: number; dt: number }
  | { op: 'flushPcid'; pcid: number }
  | { op: 'flushAll' };

function opFor(entries: number): fc.Arbitrary<Op> {
  const t = fc.integer({ min: 0, max: entries + 3 });
  const pcid = fc.integer({ min: 0, max: 2 });
  const noise = fc.integer({ min: 0, max: 0x7fffffff });
  const dt = fc.constantFrom(0, 1, 1, 3);
  return fc.oneof(
    { weight: 30, arbitrary: fc.record({ op: fc.constant('lookup' as const), t, pcid, noise, dt }) },
    { weight: 40, arbitrary: fc.record({ op: fc.constant('fill' as const), t, pcid, noise, dt }) },
    { weight: 15, arbitrary: fc.record({ op: fc.constant('insert' as const), t, pcid, noise, dt }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('flushPcid' as const), pcid }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('flushAll' as const) }) },
  );
}

function run(level: number, entries: number, ops: Op[]): void {
  const psc = new PagingStructureCache(level, entries);
  const ref = new Reference(entries);
  let stamp = 100;
  ops.forEach((o, i) => {
    if (o.op === 'flushPcid') {
      psc.invalidatePcid(o.pcid);
      for (const x of ref.e) if (x.pcid === o.pcid) { x.pcid = -1; x.stamp = -1; }
    } else if (o.op === 'flushAll') {
      psc.invalidateAll();
      for (const x of ref.e) { x.pcid = -1; x.stamp = -1; }
    } else {
      stamp += o.dt;
      const [lo, hi] = addressOf(level, o.t, o.noise);
      const table = 0x1000 * (i + 1);
      const rights = i & 7;
      if (o.op === 'insert') {
        psc.insert(lo, hi, o.pcid, table, rights, stamp);
        const v = ref.insert(o.t, o.pcid, table, rights, stamp);
        expect(psc.pcid[v], `insert #${i} slot`).toBe(o.pcid);
        expect(psc.table[v], `insert #${i} table`).toBe(table);
      } else {
        const s = psc.lookup(lo, hi, o.pcid, stamp);
        expect(s, `${o.op} #${i} lookup`).toBe(ref.lookup(o.t, o.pcid, stamp));
        if (s >= 0) {
          expect(psc.table[s], `lookup #${i} table`).toBe(ref.e[s].table);
          expect(psc.rights[s], `lookup #${i} rights`).toBe(ref.e[s].rights);
        } else if (o.op === 'fill') {
          psc.insert(lo, hi, o.pcid, table, rights, stamp);
          const v = ref.insert(o.t, o.pcid, table, rights, stamp);
          expect(psc.table[v], `fill #${i} table`).toBe(table);
        }
      }
    }
    // The model's own arrays, entry by entry, against the reference.
    for (let s = 0; s < entries; s++) {
      const x = ref.e[s];
      expect(psc.pcid[s] >= 0, `entry ${s} valid after #${i}`).toBe(x.pcid >= 0);
      if (x.pcid >= 0) {
        expect([psc.pcid[s], psc.stamp[s], psc.table[s]], `entry ${s} after #${i}`).toEqual([x.pcid, x.stamp, x.table]);
      }
    }
    expect(psc.occupancy()).toBe(ref.e.filter((x) => x.pcid >= 0).length);
  });
}

describe('paging-structure cache replacement', () => {
  for (const [level, entries] of [[2, 4], [2, 32], [3, 8], [4, 3], [5, 2], [2, 40]] as const) {
    it(`level ${level}, ${entries} entries: lookups and victims as the plain LRU rule`, () => {
      fc.assert(fc.property(fc.array(opFor(entries), { minLength: 1, maxLength: 200 }), (ops) => { run(level, entries, ops); }), { numRuns: 120 });
    });
  }
});
