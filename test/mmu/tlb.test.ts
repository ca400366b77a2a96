import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../mmu/physicalMemory.js';
import { Cpu, MachineFault, ACCESS_READ, ACCESS_WRITE } from '../../mmu/cpu.js';
import { SKYLAKE_TLB, SIZE_4K, SIZE_2M, TlbArray, type TlbGeometry } from '../../mmu/tlb.js';
import { splitBig } from '../../mmu/address.js';
import { MiB } from '../../mmu/units.js';
import { PtBuilder, type MapOptions } from './ptBuilder.js';
import { frontViolations } from './frontCheck.js';

const VA = 0x4000_0000; // 1 GiB: PML4 0, PDPT 1
const frame = (k: number): number => 16 * MiB + k * 4096;
const RW_USER: MapOptions = { writable: true, user: true };

function machine(levels: 4 | 5 = 4, tlb: TlbGeometry = SKYLAKE_TLB) {
  const mem = new PhysicalMemory({ bytes: 64 * MiB });
  const a = new PtBuilder(mem, levels, { base: 1 * MiB, limit: 8 * MiB });
  const b = new PtBuilder(mem, levels, { base: 8 * MiB, limit: 15 * MiB });
  const cpu = new Cpu(mem, { paging: levels, tlb });
  cpu.writeCr3(a.root);
  const walks = (fn: () => void): number => { const w = cpu.walks; fn(); return cpu.walks - w; };
  return { mem, a, b, cpu, walks };
}

/** Is (va, pcid) cached in the L1 4K array? */
function inL1(cpu: Cpu, va: number, pcid = cpu.pcid): boolean {
  const [lo, hi] = splitBig(BigInt(va));
  return cpu.tlb.l1[SIZE_4K - 1].lookup(lo, hi, SIZE_4K, pcid) >= 0;
}
function inStlb(cpu: Cpu, va: number, pcid = cpu.pcid, size = SIZE_4K): boolean {
  const [lo, hi] = splitBig(BigInt(va));
  return cpu.tlb.stlb.lookup(lo, hi, size, pcid) >= 0;
}

describe('TLB hits and geometry', () => {
  it('a second access to a page is a hit and does not walk; counters agree', () => {
    const { a, cpu, walks, mem } = machine();
    a.map(VA, frame(1), RW_USER);
    mem.write32(frame(1) + 8, 1234);
    expect(walks(() => expect(cpu.load32(VA + 8)).toBe(1234))).toBe(1);
    expect(walks(() => expect(cpu.load32(VA + 8)).toBe(1234))).toBe(0);
    expect(walks(() => cpu.store32(VA + 12, 99))).toBe(1); // first write re-walks to set D
    expect(walks(() => cpu.store32(VA + 12, 100))).toBe(0);
    expect(mem.read32(frame(1) + 12)).toBe(100);
    const c = cpu.counters();
    expect(c.accesses).toBe(4);
    expect(c.walks).toBe(2);
    // the first write hit L1 but walked again to set D (an assist, not a miss)
    expect(c.l1Hits).toBe(3);
    expect(c.l1Misses).toBe(1);
    expect(c.modelledCycles).toBe(cpu.cycles + 4 * cpu.costs.dataAccess);
    expect(cpu.tlb.occupancy()['L1 DTLB 4K'].valid).toBe(1);
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('fills a 4-way L1 set beyond its ways and evicts the least recently used entry', () => {
    const { a, cpu, walks } = machine();
    const sets = SKYLAKE_TLB.l1_4k.entries / SKYLAKE_TLB.l1_4k.ways; // 16
    const page = (k: number): number => VA + k * sets * 4096; // all in L1 set 0
    for (let k = 0; k < 6; k++) a.map(page(k), frame(k), RW_USER);
    for (let k = 0; k < 4; k++) cpu.load32(page(k));
    for (let k = 0; k < 4; k++) expect(inL1(cpu, page(k))).toBe(true);
    cpu.load32(page(0)); // page 1 is now the LRU way
    const l1 = cpu.tlb.l1[0];
    const [lo1, hi1] = splitBig(BigInt(page(1)));
    const slotOf1 = l1.lookup(lo1, hi1, SIZE_4K, 0);
    cpu.load32(page(4));
    expect(inL1(cpu, page(1))).toBe(false);
    for (const k of [0, 2, 3, 4]) expect(inL1(cpu, page(k))).toBe(true);
    const [lo4, hi4] = splitBig(BigInt(page(4)));
    expect(l1.lookup(lo4, hi4, SIZE_4K, 0)).toBe(slotOf1); // took exactly the victim's way
    cpu.load32(page(5)); // next LRU: page 2
    expect(inL1(cpu, page(2))).toBe(false);
    // the evicted page is still in the STLB: promoted back without a walk, charged an STLB hit
    const stlbHits = cpu.stlbHits;
    const cycles = cpu.cycles;
    expect(walks(() => cpu.load32(page(1)))).toBe(0);
    expect(cpu.stlbHits).toBe(stlbHits + 1);
    expect(cpu.cycles - cycles).toBe(cpu.costs.stlbHit);
    expect(inL1(cpu, page(1))).toBe(true);
    expect(inL1(cpu, page(3))).toBe(false); // page 3 was LRU after 0,4,5
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('LRU stays exact when fast accesses to one page are interleaved with slow ones', () => {
    // Repeated fast accesses to one page may skip refreshing its stamp only while nothing else
    // was accessed in between; a slow (here supervisor) access elsewhere ends that run.
    const { a, cpu } = machine();
    const page = (k: number): number => VA + k * 16 * 4096; // L1 set 0
    for (let k = 0; k < 5; k++) a.map(page(k), frame(k), RW_USER);
    for (let k = 0; k < 4; k++) cpu.load32(page(k));
    cpu.load32(page(0));
    for (let k = 1; k < 4; k++) cpu.translateBig(BigInt(page(k)), ACCESS_READ, false);
    cpu.load32(page(0)); // most recent again
    cpu.load32(page(4)); // evicts the LRU: page 1
    expect(inL1(cpu, page(0))).toBe(true);
    expect(inL1(cpu, page(1))).toBe(false);
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('the front cache never serves a page the L1 evicted', () => {
    const { a, cpu } = machine();
    const sets = 16;
    const page = (k: number): number => VA + k * sets * 4096;
    for (let k = 0; k < 5; k++) a.map(page(k), frame(k), RW_USER);
    cpu.load32(page(0)); // front entry for page 0
    for (let k = 1; k < 5; k++) cpu.load32(page(k)); // evicts page 0 from L1
    expect(inL1(cpu, page(0))).toBe(false);
    const misses = cpu.l1Misses;
    cpu.load32(page(0));
    expect(cpu.l1Misses).toBe(misses + 1); // a front hit would not have counted a miss
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('STLB replacement is LRU and deterministic (small geometry)', () => {
    const geo: TlbGeometry = { ...SKYLAKE_TLB, l1_4k: { entries: 4, ways: 4 }, stlb: { entries: 8, ways: 2 } };
    const run = (): boolean[] => {
      const { a, cpu } = machine(4, geo);
      const page = (k: number): number => VA + k * 4 * 4096; // STLB set 0 (4 sets)
      for (let k = 0; k < 4; k++) a.map(page(k), frame(k), RW_USER);
      cpu.load32(page(0));
      cpu.load32(page(1));
      // page 0 is used again from the STLB after L1 drops it
      for (let k = 0; k < 4; k++) a.map(VA + 4096 + k * 4096, frame(8 + k), RW_USER);
      for (let k = 0; k < 4; k++) cpu.load32(VA + 4096 + k * 4096); // flush L1 with other pages
      cpu.load32(page(0)); // STLB hit: page 0 becomes MRU in its set
      cpu.load32(page(2)); // evicts page 1 (LRU), not page 0
      return [inStlb(cpu, page(0)), inStlb(cpu, page(1)), inStlb(cpu, page(2))];
    };
    expect(run()).toEqual([true, false, true]);
    expect(run()).toEqual(run());
  });

  it('2 MiB pages live in their own L1 array and in the unified STLB', () => {
    const { a, cpu, walks } = machine();
    a.map(0x4000_0000, 32 * MiB, { ...RW_USER, size: '2M' });
    expect(walks(() => cpu.load32(0x4000_0000 + 0x12345 * 4))).toBe(1);
    expect(walks(() => cpu.load32(0x4000_0000 + 0x1ff000))).toBe(0); // same 2M page
    expect(cpu.tlb.occupancy()['L1 DTLB 2M'].valid).toBe(1);
    const [lo, hi] = splitBig(0x4000_0000n);
    expect(cpu.tlb.stlb.lookup(lo, hi, SIZE_2M, 0)).toBeGreaterThanOrEqual(0);
  });
  it('keeps a frame above 4 GiB given as halves (low word as an int32, high bits apart)', () => {
    const arr = new TlbArray('STLB', { entries: 64, ways: 4 }, new Uint32Array(4096), undefined, 0, new Int32Array(1), true);
    const l1 = new TlbArray('L1', { entries: 16, ways: 4 }, new Uint32Array(4096));
    for (const frame of [0x5_8000_1000, 0xf_ffff_f000, 0x7fff_f000, 0x1_0000_0000]) {
      const lo = frame & 0xfff000;
      const s = arr.insert(lo, 0, SIZE_4K, 0, frame | 0, Math.floor(frame / 2 ** 32), 0, 0, 1, false, l1);
      expect(l1.frameOf(s)).toBe(frame);
      expect(arr.frameOf(arr.lookup(lo, 0, SIZE_4K, 0))).toBe(frame);
    }
  });
  it('a fully associative STLB with more than 255 ways finds every entry (the per-set size index counts past a byte)', () => {
    const arr = new TlbArray('STLB', { entries: 512, ways: 512 }, new Uint32Array(4096), undefined, 0, new Int32Array(1), true);
    for (let p = 0; p < 400; p++) arr.insert(p * 4096, 0, SIZE_4K, 0, 0x10000 + p * 4096, 0, 0, 0, p + 1, true);
    for (let p = 0; p < 400; p++) expect(arr.lookup(p * 4096, 0, SIZE_4K, 0)).toBeGreaterThanOrEqual(0);
    expect(arr.lookup(400 * 4096, 0, SIZE_4K, 0)).toBe(-1);
    expect(arr.checkIndex()).toEqual([]);
  });
});

describe('PCIDs and CR3', () => {
  it('two PCIDs keep the same VA apart, and the no-flush bit keeps both cached', () => {
    const { a, b, cpu, walks } = machine();
    a.map(VA, frame(1), RW_USER);
    b.map(VA, frame(2), RW_USER);
    cpu.writeCr4({ pcide: true });
    cpu.writeCr3(a.root, 1);
    cpu.store32(VA, 111);
    cpu.writeCr3(b.root, 2);
    cpu.store32(VA, 222);
    expect(cpu.mem.read32(frame(1))).toBe(111);
    expect(cpu.mem.read32(frame(2))).toBe(222);
    cpu.writeCr3(a.root, 1, true);
    expect(walks(() => expect(cpu.load32(VA)).toBe(111))).toBe(0);
    cpu.writeCr3(b.root, 2, true);
    expect(walks(() => expect(cpu.load32(VA)).toBe(222))).toBe(0);
    // a flushing load of PCID 1 drops PCID 1 only
    cpu.writeCr3(a.root, 1);
    expect(walks(() => expect(cpu.load32(VA)).toBe(111))).toBe(1);
    cpu.writeCr3(b.root, 2, true);
    expect(walks(() => expect(cpu.load32(VA)).toBe(222))).toBe(0);
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('with PCIDE clear every CR3 write flushes non-global entries and PCID/no-flush are #GP', () => {
    const { a, cpu, walks } = machine();
    a.map(VA, frame(1), RW_USER);
    cpu.load32(VA);
    cpu.writeCr3(a.root);
    expect(walks(() => cpu.load32(VA))).toBe(1);
    expect(() => cpu.writeCr3(a.root, 1)).toThrow(/PCID/);
    expect(() => cpu.writeCr3(a.root, 0, true)).toThrow(/bit 63/);
    expect(() => cpu.writeCr3(a.root + 8)).toThrow(/aligned/);
    expect(cpu.cr3Writes).toBe(2);
    // the untagged load costs the untagged figure, the tagged one the tagged figure
    const c0 = cpu.cycles;
    cpu.writeCr3(a.root);
    expect(cpu.cycles - c0).toBe(cpu.costs.cr3Load);
    cpu.writeCr4({ pcide: true });
    const c1 = cpu.cycles;
    cpu.writeCr3(a.root, 3, true);
    expect(cpu.cycles - c1).toBe(cpu.costs.cr3LoadTagged);
    // the no-flush bit is not stored
    expect(cpu.pcid).toBe(3);
    expect(cpu.cr3Base).toBe(a.root);
  });

  it('setting CR4.PCIDE needs PCID 0; clearing it flushes everything, globals too, and tags with PCID 0', () => {
    const { a, cpu, walks } = machine();
    a.map(VA, frame(1), { ...RW_USER, global: true });
    a.map(VA + 4096, frame(2), RW_USER);
    cpu.writeCr4({ pcide: true });
    cpu.writeCr3(a.root, 7);
    cpu.load32(VA);
    cpu.load32(VA + 4096);
    expect(() => cpu.writeCr4({ pcide: true })).not.toThrow(); // unchanged: nothing happens
    expect(walks(() => cpu.load32(VA))).toBe(0);
    cpu.writeCr4({ pcide: false });
    expect(cpu.pcid).toBe(0);
    expect(walks(() => cpu.load32(VA))).toBe(1);
    expect(walks(() => cpu.load32(VA + 4096))).toBe(1);
    // entries made now are PCID 0's: a CR3 write (PCID 0) drops the non-global one
    cpu.writeCr3(a.root);
    expect(walks(() => cpu.load32(VA + 4096))).toBe(1);
    expect(walks(() => cpu.load32(VA))).toBe(0);
    expect(() => cpu.writeCr4({ pcide: true })).not.toThrow();
    expect(frontViolations(cpu)).toEqual([]);
  });
});

describe('global pages', () => {
  it('survive CR3 writes only while CR4.PGE is set, and are shared across PCIDs', () => {
    const { a, b, cpu, walks } = machine();
    a.map(VA, frame(1), { ...RW_USER, global: true });
    b.map(VA + 4096, frame(2), RW_USER);
    expect(cpu.pge).toBe(true);
    cpu.load32(VA);
    cpu.writeCr3(a.root);
    expect(walks(() => cpu.load32(VA))).toBe(0);
    // another address space (that does not even map it) still sees the global translation
    cpu.writeCr3(b.root);
    expect(walks(() => cpu.load32(VA))).toBe(0);
    cpu.writeCr4({ pcide: true });
    cpu.writeCr3(b.root, 9);
    expect(walks(() => cpu.load32(VA))).toBe(0);
    // without PGE the G bit is ignored
    cpu.writeCr4({ pcide: false });
    cpu.writeCr4({ pge: false });
    cpu.writeCr3(a.root);
    cpu.load32(VA);
    cpu.writeCr3(a.root);
    expect(walks(() => cpu.load32(VA))).toBe(1);
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('toggling CR4.PGE flushes global entries', () => {
    for (const from of [true, false]) {
      const { a, cpu, walks } = machine();
      a.map(VA, frame(1), { ...RW_USER, global: true });
      cpu.writeCr4({ pge: from });
      cpu.load32(VA);
      expect(walks(() => cpu.load32(VA))).toBe(0);
      cpu.writeCr4({ pge: !from });
      expect(walks(() => cpu.load32(VA))).toBe(1);
      const before = cpu.tlbFlushes;
      cpu.writeCr4({ pge: !from }); // no change: no flush
      expect(cpu.tlbFlushes).toBe(before);
      expect(walks(() => cpu.load32(VA))).toBe(0);
    }
  });
});

describe('INVLPG and INVPCID', () => {
  function twoPcids() {
    const m = machine();
    const { a, b, cpu } = m;
    a.map(VA, frame(1), RW_USER);
    a.map(VA + 4096, frame(2), RW_USER);
    a.map(VA + 0x10000, frame(3), { ...RW_USER, global: true });
    b.map(VA, frame(4), RW_USER);
    cpu.writeCr4({ pcide: true });
    cpu.writeCr3(b.root, 2);
    cpu.load32(VA);
    cpu.writeCr3(a.root, 1);
    for (const va of [VA, VA + 4096, VA + 0x10000]) cpu.load32(va);
    return m;
  }

  it('INVLPG drops the page for the current PCID and global entries for it, and the PCID\'s PSCs', () => {
    const { a, cpu, walks } = twoPcids();
    cpu.invlpgAddr(VA);
    expect(inL1(cpu, VA, 1)).toBe(false);
    expect(inStlb(cpu, VA, 1)).toBe(false);
    expect(inL1(cpu, VA, 2)).toBe(true); // other PCID untouched
    expect(inL1(cpu, VA + 4096, 1)).toBe(true); // other page untouched
    // all paging-structure-cache entries of PCID 1 are gone: the re-walk is a full one
    const refs = cpu.walkRefs;
    expect(walks(() => cpu.load32(VA))).toBe(1);
    expect(cpu.walkRefs - refs).toBe(4);
    // a global page is dropped by INVLPG issued under any PCID
    cpu.writeCr3(a.root, 5, true);
    cpu.invlpgAddr(VA + 0x10000);
    expect(walks(() => cpu.load32(VA + 0x10000))).toBe(1);
    expect(cpu.invlpgs).toBe(2);
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('INVLPG of any address inside a 2 MiB page drops the whole page', () => {
    const { a, cpu, walks } = machine();
    a.map(0x4000_0000, 32 * MiB, { ...RW_USER, size: '2M' });
    cpu.load32(0x4000_0000);
    cpu.load32(0x4000_0000 + 0x1000);
    cpu.invlpgAddr(0x4000_0000 + 0x1ab000);
    expect(walks(() => cpu.load32(0x4000_0000 + 0x1000))).toBe(1);
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('INVPCID type 0: one address of one PCID, not globals', () => {
    const { cpu, walks } = twoPcids();
    cpu.invpcid(0, 2, BigInt(VA));
    expect(inL1(cpu, VA, 2)).toBe(false);
    expect(inL1(cpu, VA, 1)).toBe(true);
    cpu.invpcid(0, 1, BigInt(VA + 0x10000));
    expect(walks(() => cpu.load32(VA + 0x10000))).toBe(0); // global survives
    expect(() => cpu.invpcid(0, 1, 0x8000_0000_0000n)).toThrow(/canonical/);
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('INVPCID type 1: one PCID, not globals', () => {
    const { cpu, walks } = twoPcids();
    cpu.invpcid(1, 1);
    expect(inL1(cpu, VA, 1)).toBe(false);
    expect(inL1(cpu, VA + 4096, 1)).toBe(false);
    expect(inStlb(cpu, VA + 4096, 1)).toBe(false);
    expect(inL1(cpu, VA, 2)).toBe(true);
    expect(walks(() => cpu.load32(VA + 0x10000))).toBe(0);
    expect(walks(() => cpu.load32(VA))).toBe(1);
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('INVPCID type 2: everything, globals included', () => {
    const { cpu, walks } = twoPcids();
    cpu.invpcid(2, 0);
    expect(inL1(cpu, VA, 1) || inL1(cpu, VA, 2) || inStlb(cpu, VA, 2)).toBe(false);
    expect(walks(() => cpu.load32(VA + 0x10000))).toBe(1);
    for (const [name, c] of Object.entries(cpu.tlb.occupancy())) if (!name.startsWith('PSC')) expect(c.valid, name).toBeLessThanOrEqual(name === 'STLB 4K+2M' || name === 'L1 DTLB 4K' ? 1 : 0);
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('INVPCID type 3: everything but globals', () => {
    const { cpu, walks } = twoPcids();
    cpu.invpcid(3, 0);
    expect(inL1(cpu, VA, 1) || inL1(cpu, VA, 2) || inStlb(cpu, VA, 2) || inStlb(cpu, VA + 4096, 1)).toBe(false);
    expect(walks(() => cpu.load32(VA + 0x10000))).toBe(0);
    expect(frontViolations(cpu)).toEqual([]);
  });

  it('INVPCID types 0/1 need PCID 0 while PCIDE is clear; bad types and PCIDs are #GP', () => {
    const { cpu } = machine();
    expect(() => cpu.invpcid(0, 1, 0n)).toThrow(/PCIDE/);
    expect(() => cpu.invpcid(1, 1)).toThrow(/PCIDE/);
    expect(() => cpu.invpcid(2, 1)).not.toThrow();
    expect(() => cpu.invpcid(1, 4096)).toThrow(RangeError);
    expect(() => cpu.invpcid(4 as 0, 0)).toThrow(/invalid/);
  });
});

describe('paging-structure caches', () => {
  it('are filled by walks, used to shorten later walks, and kept per PCID', () => {
    const { a, b, cpu } = machine(5);
    for (let k = 0; k < 3; k++) { a.map(VA + k * 4096, frame(k), RW_USER); b.map(VA + k * 4096, frame(k + 8), RW_USER); }
    cpu.writeCr4({ pcide: true });
    cpu.writeCr3(a.root, 1);
    const refs = (va: number): number => { const r = cpu.walkRefs; cpu.load32(va); return cpu.walkRefs - r; };
    expect(refs(VA)).toBe(5);
    const hits = cpu.tlbCounters()['PSC L2'].hits;
    expect(refs(VA + 4096)).toBe(1);
    expect(cpu.tlbCounters()['PSC L2'].hits).toBe(hits + 1);
    expect(cpu.tlbCounters()['PSC L2'].valid).toBe(1);
    expect(cpu.tlbCounters()['PSC L5'].valid).toBe(1);
    // PCID 2 cannot use PCID 1's PSC entries
    cpu.writeCr3(b.root, 2);
    expect(refs(VA + 4096)).toBe(5);
    // INVLPG in PCID 2 drops PCID 2's PSC entries but not PCID 1's
    cpu.invlpgAddr(VA + 4096);
    expect(refs(VA + 8192)).toBe(5);
    cpu.writeCr3(a.root, 1, true);
    expect(refs(VA + 8192)).toBe(1);
    // INVPCID 3 drops every PSC entry
    cpu.invpcid(3, 0);
    for (let l = 2; l <= 5; l++) expect(cpu.tlb.psc[l]!.occupancy()).toBe(0);
  });

  it('a stale PSC entry is what makes the invalidation necessary', () => {
    // Moving a page table without invalidating: the PDE cache still points at the old table.
    const { a, cpu, mem } = machine();
    a.map(VA, frame(1), RW_USER);
    a.map(VA + 4096, frame(2), RW_USER);
    cpu.load32(VA);
    const [lo, hi] = a.read(VA, 2);
    const oldPt = (lo & ~0xfff) >>> 0;
    const newPt = a.allocTable();
    mem.copy(newPt, oldPt, 4096);
    mem.write32(newPt + 8, mem.read32(newPt) + 4096 * 7); // VA+4096 -> frame(8) in the new table
    a.writeRaw(VA, 2, (newPt | (lo & 0xfff)) | 0, hi);
    expect(cpu.probe(BigInt(VA + 4096))).toBe(frame(2)); // old table via the PSC
    cpu.invlpgAddr(VA + 4096);
    expect(cpu.probe(BigInt(VA + 4096))).toBe(frame(8));
  });
});

describe('faults through the CPU', () => {
  it('delivers #PF to the handler, retries, and throws MachineFault without one', () => {
    const { a, cpu } = machine();
    expect(() => cpu.load32(VA)).toThrow(MachineFault);
    let calls = 0;
    cpu.faultHandler = (_c, f) => {
      calls++;
      expect(f.vector).toBe(14);
      expect(f.va).toBe(BigInt(VA + 4));
      expect(f.access).toBe(ACCESS_WRITE);
      a.map(VA, frame(3), RW_USER);
      return true;
    };
    cpu.store32(VA + 4, 77);
    expect(calls).toBe(1);
    expect(cpu.mem.read32(frame(3) + 4)).toBe(77);
    expect(cpu.pageFaults).toBe(2);
  });

  it('accesses that cross a page boundary use both translations', () => {
    const { a, cpu, mem } = machine();
    a.map(VA, frame(1), RW_USER);
    a.map(VA + 4096, frame(5), RW_USER); // not contiguous in physical memory
    cpu.store32(VA + 4094, 0x44332211);
    expect(mem.read16(frame(1) + 4094)).toBe(0x2211);
    expect(mem.read16(frame(5))).toBe(0x4433);
    expect(cpu.load32(VA + 4094)).toBe(0x44332211);
    cpu.store64(VA + 4092, 0x11111111, 0x22222222);
    cpu.xor64(VA + 4092, 0x0f0f0f0f, 0x0f0f0f0f);
    expect(mem.read32(frame(1) + 4092)).toBe(0x1e1e1e1e);
    expect(mem.read32(frame(5))).toBe(0x2d2d2d2d);
    expect(cpu.load64(VA + 4092)).toBe(0x1e1e1e1e);
    expect(cpu.hi).toBe(0x2d2d2d2d);
    cpu.store16(VA + 4095, 0xbbaa);
    expect(mem.read8(frame(1) + 4095)).toBe(0xaa);
    expect(mem.read8(frame(5))).toBe(0xbb);
    expect(cpu.load16(VA + 4095)).toBe(0xbbaa);
    // a crossing into an unmapped page faults
    expect(() => cpu.load32(VA + 8190)).toThrow(MachineFault);
  });

  it('a dropped front entry never matches a misaligned access (page at VA low half 0)', () => {
    // The front cache compares tags that keep the alignment bits; an invalid tag must not look
    // like "page 0, offset 1". VA 2^32 has a zero low half.
    const { a, cpu, mem } = machine();
    const va = 2 ** 32;
    a.map(va, frame(1), RW_USER);
    mem.write32(frame(1) + 4, 0x5a5a5a5a);
    cpu.load32(va);
    a.unmap(va, 1);
    cpu.invlpgAddr(va);
    for (const off of [1, 2, 3, 5]) {
      expect(() => cpu.load32(va + off), `load32 +${off}`).toThrow(MachineFault);
      expect(() => cpu.store32(va + off, 1), `store32 +${off}`).toThrow(MachineFault);
      expect(() => cpu.load64(va + off), `load64 +${off}`).toThrow(MachineFault);
      expect(() => cpu.xor64(va + off, 1, 1), `xor64 +${off}`).toThrow(MachineFault);
    }
    expect(mem.read32(frame(1) + 4)).toBe(0x5a5a5a5a);
  });

  it('load/store widths through the fast path agree with physical memory', () => {
    const { a, cpu, mem } = machine();
    a.map(VA, frame(1), RW_USER);
    cpu.store8(VA + 1, 0x1ab);
    expect(mem.read8(frame(1) + 1)).toBe(0xab);
    expect(cpu.load8(VA + 1)).toBe(0xab);
    cpu.store64(VA + 16, 0xdeadbeef | 0, 0x01020304);
    expect(mem.read64Big(frame(1) + 16)).toBe(0x01020304deadbeefn);
    expect(cpu.load64(VA + 16) >>> 0).toBe(0xdeadbeef);
    expect(cpu.hi).toBe(0x01020304);
    cpu.xor64(VA + 16, -1, -1);
    expect(mem.read64Big(frame(1) + 16)).toBe(~0x01020304deadbeefn & 0xffffffffffffffffn);
    cpu.store32(VA + 33, 0x0a0b0c0d); // unaligned, within the page
    expect(mem.read32(frame(1) + 33)).toBe(0x0a0b0c0d);
    expect(cpu.load32(VA + 33)).toBe(0x0a0b0c0d);
  });

  it('honours WRPKRU immediately for cached user pages', () => {
    const { a, cpu } = machine();
    a.map(VA, frame(1), { ...RW_USER, protectionKey: 3 });
    cpu.writeCr4({ pke: true });
    cpu.store32(VA, 5);
    cpu.writePkru(1 << 7); // WD for key 3
    expect(cpu.load32(VA)).toBe(5);
    expect(() => cpu.store32(VA, 6)).toThrow(/protection-key/);
    cpu.writePkru(1 << 6); // AD for key 3
    expect(() => cpu.load32(VA)).toThrow(/protection-key/);
    cpu.writePkru(0);
    cpu.store32(VA, 7);
    expect(cpu.load32(VA)).toBe(7);
    expect(frontViolations(cpu)).toEqual([]);
  });
});
