// SmallSet (kernel/smallSet.ts) against the JS Set it stands in for: the same answers and the same
// iteration order after any sequence of adds, deletes and clears.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SmallSet } from '../../kernel/smallSet.js';

describe('SmallSet', () => {
  it('behaves as a Set of the same members, in insertion order (property)', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('add' as const), v: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ k: fc.constant('delete' as const), v: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ k: fc.constant('clear' as const), v: fc.constant(0) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const s = new SmallSet<number>();
      const ref = new Set<number>();
      for (const { k, v } of ops) {
        if (k === 'add') {
          expect(s.add(v)).toBe(s);
          ref.add(v);
        }
        else if (k === 'delete') expect(s.delete(v)).toBe(ref.delete(v));
        else { s.clear(); ref.clear(); }
        expect(s.size).toBe(ref.size);
        expect([...s]).toEqual([...ref]);
        for (let x = 0; x <= 6; x++) expect(s.has(x)).toBe(ref.has(x));
      }
    }), { numRuns: 200 });
  });
});
