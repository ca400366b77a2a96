// The batch accesses (Cpu.load64Batch, load32Batch, store64Batch, xor64Batch, copy64, copy32,
// load32Seq, store32Seq) against the
// single calls they stand for, on two identical machines: machine A runs every access one by one
// (the reference: plain loops of load64/load32/store64/xor64), machine B the batch. Every value
// loaded, every word of memory, every modelled counter (allCounters: accesses, L1/STLB/PSC hits and
// misses, walks, faults, cycles by component), the TLB's ways and LRU stamps must be the same after
// random mixes of single and batched accesses — including demand-zero faults inside a batch, faults
// that cannot be resolved (read-only pages, unmapped addresses), unaligned and page-crossing
// elements, repeated addresses and overlapping copies.

import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Kernel } from '../../kernel/kernel.js';
import { Cpu, MachineFault } from '../../mmu/cpu.js';
import { MAP_PRIVATE, MAP_ANON } from '../../kernel/vm/vmspace.js';
import { PROT_READ, PROT_WRITE } from '../../kernel/vm/vmMap.js';
import { GiB } from '../../mmu/units.js';
import { syscall } from '../../syscalls/dispatch.js';
import { MAP_SHARED, O_CREAT, O_RDWR } from '../../syscalls/constants.js';

const PAGES = 80; // more than the L1 DTLB's 64 4K entries: front hits, L1 hits, STLB hits, walks and faults mix
const RO_PAGES = 4;
const UNMAPPED = 0x5000_0000;

function machine() {
  const k = new Kernel({ memBytes: GiB, cpus: 1 });
  const p = k.spawn('x', { uid: 1, gid: 1 });
  const anon = { addr: null, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANON, object: null, offset: 0 };
  const va = p.primary.mmap({ ...anon, len: PAGES * 4096 });
  const ro = p.primary.mmap({ ...anon, len: RO_PAGES * 4096, prot: PROT_READ });
  const cpu = k.enter(p.threads[0]);
  // Half the region holds distinct words (so a wrong value shows); the other half is still untouched
  // (demand-zero faults inside batches).
  for (let w = 0; w < (PAGES / 2) * 512; w++) cpu.store64(va + w * 8, Math.imul(w, 0x9e3779b1), ~w);
  return { k, p, va, ro, cpu };
}
type M = ReturnType<typeof machine>;

/** An address: mostly in the read-write region, some read-only, a few unmapped; any alignment. */
interface Addr { region: number; page: number; off: number }
const addr = fc.record({
  region: fc.oneof({ weight: 17, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }),
  page: fc.oneof(fc.nat(7), fc.nat(PAGES - 1)),
  off: fc.oneof(
    { weight: 8, arbitrary: fc.nat(15).map((w) => w * 8) }, // few words: loads see earlier stores
    { weight: 4, arbitrary: fc.nat(511).map((w) => w * 8) },
    { weight: 2, arbitrary: fc.nat(1023).map((w) => w * 4) },
    { weight: 1, arbitrary: fc.constantFrom(4092, 4093, 4095, 4088) }, // crossing into the next page
    { weight: 1, arbitrary: fc.nat(4095) },
  ),
});
function vaOf(m: M, a: Addr): number {
  if (a.region === 0) return m.va + a.page * 4096 + a.off;
  if (a.region === 1) return m.ro + (a.page % RO_PAGES) * 4096 + a.off;
  return UNMAPPED + a.off;
}

const elt = fc.record({ a: addr, lo: fc.integer(), hi: fc.integer() });
const op = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('load64', 'load32', 'store64', 'xor64'), a: addr, lo: fc.integer(), hi: fc.integer() }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom('load64Batch', 'load32Batch', 'store64Batch', 'xor64Batch'), elts: fc.oneof(fc.array(elt, { maxLength: 3 }), fc.array(elt, { maxLength: 48 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bigBatch'), seed: fc.nat(), n: fc.integer({ min: 100, max: Cpu.BATCH }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('copy64', 'copy32'),
      dst: fc.nat(PAGES * 512 - 1), src: fc.nat(PAGES * 512 - 1), words: fc.nat(2400),
      shift: fc.constantFrom(0, 0, 0, 4, 2), // a misalignment on one side: pair by pair for copy64 (4) or both (2)
      ro: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('load32Seq', 'store32Seq'), a: addr, words: fc.nat(2400), seed: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush') }) },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

const vas = new Float64Array(Cpu.BATCH);
const lo = new Int32Array(Cpu.BATCH);
const hi = new Int32Array(Cpu.BATCH);

/** Run one op on `m`, batched or as single calls; returns what a program could observe. */
function run(m: M, o: Op, batched: boolean): unknown {
  const cpu = m.cpu;
  const outLo = new Int32Array(Cpu.BATCH);
  const outHi = new Int32Array(Cpu.BATCH);
  let fault = '';
  let seq = new Int32Array(0);
  try {
    m.k.catchingFaults(() => {
      switch (o.kind) {
        case 'load64': outLo[0] = cpu.load64(vaOf(m, o.a)); outHi[0] = cpu.hi; break;
        case 'load32': outLo[0] = cpu.load32(vaOf(m, o.a)); break;
        case 'store64': cpu.store64(vaOf(m, o.a), o.lo, o.hi); break;
        case 'xor64': cpu.xor64(vaOf(m, o.a), o.lo, o.hi); break;
        case 'flush': cpu.writeCr3(cpu.cr3Base, cpu.pcid); break;
        case 'load32Seq': case 'store32Seq': {
          const va = vaOf(m, o.a);
          const buf = new Int32Array(o.words + 3);
          for (let i = 0; i < buf.length; i++) buf[i] = Math.imul(o.seed ^ i, 0x27d4eb2d);
          if (o.kind === 'load32Seq') {
            seq = buf;
            if (batched) cpu.load32Seq(va, buf, 3, o.words);
            else for (let i = 0; i < o.words; i++) buf[3 + i] = cpu.load32(va + 4 * i);
          } else if (batched) cpu.store32Seq(va, buf, 3, o.words);
          else for (let i = 0; i < o.words; i++) cpu.store32(va + 4 * i, buf[3 + i]);
          break;
        }
        case 'copy64': case 'copy32': {
          const src = m.va + o.src * 8 + o.shift;
          const dst = (o.ro ? m.ro + (o.dst % (RO_PAGES * 512)) * 8 : m.va + o.dst * 8);
          const words = o.words; // may run past the region: a fault there, compared like any other
          if (o.kind === 'copy32') {
            if (batched) cpu.copy32(dst, src, words);
            else for (let i = 0; i < words; i++) cpu.store32(dst + 4 * i, cpu.load32(src + 4 * i));
          } else if (batched) cpu.copy64(dst, src, words);
          else for (let i = 0; i < words; i++) { const l = cpu.load64(src + 8 * i); cpu.store64(dst + 8 * i, l, cpu.hi); }
          outHi[0] = cpu.hi;
          break;
        }
        default: {
          let kind: string = o.kind;
          let n: number;
          if (o.kind === 'bigBatch') {
            // A long batch of aligned accesses over the whole region (many walks and first-touch faults).
            kind = ['load64Batch', 'load32Batch', 'store64Batch', 'xor64Batch'][o.seed % 4];
            n = o.n;
            let x = o.seed | 1;
            for (let k = 0; k < n; k++) {
              x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) ^ k;
              vas[k] = m.va + ((x >>> 3) % (PAGES * 512)) * 8;
              lo[k] = x;
              hi[k] = ~x;
            }
          } else {
            n = o.elts.length;
            o.elts.forEach((e, k) => { vas[k] = vaOf(m, e.a); lo[k] = e.lo; hi[k] = e.hi; });
          }
          if (batched) {
            if (kind === 'load64Batch') cpu.load64Batch(vas, outLo, outHi, n);
            else if (kind === 'load32Batch') cpu.load32Batch(vas, outLo, n);
            else if (kind === 'store64Batch') cpu.store64Batch(vas, lo, hi, n);
            else cpu.xor64Batch(vas, lo, hi, n);
          } else {
            for (let k = 0; k < n; k++) {
              if (kind === 'load64Batch') { outLo[k] = cpu.load64(vas[k]); outHi[k] = cpu.hi; }
              else if (kind === 'load32Batch') outLo[k] = cpu.load32(vas[k]);
              else if (kind === 'store64Batch') cpu.store64(vas[k], lo[k], hi[k]);
              else cpu.xor64(vas[k], lo[k], hi[k]);
            }
          }
        }
      }
    });
  } catch (e) {
    if (!(e instanceof MachineFault)) throw e;
    fault = e.message;
  }
  return { fault, lo: Array.from(outLo), hi: Array.from(outHi), cpuHi: cpu.hi, seq: Array.from(seq) };
}

/** Everything modelled, and every word of both regions (read through the page tables, untouched by the model). */
function state(m: M) {
  const words: number[] = [];
  for (const [base, pages] of [[m.va, PAGES], [m.ro, RO_PAGES]]) {
    for (let pg = 0; pg < pages; pg++) {
      const leaf = m.p.primary.pmap.lookup(base + pg * 4096);
      for (let w = 0; w < 1024; w++) words.push(leaf ? m.k.mem.read32(leaf.frame + w * 4) : 0);
    }
  }
  const tlb = [...m.cpu.tlb.l1, m.cpu.tlb.stlb].map((a) => ({ tags: Array.from(a.tagLo), pcid: Array.from(a.pcid) }));
  return { counters: m.cpu.allCounters(), clock: m.cpu.clock, words, tlb, stamps: Array.from(m.cpu.tlb.l1Stamp) };
}

describe('batch accesses (load64Batch, load32Batch, store64Batch, xor64Batch, copy64, copy32, load32Seq, store32Seq)', () => {
  it('have exactly the modelled effects and results of the same single calls in order', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
      const a = machine();
      const b = machine();
      for (const o of ops) expect(run(b, o, true)).toEqual(run(a, o, false));
      expect(state(b)).toEqual(state(a));
      // The batches did take their fast paths (else this compares the slow path with itself).
      if (ops.length > 20) expect(b.cpu.slowAccesses).toBeLessThan(b.cpu.accesses);
    }), { numRuns: 60 });
  });

  it('a copy between two pages in the front cache runs in bulk and counts two accesses per word', () => {
    const m = machine();
    const src = m.va;
    const dst = m.va + 8 * 4096;
    for (let i = 0; i < 512; i++) m.cpu.store64(src + i * 8, i, -i);
    // Warm both pages into the front cache (it fills on an L1 hit: the second use of the entry).
    m.cpu.load64(src); m.cpu.load64(src); m.cpu.store64(dst, 0, 0); m.cpu.store64(dst, 0, 0);
    const before = m.cpu.accesses;
    const slow = m.cpu.slowAccesses;
    m.cpu.copy64(dst, src, 512);
    expect(m.cpu.accesses - before).toBe(1024);
    expect(m.cpu.slowAccesses).toBe(slow);
    expect(m.cpu.load64(dst + 511 * 8)).toBe(511);
    expect(m.cpu.hi).toBe(-511);
    // The same with 32-bit words, the sides 4 bytes apart modulo 8 (Nibble's header-offset values).
    const acc = m.cpu.accesses;
    m.cpu.copy32(src + 4, dst, 1023);
    expect(m.cpu.accesses - acc).toBe(2046);
    expect(m.cpu.slowAccesses).toBe(slow);
    expect(m.cpu.load32(src + 4 + 1022 * 4)).toBe(511); // dst word 511, low half
  });

  it('apply the words before a fault to memory before the fault handler runs (copy-on-write of a page the batch wrote)', () => {
    // One tmpfs file page mapped twice: shared at S, private at P (copy-on-write of the page cache).
    // A store to S then a first write to P: the write fault copies the page, and the copy must hold
    // the store to S made before it — as the single stores leave it.
    for (const kind of ['store64Batch', 'xor64Batch', 'single'] as const) {
      const k = new Kernel({ memBytes: GiB, cpus: 1 });
      const p = k.spawn('x', { uid: 1, gid: 1 });
      const t = p.threads[0];
      const fd = syscall(k, t, 'open', ['/f', O_CREAT | O_RDWR, 0o600]) as number;
      expect(syscall(k, t, 'ftruncate', [fd, 4096])).toBe(0);
      const S = syscall(k, t, 'mmap', [0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0]) as number;
      const P = syscall(k, t, 'mmap', [0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0]) as number;
      const cpu = k.enter(t);
      expect(cpu.load32(P)).toBe(0); // P now maps the page-cache frame read-only
      const b = new Float64Array([S, P + 8]);
      const l = new Int32Array([0x11, 0x22]);
      const h = new Int32Array(2);
      if (kind === 'store64Batch') cpu.store64Batch(b, l, h, 2);
      else if (kind === 'xor64Batch') cpu.xor64Batch(b, l, h, 2);
      else { cpu.store64(S, 0x11, 0); cpu.store64(P + 8, 0x22, 0); }
      expect([kind, cpu.load32(P), cpu.load32(P + 8), cpu.load32(S + 8)]).toEqual([kind, 0x11, 0x22, 0]);
    }
  });

  it('copy as the single calls do when both sides are one frame under two addresses (overlap through aliases)', () => {
    // A shared file page mapped at S1 and S2: copying S1 -> S2 + 4 reads words the copy already
    // wrote (a smear), in the calls' order; the bulk run must move words in that same order.
    const setup = () => {
      const k = new Kernel({ memBytes: GiB, cpus: 1 });
      const p = k.spawn('x', { uid: 1, gid: 1 });
      const t = p.threads[0];
      const fd = syscall(k, t, 'open', ['/f', O_CREAT | O_RDWR, 0o600]) as number;
      expect(syscall(k, t, 'ftruncate', [fd, 4096])).toBe(0);
      const S1 = syscall(k, t, 'mmap', [0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0]) as number;
      const S2 = syscall(k, t, 'mmap', [0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0]) as number;
      const cpu = k.enter(t);
      for (let i = 0; i < 1024; i++) cpu.store32(S1 + 4 * i, i + 1);
      for (let r = 0; r < 2; r++) { cpu.load32(S1); cpu.store32(S2 + 4092, 0); } // both pages into the front cache
      return { cpu, S1, S2 };
    };
    const words = (m: ReturnType<typeof setup>) => Array.from({ length: 1024 }, (_, i) => m.cpu.load32(m.S1 + 4 * i));
    for (const wide of [false, true]) {
      const a = setup();
      const b = setup();
      const n = wide ? 511 : 1023;
      if (wide) {
        b.cpu.copy64(b.S2 + 8, b.S1, n);
        for (let i = 0; i < n; i++) { const l = a.cpu.load64(a.S1 + 8 * i); a.cpu.store64(a.S2 + 8 + 8 * i, l, a.cpu.hi); }
      } else {
        b.cpu.copy32(b.S2 + 4, b.S1, n);
        for (let i = 0; i < n; i++) a.cpu.store32(a.S2 + 4 + 4 * i, a.cpu.load32(a.S1 + 4 * i));
      }
      expect(b.cpu.allCounters()).toEqual(a.cpu.allCounters());
      expect(words(b)).toEqual(words(a));
      expect(words(b).slice(0, 4)).toEqual(wide ? [1, 2, 1, 2] : [1, 1, 1, 1]);
    }
  });

  it('refuse more than Cpu.BATCH accesses', () => {
    const m = machine();
    const big = new Float64Array(Cpu.BATCH + 1);
    const w = new Int32Array(Cpu.BATCH + 1);
    const acc = m.cpu.accesses;
    expect(() => m.cpu.load64Batch(big, w, w, Cpu.BATCH + 1)).toThrow(RangeError);
    expect(() => m.cpu.load32Batch(big, w, Cpu.BATCH + 1)).toThrow(RangeError);
    expect(() => m.cpu.store64Batch(big, w, w, Cpu.BATCH + 1)).toThrow(RangeError);
    expect(m.cpu.accesses).toBe(acc);
  });
});
