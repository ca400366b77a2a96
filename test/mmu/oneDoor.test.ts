// The CPU's access functions are the one door into emulated memory: a page-crossing access is
// split as x86 splits it (each part translated and checked, the lower page first, before any data
// moves), memset/memcpy are real accesses, and every TLB counter comes from the CPU. The oracle is
// a plain byte map of what each virtual page holds, independent of the CPU.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PhysicalMemory } from '../../mmu/physicalMemory.js';
import { Cpu, MachineFault } from '../../mmu/cpu.js';
import { MiB } from '../../mmu/units.js';
import { PtBuilder, type MapOptions } from './ptBuilder.js';

const VA = 0x4000_0000;
const frame = (k: number): number => 16 * MiB + k * 4096;
const RW: MapOptions = { writable: true, user: true };
const RO: MapOptions = { writable: false, user: true };

/** Three pages at VA: frames 5, 2, 9 (deliberately not adjacent), the third read-only. */
function machine() {
  const mem = new PhysicalMemory({ bytes: 64 * MiB });
  const pt = new PtBuilder(mem, 4, { base: 1 * MiB, limit: 8 * MiB });
  pt.map(VA, frame(5), RW);
  pt.map(VA + 4096, frame(2), RW);
  pt.map(VA + 8192, frame(9), RO);
  const cpu = new Cpu(mem, { paging: 4 });
  cpu.writeCr3(pt.root);
  return { mem, cpu, pt };
}

const byteAt = (mem: PhysicalMemory, k: number, off: number): number => mem.read8(frame(k) + off);

describe('page-crossing accesses', () => {
  it('store32 at page end + 2 writes 2 bytes into each page, nowhere else (no page-table page)', () => {
    const { mem, cpu } = machine();
    // The walk may set A and D in the entries; nothing else in a page-table page may change.
    const tables = (): number[] => Array.from(mem.readBytes(1 * MiB, 64 * 1024), (b, i) => (i % 8 === 0 ? b & ~0x60 : b));
    const t0 = tables();
    const before = cpu.accesses;
    cpu.store32(VA + 4094, 0x44332211);
    expect(cpu.accesses - before).toBe(2); // one access per page
    expect([byteAt(mem, 5, 4094), byteAt(mem, 5, 4095), byteAt(mem, 2, 0), byteAt(mem, 2, 1)]).toEqual([0x11, 0x22, 0x33, 0x44]);
    expect(tables()).toEqual(t0);
  });

  it('load16 at page end + 1 reads the last byte of one page and the first of the next', () => {
    const { mem, cpu } = machine();
    mem.write8(frame(5) + 4095, 0xab);
    mem.write8(frame(2), 0xcd);
    expect(cpu.load16(VA + 4095)).toBe(0xcdab);
    expect(cpu.loadBig(BigInt(VA + 4095), 2)).toBe(0xcdabn);
    mem.write32(frame(2), 0x04030201);
    mem.write32(frame(2) + 4, 0x08070605);
    mem.write32(frame(5) + 4092, 0x0d0c0b0a);
    expect(cpu.loadBig(BigInt(VA + 4093), 8)).toBe(0x05040302010d0c0bn);
  });

  it('a fault on the second page after the first was checked writes nothing (x86: no partial write)', () => {
    const { mem, cpu } = machine();
    mem.write32(frame(2) + 4092, 0x11111111);
    expect(() => cpu.store64(VA + 8192 - 4, 0x22222222, 0x33333333)).toThrow(MachineFault);
    expect(mem.read32(frame(2) + 4092)).toBe(0x11111111);
    expect(mem.read32(frame(9))).toBe(0);
    expect(() => cpu.storeBig(BigInt(VA + 8191), 2, 0xffffn)).toThrow(MachineFault);
    expect(byteAt(mem, 2, 4095)).toBe(0x11);
    expect(() => cpu.xor64(VA + 8190, 1, 1)).toThrow(MachineFault);
    expect(mem.read32(frame(2) + 4092)).toBe(0x11111111);
  });

  it('any width at any offset across two pages round-trips (property, against a byte map)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ off: fc.integer({ min: 4080, max: 4100 }), width: fc.constantFrom(1, 2, 4, 8), v: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }), { minLength: 1, maxLength: 30 }),
      (ops) => {
        const { mem, cpu } = machine();
        const model = new Map<number, number>();
        for (const { off, width, v } of ops) {
          const val = BigInt.asUintN(width * 8, v);
          cpu.storeBig(BigInt(VA + off), width as 1 | 2 | 4 | 8, val);
          for (let i = 0; i < width; i++) model.set(off + i, Number((val >> BigInt(8 * i)) & 0xffn));
          expect(cpu.loadBig(BigInt(VA + off), width as 1 | 2 | 4 | 8)).toBe(val);
        }
        for (const [off, b] of model) expect(off < 4096 ? byteAt(mem, 5, off) : byteAt(mem, 2, off - 4096)).toBe(b);
      },
    ), { numRuns: 50 });
  });
});

describe('memset and memcpy are real accesses', () => {
  it('fill counts one store per byte of head and tail and one per 8-byte word, across pages', () => {
    const { mem, cpu } = machine();
    const before = cpu.accesses;
    cpu.fill(VA + 3, 4096 + 10, 0x5a); // 5 head bytes, 512 words, 5 tail bytes
    expect(cpu.accesses - before).toBe(5 + 512 + 5);
    expect(byteAt(mem, 5, 2)).toBe(0);
    expect(byteAt(mem, 5, 3)).toBe(0x5a);
    expect(byteAt(mem, 2, 12)).toBe(0x5a);
    expect(byteAt(mem, 2, 13)).toBe(0);
  });

  it('fill has the modelled effects of the equivalent single accesses (bulk = one by one)', () => {
    const a = machine();
    const b = machine();
    a.cpu.fill(VA + 1, 8000, 7);
    for (let i = 0; i < 7; i++) b.cpu.store8(VA + 1 + i, 7);
    for (let p = VA + 8; p + 8 <= VA + 8001; p += 8) b.cpu.store64(p, 0x07070707, 0x07070707);
    for (let p = VA + 8001 - ((8001 - 8) % 8); p < VA + 8001; p++) b.cpu.store8(p, 7);
    expect(a.cpu.counters()).toEqual(b.cpu.counters());
    expect(Array.from(a.cpu.tlb.l1Stamp)).toEqual(Array.from(b.cpu.tlb.l1Stamp));
    expect(a.mem.readBytes(frame(0), 12 * 4096)).toEqual(b.mem.readBytes(frame(0), 12 * 4096));
  });

  it('memset into a read-only page faults at that page, after writing the pages before it', () => {
    const { mem, cpu } = machine();
    expect(() => cpu.fill(VA + 4096, 8192, 1)).toThrow(MachineFault);
    expect(byteAt(mem, 2, 4095)).toBe(1);
    expect(byteAt(mem, 9, 0)).toBe(0);
  });

  it('copy is memmove across pages, through loads and stores', () => {
    const { mem, cpu } = machine();
    for (let i = 0; i < 64; i++) cpu.store8(VA + 4070 + i, i + 1);
    const before = cpu.accesses;
    cpu.copy(VA + 4075, VA + 4070, 40); // overlapping, destination above: copied backwards
    expect(cpu.accesses).toBeGreaterThan(before + 8);
    const got: number[] = [];
    for (let i = 0; i < 40; i++) got.push(cpu.load8(VA + 4075 + i));
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    cpu.copy(VA + 4070, VA + 4075, 40); // destination below
    for (let i = 0; i < 40; i++) expect(cpu.load8(VA + 4070 + i)).toBe(i + 1);
    expect(byteAt(mem, 2, 0)).toBe(4096 - 4070 + 1);
  });
});

describe('one owner of counters', () => {
  it('the per-structure view counts the hits the front cache served', () => {
    const { cpu } = machine();
    for (let i = 0; i < 100; i++) cpu.load32(VA + 4 * (i % 64));
    const c = cpu.counters();
    const t = cpu.tlbCounters();
    expect(c.accesses).toBe(100);
    expect(t['L1 DTLB'].hits).toBe(c.l1Hits);
    expect(t['L1 DTLB'].hits).toBe(99);
    expect(t['L1 DTLB'].misses).toBe(1);
    expect(t.STLB.misses).toBe(1);
    expect(t['L1 DTLB'].valid).toBe(1);
  });
});
