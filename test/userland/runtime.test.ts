import { describe, it, expect } from 'vitest';
import { Kernel } from '../../kernel/kernel.js';
import type { ThreadBody } from '../../kernel/proc/process.js';
import { SysError, ERRNO } from '../../kernel/errno.js';
import { GiB } from '../../mmu/units.js';
import { type Runtime } from '../../userland/runtime.js';
import { runProgram, runUntilDone } from '../../lab/launch.js';

describe('runtime', () => {
  it('runs threads of one process on their own CPUs, sharing memory', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 4 });
    const cpusSeen = new Set<number>();
    const p = runProgram(k, function* main(rt: Runtime): ThreadBody {
      const shared = rt.mmap(4096);
      for (let i = 1; i <= 3; i++) {
        rt.spawnThread(function* worker(w: Runtime): ThreadBody {
          yield* w.yield();
          cpusSeen.add(w.cpu.id);
          w.store32(shared + 4 * i, i * 11);
          return 0;
        }, { cpu: i });
      }
      for (let spins = 0; spins < 100 && rt.load32(shared + 12) === 0; spins++) yield* rt.yield();
      return rt.load32(shared + 4) + rt.load32(shared + 8) + rt.load32(shared + 12) === 66 ? 0 : 1;
    }, { cpu: 0 });
    runUntilDone(k);
    expect(p.exitStatus).toBe(0);
    expect([...cpusSeen].sort()).toEqual([1, 2, 3]);
  });

  it('moves a thread with set_affinity and keeps loads and stores working there', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    const p = runProgram(k, function* main(rt: Runtime): ThreadBody {
      const buf = rt.mmap(4096);
      rt.store32(buf, 5);
      const before = rt.cpu.id;
      rt.setAffinity(1 - before);
      if (rt.cpu.id === before) return 2;
      yield* rt.yield();
      if (rt.cpu.id === before) return 3;
      return rt.load32(buf) === 5 ? 0 : 1;
    });
    runUntilDone(k);
    expect(p.exitStatus).toBe(0);
  });

  it('failed calls throw SysError with the kernel\'s reason; rt.exit ends the process at once', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    let caught: SysError | null = null;
    let after = false;
    const p = runProgram(k, function* main(rt: Runtime): ThreadBody {
      try { rt.open('/nope'); } catch (e) { caught = e as SysError; }
      expect(rt.raw('close', 42)).toBe(-ERRNO.EBADF);
      rt.compute(1000);
      yield* rt.yield();
      rt.exit(7);
      after = true;
      return 0;
    });
    runUntilDone(k);
    expect(caught).toBeInstanceOf(SysError);
    expect(caught!.errno).toBe(ERRNO.ENOENT);
    expect(caught!.message).toMatch(/open: \/nope/);
    expect(after).toBe(false);
    expect(p.exitStatus).toBe(7);
    expect(k.cpus[0].cyclesBy.compute).toBe(1000);
  });

  it('a parent learns how its child ended: exit code, or the signal of a fault', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    const results: unknown[] = [];
    runProgram(k, function* main(rt: Runtime): ThreadBody {
      rt.fork(function* ok(): ThreadBody { yield; return 4; });
      const a = yield* rt.wait();
      rt.fork(function* bad(c: Runtime): ThreadBody { yield* c.yield(); c.load32(0x5000_0000); return 0; });
      const b = yield* rt.wait();
      results.push(a.exited, a.code, b.exited, b.signal);
      return 0;
    });
    runUntilDone(k);
    expect(results).toEqual([true, 4, false, 11]);
    expect(k.frames.usedBytes()).toBe(k.kernelHalf.bytes); // the kernel half stays for good
  });
});
