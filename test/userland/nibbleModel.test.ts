// Model-based test: random PUT/GET/DEL from two threads on two sockets against a plain Map, with a
// log small enough that compaction runs all the time (and is also forced between commands), in
// Nibble and Nibble-2 modes. After every run: each key reads back exactly, the SegmentInfo live
// bytes equal the slots of the indexed objects, and the kernel's invariants hold.

import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { runSync } from '../../userland/nibble/mem.js';
import { PUT_OK } from '../../userland/nibble/store.js';
import { entryBytes } from '../../userland/nibble/log.js';
import { RtPort } from '../../userland/nibble/rtPort.js';
import { machine, fillValue, valueSeq, kernelProblems } from './nibbleHelpers.js';
import { attachRuntime } from '../../lab/launch.js';

type Cmd =
  | { op: 'put'; key: number; len: number; who: number }
  | { op: 'get'; key: number; who: number }
  | { op: 'del'; key: number; who: number }
  | { op: 'compact'; who: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.integer({ min: 1, max: 48 }), len: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 65, max: 6000 })), who: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), key: fc.integer({ min: 1, max: 48 }), who: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), key: fc.integer({ min: 1, max: 48 }), who: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('compact' as const), who: fc.integer({ min: 0, max: 1 }) }) },
);

function check(mode: 1 | 2, cmds: Cmd[]): void {
  const { k, rt, h, buf } = machine({ mode });
  const s = h.store;
  // A second thread of the same process, on a CPU of the other socket.
  const t1 = k.newThread(k.process(rt.pid), 'second', null, k.cpus.findIndex((c) => c.node === 1));
  const rts = [rt, attachRuntime(k, t1)];
  const threads = rts.map((r) => s.register(new RtPort(r)));
  const model = new Map<number, { len: number; seq: number; slot: number }>();
  const src = buf;
  const dst = buf + 65536;
  let seq = 0;
  for (const c of cmds) {
    const r = rts[c.who];
    r.resume();
    const t = threads[c.who];
    if (c.op === 'put') {
      seq++;
      fillValue(r, src, c.key, seq, c.len);
      const res = runSync(s.put(t, c.key, 0, src, c.len));
      expect(res).toBe(PUT_OK);
      const old = model.get(c.key);
      const need = entryBytes(c.len);
      const slot = mode === 2 && old && need <= old.slot && (old.slot - need) / 8 <= 255 ? old.slot : need;
      model.set(c.key, { len: c.len, seq, slot });
    } else if (c.op === 'get') {
      const want = model.get(c.key);
      const got = runSync(s.get(t, c.key, 0, dst));
      expect(got).toBe(want ? want.len : -1);
      if (want) expect(valueSeq(r, dst, c.key, want.len)).toBe(want.seq);
    } else if (c.op === 'del') {
      expect(runSync(s.del(t, c.key, 0))).toBe(model.delete(c.key) ? 1 : 0);
    } else {
      runSync(s.compactAll(t));
    }
  }
  rt.resume();
  for (const [key, v] of model) {
    expect(runSync(s.get(threads[0], key, 0, dst))).toBe(v.len);
    expect(valueSeq(rt, dst, key, v.len)).toBe(v.seq);
  }
  const u = s.usage(new RtPort(rt));
  expect(u.objects).toBe(model.size);
  expect(u.liveBytes).toBe([...model.values()].reduce((a, v) => a + v.slot, 0));
  expect(kernelProblems(k)).toEqual([]);
}

describe('nibble against a Map', () => {
  for (const mode of [1, 2] as const) {
    it(`mode ${mode === 1 ? 'Nibble' : 'Nibble-2'}: random PUT/GET/DEL with compaction`, () => {
      fc.assert(fc.property(fc.array(cmd, { minLength: 50, maxLength: 400 }), (cmds) => check(mode, cmds)), { numRuns: 40 });
    });
  }

  it('compaction really runs in these runs', () => {
    const { rt, h, buf } = machine({ mode: 1 });
    const s = h.store;
    const t = s.register(new RtPort(rt));
    for (let i = 0; i < 3000; i++) {
      const key = 1 + ((Math.imul(i + 1, 0x9e3779b1) >>> 7) % 80);
      fillValue(rt, buf, key, i, 3000);
      expect(runSync(s.put(t, key, 0, buf, 3000))).toBe(PUT_OK);
    }
    expect(s.stats.compactions).toBeGreaterThan(10);
    expect(s.stats.objectsMoved).toBeGreaterThan(10);
    expect(s.stats.segmentsReclaimed).toBeGreaterThan(10);
    for (let key = 1; key <= 80; key++) {
      expect(runSync(s.get(t, key, 0, buf + 65536))).toBe(3000);
    }
  });
});
