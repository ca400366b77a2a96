// The software page-table reader against a plain model of what was mapped (tables built by the
// independent PtBuilder): every address resolves to the model's page, rights combine as x86
// combines them, and reading changes no byte of memory (no accessed/dirty bits).

import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { PhysicalMemory } from '../../mmu/physicalMemory.js';
import { softWalk, softWalkVa, forEachPresent, presentEntries, isLeafEntry, entryTarget } from '../../mmu/pageTableReader.js';
import { splitBig } from '../../mmu/address.js';
import { pteFrame } from '../../mmu/pte.js';
import { MiB, GiB } from '../../mmu/units.js';
import { PtBuilder, LEAF_LEVEL, SIZE_BYTES, type PageSize } from './ptBuilder.js';

const TABLES = { base: 1 * MiB, limit: 16 * MiB };

interface Page { va: number; size: PageSize; frame: number; writable: boolean; user: boolean; xd: boolean; upperReadOnly: boolean }

/** Pages in distinct 1 GiB slots (one page size per slot), so no mapping replaces another. */
const pagesArb = fc.uniqueArray(
  fc.record({
    slot: fc.integer({ min: 0, max: 255 }),
    size: fc.constantFrom<PageSize>('4K', '2M', '1G'),
    page: fc.integer({ min: 0, max: 511 }),
    frameNo: fc.integer({ min: 1, max: 1000 }),
    writable: fc.boolean(), user: fc.boolean(), xd: fc.boolean(), upperReadOnly: fc.boolean(),
  }),
  { selector: (p) => p.slot, maxLength: 24 },
).map((ps) => ps.map((p): Page => {
  const bytes = SIZE_BYTES[p.size];
  const va = p.slot * GiB * 512 + (p.size === '1G' ? 0 : p.page * bytes); // one PML4 entry per slot
  return { va, size: p.size, frame: 2 * GiB + p.frameNo * bytes, writable: p.writable, user: p.user, xd: p.xd, upperReadOnly: p.upperReadOnly };
}));

function build(levels: 4 | 5, pages: Page[]): { mem: PhysicalMemory; pt: PtBuilder } {
  const mem = new PhysicalMemory({ bytes: 4 * GiB });
  const pt = new PtBuilder(mem, levels, TABLES);
  for (const p of pages) {
    pt.map(p.va, p.frame, {
      size: p.size, writable: p.writable, user: p.user, xd: p.xd,
      upper: p.upperReadOnly ? { [LEAF_LEVEL[p.size] + 1]: { present: true, writable: false, user: true } } : undefined,
    });
  }
  return { mem, pt };
}

function tableBytes(mem: PhysicalMemory): number[] {
  const out: number[] = [];
  for (let pa = TABLES.base; pa < TABLES.base + 64 * 4096; pa += 4) out.push(mem.read32(pa));
  return out;
}

describe('software page-table reader', () => {
  for (const levels of [4, 5] as const) {
    it(`finds every mapped page and nothing else (${levels}-level), reading only`, () => {
      fc.assert(fc.property(pagesArb, fc.array(fc.integer({ min: 0, max: 4095 }), { minLength: 1, maxLength: 4 }), (pages, offsets) => {
        const { mem, pt } = build(levels, pages);
        const before = tableBytes(mem);
        for (const p of pages) {
          for (const off of offsets) {
            const va = p.va + (off * 997) % SIZE_BYTES[p.size];
            const w = softWalkVa(mem, pt.root, levels, va, { steps: true });
            expect(w.present).toBe(true);
            expect(w.level).toBe(LEAF_LEVEL[p.size]);
            expect(w.frame).toBe(p.frame);
            expect(w.writable).toBe(p.writable && !p.upperReadOnly);
            expect(w.user).toBe(p.user);
            expect(w.xd).toBe(p.xd);
            expect(w.steps!.length).toBe(levels - LEAF_LEVEL[p.size] + 1);
          }
          // The page just past a 4K or 2M page in the same slot is unmapped unless another page is there.
          if (p.size !== '1G') {
            const next = p.va + SIZE_BYTES[p.size];
            const other = pages.some((q) => next >= q.va && next < q.va + SIZE_BYTES[q.size]);
            if (!other) expect(softWalkVa(mem, pt.root, levels, next).present).toBe(false);
          }
        }
        expect(tableBytes(mem)).toEqual(before);
      }), { numRuns: 40 });
    });
  }

  it('stops at a requested level with the table it points to', () => {
    const { mem, pt } = build(4, [{ va: 3 * GiB + 5 * 4096, size: '4K', frame: 2 * GiB, writable: true, user: true, xd: false, upperReadOnly: false }]);
    const [lo, hi] = splitBig(BigInt(3 * GiB + 5 * 4096));
    const w = softWalk(mem, pt.root, 4, lo, hi, { stopLevel: 2 });
    expect(w.present).toBe(true);
    expect(w.level).toBe(2);
    expect(w.table).toBe(pteFrame(...pt.read(3 * GiB, 2)));
    // Below a 2M leaf there is no table to stop at.
    const big = build(4, [{ va: 4 * GiB, size: '2M', frame: 2 * GiB, writable: true, user: true, xd: false, upperReadOnly: false }]);
    expect(softWalkVa(big.mem, big.pt.root, 4, 4 * GiB, { stopLevel: 2 }).present).toBe(false);
  });

  it('lists the present entries of a table with their targets', () => {
    const pages: Page[] = [0, 1, 7].map((i) => ({ va: 8 * GiB + i * 2 * MiB, size: '2M', frame: 2 * GiB + i * 2 * MiB, writable: true, user: true, xd: false, upperReadOnly: false }));
    const { mem, pt } = build(4, pages);
    const pd = pteFrame(...pt.read(8 * GiB, 3));
    const seen: [number, number][] = [];
    forEachPresent(mem, pd, (i, lo, hi) => {
      expect(isLeafEntry(2, lo)).toBe(true);
      seen.push([i, entryTarget(2, lo, hi)]);
    });
    expect(seen).toEqual([[0, 2 * GiB], [1, 2 * GiB + 2 * MiB], [7, 2 * GiB + 14 * MiB]]);
    expect(presentEntries(mem, pd)).toBe(3);
  });
});
