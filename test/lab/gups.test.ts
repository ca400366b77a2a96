import { describe, it, expect } from 'vitest';
import { runGups } from '../../lab/gups/engine.js';
import { planGups } from '../../lab/gups/plan.js';
import { DEFAULT_MACHINE, machineFromOptions } from '../../kernel/machineConfig.js';
import { createTable, applyUpdates, tableChecksum } from '../../userland/gups/hpcc.js';
import type { GupsDesign } from '../../userland/gups/designs.js';

const small = { log2Table: 14, updates: 4 * 2 ** 14, pageSize: 4096 as const };

describe('GUPS designs', () => {
  it('every design verifies and leaves exactly HPCC\'s table (same checksum as a host run)', async () => {
    const host = createTable(small.log2Table);
    applyUpdates(host, 0, small.updates);
    const want = tableChecksum(host);
    for (const design of ['map', 'mp', 'vas'] as GupsDesign[]) {
      for (const windows of [1, 4]) {
        const r = await runGups(DEFAULT_MACHINE, { design, windows, updateSet: 16, ...small });
        expect(r.verification, `${design} ${windows}`).toEqual({ errors: 0, passed: true });
        expect(r.checksum, `${design} ${windows}`).toBe(want);
      }
    }
  });

  it('has the reference\'s shape: equal at one window, MAP far slower with more, VAS at least MP', async () => {
    const run = (design: GupsDesign, windows: number) => runGups(DEFAULT_MACHINE, { design, windows, updateSet: 16, ...small });
    const one = await Promise.all((['map', 'mp', 'vas'] as GupsDesign[]).map((d) => run(d, 1)));
    const m1 = one.map((r) => r.modelledMups);
    expect(Math.max(...m1) / Math.min(...m1)).toBeLessThan(1.05);
    const [map4, mp4, vas4] = await Promise.all((['map', 'mp', 'vas'] as GupsDesign[]).map((d) => run(d, 4)));
    expect(map4.modelledMups).toBeLessThan(m1[0] / 10);
    expect(vas4.modelledMups).toBeGreaterThanOrEqual(mp4.modelledMups);
    expect(vas4.windowChanges).toBeGreaterThan(0);
  });

  it('each result explains itself: the measured phase\'s events, summed over cores, add up to its modelled time', async () => {
    const on = machineFromOptions({ profile: 'm3', caches: 'on' });
    for (const design of ['mp', 'vas'] as GupsDesign[]) {
      const r = await runGups(on, { design, windows: 4, updateSet: 16, ...small });
      const e = r.events;
      expect(e.windowChanges).toBe(r.windowChanges);
      expect(e.walks / r.updates).toBeCloseTo(r.walksPerUpdate, 12);
      // The stream's core's clock is the run's modelled time: its cycles by component sum to it.
      const stream = Object.values(e.streamCoreCyclesBy).reduce((a, b) => a + b, 0);
      expect(stream).toBeCloseTo(r.modelledCycles, 3);
      expect(e.perUpdate.cycles).toBeCloseTo(r.modelledCycles / r.updates, 9);
      // Data and page-table lines, by the level that served them; every update touched the table.
      expect(e.data!.accesses).toBeGreaterThan(r.updates);
      expect(e.data!.llcMisses).toBe(e.data!.dramLocal + e.data!.dramRemote);
      expect(e.pageTable!.accesses).toBeGreaterThanOrEqual(e.walkRefs > 0 ? 1 : 0);
      if (design === 'vas') expect(e.streamCoreCyclesBy.syscall).toBeGreaterThan(0); // the vas_switch calls
      if (design === 'mp') expect(e.cyclesBy.copy).toBeGreaterThan(0); // the RPCs' copies
    }
    const off = await runGups(DEFAULT_MACHINE, { design: 'vas', windows: 2, updateSet: 16, ...small });
    expect(off.events.data).toBeNull();
    expect(off.events.perUpdate.dataLlcMisses).toBeNull();
  });

  it('modelled results are deterministic for a seed', async () => {
    const a = await runGups(DEFAULT_MACHINE, { design: 'mp', windows: 2, updateSet: 16, ...small });
    const b = await runGups(DEFAULT_MACHINE, { design: 'mp', windows: 2, updateSet: 16, ...small });
    expect(a.modelledCycles).toBe(b.modelledCycles);
    expect(a.windowChanges).toBe(b.windowChanges);
  });

  it('runs with 2 MiB pages', async () => {
    const r = await runGups(DEFAULT_MACHINE, { design: 'vas', windows: 2, updateSet: 64, log2Table: 19, updates: 2 ** 16, pageSize: 2097152 });
    expect(r.verification.passed).toBe(true);
    // A flushing switch per visited set costs a walk for the window page and one for the heap
    // page; with 2 MiB pages nothing else misses.
    expect(r.walksPerUpdate).toBeLessThan(3 / 64);
  });

  it('rejects bad options with one clear sentence', () => {
    const bad = (o: Parameters<typeof planGups>[0]) => () => planGups(o, DEFAULT_MACHINE);
    expect(bad({ design: 'nope' })).toThrow(/unknown design "nope"/);
    expect(bad({ windows: '3' })).toThrow(/not a power of two/);
    expect(bad({ windows: '0' })).toThrow(/not a positive integer/);
    expect(bad({ table: '0' })).toThrow(/positive/);
    expect(bad({ table: '3M' })).toThrow(/power of two/);
    expect(bad({ updates: '0' })).toThrow(/positive/);
    expect(bad({ pageSize: '8K' })).toThrow(/4K or 2M/);
    expect(bad({ table: '4M', windows: '2', pageSize: '2M' })).not.toThrow();
    expect(bad({ table: '4M', windows: '4', pageSize: '2M' })).toThrow(/whole number of 2M pages/);
  });
});
