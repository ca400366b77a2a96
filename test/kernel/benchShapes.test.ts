// Tiny runs of the vas-switch and tlb-tagging benchmarks' measurement functions: the modelled
// results must have the physically expected shape (Table 6 and Figure 47 of the reference).

import { describe, it, expect } from 'vitest';
import { measureSwitchBreakdown, measureMmapCycles, mmapRig, TABLE6 } from '../../bench/vasSwitch.js';
import { measureFigure47, type Fig47Point, type Fig47Series } from '../../bench/tlbTagging.js';
import { PROFILE_M2 } from '../../mmu/costModel.js';

describe('bench vas-switch: Table 6 in the model, from events', () => {
  const p = PROFILE_M2.params;
  const u = measureSwitchBreakdown('m2', false, 4);
  const t = measureSwitchBreakdown('m2', true, 4);

  it('every cycle of a switch comes from a named event', () => {
    for (const b of [u, t]) {
      expect(b.other).toBe(0);
      expect(b.syscall).toBe(p.syscall);
      expect(b.lock).toBe(p.atomicRmw); // the process's VAS lock
      expect(b.pmapActivate).toBe(2 * p.atomicRmw); // pm_active bit out of the old pmap, into the new
      expect(b.kernelCache).toBe(0); // caches off
      expect(b.stable).toBe(true);
      // The kernel's TLB component is exactly what its own references' TLB counters add up to.
      expect(b.kernelTlb).toBe(b.kernelWalkRefs * p.walkRef + b.kernelStlbHits * p.stlbHit);
      expect(b.kernelRefs).toBeGreaterThan(10);
    }
    expect([u.cr3, t.cr3]).toEqual([p.cr3Load, p.cr3LoadTagged]);
    expect([u.tlbFlushes, t.tlbFlushes]).toEqual([1, 0]);
  });

  it('the untagged switch\'s extra cost is the CR3 difference plus the refills its flush caused', () => {
    expect(t.kernelWalks).toBe(0); // tagged: the kernel's entries of both spaces survive
    expect(u.kernelWalks).toBeGreaterThanOrEqual(8); // untagged: every kernel page the path touches again
    expect(u.total - t.total).toBe((p.cr3Load - p.cr3LoadTagged) + (u.kernelTlb - t.kernelTlb));
    expect(u.kernelTlb).toBeGreaterThanOrEqual(u.kernelWalks * p.walkRef);
    // Dearer walks, dearer refills, and nothing else moves.
    const u60 = measureSwitchBreakdown('m2', false, 4, { costs: 'walkRef=60' });
    expect(u60.total - u.total).toBe(u.kernelWalkRefs * 30);
  });

  it('global kernel entries survive the flush: no refills, untagged costs the switch\'s events only', () => {
    const g = measureSwitchBreakdown('m2', false, 4, { costs: 'kernelGlobal=1' });
    expect(g.kernelWalks).toBe(0);
    expect(g.total).toBe(p.syscall + p.cr3Load + 3 * p.atomicRmw + g.kernelStlbHits * p.stlbHit);
  });

  it('the Barrelfish column differs only by its measured syscall (one emulated kernel)', () => {
    const bu = measureSwitchBreakdown('m2-barrelfish', false, 2);
    const bt = measureSwitchBreakdown('m2-barrelfish', true, 2);
    expect(u.total - bu.total).toBe(357 - 130);
    expect(t.total - bt.total).toBe(357 - 130);
  });

  it('comes out near the reference without being fitted to it (docs/cost-model.md says how near)', () => {
    expect(u.total).toBeGreaterThan(t.total);
    for (const [m, r] of [[u.total, TABLE6.m2.untagged.vasSwitch], [t.total, TABLE6.m2.tagged.vasSwitch]]) {
      expect(m / r).toBeGreaterThan(0.7);
      expect(m / r).toBeLessThan(1.1);
    }
  });

  it('mmap+munmap of a populated window costs more as it grows, and more than a switch', () => {
    const m = mmapRig({ filePages: 256 });
    const c1 = measureMmapCycles(m, 1, 2);
    const c16 = measureMmapCycles(m, 16, 2);
    const c256 = measureMmapCycles(m, 256, 2);
    expect(c1.stable && c16.stable && c256.stable).toBe(true);
    expect(c1.total).toBeGreaterThan(measureSwitchBreakdown('m2', false, 2).total);
    expect(c16.total).toBeGreaterThan(c1.total);
    expect(c256.total).toBeGreaterThan(c16.total);
    // Beyond the fixed part, the cost grows with every page entered and removed.
    expect(c256.total / 256).toBeGreaterThan(2 * PROFILE_M2.params.pteWrite);
  });
});

describe('bench tlb-tagging: Figure 47 in the model', () => {
  const small = 4;
  const big = 4096;
  const run = (): Fig47Point[] => measureFigure47({ pages: [small, big], accesses: 400, warmup: (p) => Math.min(8 * p + 200, 3000), seed: 7 });
  const points = run();
  const pt = (s: Fig47Series, p: number): Fig47Point => points.find((x) => x.series === s && x.pages === p)!;
  const at = (s: Fig47Series, p: number): number => pt(s, p).cyclesPerAccess;
  const c = PROFILE_M2.params;
  const fullWalk = c.dataAccess + 4 * c.walkRef;

  it('within TLB reach a tagged switch keeps the translations; an untagged one walks every time', () => {
    expect(at('untagged', small)).toBe(fullWalk);
    expect(pt('tagged', small).walksPerAccess).toBe(0);
    // What tagged pays above a plain load is STLB hits: the switch's kernel references took L1 DTLB entries.
    expect(at('tagged', small)).toBeCloseTo(c.dataAccess + pt('tagged', small).stlbHitRate * c.stlbHit, 6);
    expect(at('taggedSameSpace', small)).toBe(c.dataAccess);
    expect(at('noSwitch', small)).toBe(c.dataAccess);
  });

  it('beyond TLB reach tagging helps less: tagged converges on the no-switch baseline', () => {
    expect(at('untagged', big)).toBe(fullWalk); // a flush empties the paging-structure caches too
    expect(pt('tagged', big).walksPerAccess).toBeGreaterThan(0.5);
    expect(at('tagged', big)).toBeGreaterThanOrEqual(at('noSwitch', big));
    expect(at('tagged', big)).toBeLessThan(at('untagged', big));
    expect(at('tagged', big) / at('noSwitch', big)).toBeLessThan(1.5);
    const gainSmall = at('untagged', small) / at('tagged', small);
    const gainBig = at('untagged', big) / at('tagged', big);
    expect(gainBig).toBeLessThan(gainSmall / 2);
  });

  it('the switch itself is excluded from the per-access figure and is the vas-switch bench\'s', () => {
    expect(pt('untagged', small).switchCyclesPerIteration).toBe(measureSwitchBreakdown('m2', false, 2).total);
    expect(pt('tagged', small).switchCyclesPerIteration).toBe(measureSwitchBreakdown('m2', true, 2).total);
    expect(points.find((x) => x.series === 'noSwitch')!.switchCyclesPerIteration).toBe(0);
  });

  it('with caches on the tagged and untagged curves meet once the working set outgrows the TLB and caches', () => {
    const pts = measureFigure47({ pages: [small, 16384], accesses: 400, warmup: (p) => Math.min(8 * p + 200, 3000), seed: 7, series: ['untagged', 'tagged'], caches: true });
    const cyc = (s: Fig47Series, p: number): number => pts.find((x) => x.series === s && x.pages === p)!.cyclesPerAccess;
    expect(cyc('untagged', small) / cyc('tagged', small)).toBeGreaterThan(2);
    expect(cyc('untagged', 16384) / cyc('tagged', 16384)).toBeLessThan(1.3);
    expect(cyc('tagged', 16384)).toBeGreaterThan(c.llcLatency); // the data line's own miss dominates
  });

  it('is deterministic for a seed', () => {
    expect(run()).toEqual(points);
  });
});
