// Host slabs (machines up to SLAB_PRESENTED_MAX): one host buffer per 2 GiB region, chunks as
// views into it. Checked against 1 MiB chunks only (slabs: false) and a plain byte map.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PhysicalMemory, CHUNK_SIZE, HostMemoryError, SLAB_BYTES, SLAB_PRESENTED_MAX } from '../../mmu/physicalMemory.js';
import { GiB, MiB } from '../../mmu/units.js';

describe('PhysicalMemory host slabs', () => {
  it('backs each touched 2 GiB region with one slab, but touches, counts and lists memory per MiB', () => {
    const rss0 = process.memoryUsage().rss;
    const mem = new PhysicalMemory({ bytes: 6 * GiB });
    expect(mem.slabs).toBe(0);
    mem.write32(0, 11);
    mem.write32(100 * MiB + 8, 22);
    mem.write32(2 * GiB + 4, 33);
    expect(mem.slabs).toBe(2); // regions 0 and 1; region 2 untouched
    expect(mem.residentBytes).toBe(3 * CHUNK_SIZE);
    // reads of untouched chunks, inside a slab or not, read zero and materialise nothing
    for (const pa of [CHUNK_SIZE, 2 * GiB - 8, 2 * GiB + CHUNK_SIZE, 5 * GiB]) expect(mem.read32(pa)).toBe(0);
    expect(mem.isTouched(CHUNK_SIZE)).toBe(false);
    expect(mem.residentBytes).toBe(3 * CHUNK_SIZE);
    const chunks = [...mem.touched()];
    expect(chunks.map((c) => c.pa)).toEqual([0, 100 * MiB, 2 * GiB]);
    // chunks of one region share its slab; `first` places each chunk in it
    expect(chunks[0].words).toBe(chunks[1].words);
    expect(chunks[1].words).not.toBe(chunks[2].words);
    expect(chunks[1].first).toBe(100 * MiB / 4);
    expect(chunks[1].words[chunks[1].first + 2]).toBe(22);
    expect(chunks[2].words[chunks[2].first + 1]).toBe(33);
    // the host backs only what was written (the slabs are zeroed lazily by the host kernel)
    expect(process.memoryUsage().rss - rss0).toBeLessThan(256 * MiB);
  });

  it('backs a partial last region with a slab of the remaining size', () => {
    const mem = new PhysicalMemory({ bytes: 3 * GiB });
    mem.write64Big(3 * GiB - 8, 0x0102030405060708n);
    expect(mem.read64Big(3 * GiB - 8)).toBe(0x0102030405060708n);
    expect(mem.slabs).toBe(1);
    expect(() => mem.write8(3 * GiB, 1)).toThrow(RangeError);
  });

  it('keeps 1 MiB chunks above SLAB_PRESENTED_MAX, so host reservations stay bounded by what is presented', () => {
    const mem = new PhysicalMemory({ bytes: 2 * SLAB_PRESENTED_MAX });
    for (let pa = 0; pa < mem.size; pa += 3 * GiB) mem.write32(pa, 1);
    expect(mem.slabs).toBe(0);
    expect(mem.residentBytes).toBe(Math.ceil(mem.size / (3 * GiB)) * CHUNK_SIZE);
    const off = new PhysicalMemory({ bytes: 4 * GiB, slabs: false });
    off.write32(0, 1);
    expect(off.slabs).toBe(0);
  });

  it('falls back to chunks when the host refuses a slab, and says so clearly when it refuses a chunk', () => {
    const noSlabs = new PhysicalMemory({
      bytes: 4 * GiB,
      allocHost: (bytes) => { if (bytes > CHUNK_SIZE) throw new RangeError('Array buffer allocation failed'); return new ArrayBuffer(bytes); },
    });
    noSlabs.write32(SLAB_BYTES + 12, 5);
    noSlabs.write32(SLAB_BYTES + 3 * MiB, 6);
    expect(noSlabs.slabs).toBe(0);
    expect(noSlabs.read32(SLAB_BYTES + 12)).toBe(5);
    expect(noSlabs.read32(SLAB_BYTES + 3 * MiB)).toBe(6);
    expect(noSlabs.residentBytes).toBe(2 * CHUNK_SIZE);
    const full = new PhysicalMemory({ bytes: 4 * GiB, allocHost: () => { throw new RangeError('Array buffer allocation failed'); } });
    expect(() => full.write32(64, 1)).toThrow(HostMemoryError);
    expect(() => full.write32(64, 1)).toThrow(/host out of memory.*physical address 64/);
    expect(full.residentBytes).toBe(0);
    expect(full.read32(64)).toBe(0);
  });

  it('reads and writes like 1 MiB chunks and a plain byte map (random operations near chunk and slab edges)', () => {
    const SIZE = 4 * GiB;
    const edges = [0, CHUNK_SIZE, 7 * CHUNK_SIZE, SLAB_BYTES - CHUNK_SIZE, SLAB_BYTES, SLAB_BYTES + CHUNK_SIZE, SIZE - 4096];
    const addr = fc.tuple(fc.constantFrom(...edges), fc.integer({ min: -40, max: 40 }))
      .map(([e, d]) => Math.min(Math.max(e + d, 0), SIZE - 4096));
    const op = fc.oneof(
      fc.record({ k: fc.constant('w8' as const), pa: addr, v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ k: fc.constant('w16' as const), pa: addr, v: fc.integer({ min: 0, max: 0xffff }) }),
      fc.record({ k: fc.constant('w32' as const), pa: addr, v: fc.integer() }),
      fc.record({ k: fc.constant('w64' as const), pa: addr, v: fc.integer(), h: fc.integer() }),
      fc.record({ k: fc.constant('fill' as const), pa: addr, n: fc.integer({ min: 0, max: 200 }), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ k: fc.constant('copy' as const), pa: addr, src: addr, n: fc.integer({ min: 0, max: 200 }) }),
      fc.record({ k: fc.constant('bytes' as const), pa: addr, data: fc.uint8Array({ minLength: 0, maxLength: 64 }) }),
    );
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
      const slab = new PhysicalMemory({ bytes: SIZE });
      const chunk = new PhysicalMemory({ bytes: SIZE, slabs: false });
      const model = new Map<number, number>();
      const put = (pa: number, b: number): void => { model.set(pa, b & 0xff); };
      const get = (pa: number): number => model.get(pa) ?? 0;
      const probes = new Set<number>();
      for (const o of ops) {
        for (const mem of [slab, chunk]) {
          switch (o.k) {
            case 'w8': mem.write8(o.pa, o.v); break;
            case 'w16': mem.write16(o.pa, o.v); break;
            case 'w32': mem.write32(o.pa, o.v); break;
            case 'w64': mem.write64(o.pa, o.v, o.h); break;
            case 'fill': mem.fill(o.pa, o.n, o.v); break;
            case 'copy': mem.copy(o.pa, o.src, o.n); break;
            case 'bytes': mem.writeBytes(o.pa, o.data); break;
          }
        }
        const le = (v: number, n: number): number[] => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff);
        const at = (pa: number, bytes: number[]): void => { bytes.forEach((b, i) => { put(pa + i, b); probes.add(pa + i); }); };
        switch (o.k) {
          case 'w8': at(o.pa, [o.v]); break;
          case 'w16': at(o.pa, le(o.v, 2)); break;
          case 'w32': at(o.pa, le(o.v, 4)); break;
          case 'w64': at(o.pa, [...le(o.v, 4), ...le(o.h, 4)]); break;
          case 'fill': at(o.pa, new Array<number>(o.n).fill(o.v)); break;
          case 'copy': at(o.pa, Array.from({ length: o.n }, (_, i) => get(o.src + i))); break;
          case 'bytes': at(o.pa, Array.from(o.data)); break;
        }
      }
      for (const p of probes) {
        for (const pa of [p - 1, p, p + 1]) {
          if (pa < 0 || pa >= SIZE) continue;
          expect(slab.read8(pa)).toBe(get(pa));
          expect(chunk.read8(pa)).toBe(get(pa));
          const a = pa - (pa % 4);
          const want = (get(a) | (get(a + 1) << 8) | (get(a + 2) << 16) | (get(a + 3) << 24)) | 0;
          expect(slab.read32(a)).toBe(want);
          // the views the CPU's fast paths index
          const w = slab.words(a);
          if (w !== undefined) expect(w[slab.at]).toBe(want);
          if (slab.isTouched(a)) {
            slab.views(pa);
            expect(slab.viewWords[slab.viewWord]).toBe(want);
            expect(slab.viewBytes[slab.viewWord * 4 + (pa % 4)]).toBe(get(pa));
          }
        }
      }
      expect(slab.residentBytes).toBe(chunk.residentBytes);
      expect([...slab.touched()].map((c) => c.pa)).toEqual([...chunk.touched()].map((c) => c.pa));
    }), { numRuns: 60 });
  });
});
