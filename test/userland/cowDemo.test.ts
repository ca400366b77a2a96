import { describe, it, expect } from 'vitest';
import { Kernel, ProcessKilled } from '../../kernel/kernel.js';
import type { ThreadBody } from '../../kernel/proc/process.js';
import { GiB } from '../../mmu/units.js';
import { type Runtime } from '../../userland/runtime.js';
import * as cowDemo from '../../userland/programs/cowDemo.js';
import { straceOf } from '../../syscalls/strace.js';
import { runProgram, runUntilDone } from '../../lab/launch.js';

describe('cowDemo', () => {
  it('runs end to end through the scheduler and exits 0', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    const p = runProgram(k, cowDemo, { trace: true });
    const run = runUntilDone(k);
    expect(run.deadlock).toBe(false);
    expect(p.state).toBe('reaped');
    expect(p.killedBy).toBeNull();
    expect(p.exitStatus).toBe(0);
    expect(k.processes.size).toBe(0);
    expect(k.frames.usedBytes()).toBe(k.kernelHalf.bytes); // the kernel half stays for good
    const names = straceOf(k).records.map((r) => r.name);
    expect(names).toContain('fork');
    expect(names).toContain('waitpid');
  });

  it('is deterministic for a seed', () => {
    const modelled = (): number[] => {
      const k = new Kernel({ memBytes: GiB, cpus: 2, seed: 7 });
      runProgram(k, cowDemo);
      runUntilDone(k);
      return k.cpus.map((c) => c.clock);
    };
    expect(modelled()).toEqual(modelled());
  });
});

describe('a faulting program', () => {
  it('is killed with a report while another program keeps running', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    let steps = 0;
    const survivor = runProgram(k, function* worker(rt: Runtime): ThreadBody {
      const buf = rt.mmap(4096);
      for (let i = 0; i < 10; i++) {
        rt.store32(buf + i * 4, i);
        steps++;
        yield* rt.yield();
      }
      let sum = 0;
      for (let i = 0; i < 10; i++) sum += rt.load32(buf + i * 4);
      return sum === 45 ? 0 : 1;
    }, { name: 'worker' });
    const victim = runProgram(k, function* wild(rt: Runtime): ThreadBody {
      yield* rt.yield();
      rt.store32(0x5000_0000, 1); // nothing is mapped there
      return 0;
    }, { name: 'wild' });
    const events: string[] = [];
    const run = runUntilDone(k);
    for (const e of k.events) events.push(`${e.kind}: ${e.text}`);
    expect(run.deadlock).toBe(false);
    expect(victim.killedBy).toMatch(/segmentation fault: write at 0x5000_0000: no mapping/);
    expect(victim.exitStatus).toBe(139);
    expect(events.some((e) => e.startsWith('fault-killed: wild'))).toBe(true);
    expect(steps).toBe(10);
    expect(survivor.killedBy).toBeNull();
    expect(survivor.exitStatus).toBe(0);
    expect(ProcessKilled).toBeDefined();
  });
});
