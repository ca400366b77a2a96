// The data-cache model: a property test against a plain reference (per-set LRU lists in ordinary
// arrays), the closed-form cases (one set under a stride, working sets just under and just over
// each level's capacity), and the core's use of it (data accesses and page-walk references).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SetAssocCache, CacheHierarchy, LINE_BYTES, LEVEL_L1, LEVEL_L2, LEVEL_LLC, LEVEL_DRAM, type CacheGeometry } from '../../mmu/cache.js';
import { IVY_BRIDGE_EP_CACHES, PROFILE_M2, PROFILE_M3, resolveProfile } from '../../mmu/costModel.js';
import { Cpu } from '../../mmu/cpu.js';
import { PhysicalMemory } from '../../mmu/physicalMemory.js';
import { MiB } from '../../mmu/units.js';
import { machineFromOptions, describeMachine } from '../../kernel/machineConfig.js';
import { Kernel } from '../../kernel/kernel.js';
import { HASWELL_TLB, SMALL_TLB } from '../../mmu/tlb.js';
import { CachedCpu } from '../../mmu/cachedCpu.js';
import { PtBuilder } from './ptBuilder.js';

/** Reference: one array per set, least recently used first. */
class RefCache {
  private readonly sets: number[][];
  constructor(readonly nSets: number, readonly ways: number) {
    this.sets = Array.from({ length: nSets }, () => []);
  }

  access(line: number): boolean {
    const set = this.sets[line % this.nSets];
    const at = set.indexOf(line);
    if (at >= 0) { set.splice(at, 1); set.push(line); return true; }
    if (set.length === this.ways) set.shift();
    set.push(line);
    return false;
  }

  contents(): number[] { return this.sets.flat().sort((a, b) => a - b); }
}

function contents(c: SetAssocCache): number[] {
  return Array.from(c.tags).filter((t) => t !== -1).sort((a, b) => a - b);
}

/** Which level serves each access, by the reference: look up each level in turn, fill on miss. */
function refHierarchy(g: CacheGeometry): (line: number) => number {
  const levels = [g.l1d, g.l2, g.llc].map((l) => new RefCache(l.bytes / LINE_BYTES / l.ways, l.ways));
  return (line) => {
    for (let k = 0; k < 3; k++) if (levels[k].access(line)) return k;
    return LEVEL_DRAM;
  };
}

describe('SetAssocCache against a per-set LRU reference', () => {
  it('agrees on every hit/miss and on the final contents for random streams', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 7 }), // sets (not only powers of two)
      fc.integer({ min: 1, max: 6 }), // ways
      fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 400 }),
      (sets, ways, lines) => {
        const c = new SetAssocCache({ bytes: sets * ways * LINE_BYTES, ways });
        const r = new RefCache(sets, ways);
        for (const l of lines) expect(c.access(l)).toBe(r.access(l));
        expect(contents(c)).toEqual(r.contents());
      },
    ), { numRuns: 300 });
  });

  it('agrees on streams of runs (the same line many times in a row, as sequential code makes)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 20 })), { minLength: 1, maxLength: 120 }),
      fc.boolean(),
      (sets, ways, runs, clearMidway) => {
        const c = new SetAssocCache({ bytes: sets * ways * LINE_BYTES, ways });
        let r = new RefCache(sets, ways);
        runs.forEach(([l, n], i) => {
          if (clearMidway && i === runs.length >> 1) { c.clear(); r = new RefCache(sets, ways); }
          for (let k = 0; k < n; k++) expect(c.access(l)).toBe(r.access(l));
        });
        expect(contents(c)).toEqual(r.contents());
      },
    ), { numRuns: 200 });
  });

  it('a hierarchy serves each access from the level the reference says', () => {
    const g: CacheGeometry = { l1d: { bytes: 4 * 2 * 64, ways: 2 }, l2: { bytes: 8 * 4 * 64, ways: 4 }, llc: { bytes: 12 * 4 * 64, ways: 4 } };
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 600 }), (lines) => {
      const h = CacheHierarchy.forCore(g, CacheHierarchy.newLlc(g));
      const ref = refHierarchy(g);
      for (const l of lines) expect(h.access(l * LINE_BYTES + (l % 64))).toBe(ref(l));
    }), { numRuns: 200 });
  });

  it('rejects geometries that are not whole sets of lines', () => {
    expect(() => new SetAssocCache({ bytes: 1000, ways: 2 })).toThrow(/whole number/);
    expect(() => new SetAssocCache({ bytes: 4096, ways: 0 })).toThrow(/ways/);
  });
});

describe('closed-form cases', () => {
  it('a stride of sets x 64 bytes maps every access to one set: ways lines stay, ways + 1 thrash', () => {
    const c = new SetAssocCache(IVY_BRIDGE_EP_CACHES.l1d); // 64 sets x 8 ways
    expect(c.sets).toBe(64);
    const stride = c.sets; // in lines
    const sweep = (n: number): number => { let hits = 0; for (let k = 0; k < n; k++) if (c.access(5 + k * stride)) hits++; return hits; };
    expect(sweep(8)).toBe(0); // cold
    expect(sweep(8)).toBe(8); // all 8 fit in the one set
    c.clear();
    sweep(9);
    expect(sweep(9)).toBe(0); // cyclic over ways + 1 under LRU: every access evicts the next one wanted
    // Only one set was ever used.
    expect(c.validLines).toBe(8);
  });

  // Sweep a working set of `bytes` twice; count which level served the second pass.
  function secondPass(g: CacheGeometry, bytes: number): number[] {
    const h = CacheHierarchy.forCore(g, CacheHierarchy.newLlc(g));
    const served = [0, 0, 0, 0];
    for (let pass = 0; pass < 2; pass++) {
      for (let pa = 0; pa < bytes; pa += LINE_BYTES) {
        const level = h.access(pa);
        if (pass === 1) served[level]++;
      }
    }
    return served;
  }

  const g = PROFILE_M2.caches;
  const over = (l: { bytes: number; ways: number }): number => l.bytes / l.ways * (l.ways + 1); // one more line per set
  it.each([
    ['L1D', g.l1d, LEVEL_L1, LEVEL_L2],
    ['L2', g.l2, LEVEL_L2, LEVEL_LLC],
    ['LLC', g.llc, LEVEL_LLC, LEVEL_DRAM],
  ] as const)('%s (M2): a working set of exactly its capacity hits it, one more line per set misses it every time', (_name, level, at, next) => {
    const under = secondPass(g, level.bytes);
    expect(under[at]).toBe(level.bytes / LINE_BYTES);
    const o = secondPass(g, over(level));
    expect(o[at]).toBe(0);
    expect(o[next]).toBe(over(level) / LINE_BYTES);
  });
});

describe('the core with caches on', () => {
  function rig(caches: boolean, nodes = 1) {
    const mem = new PhysicalMemory({ bytes: 256 * MiB, nodes });
    const pt = new PtBuilder(mem, 4, { base: 16 * MiB, limit: 20 * MiB });
    const g = PROFILE_M2.caches;
    const cpu = new Cpu(mem, { paging: 4, costs: PROFILE_M2.params, caches: caches ? CacheHierarchy.forCore(g, CacheHierarchy.newLlc(g)) : undefined });
    return { mem, pt, cpu };
  }

  it('caches off: no cache counters, the record is what it always was', () => {
    const { pt, cpu } = rig(false);
    pt.map(0x400000, 64 * MiB, { writable: true, user: true });
    cpu.writeCr3(pt.root);
    cpu.store32(0x400000, 7);
    expect(cpu.load32(0x400000)).toBe(7);
    expect(cpu.cacheCounters()).toBeNull();
    expect('caches' in cpu.allCounters()).toBe(false);
    expect(cpu.counters().cyclesBy.cache).toBeUndefined();
  });

  it("a repeated walk finds its page-table lines in L1D; data lines hit after the first touch", () => {
    const { pt, cpu } = rig(true);
    const p = PROFILE_M2.params;
    pt.map(0x400000, 64 * MiB, { writable: true, user: true });
    cpu.writeCr3(pt.root);
    const c0 = cpu.clock;
    expect(cpu.load32(0x400010)).toBe(0);
    let cc = cpu.cacheCounters()!;
    // First walk: four entry reads, all cold, all from local DRAM.
    expect(cc.pageTable).toMatchObject({ accesses: 4, l1dHits: 0, llcMisses: 4, dramLocal: 4, dramRemote: 0 });
    expect(cc.data).toMatchObject({ accesses: 1, llcMisses: 1 });
    expect(cpu.clock - c0).toBe(4 * p.dramLocal + p.dramLocal);
    // Same line again: a TLB hit (no walk) and an L1D hit costing dataAccess only.
    const c1 = cpu.clock;
    cpu.load32(0x400014);
    expect(cpu.clock - c1).toBe(p.dataAccess);
    expect(cpu.cacheCounters()!.data.l1dHits).toBe(1);
    // Flush the TLB (CR3 write without PCIDs) and walk again: the PTE lines are in L1D now.
    cpu.writeCr3(pt.root);
    const c2 = cpu.cycles;
    cpu.load32(0x400018);
    cc = cpu.cacheCounters()!;
    expect(cpu.walks).toBe(2);
    expect(cc.pageTable).toMatchObject({ accesses: 8, l1dHits: 4 });
    expect(cpu.cycles - c2).toBe(4 * p.dataAccess); // the walk's references at L1D latency; the data hit adds nothing beyond accesses x dataAccess
    // Every access went through the slow path (no front cache with caches on).
    expect(cpu.slowAccesses).toBe(cpu.accesses);
  });

  it.each([['Cpu', false], ['CachedCpu', true]] as const)('%s: an unaligned access that spans two 64-byte lines touches both lines', (_name, cached) => {
    const mem = new PhysicalMemory({ bytes: 256 * MiB });
    const pt = new PtBuilder(mem, 4, { base: 16 * MiB, limit: 20 * MiB });
    const g = PROFILE_M2.caches;
    const opts = { paging: 4 as const, costs: PROFILE_M2.params, caches: CacheHierarchy.forCore(g, CacheHierarchy.newLlc(g)) };
    const cpu = cached ? new CachedCpu(mem, opts) : new Cpu(mem, opts);
    const VA = 0x400000;
    const PA = 64 * MiB;
    pt.map(VA, PA, { writable: true, user: true });
    pt.map(VA + 4096, PA + 8192, { writable: true, user: true }); // the next page is not physically next
    cpu.writeCr3(pt.root);
    const line = (pa: number): number => Math.floor(pa / 64);
    const l1 = cpu.caches!.l1d;
    const data = (): number => cpu.cacheCounters()!.data.accesses;
    // [offset, size, operation, lines it must touch]
    const cases: [number, number, () => void, number[]][] = [
      [62, 4, () => cpu.load32(VA + 62), [PA, PA + 64]],
      [188, 8, () => cpu.store64(VA + 188, 1, 2), [PA + 128, PA + 192]],
      [319, 2, () => cpu.store16(VA + 319, 0xbeef), [PA + 256, PA + 320]],
      [441, 8, () => cpu.load64(VA + 441), [PA + 384, PA + 448]],
      [573, 8, () => cpu.xor64(VA + 573, 5, 6), [PA + 512, PA + 576]],
      [703, 2, () => cpu.load16(VA + 703), [PA + 640, PA + 704]],
      [4093, 4, () => cpu.load32(VA + 4093), [PA + 4032, PA + 8192]], // across the page: two translations
    ];
    for (const [, , op, lines] of cases) {
      for (const pa of lines) expect(l1.contains(line(pa))).toBe(false);
      const before = data();
      op();
      expect(data() - before).toBe(2);
      for (const pa of lines) expect(l1.contains(line(pa))).toBe(true);
    }
    // Accesses that end exactly at a line boundary touch one line.
    for (const op of [() => cpu.load32(VA + 1020), () => cpu.load64(VA + 1080), () => cpu.store16(VA + 1150, 1), () => cpu.load8(VA + 1215)]) {
      const before = data();
      op();
      expect(data() - before).toBe(1);
    }
    // ... and never the line after it.
    for (const pa of [PA + 1216, PA + 1280]) expect(l1.contains(line(pa))).toBe(false);
  });

  it('an LLC miss to another node is a remote DRAM access', () => {
    const { pt, cpu } = rig(true, 2); // node 1 starts at 128 MiB
    pt.map(0x400000, 192 * MiB, { writable: true, user: true });
    cpu.writeCr3(pt.root);
    cpu.store32(0x400000, 1);
    const cc = cpu.cacheCounters()!;
    expect(cc.data).toMatchObject({ dramRemote: 1, dramLocal: 0 });
    expect(cc.pageTable.dramRemote).toBe(0); // the tables are in node 0
    expect(cc.dataCycles).toBe(PROFILE_M2.params.dramRemote - PROFILE_M2.params.dataAccess);
  });

  it('a kernel with --caches on shares one LLC per node and prints it', () => {
    const cfg = machineFromOptions({ caches: 'on', cpus: '4', nodes: '2' });
    const k = new Kernel(cfg);
    const [a, b, c] = k.cpus;
    expect(a.caches).not.toBeNull();
    expect(a.caches!.llc).toBe(b.caches!.llc);
    expect(a.caches!.llc).not.toBe(c.caches!.llc);
    expect(a.caches!.l1d).not.toBe(b.caches!.l1d);
    expect(describeMachine(cfg)).toMatch(/caches on \(L1D 32K\/8-way, L2 256K\/8-way, LLC 25M\/20-way per node/);
    expect(describeMachine(machineFromOptions({}))).not.toMatch(/caches/);
    expect(new Kernel(machineFromOptions({})).cpus[0].caches).toBeNull();
    expect(() => machineFromOptions({ caches: 'maybe' })).toThrow(/--caches must be on or off/);
    // A trace's `machine caches on` line arrives as the text "true".
    expect(machineFromOptions({ caches: 'true' }).caches).toBe(true);
  });

  it('profile m3: Haswell EP clock, caches and TLB', () => {
    const cfg = machineFromOptions({ profile: 'm3' });
    expect(cfg.profile.params.clockGHz).toBe(2.3);
    expect(cfg.profile.caches.llc).toEqual({ bytes: 45 * MiB, ways: 20 });
    expect(cfg.tlb).toEqual(HASWELL_TLB);
    expect(machineFromOptions({ profile: 'm3', tlb: 'skylake' }).tlb.stlb.entries).toBe(1536);
    expect(resolveProfile('m3', 'llcLatency=60').caches).toBe(PROFILE_M3.caches);
  });
});

describe('CachedCpu (fast path with caches) against a plain Cpu with caches (slow path only)', () => {
  const PAGES = 24;
  const BASE = 0x7000_0000;
  function build(cached: boolean) {
    const mem = new PhysicalMemory({ bytes: 64 * MiB });
    const pt = new PtBuilder(mem, 4, { base: 16 * MiB, limit: 20 * MiB });
    // Pages spread over frames so lines of different pages collide in the small geometry's sets.
    for (let p = 0; p < PAGES; p++) pt.map(BASE + p * 4096, 32 * MiB + ((p * 7) % PAGES) * 4096, { writable: true, user: true });
    const g: CacheGeometry = { l1d: { bytes: 8 * 2 * 64, ways: 2 }, l2: { bytes: 16 * 4 * 64, ways: 4 }, llc: { bytes: 64 * 4 * 64, ways: 4 } };
    const opts = { paging: 4 as const, tlb: SMALL_TLB, costs: PROFILE_M2.params, caches: CacheHierarchy.forCore(g, CacheHierarchy.newLlc(g)) };
    const cpu = cached ? new CachedCpu(mem, opts) : new Cpu(mem, opts);
    cpu.writeCr3(pt.root);
    return { cpu, root: pt.root };
  }

  it('the same loads, counters, cycles and cache contents for random access streams', () => {
    const op = fc.record({
      kind: fc.integer({ min: 0, max: 12 }),
      page: fc.integer({ min: 0, max: PAGES - 1 }),
      word: fc.integer({ min: 0, max: 511 }),
      v: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    });
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), (ops) => {
      const a = build(false);
      const b = build(true);
      const batchVa = new Float64Array(4);
      const batchLo = new Int32Array(4);
      const batchHi = new Int32Array(4);
      for (const o of ops) {
        const va = BASE + o.page * 4096 + o.word * 8;
        const run = BASE + (o.page % (PAGES - 1)) * 4096 + o.word * 8;
        const results = [a, b].map(({ cpu, root }) => {
          switch (o.kind) {
            case 0: return cpu.load32(va + 4);
            case 1: cpu.store32(va, o.v); return 0;
            case 2: return cpu.load64(va) + cpu.hi * 3;
            case 3: cpu.store64(va, o.v, ~o.v); return 0;
            case 4: cpu.xor64(va, o.v, 5); return 0;
            case 5: return cpu.load8(va + 3);
            case 6: cpu.store8(va + 1, o.v & 0xff); return 0;
            case 7: {
              for (let k = 0; k < 4; k++) { batchVa[k] = BASE + ((o.page + k * 5) % PAGES) * 4096 + ((o.word + k) % 512) * 8; batchLo[k] = o.v + k; batchHi[k] = k; }
              cpu.xor64Batch(batchVa, batchLo, batchHi, 4);
              return 0;
            }
            case 8: case 9: {
              // The other batches (a CachedCpu runs them one by one; a plain Cpu with caches batches
              // through the slow path): the same lines looked up in the same order.
              for (let k = 0; k < 4; k++) { batchVa[k] = BASE + ((o.page + k * 7) % PAGES) * 4096 + ((o.word + 3 * k) % 512) * 8; batchLo[k] = o.v - k; batchHi[k] = k; }
              if (o.kind === 8) { cpu.store64Batch(batchVa, batchLo, batchHi, 4); return 0; }
              cpu.load64Batch(batchVa, batchLo, batchHi, 4);
              return batchLo[0] + batchLo[3] * 3 + batchHi[2] * 5 + cpu.hi * 7;
            }
            // (Runs of 300 words from `run` may cross into the next page: never past the last one.)
            case 10: cpu.copy32(BASE + ((o.page + 1) % PAGES) * 4096 + 4, run, 300); return 0;
            case 11: { const w = new Int32Array(300); cpu.load32Seq(run, w, 0, 300); return w[0] + w[299] * 3; }
            default: cpu.writeCr3(root); return 0; // flush the TLB
          }
        });
        expect(results[1]).toBe(results[0]);
      }
      expect(b.cpu.allCounters()).toEqual(a.cpu.allCounters());
      for (const lvl of ['l1d', 'l2', 'llc'] as const) expect(contents(b.cpu.caches![lvl])).toEqual(contents(a.cpu.caches![lvl]));
      // The fast path did serve some of them (otherwise this test would compare the slow path with itself).
      if (ops.length > 50) expect(b.cpu.slowAccesses).toBeLessThan(b.cpu.accesses);
    }), { numRuns: 60 });
  });
});

describe('GUPS with caches on (profile m3)', () => {
  it('runs, counts page-table and data lines, and differs from caches off only by cache-priced cycles', async () => {
    const { runGups } = await import('../../lab/gups/engine.js');
    const opts = { design: 'vas' as const, windows: 4, updateSet: 16, pageSize: 4096 as const, log2Table: 14, updates: 2 ** 13 };
    const on = await runGups(machineFromOptions({ profile: 'm3', caches: 'on' }), opts);
    const off = await runGups(machineFromOptions({ profile: 'm3' }), opts);
    expect(on.verification).toEqual(off.verification);
    const cc = on.machineCounters.map((c) => c.caches!);
    const sum = (f: (c: (typeof cc)[number]) => number): number => cc.reduce((s, c) => s + f(c), 0);
    expect(sum((c) => c.data.accesses)).toBeGreaterThan(opts.updates);
    expect(sum((c) => c.pageTable.accesses)).toBeGreaterThan(0);
    expect(sum((c) => c.data.llcMisses)).toBeGreaterThan(0);
    // Caches change costs, not events: the same TLB misses and walks, and each core's clock differs
    // by exactly the data accesses' cache cycles plus the walks' cache-priced references.
    for (const [i, c] of on.machineCounters.entries()) {
      const o = off.machineCounters[i];
      expect({ accesses: c.accesses, walks: c.walks, walkRefs: c.walkRefs, l1Misses: c.l1Misses }).toEqual({ accesses: o.accesses, walks: o.walks, walkRefs: o.walkRefs, l1Misses: o.l1Misses });
      // (the kernel's own references too: their walks and cache misses, components kernel-tlb and kernel-cache)
      const priced = (x: typeof c): number => (x.cyclesBy.cache ?? 0) + (x.cyclesBy.walk ?? 0) + (x.cyclesBy['kernel-tlb'] ?? 0) + (x.cyclesBy['kernel-cache'] ?? 0);
      const diff = priced(c) - priced(o);
      expect(c.modelledCycles - o.modelledCycles).toBeCloseTo(diff, 6);
      expect(c.caches!.dataCycles).toBe(c.cyclesBy.cache ?? 0);
    }
    expect(on.modelledCycles).not.toBe(off.modelledCycles);
    expect(off.machineCounters.every((c) => c.caches === undefined)).toBe(true);
  });
});
