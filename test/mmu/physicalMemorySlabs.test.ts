// Host slabs: a 2 GiB region with enough touched chunks moves into one host buffer, its chunks
// becoming views into it. Checked against 1 MiB chunks only (slabAfter: 0), a plain byte map, and,
// for the CPU's batched path across a move, against one-by-one xor64 on chunks.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PhysicalMemory, CHUNK_SIZE, HostMemoryError, SLAB_BYTES, SLAB_AFTER_CHUNKS } from '../../mmu/physicalMemory.js';
import { Cpu } from '../../mmu/cpu.js';
import { PROFILE_M2 } from '../../mmu/costModel.js';
import { GiB, MiB } from '../../mmu/units.js';
import { PtBuilder } from './ptBuilder.js';
import { frontViolations } from './frontCheck.js';

describe('PhysicalMemory host slabs', () => {
  it('moves a region into one slab after SLAB_AFTER_CHUNKS touched chunks, still touching, counting and listing per MiB', () => {
    const rss0 = process.memoryUsage().rss;
    const mem = new PhysicalMemory({ bytes: 6 * GiB });
    for (let i = 0; i < SLAB_AFTER_CHUNKS - 1; i++) mem.write32(i * 2 * CHUNK_SIZE + 8, i + 1);
    mem.write32(2 * GiB + 4, 33); // another region: stays in chunks
    expect(mem.slabs).toBe(0);
    const before = mem.words(8)!;
    mem.write32(SLAB_BYTES - CHUNK_SIZE, 99); // the region's SLAB_AFTER_CHUNKS-th chunk
    expect(mem.slabs).toBe(1);
    expect(mem.remaps).toBe(1);
    expect(mem.retiredPa(before)).toBe(0);
    expect(mem.residentBytes).toBe((SLAB_AFTER_CHUNKS + 1) * CHUNK_SIZE);
    // the data moved with the chunks
    for (let i = 0; i < SLAB_AFTER_CHUNKS - 1; i++) expect(mem.read32(i * 2 * CHUNK_SIZE + 8)).toBe(i + 1);
    expect(mem.read32(SLAB_BYTES - CHUNK_SIZE)).toBe(99);
    expect(mem.read32(2 * GiB + 4)).toBe(33);
    // untouched chunks of the slab read zero and stay untouched
    expect(mem.read32(CHUNK_SIZE)).toBe(0);
    expect(mem.isTouched(CHUNK_SIZE)).toBe(false);
    mem.write32(CHUNK_SIZE + 4, 5); // touches one more chunk, inside the slab
    expect(mem.residentBytes).toBe((SLAB_AFTER_CHUNKS + 2) * CHUNK_SIZE);
    const chunks = [...mem.touched()];
    expect(chunks.length).toBe(SLAB_AFTER_CHUNKS + 2);
    expect(chunks[0].words).toBe(chunks[1].words); // one slab
    expect(chunks[1].pa).toBe(CHUNK_SIZE);
    expect(chunks[1].first).toBe(CHUNK_SIZE / 4);
    expect(chunks[1].words[chunks[1].first + 1]).toBe(5);
    expect(chunks.at(-1)!.pa).toBe(2 * GiB);
    expect(chunks.at(-1)!.words).not.toBe(chunks[0].words);
    // the host backs only what was written (the slab is zeroed lazily by the host kernel)
    expect(process.memoryUsage().rss - rss0).toBeLessThan(400 * MiB);
  });

  it('backs a partial last region with a slab of the remaining size', () => {
    const mem = new PhysicalMemory({ bytes: 3 * GiB, slabAfter: 2 });
    mem.write32(2 * GiB, 1);
    mem.write64Big(3 * GiB - 8, 0x0102030405060708n);
    expect(mem.slabs).toBe(1);
    expect(mem.read64Big(3 * GiB - 8)).toBe(0x0102030405060708n);
    expect(mem.read32(2 * GiB)).toBe(1);
    expect(() => mem.write8(3 * GiB, 1)).toThrow(RangeError);
  });

  it('keeps scattered touches in chunks, however large the machine (slab reservations follow what is touched)', () => {
    const mem = new PhysicalMemory({ bytes: 64 * 1024 * GiB });
    for (let pa = 0; pa < mem.size; pa += 97 * GiB) mem.write32(pa, 1);
    expect(mem.slabs).toBe(0);
    const off = new PhysicalMemory({ bytes: 4 * GiB, slabAfter: 0 });
    for (let i = 0; i < 2 * SLAB_AFTER_CHUNKS; i++) off.write32(i * CHUNK_SIZE, 1);
    expect(off.slabs).toBe(0);
    expect(() => new PhysicalMemory({ bytes: 4 * GiB, slabAfter: -1 })).toThrow(RangeError);
  });

  it('leaves a region in chunks when the host refuses its slab, and says so clearly when it refuses a chunk', () => {
    const noSlabs = new PhysicalMemory({
      bytes: 4 * GiB,
      slabAfter: 2,
      allocHost: (bytes) => { if (bytes > CHUNK_SIZE) throw new RangeError('Array buffer allocation failed'); return new ArrayBuffer(bytes); },
    });
    for (let i = 0; i < 5; i++) noSlabs.write32(SLAB_BYTES + i * CHUNK_SIZE + 12, i + 5);
    expect(noSlabs.slabs).toBe(0);
    expect(noSlabs.remaps).toBe(0);
    for (let i = 0; i < 5; i++) expect(noSlabs.read32(SLAB_BYTES + i * CHUNK_SIZE + 12)).toBe(i + 5);
    expect(noSlabs.residentBytes).toBe(5 * CHUNK_SIZE);
    const full = new PhysicalMemory({ bytes: 4 * GiB, allocHost: () => { throw new RangeError('Array buffer allocation failed'); } });
    expect(() => full.write32(64, 1)).toThrow(HostMemoryError);
    expect(() => full.write32(64, 1)).toThrow(/host out of memory.*physical address 64/);
    expect(full.residentBytes).toBe(0);
    expect(full.read32(64)).toBe(0);
  });

  it('reads and writes like 1 MiB chunks and a plain byte map (random operations near chunk and slab edges)', () => {
    const SIZE = 4 * GiB;
    const edges = [0, CHUNK_SIZE, 3 * CHUNK_SIZE, 7 * CHUNK_SIZE, SLAB_BYTES - CHUNK_SIZE, SLAB_BYTES, SLAB_BYTES + CHUNK_SIZE, SIZE - 4096];
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
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (ops, after) => {
      const slab = new PhysicalMemory({ bytes: SIZE, slabAfter: after });
      const chunk = new PhysicalMemory({ bytes: SIZE, slabAfter: 0 });
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
            slab.viewPa = pa;
            slab.views();
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

describe('the CPU across a move into a slab', () => {
  const VA = 0x40_0000_0000;
  const PAGES = 48;
  /** Pages spread one per MiB so that touching them materialises chunk after chunk. */
  function rig(slabAfter: number) {
    const mem = new PhysicalMemory({ bytes: 4 * GiB, slabAfter });
    const pt = new PtBuilder(mem, 4, { base: 16 * MiB, limit: 20 * MiB });
    for (let i = 0; i < PAGES; i++) pt.map(VA + i * 4096, GiB + i * MiB, { writable: true, user: true });
    const cpu = new Cpu(mem, { paging: 4, costs: PROFILE_M2.params });
    cpu.writeCr3(pt.root);
    return { mem, cpu, outLo: new Int32Array(Cpu.BATCH), outHi: new Int32Array(Cpu.BATCH) };
  }

  it('the batches and the front cache give exactly the results and counters they give on chunks when a batch moves a region', () => {
    const kinds = ['xor', 'store', 'load64', 'load32'] as const;
    fc.assert(fc.property(
      fc.integer({ min: 2, max: 40 }),
      fc.array(fc.tuple(fc.constantFrom(...kinds), fc.array(fc.tuple(fc.nat(PAGES * 512 - 1), fc.integer(), fc.integer()), { minLength: 1, maxLength: 64 })), { minLength: 1, maxLength: 6 }),
      (after, kindBatches) => {
        const a = rig(0);
        const b = rig(after);
        const vas = new Float64Array(Cpu.BATCH);
        const lo = new Int32Array(Cpu.BATCH);
        const hi = new Int32Array(Cpu.BATCH);
        const batches = kindBatches.map(([, batch]) => batch);
        for (const [kind, batch] of kindBatches) {
          // 32-bit loads take the high word of each element (4 bytes in), the rest whole words
          batch.forEach(([w, l, h], i) => { vas[i] = VA + w * 8 + (kind === 'load32' ? 4 : 0); lo[i] = l; hi[i] = h; });
          const n = batch.length;
          // The same batch on a machine whose memory never moves (1 MiB chunks only).
          for (const m of [a, b]) {
            if (kind === 'xor') m.cpu.xor64Batch(vas, lo, hi, n);
            else if (kind === 'store') m.cpu.store64Batch(vas, lo, hi, n);
            else if (kind === 'load64') m.cpu.load64Batch(vas, m.outLo, m.outHi, n);
            else m.cpu.load32Batch(vas, m.outLo, n);
          }
          expect(Array.from(b.outLo.subarray(0, n))).toEqual(Array.from(a.outLo.subarray(0, n)));
          expect(Array.from(b.outHi.subarray(0, n))).toEqual(Array.from(a.outHi.subarray(0, n)));
          expect(frontViolations(b.cpu)).toEqual([]);
          // and single accesses after it (front-cache hits on views taken after the move)
          const [w0] = batch[0];
          expect(b.cpu.load64(VA + w0 * 8)).toBe(a.cpu.load64(VA + w0 * 8));
          expect(b.cpu.hi).toBe(a.cpu.hi);
        }
        for (const batch of batches) {
          for (const [w] of batch) {
            const pa = GiB + (w >> 9) * MiB + (w & 511) * 8;
            expect(b.mem.read64(pa)).toEqual(a.mem.read64(pa));
          }
        }
        expect({ ...b.cpu.counters(), cyclesBy: undefined }).toEqual({ ...a.cpu.counters(), cyclesBy: undefined });
        expect(b.mem.residentBytes).toBe(a.mem.residentBytes);
      },
    ), { numRuns: 15 });
    // the property did exercise moves in the middle of batches
    const { mem, cpu } = rig(3);
    const vas = Float64Array.from({ length: PAGES }, (_, i) => VA + i * 4096 + 8);
    cpu.xor64(VA, 1, 1); // a view taken before the batch, held by the front cache
    cpu.xor64Batch(vas, new Int32Array(PAGES).fill(7), new Int32Array(PAGES).fill(9), PAGES);
    expect(mem.remaps).toBe(1);
    for (let i = 0; i < PAGES; i++) expect(mem.read64(GiB + i * MiB + 8)).toEqual([7, 9]);
    expect(mem.read64(GiB)).toEqual([1, 1]);
  });
});
