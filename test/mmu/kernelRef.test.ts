// Cpu.kernelRef: the kernel's own supervisor references go through the same TLB and walker as user
// accesses (so a flush really costs the kernel walks), are counted apart, leave the user counters as
// they were, and are charged only beyond a warm hit (components kernel-tlb, kernel-cache).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PhysicalMemory } from '../../mmu/physicalMemory.js';
import { Cpu, MachineFault, ACCESS_READ, ACCESS_WRITE, CYC_SYSCALL, CYC_CR3, CYC_LOCK, CYC_PMAP_ACTIVATE, CYC_COMPUTE, CYC_CONTEXT_SWITCH } from '../../mmu/cpu.js';
import { PROFILE_M2 } from '../../mmu/costModel.js';
import { CacheHierarchy } from '../../mmu/cache.js';
import { splitBig } from '../../mmu/address.js';
import { SMALL_TLB } from '../../mmu/tlb.js';
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

describe('Cpu.kernelRef against a plain supervisor translation (property)', () => {
  // Oracle: the same operations on a twin core where each kernel reference is an ordinary
  // supervisor-mode translateHalves (counted as if it were a user access). kernelRef must leave the
  // TLB in the same state, its kernel counts plus the user counts must equal the twin's counts, and
  // the clocks must differ by exactly the warm cost the kernel's references are not charged.
  const op = fc.oneof(
    fc.record({ k: fc.constant('user' as const), page: fc.integer({ min: 0, max: 40 }), write: fc.boolean() }),
    fc.record({ k: fc.constant('kernel' as const), page: fc.integer({ min: 0, max: 40 }), write: fc.boolean() }),
    fc.record({ k: fc.constant('flush' as const) }),
  );
  it('splits the counts without changing what happens', () => {
    fc.assert(fc.property(fc.boolean(), fc.array(op, { minLength: 1, maxLength: 120 }), (caches, ops) => {
      const build = () => {
        const mem = new PhysicalMemory({ bytes: 64 * MiB });
        const pt = new PtBuilder(mem, 4, { base: 1 * MiB, limit: 8 * MiB });
        for (let i = 0; i <= 40; i++) {
          pt.map(USER_VA + i * 4096, frame(100 + i), { writable: true, user: true });
          pt.map(KVA + BigInt(i * 4096), frame(200 + i), { writable: true, user: false });
        }
        const h = caches ? CacheHierarchy.forCore(PROFILE_M2.caches, CacheHierarchy.newLlc(PROFILE_M2.caches)) : undefined;
        const cpu = new Cpu(mem, { paging: 4, costs: PROFILE_M2.params, caches: h, tlb: { ...SMALL_TLB } });
        cpu.writeCr4({ pcide: true, pge: true });
        cpu.writeCr3(pt.root);
        return { cpu, pt };
      };
      const a = build();
      const b = build();
      let kernelRefs = 0;
      for (const o of ops) {
        for (const [m, plain] of [[a, false], [b, true]] as const) {
          if (o.k === 'flush') { m.cpu.writeCr3(m.pt.root); continue; }
          if (o.k === 'user') {
            if (o.write) m.cpu.store32(USER_VA + o.page * 4096, 1); else m.cpu.load32(USER_VA + o.page * 4096);
            continue;
          }
          const [lo, hi] = splitBig(KVA + BigInt(o.page * 4096));
          const acc = o.write ? ACCESS_WRITE : ACCESS_READ;
          if (plain) m.cpu.translateHalves(lo, hi, acc, false); else m.cpu.kernelRef(lo, hi, acc);
        }
        if (o.k === 'kernel') kernelRefs++;
      }
      const ua = a.cpu.counters();
      const ka = a.cpu.kernelCounters();
      const tb = b.cpu.counters();
      expect(ua.accesses + ka.accesses).toBe(tb.accesses);
      expect(ua.l1Misses + ka.l1Misses).toBe(tb.l1Misses);
      expect(ua.stlbHits + ka.stlbHits).toBe(tb.stlbHits);
      expect(ua.walks + ka.walks).toBe(tb.walks);
      expect(ua.walkRefs + ka.walkRefs).toBe(tb.walkRefs);
      expect(a.cpu.clock).toBe(b.cpu.clock - kernelRefs * PROFILE_M2.params.dataAccess);
      expect(a.cpu.tlb.occupancy()).toEqual(b.cpu.tlb.occupancy());
      const psc = (m: Cpu, f: 'hits' | 'misses'): number => Object.entries(m.tlbCounters()).filter(([n]) => n.startsWith('PSC')).reduce((x, [, t]) => x + t[f], 0);
      expect(psc(a.cpu, 'hits') + ka.pscHits).toBe(psc(b.cpu, 'hits'));
      expect(psc(a.cpu, 'misses') + ka.pscMisses).toBe(psc(b.cpu, 'misses'));
      if (caches) {
        const ca = a.cpu.cacheCounters()!;
        const cb = b.cpu.cacheCounters()!;
        expect(ca.data.accesses + ka.caches!.data.accesses).toBe(cb.data.accesses);
        expect(ca.pageTable.accesses + ka.caches!.pageTable.accesses).toBe(cb.pageTable.accesses);
      }
    }), { numRuns: 60 });
  });
});

describe('runs of kernel references (beginKernelRefs .. endKernelRefs) (property)', () => {
  // Oracle: a twin core making the same references one kernelRef call each (the form whose counts
  // the test above checks against plain translations). A run sets the user counters aside once
  // for several references; everything either core counted, in every form it reports it, must be
  // the same — with costs that are not whole numbers, so a change in the order cycles are summed in
  // would show in the last bit.
  const costs = { ...PROFILE_M2.params, walkRef: 30.1, stlbHit: 9.3, dramLocal: 200.7, l2Latency: 12.2, llcLatency: 38.9 };
  const ref = fc.record({ page: fc.integer({ min: 0, max: 40 }), write: fc.boolean(), lines: fc.integer({ min: 1, max: 3 }) });
  const op = fc.oneof(
    fc.record({ k: fc.constant('user' as const), page: fc.integer({ min: 0, max: 40 }), write: fc.boolean() }),
    fc.record({ k: fc.constant('run' as const), refs: fc.array(ref, { minLength: 1, maxLength: 6 }) }),
    fc.record({ k: fc.constant('flush' as const) }),
    fc.record({ k: fc.constant('read' as const) }),
  );
  it('counts exactly what the same references made one by one count', () => {
    fc.assert(fc.property(fc.boolean(), fc.array(op, { minLength: 1, maxLength: 60 }), (caches, ops) => {
      const build = () => {
        const mem = new PhysicalMemory({ bytes: 64 * MiB });
        const pt = new PtBuilder(mem, 4, { base: 1 * MiB, limit: 8 * MiB });
        for (let i = 0; i <= 40; i++) {
          pt.map(USER_VA + i * 4096, frame(100 + i), { writable: true, user: true });
          pt.map(KVA + BigInt(i * 4096), frame(200 + i), { writable: true, user: false });
        }
        const h = caches ? CacheHierarchy.forCore(PROFILE_M2.caches, CacheHierarchy.newLlc(PROFILE_M2.caches)) : undefined;
        const cpu = new Cpu(mem, { paging: 4, costs, caches: h, tlb: { ...SMALL_TLB } });
        cpu.writeCr4({ pcide: true, pge: true });
        cpu.writeCr3(pt.root);
        return { cpu, pt };
      };
      const a = build();
      const b = build();
      for (const o of ops) {
        for (const [m, oneByOne] of [[a, false], [b, true]] as const) {
          if (o.k === 'flush') { m.cpu.writeCr3(m.pt.root); continue; }
          if (o.k === 'read') { void m.cpu.cyclesBy; continue; } // folding the hot fields midway
          if (o.k === 'user') {
            if (o.write) m.cpu.store32(USER_VA + o.page * 4096, 1); else m.cpu.load32(USER_VA + o.page * 4096);
            continue;
          }
          const pas: number[] = [];
          if (!oneByOne) m.cpu.beginKernelRefs();
          try {
            for (const r of o.refs) {
              const [lo, hi] = splitBig(KVA + BigInt(r.page * 4096));
              const acc = r.write ? ACCESS_WRITE : ACCESS_READ;
              // Half the run's references as int32 halves: the same bits.
              const [l, h] = r.page % 2 === 0 ? [lo, hi] : [lo | 0, hi | 0];
              pas.push(oneByOne ? m.cpu.kernelRef(l, h, acc, r.lines) : m.cpu.kernelRefIn(l, h, acc, r.lines));
            }
          } finally {
            if (!oneByOne) m.cpu.endKernelRefs();
          }
          expect(pas).toEqual(o.refs.map((r) => frame(200 + r.page)));
        }
      }
      expect(a.cpu.allCounters()).toEqual(b.cpu.allCounters());
      expect(Object.entries(a.cpu.cyclesBy)).toEqual(Object.entries(b.cpu.cyclesBy)); // key order too
      expect(a.cpu.clock).toBe(b.cpu.clock);
      expect(a.cpu.tlb.occupancy()).toEqual(b.cpu.tlb.occupancy());
    }), { numRuns: 60 });
  });

  it('a reference outside a run is refused (it would count as a user access)', () => {
    const { cpu } = machine();
    expect(() => cpu.kernelRefIn(KLO, KHI, ACCESS_READ)).toThrow(/outside/);
    expect(cpu.kernelCounters().accesses).toBe(0);
  });

  it('a run that faults still restores the user counters (the fault is a kernel bug and throws)', () => {
    const { cpu } = machine();
    cpu.load32(USER_VA);
    const before = userView(cpu);
    const [lo, hi] = splitBig(KVA + 0x10_0000n); // not mapped
    cpu.beginKernelRefs();
    try {
      cpu.kernelRefIn(KLO, KHI, ACCESS_READ);
      expect(() => cpu.kernelRefIn(lo, hi, ACCESS_READ)).toThrow(MachineFault);
    } finally {
      cpu.endKernelRefs();
    }
    expect(userView(cpu)).toEqual(before);
    expect(cpu.kernelCounters().accesses).toBe(2);
    expect(cpu.kernelCounters().walks).toBe(2);
  });
});

describe('cycles by component (property)', () => {
  // Oracle: a plain record summed the way charge() always summed (r[c] = (r[c] ?? 0) + x), with
  // components charged by name and, for the hot ones, by index; values not whole numbers.
  const HOT: Record<string, number> = { syscall: CYC_SYSCALL, cr3: CYC_CR3, lock: CYC_LOCK, 'pmap-activate': CYC_PMAP_ACTIVATE, compute: CYC_COMPUTE, 'context-switch': CYC_CONTEXT_SWITCH };
  const names = [...Object.keys(HOT), 'vm', 'pte', 'fault', 'shootdown', 'idle'];
  const charge = fc.record({ c: fc.constantFrom(...names), x: fc.double({ min: 0, max: 1e6, noNaN: true }), byIndex: fc.boolean(), read: fc.boolean() });
  it('sums every component in charge order and keeps the order of first charges', () => {
    fc.assert(fc.property(fc.array(charge, { maxLength: 80 }), (charges) => {
      const { cpu } = machine();
      const base = { ...cpu.cyclesBy };
      const clock0 = cpu.clock;
      const model: Record<string, number> = { ...base };
      let clock = clock0;
      for (const { c, x, byIndex, read } of charges) {
        if (byIndex && c in HOT) cpu.chargeAt(HOT[c], x); else cpu.charge(c, x);
        model[c] = (model[c] ?? 0) + x;
        clock += x;
        if (read) expect(Object.entries(cpu.cyclesBy)).toEqual(Object.entries(model));
      }
      expect(Object.entries(cpu.cyclesBy)).toEqual(Object.entries(model));
      expect(cpu.clock).toBe(clock);
    }), { numRuns: 100 });
  });
});
