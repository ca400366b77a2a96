// Many emulated threads on both sockets, interleaved by the scheduler with forced preemption inside
// operations (after reading an index entry, between pieces of copies, while holding bucket locks,
// during compaction), under different scheduler seeds. Checked: no PUT is lost (every key ends
// with its last completed write), no GET returns a torn or stale value, and no segment is released
// while a reader is copying out of it — and, as a control, that skipping the epoch check does
// release segments under readers.

import { describe, it, expect } from 'vitest';
import { Kernel } from '../../kernel/kernel.js';
import { GiB } from '../../mmu/units.js';
import { type Runtime } from '../../userland/runtime.js';
import { createStore } from '../../userland/nibble/host.js';
import { RtPort } from '../../userland/nibble/rtPort.js';
import { PUT_OK, type NibbleStore } from '../../userland/nibble/store.js';
import { SMALL, fillValue, valueSeq, kernelProblems } from './nibbleHelpers.js';
import { runProgram, runUntilDone } from '../../lab/launch.js';

interface Outcome {
  store: NibbleStore;
  torn: number;
  stale: number;
  lost: number;
  gets: number;
  puts: number;
  k: Kernel;
}

function run(seed: number, mode: 1 | 2, unsafe = false): Outcome {
  const k = new Kernel({ memBytes: 1 * GiB, cpus: 6, nodes: 2, seed });
  const KEYS = 40;
  const last = new Int32Array(KEYS + 1);
  /** Completion order of each PUT (by its seq): the order the index saw them. */
  const doneAt = new Map<number, number>([[0, 0]]);
  const lastDone = new Int32Array(KEYS + 1);
  let completed = 0;
  const lens = new Int32Array(KEYS + 1);
  let seq = 0;
  const out: Outcome = { store: null as unknown as NibbleStore, torn: 0, stale: 0, lost: 0, gets: 0, puts: 0, k };
  let running = 0;
  const lenOf = (key: number, s: number): number => 200 + ((key * 131 + s * 17) % 2500);

  function* main(rt: Runtime): Generator<import('../../kernel/proc/process.js').YieldRequest, number, unknown> {
    const h = createStore(rt, 'kv', { ...SMALL, mode, cores: 6, compactBelow: 0.5 });
    const s = h.store;
    s.unsafeReclaim = unsafe;
    out.store = s;
    const t0 = s.register(new RtPort(rt));
    const buf0 = rt.mmap(65536);
    for (let key = 1; key <= KEYS; key++) {
      const len = lenOf(key, 0);
      fillValue(rt, buf0, key, 0, len);
      expect(yield* s.put(t0, key, 0, buf0, len)).toBe(PUT_OK);
      lens[key] = len;
    }
    let stop = false;
    // Compaction threads on the last core of each socket.
    for (const [node, cpu] of [[0, 2], [1, 5]]) {
      rt.spawnThread(function* (r: Runtime) {
        const t = s.register(new RtPort(r), { preempt: 0.3, seed: seed * 7 + node });
        yield* s.compactor(t, node, () => stop);
      }, { cpu });
    }
    // Writers and readers on the other cores, two threads per core (they share a head segment).
    for (let i = 0; i < 8; i++) {
      const cpu = [0, 1, 3, 4][i % 4];
      const writer = i % 2 === 0;
      running++;
      rt.spawnThread(function* (r: Runtime) {
        const t = s.register(new RtPort(r), { preempt: 0.3, seed: seed * 31 + i });
        const buf = r.mmap(65536);
        let x = seed * 1000 + i + 1;
        for (let op = 0; op < 150; op++) {
          x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
          const key = 1 + (x % KEYS);
          if (writer) {
            const my = ++seq;
            const len = lenOf(key, my);
            fillValue(r, buf, key, my, len);
            expect(yield* s.put(t, key, 0, buf, len)).toBe(PUT_OK);
            // Nothing yields between the index update and here: this is the completion order.
            last[key] = my;
            lens[key] = len;
            doneAt.set(my, ++completed);
            lastDone[key] = completed;
            out.puts++;
          } else {
            const floor = lastDone[key];
            const len = yield* s.get(t, key, 0, buf);
            const got = valueSeq(r, buf, key, len);
            if (got < 0 || len !== lenOf(key, got)) out.torn++;
            else if ((doneAt.get(got) ?? Infinity) < floor) out.stale++;
            out.gets++;
          }
        }
        running--;
      }, { cpu });
    }
    while (running > 0) {
      rt.compute(2000);
      yield* rt.yield();
    }
    stop = true;
    for (let key = 1; key <= KEYS; key++) {
      const len = yield* s.get(t0, key, 0, buf0);
      if (len !== lens[key] || valueSeq(rt, buf0, key, len) !== last[key]) out.lost++;
    }
    return 0;
  }

  runProgram(k, main, { name: 'nibble-conc' });
  const r = runUntilDone(k, { maxSteps: 5_000_000 });
  expect(r.deadlock).toBe(false);
  return out;
}

describe('nibble under concurrency', () => {
  for (const mode of [1, 2] as const) {
    it(`${mode === 1 ? 'Nibble' : 'Nibble-2'}: no lost updates, torn or stale reads, or frees under readers (5 seeds)`, () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const o = run(seed, mode);
        expect(o.puts).toBe(600);
        expect(o.gets).toBe(600);
        expect({ seed, torn: o.torn, stale: o.stale, lost: o.lost, freed: o.store.stats.freedUnderReader }).toEqual({ seed, torn: 0, stale: 0, lost: 0, freed: 0 });
        expect(o.store.stats.readRetries).toBeGreaterThan(0);
        if (mode === 1) expect(o.store.stats.objectsMoved).toBeGreaterThan(0);
        expect(kernelProblems(o.k)).toEqual([]);
      }
    });
  }

  it('control: reclaiming without the epoch check frees segments under readers', () => {
    let freed = 0;
    for (const seed of [1, 2, 3, 4, 5]) freed += run(seed, 1, true).store.stats.freedUnderReader;
    expect(freed).toBeGreaterThan(0);
  });
});
