// Cpu.kernelRef: the kernel's own supervisor references go through the same TLB and walker as user
// accesses (so a flush really costs the kernel walks), are counted apart, leave the user counters as
// they were, and are charged only beyond a warm hit (components kernel-tlb, kernel-cache).

import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../mmu/physicalMemory.js';
import { Cpu, MachineFault, ACCESS_READ, ACCESS_WRITE } from '../../mmu/cpu.js';
import { PROFILE_M2 } from '../../mmu/costModel.js';
import { CacheHierarchy } from '../../mmu/cache.js';
import { splitBig } from '../../mmu/address.js';
import { MiB } from '../../mmu/units.js';
import { PtBuilder } from './ptBuilder.js';

const USER_VA = 0x4000_0000;
const KVA = 0xffff_ffff_8020_0000n; // a kernel-half page
const frame = (k: number): number => 16 * MiB + k * 4096;
const [KLO, KHI] = splitBig(KVA);

function machine(opts: { global?: boolean; caches?: boolean } = {}) {
  const mem = new PhysicalMemory({ bytes: 64 * MiB });
  const pt = new PtBuilder(mem, 4, { base: 1 * MiB, limit: 8 * MiB });
  pt.map(USER_VA, frame(1), { writable: true, user: true });
  pt.map(KVA, frame(2), { writable: true, user: false, global: opts.global ?? false });
  const caches = opts.caches ? CacheHierarchy.forCore(PROFILE_M2.caches, CacheHierarchy.newLlc(PROFILE_M2.caches)) : undefined;
  const cpu = new Cpu(mem, { paging: 4, costs: PROFILE_M2.params, caches });
  cpu.writeCr4({ pcide: true, pge: true });
  cpu.writeCr3(pt.root);
  return { mem, pt, cpu };
}

const userView = (cpu: Cpu) => {
  const c = cpu.counters();
  // Hits and misses per structure; occupancy ("valid") is shared by user and kernel entries.
  const tlb = Object.fromEntries(Object.entries(cpu.tlbCounters()).map(([n, t]) => [n, { hits: t.hits, misses: t.misses }]));
  return { accesses: c.accesses, l1Hits: c.l1Hits, l1Misses: c.l1Misses, stlbHits: c.stlbHits, walks: c.walks, walkRefs: c.walkRefs, tlb };
};

describe('Cpu.kernelRef', () => {
  it('translates a supervisor page, counts apart, and leaves the user counters and clock alone when warm', () => {
    const { cpu } = machine();
    cpu.load32(USER_VA);
    const before = userView(cpu);
    expect(cpu.kernelRef(KLO, KHI, ACCESS_READ)).toBe(frame(2));
    const afterMiss = cpu.clock;
    expect(userView(cpu)).toEqual(before);
    expect(cpu.tlbCounters()['L1 DTLB'].valid).toBe(2); // the kernel's entry shares the TLB with the user's
    const k = cpu.kernelCounters();
    expect([k.accesses, k.l1Misses, k.walks]).toEqual([1, 1, 1]);
    expect(k.walkRefs).toBeGreaterThan(0);
    expect(k.tlbCycles).toBe(k.walkRefs * PROFILE_M2.params.walkRef);
    expect(cpu.cyclesBy['kernel-tlb']).toBe(k.tlbCycles);
    // Warm: a hit costs nothing beyond the measured path figures and walks nothing.
    cpu.kernelRef(KLO, KHI, ACCESS_READ);
    expect(cpu.clock).toBe(afterMiss);
    expect(cpu.kernelCounters().walks).toBe(1);
    expect(cpu.kernelCounters().l1Hits).toBe(1);
    // The first write walks once more to set the dirty bit (as x86 does); the next one is warm.
    cpu.kernelRef(KLO, KHI, ACCESS_WRITE);
    expect(cpu.kernelCounters().walks).toBe(2);
    const dirty = cpu.clock;
    cpu.kernelRef(KLO, KHI, ACCESS_WRITE);
    expect(cpu.clock).toBe(dirty);
    expect(userView(cpu)).toEqual(before);
  });

  it('a flushing CR3 write drops the kernel\'s non-global entries: the next reference walks again; global ones survive', () => {
    for (const global of [false, true]) {
      const { cpu, pt } = machine({ global });
      cpu.kernelRef(KLO, KHI, ACCESS_READ);
      cpu.writeCr3(pt.root); // PCID 0, no no-flush bit: flushes non-global entries
      const w0 = cpu.kernelCounters().walks;
      cpu.kernelRef(KLO, KHI, ACCESS_READ);
      expect(cpu.kernelCounters().walks - w0).toBe(global ? 0 : 1);
    }
  });

  it('a supervisor page is not a user page, and a kernel reference to an unmapped page throws', () => {
    const { cpu } = machine();
    expect(() => cpu.loadBig(KVA, 4, true)).toThrow(MachineFault);
    const [lo, hi] = splitBig(KVA + 0x10_0000n);
    expect(() => cpu.kernelRef(lo, hi, ACCESS_READ)).toThrow(MachineFault);
  });

  it('with caches on its lines are looked up and counted as kernel lines, not user ones', () => {
    const { cpu } = machine({ caches: true });
    const user0 = cpu.cacheCounters()!;
    cpu.kernelRef(KLO, KHI, ACCESS_READ);
    expect(cpu.cacheCounters()).toEqual(user0);
    const k = cpu.kernelCounters().caches!;
    expect(k.data.accesses).toBe(1);
    expect(k.pageTable.accesses).toBe(cpu.kernelCounters().walkRefs);
    expect(cpu.kernelCounters().cacheCycles).toBe(PROFILE_M2.params.dramLocal - PROFILE_M2.params.dataAccess);
    expect(cpu.cyclesBy['kernel-cache']).toBe(cpu.kernelCounters().cacheCycles);
  });
});
