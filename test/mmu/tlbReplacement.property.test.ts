// Property: a set-associative TLB array that finds its LRU victim from per-set recency lists (the
// STLB's host-side index, TlbArray `ordered`) picks exactly the slot the architectural rule names,
// for any sequence of inserts, uses, kills and PCID flushes. The reference is the rule written
// out on plain arrays: scanning the set's ways in order, the first invalid way, or the first way
// holding the same page in the same tag context; else the way with the oldest stamp, the lowest
// index among equals. A 'fill' is what the CPU does after a walk: a lookup, and on a miss an
// insert told so (TlbArray.insert `missed`), which must still pick the rule's victim; it runs on
// arrays that keep recency lists and on arrays that do not (the L1 DTLB's shared stamps).
// A 'promote' is the CPU's STLB hit: the entry is stamped in the first array and copied into the
// second (TlbArray.insertFrom), which must pick the rule's victim there.
// After every op the host-side per-set size index (TlbArray.cnt, which lets a lookup skip a set
// holding nothing of its size class) of both arrays is checked against a count of the slots, and
// lookups of the op's page in every size and PCID against the reference's scan.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TlbArray, SIZE_4K, SIZE_2M, TF_G } from '../../mmu/tlb.js';

const SETS = 4;
/** Ways per set: 3, or 4 (the L1 DTLB's count, whose LRU way is found without branches). */
let WAYS = 3;

interface RefSlot { pcid: number; tag: number; size: number; global: boolean; epoch: number; stamp: number }

class Reference {
  readonly slots: RefSlot[] = Array.from({ length: SETS * WAYS }, () => ({ pcid: -1, tag: 0, size: 0, global: false, epoch: 0, stamp: 0 }));
  readonly epochs = [0, 0, 0];

  private valid(s: RefSlot): boolean {
    return s.pcid >= 0 && (s.global || s.epoch === this.epochs[s.pcid]);
  }

  private static where(page: number, size: number): { tag: number; set: number } {
    const shift = size === SIZE_4K ? 12 : 21;
    return { tag: (page << 12) & (size === SIZE_4K ? -4096 : -2097152), set: ((page << 12) >>> shift) & (SETS - 1) };
  }

  lookup(page: number, size: number, pcid: number): number {
    const { tag, set } = Reference.where(page, size);
    for (let w = 0; w < WAYS; w++) {
      const s = this.slots[set * WAYS + w];
      if (this.valid(s) && s.tag === tag && s.size === size && (s.global || s.pcid === pcid)) return set * WAYS + w;
    }
    return -1;
  }

  insert(page: number, size: number, pcid: number, global: boolean, stamp: number): number {
    const { tag, set } = Reference.where(page, size);
    let victim = -1;
    for (let w = 0; w < WAYS && victim < 0; w++) {
      const s = this.slots[set * WAYS + w];
      if (!this.valid(s) || (s.tag === tag && s.size === size && (s.pcid === pcid || s.global))) victim = set * WAYS + w;
    }
    if (victim < 0) {
      victim = set * WAYS;
      for (let w = 1; w < WAYS; w++) if (this.slots[set * WAYS + w].stamp < this.slots[victim].stamp) victim = set * WAYS + w;
    }
    this.slots[victim] = { pcid, tag, size, global, epoch: this.epochs[pcid], stamp };
    return victim;
  }
}

type Op =
  | { op: 'insert'; page: number; size: number; pcid: number; global: boolean; dt: number }
  | { op: 'use'; page: number; size: number; pcid: number; dt: number }
  | { op: 'fill'; page: number; size: number; pcid: number; global: boolean; dt: number }
  | { op: 'promote'; page: number; size: number; pcid: number; dt: number }
  | { op: 'kill'; page: number; pcid: number; global: boolean }
  | { op: 'flush'; pcid: number }
  | { op: 'flushAll'; global: boolean };

// Few pages and PCIDs so that sets fill, pages recur and stamps tie (dt = 0).
// (`perSet` small pages per set: one more than the ways, so full sets evict.)
const pageOf = (perSet: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: 2 * SETS * 512 - 1 }).map((p) => (p % 3 === 0 ? p & ~511 : p % (perSet * SETS)));
const size = fc.constantFrom(SIZE_4K, SIZE_4K, SIZE_2M);
const pcid = fc.integer({ min: 0, max: 2 });
const dt = fc.constantFrom(0, 1, 1, 2);
const opOf = (page: fc.Arbitrary<number>, fills = 20): fc.Arbitrary<Op> => fc.oneof(
  { weight: 30, arbitrary: fc.record({ op: fc.constant('insert' as const), page, size, pcid, global: fc.integer({ min: 0, max: 4 }).map((n) => n === 0), dt }) },
  { weight: 20, arbitrary: fc.record({ op: fc.constant('use' as const), page, size, pcid, dt }) },
  { weight: fills, arbitrary: fc.record({ op: fc.constant('fill' as const), page, size, pcid, global: fc.integer({ min: 0, max: 4 }).map((n) => n === 0), dt }) },
  { weight: 15, arbitrary: fc.record({ op: fc.constant('promote' as const), page, size, pcid, dt }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('kill' as const), page, pcid, global: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('flush' as const), pcid }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('flushAll' as const), global: fc.boolean() }) },
);
const op = opOf(pageOf(3));
const op4 = opOf(pageOf(5));
/** Mostly fills, so that the second array of a paired fill sees full sets and evictions. */
const opFill = opOf(pageOf(5), 150);

function run(ops: Op[], decreasingAt: number, ordered = true, ways = 3, pairEvery = 4): void {
  WAYS = ways;
  const epochs = new Uint32Array(4096);
  const serial = new Int32Array(1);
  const arr = new TlbArray('STLB', { entries: SETS * WAYS, ways: WAYS }, epochs, new Float64Array(SETS * WAYS), 0, serial, ordered);
  const ref = new Reference();
  // A second array filled together with the first by three 'fill's in four (insert's `then`: a
  // walk's STLB and L1 fill in one call), the other kind of stamps; its own reference.
  const arr2 = new TlbArray('L1', { entries: SETS * WAYS, ways: WAYS }, epochs, new Float64Array(SETS * WAYS), 0, serial, !ordered);
  const ref2 = new Reference();
  let stamp = 1000;
  ops.forEach((o, i) => {
    // Once, optionally, a stamp older than the last: the array must notice and still be exact.
    stamp = i === decreasingAt ? stamp - 5 : stamp + ('dt' in o ? o.dt : 0);
    if (o.op === 'insert') {
      const got = arr.insert(o.page << 12, 0, o.size, o.pcid, 0x1000 * i, 0, o.global ? TF_G : 0, 0, stamp);
      expect(got, `insert #${i}`).toBe(ref.insert(o.page, o.size, o.pcid, o.global, stamp));
    } else if (o.op === 'fill' && i % pairEvery !== 0) {
      const s = arr.lookup(o.page << 12, 0, o.size, o.pcid);
      const s2 = arr2.lookup(o.page << 12, 0, o.size, o.pcid);
      expect(s2, `pair fill lookup #${i}`).toBe(ref2.lookup(o.page, o.size, o.pcid));
      const got = arr.insert(o.page << 12, 0, o.size, o.pcid, 0x1000 * i, 0, o.global ? TF_G : 0, 0, stamp, s < 0 && s2 < 0, arr2);
      const want = ref.insert(o.page, o.size, o.pcid, o.global, stamp);
      expect(got, `pair fill #${i} (second array)`).toBe(ref2.insert(o.page, o.size, o.pcid, o.global, stamp));
      expect(arr.lookup(o.page << 12, 0, o.size, o.pcid), `pair fill #${i} (first array)`).toBe(want);
      expect(arr2.frameOf(got), `pair fill #${i} frame`).toBe(0x1000 * i);
      expect(arr2.checkIndex(), `second index after #${i}`).toEqual([]);
    } else if (o.op === 'fill') {
      const s = arr.lookup(o.page << 12, 0, o.size, o.pcid);
      expect(s, `fill lookup #${i}`).toBe(ref.lookup(o.page, o.size, o.pcid));
      const got = arr.insert(o.page << 12, 0, o.size, o.pcid, 0x1000 * i, 0, o.global ? TF_G : 0, 0, stamp, s < 0);
      expect(got, `fill #${i}`).toBe(ref.insert(o.page, o.size, o.pcid, o.global, stamp));
    } else if (o.op === 'promote') {
      // The CPU's STLB hit: the entry found in the first array (as the STLB) after the second (as
      // L1) missed is stamped there and copied into the second (TlbArray.insertFrom).
      const s = arr.lookup(o.page << 12, 0, o.size, o.pcid);
      expect(s, `promote lookup #${i}`).toBe(ref.lookup(o.page, o.size, o.pcid));
      const s2 = arr2.lookup(o.page << 12, 0, o.size, o.pcid);
      expect(s2, `promote lookup #${i} (second array)`).toBe(ref2.lookup(o.page, o.size, o.pcid));
      if (s >= 0 && s2 < 0) {
        const e = ref.slots[s];
        const got = arr2.insertFrom(arr, s, o.page << 12, 0, o.pcid, stamp);
        expect(got, `promote #${i}`).toBe(ref2.insert(o.page, o.size, e.pcid, e.global, stamp));
        e.stamp = stamp;
        expect(arr2.frameOf(got), `promote #${i} frame`).toBe(arr.frameOf(s));
      }
    } else if (o.op === 'use') {
      const s = arr.lookup(o.page << 12, 0, o.size, o.pcid);
      expect(s, `lookup #${i}`).toBe(ref.lookup(o.page, o.size, o.pcid));
      if (s >= 0) { arr.touch(s, stamp); ref.slots[s].stamp = stamp; }
    } else if (o.op === 'kill') {
      arr.invalidateAddress(o.page << 12, 0, o.pcid, o.global);
      arr2.invalidateAddress(o.page << 12, 0, o.pcid, o.global);
      // INVPCID type 0 (INVLPG when `global`): this PCID's non-global entries for the page, of
      // either size (and global entries for it).
      for (const sz of [SIZE_4K, SIZE_2M]) {
        const tag = (o.page << 12) & (sz === SIZE_4K ? -4096 : -2097152);
        for (const r of [ref, ref2]) for (const s of r.slots) if (s.pcid >= 0 && (s.global ? o.global : s.pcid === o.pcid) && s.size === sz && s.tag === tag) s.pcid = -1;
      }
    } else if (o.op === 'flushAll') {
      arr.invalidateAll(o.global);
      arr2.invalidateAll(o.global);
      for (const r of [ref, ref2]) for (const s of r.slots) if (o.global || !s.global) s.pcid = -1;
    } else {
      epochs[o.pcid]++;
      serial[0]++;
      ref.epochs[o.pcid]++;
      ref2.epochs[o.pcid]++;
    }
    // The host-side per-set size index must count exactly the slots that hold an entry, and every
    // lookup of the op's page (both sizes, every PCID) must answer what the plain scan answers.
    expect(arr.checkIndex(), `index after #${i}`).toEqual([]);
    expect(arr2.checkIndex(), `second index after #${i}`).toEqual([]);
    if ('page' in o) probe(arr, ref, o.page, `after #${i}`);
  });
  for (const o of ops) if ('page' in o) { probe(arr, ref, o.page, 'at the end'); probe(arr2, ref2, o.page, 'at the end (second array)'); }
}

function probe(arr: TlbArray, ref: Reference, page: number, when: string): void {
  for (const sz of [SIZE_4K, SIZE_2M]) {
    for (let p = 0; p <= 2; p++) expect(arr.lookup(page << 12, 0, sz, p), `lookup ${page}/${sz}/${p} ${when}`).toBe(ref.lookup(page, sz, p));
  }
}

describe('TLB replacement from recency lists', () => {
  it('picks the victim the scan rule names (any inserts, uses, kills, flushes; tied stamps)', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => { run(ops, -1); }), { numRuns: 300 });
  });

  it('stays exact after a stamp older than the newest (the lists are dropped, the scan takes over)', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 2, maxLength: 80 }), fc.nat(), (ops, at) => { run(ops, at % ops.length); }), { numRuns: 400 });
  });

  it('picks the same victim without recency lists (stamps shared with the front cache, as L1)', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => { run(ops, -1, false); }), { numRuns: 300 });
  });

  it('a paired fill (insert `then`, a walk\'s STLB and L1 fill in one call) picks each array\'s victim', () => {
    fc.assert(fc.property(fc.array(opFill, { minLength: 1, maxLength: 150 }), fc.boolean(), (ops, ordered) => { run(ops, -1, ordered, 4, 1 << 30); }), { numRuns: 300 });
  });

  it('picks the same victim in 4-way sets (the L1 DTLB geometry), with and without recency lists', () => {
    fc.assert(fc.property(fc.array(op4, { minLength: 1, maxLength: 120 }), fc.boolean(), (ops, ordered) => { run(ops, -1, ordered, 4); }), { numRuns: 800 });
  });
});
