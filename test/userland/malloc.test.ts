import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Kernel } from '../../kernel/kernel.js';
import type { ThreadBody } from '../../kernel/proc/process.js';
import { GiB } from '../../mmu/units.js';
import { Runtime } from '../../userland/runtime.js';
import { Arena, ARENA_HEADER, MallocError, binOf } from '../../userland/malloc.js';
import { attachRuntime, runProgram, runUntilDone } from '../../lab/launch.js';

function arenaRuntime(size: number): { rt: Runtime; base: number } {
  const k = new Kernel({ memBytes: GiB, cpus: 1 });
  const p = k.spawn('m', { uid: 1, gid: 1 });
  const rt = attachRuntime(k, p.threads[0]);
  return { rt, base: rt.mmap(size) };
}

type Op = { kind: 'malloc'; size: number } | { kind: 'free'; pick: number } | { kind: 'reuse'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('malloc' as const), size: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 5000, max: 70000 })) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reuse' as const), pick: fc.nat() }) },
);

describe('malloc', () => {
  it('matches a reference model: aligned, inside the arena, no overlap, contents kept, frees reused', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
      const size = 256 * 1024;
      const { rt, base } = arenaRuntime(size);
      const a = Arena.format(rt, base, size);
      const live = new Map<number, { size: number; tag: number }>();
      let tagSeq = 1;
      const place = (ptr: number, n: number): void => {
        expect(ptr % 16).toBe(0);
        expect(ptr).toBeGreaterThanOrEqual(base + ARENA_HEADER);
        expect(ptr + n).toBeLessThanOrEqual(base + size);
        expect(a.usableSize(ptr)).toBeGreaterThanOrEqual(n);
        for (const [q, v] of live) expect(ptr + Math.max(n, 1) <= q || q + Math.max(v.size, 1) <= ptr).toBe(true);
        const tag = tagSeq++ & 0xff;
        if (n > 0) { rt.store8(ptr, tag); rt.store8(ptr + n - 1, tag); }
        live.set(ptr, { size: n, tag });
      };
      const release = (ptr: number): void => {
        const v = live.get(ptr)!;
        if (v.size > 0) {
          expect(rt.load8(ptr)).toBe(v.tag);
          expect(rt.load8(ptr + v.size - 1)).toBe(v.tag);
        }
        a.free(ptr);
        live.delete(ptr);
      };
      for (const op of ops) {
        const ptrs = [...live.keys()];
        if (op.kind === 'malloc') {
          const p = a.malloc(op.size);
          if (p !== 0) place(p, op.size);
          else expect(op.size + 16).toBeGreaterThan(a.stats().size - a.stats().used); // full only when the top is too small ...
        } else if (ptrs.length > 0) {
          const ptr = ptrs[op.pick % ptrs.length];
          const n = live.get(ptr)!.size;
          release(ptr);
          if (op.kind === 'reuse') {
            const again = a.malloc(n);
            if (n + 16 <= 1024) expect(again).toBe(ptr); // exact bins are LIFO: the block just freed comes back
            expect(again).not.toBe(0);
            place(again, n);
          }
        }
        const st = a.stats();
        expect(st.liveBlocks).toBe(live.size);
        let tiled = ARENA_HEADER;
        let liveSeen = 0;
        for (const b of a.blocks()) {
          expect(b.ptr - 16 - base).toBe(tiled);
          tiled += b.size;
          if (!b.free) liveSeen++;
        }
        expect(tiled).toBe(st.used);
        expect(liveSeen).toBe(live.size);
      }
      for (const ptr of [...live.keys()]) release(ptr);
      expect(a.stats().liveBytes).toBe(0);
    }), { numRuns: 60 });
  });

  it('bins sizes into exact lists up to 1 KiB and power-of-two lists above', () => {
    expect(binOf(32)).toBe(0);
    expect(binOf(1024)).toBe(62);
    expect(binOf(1040)).toBe(63);
    expect(binOf(2048)).toBe(63);
    expect(binOf(2064)).toBe(64);
    expect(binOf(2 ** 40)).toBe(63 + 29);
    expect(binOf(2 ** 40 + 16)).toBe(63 + 30);
  });

  it('reports full arenas, double frees and foreign pointers', () => {
    const { rt, base } = arenaRuntime(8192);
    const a = Arena.format(rt, base, 8192);
    expect(a.malloc(8192)).toBe(0);
    const p = a.malloc(100);
    a.free(p);
    expect(() => a.free(p)).toThrow(/double free/);
    expect(() => a.free(base + 4000)).toThrow(MallocError);
    expect(() => a.free(p + 8)).toThrow(MallocError);
    expect(() => Arena.open(rt, base + 4096)).toThrow(/no arena/);
  });

  it('keeps its metadata in emulated memory: another view, or a forked child, carries on', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    let childPtr = -1;
    let parentPtr = -1;
    const p = runProgram(k, function* m(rt: Runtime): ThreadBody {
      const first = rt.malloc(48);
      rt.free(first);
      const child = rt.fork(function* c(crt: Runtime): ThreadBody {
        childPtr = crt.malloc(48); // the child's copy of the heap says `first` is free
        yield* crt.yield();
        return 0;
      });
      parentPtr = rt.malloc(48);
      expect(rt.heap.stats().liveBlocks).toBe(1);
      const base = rt.mmap(65536);
      rt.arena(base, 65536).malloc(10);
      expect(rt.arena(base).stats().liveBlocks).toBe(1); // a fresh view reads the same arena
      yield* rt.wait(child);
      return first === parentPtr && first === childPtr ? 0 : 1;
    });
    runUntilDone(k);
    expect(p.exitStatus).toBe(0);
    expect(childPtr).toBe(parentPtr);
  });
});
