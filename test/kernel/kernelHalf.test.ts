// The kernel half's object slots: numbered in order of first use by a kernel path, kept on the
// objects, per kernel and per numbering (resetSlots), and numbered even on a CPU whose CR3 holds
// no live space (the path names the object; only its references are not made there).

import { describe, expect, it } from 'vitest';
import { Kernel } from '../../kernel/kernel.js';
import { ACCESS_READ } from '../../mmu/pageWalker.js';
import { GiB } from '../../mmu/units.js';

const obj = () => ({ kernelSlot: -1, kernelSlotGen: 0 });

describe('KernelHalf slots', () => {
  it('numbers objects in order of first use, per kernel and per numbering', () => {
    const k1 = new Kernel({ memBytes: 1 * GiB });
    const k2 = new Kernel({ memBytes: 1 * GiB });
    const [a, b, c] = [obj(), obj(), obj()];
    const base1 = k1.kernelHalf.slot(obj()); // slots the kernel's boot already used come first
    const base2 = k2.kernelHalf.slot(obj());
    expect(k1.kernelHalf.slot(a)).toBe(base1 + 1);
    expect(k1.kernelHalf.slot(b)).toBe(base1 + 2);
    expect(k1.kernelHalf.slot(a)).toBe(base1 + 1);
    // Another kernel numbers the same objects its own way.
    expect(k2.kernelHalf.slot(b)).toBe(base2 + 1);
    expect(k2.kernelHalf.slot(c)).toBe(base2 + 2);
    expect(k2.kernelHalf.slot(a)).toBe(base2 + 3);
    k1.kernelHalf.resetSlots();
    expect(k1.kernelHalf.slot(c)).toBe(0);
    expect(k1.kernelHalf.slot(a)).toBe(1);
  });

  it('a path on a CPU with no live space makes no references but numbers what it names', () => {
    const k = new Kernel({ memBytes: 1 * GiB });
    const p = k.spawn('p', { uid: 1000, gid: 1000 });
    const cpu = k.enter(p.threads[0]);
    k.kernelHalf.resetSlots();
    k.unloadSpace(cpu);
    const refs0 = cpu.kernelCounters().accesses;
    const [a, b, c] = [obj(), obj(), obj()];
    k.kernelHalf.spaceLine(cpu, a, 0, ACCESS_READ);
    k.kernelHalf.pmapActivate(cpu, b, c);
    k.kernelHalf.syscallEntry(cpu, obj(), 39);
    expect(cpu.kernelCounters().accesses).toBe(refs0);
    expect([c, b, a].map((o) => k.kernelHalf.slot(o))).toEqual([2, 1, 0]); // asked in another order
    k.enter(p.threads[0]); // loads the space again
    const d = obj();
    k.kernelHalf.procLine(cpu, d, 0, ACCESS_READ);
    expect(cpu.kernelCounters().accesses).toBe(refs0 + 1);
    expect(k.kernelHalf.slot(d)).toBe(4);
  });
});
