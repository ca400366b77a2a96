import { describe, it, expect } from 'vitest';
import { runSync } from '../../userland/nibble/mem.js';
import { PUT_OK } from '../../userland/nibble/store.js';
import { machine, fillValue, valueSeq, kernelProblems } from './nibbleHelpers.js';
import { type Runtime } from '../../userland/runtime.js';
import { openStore } from '../../userland/nibble/host.js';
import { RtPort } from '../../userland/nibble/rtPort.js';
import { runProgram, runUntilDone } from '../../lab/launch.js';

describe('nibble store (single thread)', () => {
  it('puts, gets, overwrites and deletes objects that span blocks', () => {
    const { rt, port, h, buf } = machine();
    const s = h.store;
    const t = s.register(port);
    const src = buf;
    const dst = buf + 65536;
    for (let key = 1; key <= 200; key++) {
      const len = 100 + (key * 37) % 3000;
      fillValue(rt, src, key, 1, len);
      expect(runSync(s.put(t, key, 0, src, len))).toBe(PUT_OK);
    }
    for (let key = 1; key <= 200; key++) {
      const len = 100 + (key * 37) % 3000;
      expect(runSync(s.get(t, key, 0, dst))).toBe(len);
      expect(valueSeq(rt, dst, key, len)).toBe(1);
    }
    expect(runSync(s.get(t, 999, 0, dst))).toBe(-1);
    expect(runSync(s.del(t, 7, 0))).toBe(1);
    expect(runSync(s.del(t, 7, 0))).toBe(0);
    expect(runSync(s.get(t, 7, 0, dst))).toBe(-1);
    const u = s.usage(port);
    expect(u.objects).toBe(199);
    expect(u.indexResizes).toBeGreaterThan(0);
  });
});

describe('nibble in a named address space', () => {
  it('a second process attaches the space, switches in and reads the store', () => {
    const { k, rt, port, h, buf } = machine();
    const t = h.store.register(port);
    for (let key = 1; key <= 50; key++) {
      fillValue(rt, buf, key, 5, 500);
      expect(runSync(h.store.put(t, key, 0, buf, 500))).toBe(PUT_OK);
    }
    let seen = 0;
    runProgram(k, function* reader(r: Runtime) {
      const { store } = yield* openStore(r, 'kv');
      const rt2 = store.register(new RtPort(r));
      const dst = r.malloc(1024);
      for (let key = 1; key <= 50; key++) {
        if ((yield* store.get(rt2, key, 0, dst)) === 500 && valueSeq(r, dst, key, 500) === 5) seen++;
      }
      return 0;
    }, { cred: { uid: 1000, gid: 1000 } });
    runUntilDone(k);
    expect(seen).toBe(50);
    expect(kernelProblems(k)).toEqual([]);
  });
});
