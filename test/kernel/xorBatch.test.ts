import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Kernel, ProcessKilled } from '../../kernel/kernel.js';
import { Cpu, MachineFault } from '../../mmu/cpu.js';
import { MAP_PRIVATE, MAP_ANON } from '../../kernel/vm/vmspace.js';
import { PROT_READ, PROT_WRITE } from '../../kernel/vm/vmMap.js';
import { GiB } from '../../mmu/units.js';

const PAGES = 96; // more than the L1 DTLB's 64 4K entries: hits, STLB hits, walks and faults mix

function machine() {
  const k = new Kernel({ memBytes: GiB, cpus: 1 });
  const p = k.spawn('x', { uid: 1, gid: 1 });
  const va = p.primary.mmap({ addr: null, len: PAGES * 4096, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANON, object: null, offset: 0 });
  const cpu = k.enter(p.threads[0]);
  return { k, p, va, cpu };
}

function snapshot(cpu: Cpu, read: (i: number) => number) {
  const c = cpu.counters();
  const words = Array.from({ length: PAGES * 8 }, (_, i) => read(i));
  // The TLB itself: which pages each L1 and STLB way holds and their LRU stamps.
  const tlb = [...cpu.tlb.l1, cpu.tlb.stlb].map((a) => Array.from({ length: a.entries }, (_, s) => ({ tag: a.tagLoOf(s), hi: a.tagHiOf(s), size: a.sizeOf(s), pcid: a.pcidOf(s) })));
  return { c: { ...c, cyclesBy: undefined }, words, tlb, stamps: Array.from(cpu.tlb.l1Stamp) };
}

describe('Cpu.xor64Batch', () => {
  it('has exactly the modelled effects and results of the same xor64 calls in order', () => {
    fc.assert(fc.property(
      fc.array(fc.array(fc.tuple(fc.nat(PAGES * 512 - 1), fc.integer(), fc.integer()), { minLength: 1, maxLength: Cpu.BATCH }), { minLength: 1, maxLength: 8 }),
      (batches) => {
        const a = machine();
        const b = machine();
        const vas = new Float64Array(Cpu.BATCH);
        const lo = new Int32Array(Cpu.BATCH);
        const hi = new Int32Array(Cpu.BATCH);
        for (const batch of batches) {
          batch.forEach(([w, l, h], i) => { vas[i] = b.va + w * 8; lo[i] = l; hi[i] = h; });
          for (const [w, l, h] of batch) a.cpu.xor64(a.va + w * 8, l, h);
          b.cpu.xor64Batch(vas, lo, hi, batch.length);
        }
        // Word i of the region, sampled across every page (read without touching the model).
        const read = (m: ReturnType<typeof machine>) => (i: number) => {
          const leaf = m.p.primary.pmap.lookup(m.va + Math.floor(i / 8) * 4096);
          return leaf ? m.k.mem.read32(leaf.frame + (i % 8) * 512) : 0;
        };
        expect(snapshot(b.cpu, read(b))).toEqual(snapshot(a.cpu, read(a)));
      },
    ), { numRuns: 40 });
  });

  it('applies the accesses before a fault and none after it', () => {
    const m = machine();
    const vas = new Float64Array([m.va, m.va + 8, 0x5000_0000, m.va + 16]);
    const lo = new Int32Array([1, 2, 3, 4]);
    const hi = new Int32Array(4);
    // Observed as a trace's `expect fault` does: the process survives the unresolvable fault.
    expect(() => m.k.catchingFaults(() => m.cpu.xor64Batch(vas, lo, hi, 4))).toThrow(MachineFault);
    expect(m.cpu.load32(m.va)).toBe(1);
    expect(m.cpu.load32(m.va + 8)).toBe(2);
    expect(m.cpu.load32(m.va + 16)).toBe(0);
    // And without a handler that survives it, the process is killed with the report.
    expect(() => m.cpu.xor64Batch(vas, lo, hi, 4)).toThrow(ProcessKilled);
    expect(m.p.killedBy).toMatch(/write at 0x5000_0000/);
  });
});
