// The dataset's dict under incremental rehashing, against a Map: lookups see every key whichever
// table it is in, a read-only caller (a reader-locked client) finds the same keys without moving a
// bucket, and the tables grow and shrink.

import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Kernel } from '../../kernel/kernel.js';
import { GiB } from '../../mmu/units.js';
import type { Runtime } from '../../userland/runtime.js';
import { attachRuntime } from '../../lab/launch.js';
import { Arena } from '../../userland/malloc.js';
import { Dict, E_VAL } from '../../userland/redis/dict.js';
import { sdsNew, sdsBytes } from '../../userland/redis/sds.js';
import { hashBytes, loadPtr, storePtr } from '../../userland/redis/mem.js';

function setup(): { rt: Runtime; a: Arena; dict: Dict; d: number } {
  const k = new Kernel({ memBytes: GiB, cpus: 1 });
  const rt = attachRuntime(k, k.spawn('dict', { uid: 1, gid: 1 }).threads[0]);
  const base = rt.mmap(4 * 1024 * 1024);
  const a = Arena.format(rt, base, 4 * 1024 * 1024);
  const dict = new Dict(rt, a);
  const d = a.malloc(64);
  dict.init(d);
  return { rt, a, dict, d };
}

type Op = { kind: 'add' | 'del' | 'find' | 'rofind'; key: number };

describe('redis dict', () => {
  it('matches a Map through growth, rehashing and shrinking', () => {
    const op = fc.record({ kind: fc.constantFrom('add', 'add', 'add', 'del', 'find', 'rofind'), key: fc.integer({ min: 0, max: 300 }) }) as fc.Arbitrary<Op>;
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 400 }), (ops) => {
      const { rt, a, dict, d } = setup();
      const model = new Map<string, number>();
      let sawRehash = false;
      for (const o of ops) {
        const kb = new TextEncoder().encode(`key:${o.key}`);
        const h = hashBytes(rt, kb);
        sawRehash ||= dict.rehashing(d);
        if (o.kind === 'add') {
          if (dict.find(d, kb, h) === 0) {
            const e = dict.add(d, sdsNew(rt, a, kb), h);
            storePtr(rt, e + E_VAL, o.key + 1);
            model.set(`key:${o.key}`, o.key + 1);
          }
        } else if (o.kind === 'del') {
          const e = dict.unlink(d, kb, h);
          expect(e !== 0).toBe(model.delete(`key:${o.key}`));
          if (e) {
            a.free(loadPtr(rt, e));
            a.free(e);
            dict.maybeShrink(d);
          }
        } else {
          dict.readOnly = o.kind === 'rofind';
          const before = dict.tables(d);
          const e = dict.find(d, kb, h);
          if (dict.readOnly) expect(dict.tables(d)).toEqual(before);
          dict.readOnly = false;
          expect(e === 0 ? undefined : loadPtr(rt, e + E_VAL)).toBe(model.get(`key:${o.key}`));
        }
        expect(dict.size(d)).toBe(model.size);
      }
      const keys = dict.entries(d).map((e) => new TextDecoder().decode(sdsBytes(rt, loadPtr(rt, e)))).sort();
      expect(keys).toEqual([...model.keys()].sort());
      return sawRehash || ops.length < 50;
    }), { numRuns: 60 });
  });

  it('spreads a rehash over many operations and ends with one table', () => {
    const { rt, a, dict, d } = setup();
    let maxSteps = 0;
    let during = 0;
    for (let i = 0; i < 5000; i++) {
      const kb = new TextEncoder().encode(`k${i}`);
      dict.add(d, sdsNew(rt, a, kb), hashBytes(rt, kb));
      if (dict.rehashing(d)) during++;
      maxSteps = Math.max(maxSteps, dict.tables(d).size1);
    }
    expect(during).toBeGreaterThan(100); // the move was spread over many adds, not done at once
    expect(maxSteps).toBeGreaterThanOrEqual(8192);
    for (let i = 0; i < 5000; i++) {
      const kb = new TextEncoder().encode(`k${i}`);
      expect(dict.find(d, kb, hashBytes(rt, kb))).not.toBe(0);
    }
    for (let i = 0; i < 4990; i++) {
      const kb = new TextEncoder().encode(`k${i}`);
      const e = dict.unlink(d, kb, hashBytes(rt, kb));
      a.free(loadPtr(rt, e));
      a.free(e);
      dict.maybeShrink(d);
    }
    // What Redis's cron does: finish the move, shrink again while the table is under 10 % full.
    for (let i = 0; i < 2000; i++) {
      if (dict.rehashing(d)) dict.step(d, 1); else dict.maybeShrink(d);
    }
    expect(dict.rehashing(d)).toBe(false);
    expect(dict.tables(d).size0).toBeLessThanOrEqual(64);
  });
});
