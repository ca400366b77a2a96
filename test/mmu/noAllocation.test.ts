import { describe, it, expect } from 'vitest';
import { PerformanceObserver, constants as perfConstants, performance } from 'node:perf_hooks';
import { PhysicalMemory } from '../../mmu/physicalMemory.js';
import { Cpu } from '../../mmu/cpu.js';
import { GiB, MiB } from '../../mmu/units.js';
import { PtBuilder } from './ptBuilder.js';
import { gupsMmuBatch } from '../../bench/mmu.js';

// The per-access path allocates nothing, for any physical address: a pa of 2^31 or more is no Smi,
// and a number V8 returns (or passes) across a call it did not inline is then a fresh HeapNumber.
// tryTranslate once returned pa, so every translation to a frame above 2 GiB allocated (GUPS batch
// over 2M pages at 3 GiB: 15 young-generation collections per million updates; see
// docs/performance.md, sixth round). This runs that batch loop, warmed up, and requires that the
// measured updates start no collection and leave the heap no larger (the loop allocates nothing,
// so the heap's used size moves only by what the JIT allocates, a few KiB). Over 2M pages the
// updates are STLB and L1 hits; over 4K pages nearly every one is a walk and a fill (the frame
// goes to Tlb.fill / TlbArray.insert as halves: a frame passed as one number allocated per walk).

const REGION = 256 * MiB;
const DATA_PA = 3 * GiB; // every pa >= 2^31
const VA = 0x7f00_0000_0000;

function machine(size: '4K' | '2M'): Cpu {
  const mem = new PhysicalMemory({ bytes: 4 * GiB, nodes: 1 });
  const pt = new PtBuilder(mem, 4, { base: 16 * MiB, limit: 20 * MiB });
  const step = size === '4K' ? 4096 : 2 * MiB;
  for (let off = 0; off < REGION; off += step) pt.map(VA + off, DATA_PA + off, { size, writable: true, user: true });
  const cpu = new Cpu(mem, { paging: 4 });
  cpu.writeCr3(pt.root);
  return cpu;
}

/** `ops` GUPS updates (bench mmu's LFSR stream) through xor64Batch, 64 at a time. */
function updates(cpu: Cpu, ops: number): void {
  gupsMmuBatch(cpu, VA, REGION / 8 - 1, ops);
}

describe('the batch access path', () => {
  it.each([
    ['2M', 'STLB hits, L1 hits, front fills over 2M pages', 'stlbHits'],
    ['4K', 'walks and fills over 4K pages', 'walks'],
  ] as const)('allocates nothing for frames above 2 GiB (%s: %s)', async (size, _what, counter) => {
    const cpu = machine(size);
    const gcs: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gcs.push(e.startTime);
    });
    obs.observe({ entryTypes: ['gc'] });
    try {
      updates(cpu, 400_000); // warm up: the loop and the translation path optimised
      // A window may start a collection the warm-up's garbage had all but due; take up to three
      // windows and judge the first without one. Allocating ~12 bytes per translation (the
      // HeapNumber of a returned pa) fills the young generation several times in each window.
      const windows: { gcs: number; bytes: number; events: number }[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        const c0 = cpu.counters();
        const t0 = performance.now();
        const used0 = process.memoryUsage().heapUsed;
        updates(cpu, 400_000);
        const used1 = process.memoryUsage().heapUsed;
        const t1 = performance.now();
        await new Promise((r) => { setTimeout(r, 100); }); // GC entries arrive some turns later
        const w = { gcs: gcs.filter((t) => t >= t0 && t <= t1).length, bytes: used1 - used0, events: cpu.counters()[counter] - c0[counter] };
        windows.push(w);
        if (w.gcs === 0) break;
      }
      const w = windows[windows.length - 1];
      // The run is the one meant: mostly STLB hits (2M) or walks (4K), every one translated to >= 2^31.
      expect(w.events).toBeGreaterThan(200_000);
      expect(windows.map((x) => x.gcs)).toContain(0);
      // A HeapNumber per STLB hit would be >= 12 bytes x 200k, one per front fill (the last to go)
      // ~150 KiB; allow what the JIT may add (0.16 bytes per update).
      expect(w.bytes).toBeLessThan(64 * 1024);
    } finally {
      obs.disconnect();
    }
  });
});
