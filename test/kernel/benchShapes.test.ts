// Tiny runs of the vas-switch and tlb-tagging benchmarks' measurement functions: the modelled
// results must have the physically expected shape (Table 6 and Figure 47 of the reference).

import { describe, it, expect } from 'vitest';
import { measureSwitchBreakdown, measureMmapCycles, mmapRig, TABLE6 } from '../../bench/vasSwitch.js';
import { measureFigure47, type Fig47Point, type Fig47Series } from '../../bench/tlbTagging.js';
import { PROFILE_M2 } from '../../mmu/costModel.js';

describe('bench vas-switch: Table 6 in the model', () => {
  it('m2: a tagged switch costs 807 cycles and an untagged one 1127, by component', () => {
    const u = measureSwitchBreakdown('m2', false, 4);
    const t = measureSwitchBreakdown('m2', true, 4);
    expect(u.total).toBe(1127);
    expect(t.total).toBe(807);
    expect([u.syscall, u.cr3, u.kernel, u.refill, u.other]).toEqual([357, 130, 226, 414, 0]);
    expect([t.syscall, t.cr3, t.kernel, t.refill, t.other]).toEqual([357, 224, 226, 0, 0]);
    expect(u.tlbFlushes).toBe(1);
    expect(t.tlbFlushes).toBe(0);
    expect(u.stable && t.stable).toBe(true);
    expect(u.total).toBe(TABLE6.m2.untagged.vasSwitch);
    expect(t.total).toBe(TABLE6.m2.tagged.vasSwitch);
  });

  it('m2-barrelfish: 664 untagged, 462 tagged', () => {
    expect(measureSwitchBreakdown('m2-barrelfish', false, 2).total).toBe(664);
    expect(measureSwitchBreakdown('m2-barrelfish', true, 2).total).toBe(462);
  });

  it('mmap+munmap of a populated window costs more as it grows, and more than a switch', () => {
    const m = mmapRig({ filePages: 256 });
    const c1 = measureMmapCycles(m, 1, 2);
    const c16 = measureMmapCycles(m, 16, 2);
    const c256 = measureMmapCycles(m, 256, 2);
    expect(c1.stable && c16.stable && c256.stable).toBe(true);
    expect(c1.total).toBeGreaterThan(TABLE6.m2.untagged.vasSwitch);
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
  const at = (s: Fig47Series, p: number): number => points.find((x) => x.series === s && x.pages === p)!.cyclesPerAccess;
  const fullWalk = PROFILE_M2.params.dataAccess + 4 * PROFILE_M2.params.walkRef;

  it('within TLB reach a tagged switch keeps the translations; an untagged one walks every time', () => {
    expect(at('untagged', small)).toBe(fullWalk);
    expect(at('tagged', small)).toBe(PROFILE_M2.params.dataAccess);
    expect(at('tagged', small)).toBe(at('noSwitch', small));
    expect(at('taggedSameSpace', small)).toBe(at('noSwitch', small));
  });

  it('beyond TLB reach tagging helps less: tagged converges on the no-switch baseline', () => {
    expect(at('untagged', big)).toBe(fullWalk); // a flush empties the paging-structure caches too
    expect(at('tagged', big)).toBeGreaterThan(3 * at('tagged', small));
    expect(at('tagged', big)).toBeGreaterThanOrEqual(at('noSwitch', big));
    expect(at('tagged', big)).toBeLessThan(at('untagged', big));
    expect(at('tagged', big) / at('noSwitch', big)).toBeLessThan(1.5);
    const gainSmall = at('untagged', small) / at('tagged', small);
    const gainBig = at('untagged', big) / at('tagged', big);
    expect(gainBig).toBeLessThan(gainSmall / 4);
  });

  it('the switch itself is excluded from the per-access figure and is Table 6\'s', () => {
    const u = points.find((x) => x.series === 'untagged' && x.pages === small)!;
    const t = points.find((x) => x.series === 'tagged' && x.pages === small)!;
    expect(u.switchCyclesPerIteration).toBe(1127);
    expect(t.switchCyclesPerIteration).toBe(807);
    expect(points.find((x) => x.series === 'noSwitch')!.switchCyclesPerIteration).toBe(0);
  });

  it('is deterministic for a seed', () => {
    expect(run()).toEqual(points);
  });
});
