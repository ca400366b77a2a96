import { describe, expect, it } from 'vitest';
import { PhysicalMemory, CHUNK_SIZE } from '../../mmu/physicalMemory.js';
import { GiB, MiB } from '../../mmu/units.js';

describe('PhysicalMemory', () => {
  it('presents 64 GiB on 2 nodes but is backed only by what is touched', () => {
    const rss0 = process.memoryUsage();
    const mem = new PhysicalMemory({ bytes: 64 * GiB, nodes: 2 });
    expect(mem.size).toBe(64 * GiB);
    expect(mem.residentBytes).toBe(0);
    const touched = [0, 5 * GiB + 12345, 32 * GiB, 64 * GiB - 8];
    for (const pa of touched) mem.write32(pa - (pa % 4), 0x11223344);
    // one host chunk per distinct touched chunk, nothing more
    expect(mem.residentBytes).toBe(touched.length * CHUNK_SIZE);
    for (const pa of touched) expect(mem.read32(pa - (pa % 4))).toBe(0x11223344);
    // reads of untouched memory never materialise anything
    for (let pa = 0; pa < 64 * GiB; pa += 3 * GiB + 4096) mem.read32(pa);
    expect(mem.residentBytes).toBe(touched.length * CHUNK_SIZE);
    const rss1 = process.memoryUsage();
    expect(rss1.arrayBuffers - rss0.arrayBuffers).toBeLessThan(64 * MiB);
    expect(rss1.rss - rss0.rss).toBeLessThan(512 * MiB);
  });

  it('presents the documented maximum (64 TiB) at a cost that follows what is touched, not the size', () => {
    const heap0 = process.memoryUsage().heapUsed;
    const mem = new PhysicalMemory({ bytes: 64 * 1024 * GiB, nodes: 2 });
    // A directory slot per 4 GiB: 16,384 of them, not 64 M chunk slots (512 MB and a minute before).
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(16 * MiB);
    const top = 64 * 1024 * GiB - 8;
    mem.write32(top, 0x5a5a5a5a);
    mem.write32(32 * 1024 * GiB, 7);
    expect(mem.read32(top)).toBe(0x5a5a5a5a);
    expect(mem.read32(32 * 1024 * GiB)).toBe(7);
    expect(mem.read32(top - 4 * GiB)).toBe(0);
    expect(mem.residentBytes).toBe(2 * CHUNK_SIZE);
    expect([...mem.touched()].map((c) => c.pa)).toEqual([32 * 1024 * GiB, 64 * 1024 * GiB - CHUNK_SIZE]);
  });

  it('reads untouched memory as zero at every width', () => {
    const mem = new PhysicalMemory({ bytes: 4 * MiB });
    expect(mem.read8(123)).toBe(0);
    expect(mem.read16(1001)).toBe(0);
    expect(mem.read32(4096)).toBe(0);
    expect(mem.read64(8)).toEqual([0, 0]);
    expect(mem.read64Big(4 * MiB - 8)).toBe(0n);
    expect(Array.from(mem.readBytes(3 * MiB - 5, 10))).toEqual(new Array(10).fill(0));
    expect(mem.isTouched(0)).toBe(false);
  });

  it('is little-endian at 8/16/32/64 bits', () => {
    const mem = new PhysicalMemory({ bytes: 2 * MiB });
    mem.write64Big(0x100, 0x0123456789abcdefn);
    expect(Array.from(mem.readBytes(0x100, 8))).toEqual([0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01]);
    expect(mem.read8(0x100)).toBe(0xef);
    expect(mem.read16(0x100)).toBe(0xcdef);
    expect(mem.read32(0x100) >>> 0).toBe(0x89abcdef);
    expect(mem.read32(0x104)).toBe(0x01234567);
    const [lo, hi] = mem.read64(0x100);
    expect(lo >>> 0).toBe(0x89abcdef);
    expect(hi >>> 0).toBe(0x01234567);
    mem.write16(0x200, 0xbeef);
    expect(Array.from(mem.readBytes(0x200, 2))).toEqual([0xef, 0xbe]);
    mem.write8(0x300, 0x1ff); // only the low byte is stored
    expect(mem.read8(0x300)).toBe(0xff);
    expect(mem.read8(0x301)).toBe(0);
    mem.write64(0x400, 0x89abcdef | 0, 0xfedcba98 | 0);
    expect(mem.read64Big(0x400)).toBe(0xfedcba9889abcdefn);
    mem.write64Big(0x408, -1n);
    expect(mem.read64Big(0x408)).toBe(0xffffffffffffffffn);
  });

  it('handles unaligned accesses, including across a host chunk boundary', () => {
    const mem = new PhysicalMemory({ bytes: 4 * MiB });
    for (const pa of [1, 2, 3, 4093, CHUNK_SIZE - 1, CHUNK_SIZE - 2, CHUNK_SIZE - 3]) {
      mem.write32(pa, 0xa1b2c3d4 | 0);
      expect(mem.read32(pa) >>> 0).toBe(0xa1b2c3d4);
      expect(mem.read8(pa)).toBe(0xd4);
      expect(mem.read8(pa + 3)).toBe(0xa1);
      mem.write16(pa + 1, 0x5566);
      expect(mem.read16(pa + 1)).toBe(0x5566);
      expect(mem.read32(pa) >>> 0).toBe(0xa15566d4);
    }
    mem.write64Big(CHUNK_SIZE - 4, 0x1122334455667788n);
    expect(mem.read64Big(CHUNK_SIZE - 4)).toBe(0x1122334455667788n);
    expect(mem.read32(CHUNK_SIZE) >>> 0).toBe(0x11223344);
  });

  it('copies like memmove, in both overlap directions and across chunks', () => {
    const mem = new PhysicalMemory({ bytes: 4 * MiB });
    const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
    const base = CHUNK_SIZE - 100;
    const data = pattern(300, 7);
    mem.writeBytes(base, data);
    // forward overlap (dst > src)
    mem.copy(base + 10, base, 200);
    const expectFwd = Uint8Array.from(data);
    expectFwd.set(data.subarray(0, 200), 10);
    expect(Array.from(mem.readBytes(base, 300))).toEqual(Array.from(expectFwd));
    // backward overlap (dst < src)
    mem.writeBytes(base, data);
    mem.copy(base, base + 50, 200);
    const expectBack = Uint8Array.from(data);
    expectBack.set(data.subarray(50, 250), 0);
    expect(Array.from(mem.readBytes(base, 300))).toEqual(Array.from(expectBack));
    // disjoint, across chunks
    mem.copy(3 * MiB - 3, base, 300);
    expect(Array.from(mem.readBytes(3 * MiB - 3, 300))).toEqual(Array.from(expectBack));
    // from untouched memory: zeroes the destination
    mem.copy(base, 2 * MiB + 512 * 1024, 64);
    expect(Array.from(mem.readBytes(base, 64))).toEqual(new Array(64).fill(0));
    // zero-length and self copies change nothing
    mem.copy(base + 64, base + 64, 100);
    mem.copy(0, base, 0);
    expect(Array.from(mem.readBytes(base + 64, 100))).toEqual(Array.from(expectBack.subarray(64, 164)));
  });

  it('fills ranges and does not materialise chunks to store zeroes', () => {
    const mem = new PhysicalMemory({ bytes: 8 * MiB });
    mem.fill(CHUNK_SIZE - 10, 20, 0xab);
    expect(mem.read8(CHUNK_SIZE - 11)).toBe(0);
    expect(mem.read8(CHUNK_SIZE - 10)).toBe(0xab);
    expect(mem.read8(CHUNK_SIZE + 9)).toBe(0xab);
    expect(mem.read8(CHUNK_SIZE + 10)).toBe(0);
    const resident = mem.residentBytes;
    mem.fill(4 * MiB, 2 * MiB, 0);
    mem.zeroPage(7 * MiB);
    expect(mem.residentBytes).toBe(resident);
    // zeroing a touched page really clears it, and only it
    mem.zeroPage(CHUNK_SIZE);
    expect(mem.read8(CHUNK_SIZE + 9)).toBe(0);
    expect(mem.read8(CHUNK_SIZE - 10)).toBe(0xab);
  });

  it('splits memory into equal contiguous NUMA node ranges', () => {
    const mem = new PhysicalMemory({ bytes: 64 * GiB, nodes: 2 });
    expect(mem.nodes).toBe(2);
    expect(mem.nodeSize).toBe(32 * GiB);
    expect(mem.nodeBase(0)).toBe(0);
    expect(mem.nodeBase(1)).toBe(32 * GiB);
    expect(mem.nodeOf(0)).toBe(0);
    expect(mem.nodeOf(32 * GiB - 1)).toBe(0);
    expect(mem.nodeOf(32 * GiB)).toBe(1);
    expect(mem.nodeOf(64 * GiB - 1)).toBe(1);
    const four = new PhysicalMemory({ bytes: 8 * GiB, nodes: 4 });
    expect(four.nodeOf(6 * GiB + 5)).toBe(3);
  });

  it('finds a chunk by both halves of its address (words/bytes below and above 4 GiB, and none for a negative pa)', () => {
    const mem = new PhysicalMemory({ bytes: 16 * GiB, slabAfter: 0 });
    mem.write32(5 * MiB + 8, 0x01020304);
    // The same low 32 bits 4 and 8 GiB up: untouched there, not the chunk below 4 GiB.
    for (const up of [4 * GiB, 8 * GiB]) {
      expect(mem.words(up + 5 * MiB + 8)).toBeUndefined();
      expect(mem.bytes(up + 5 * MiB + 8)).toBeUndefined();
    }
    mem.write32(12 * GiB + 5 * MiB + 8, 0x0a0b0c0d);
    const w = mem.words(12 * GiB + 5 * MiB + 8)!;
    expect(w[mem.at]).toBe(0x0a0b0c0d);
    const b = mem.bytes(12 * GiB + 5 * MiB + 9)!;
    expect(b[mem.at]).toBe(0x0c);
    expect(mem.words(5 * MiB + 8)![mem.at]).toBe(0x01020304);
    // A negative pa is never a chunk, although its low 32 bits (8) lie in a touched one.
    mem.write32(0, 1);
    expect(mem.words(8 - 2 ** 32)).toBeUndefined();
    expect(mem.bytes(8 - 2 ** 32)).toBeUndefined();
    expect(() => mem.wordsFor(-4)).toThrow(RangeError);
  });

  it('rejects bad sizes and out-of-range accesses', () => {
    expect(() => new PhysicalMemory({ bytes: 0 })).toThrow(RangeError);
    expect(() => new PhysicalMemory({ bytes: 3 * MiB })).toThrow(/multiple of 2M/);
    expect(() => new PhysicalMemory({ bytes: 2 * MiB + 0.5 })).toThrow(RangeError);
    expect(() => new PhysicalMemory({ bytes: -2 * MiB })).toThrow(RangeError);
    expect(() => new PhysicalMemory({ bytes: 2 ** 53 })).toThrow(RangeError);
    expect(() => new PhysicalMemory({ bytes: 6 * MiB, nodes: 2 })).toThrow(/nodes/);
    expect(() => new PhysicalMemory({ bytes: 4 * MiB, nodes: 0 })).toThrow(RangeError);
    expect(() => new PhysicalMemory({ bytes: 4 * MiB, nodes: 1.5 })).toThrow(RangeError);
    const mem = new PhysicalMemory({ bytes: 2 * MiB });
    expect(() => mem.read32(2 * MiB)).toThrow(RangeError);
    expect(() => mem.read8(-1)).toThrow(RangeError);
    expect(() => mem.write32(2 * MiB - 2, 1)).toThrow(RangeError);
    expect(() => mem.write8(2 * MiB, 1)).toThrow(RangeError);
    expect(() => mem.readBytes(2 * MiB - 4, 8)).toThrow(RangeError);
    expect(() => mem.copy(0, 2 * MiB - 4, 8)).toThrow(RangeError);
    expect(() => mem.fill(2 * MiB - 4, 8, 1)).toThrow(RangeError);
    expect(() => mem.wordsFor(2 * MiB)).toThrow(RangeError);
    expect(mem.residentBytes).toBe(0);
  });
});
