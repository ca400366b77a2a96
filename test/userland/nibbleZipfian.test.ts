import { describe, it, expect } from 'vitest';
import { Zipfian, ScrambledZipfian, zeta } from '../../userland/nibble/zipfian.js';
import { ycsbHashMod, fnv1a64, H } from '../../userland/nibble/hash.js';

describe('YCSB generators (workloads.md §2)', () => {
  it('fnvhash64 matches YCSB', () => {
    for (const [v, want] of [[0, 6284781860667377211n], [1, 8517097267634966620n], [2, 1820151046732198393n], [3, 4052466453699787802n], [4, 3232700585171816769n]] as const) {
      expect(ycsbHashMod(v, 1000003)).toBe(Number(want % 1000003n));
      expect(ycsbHashMod(v, 2 ** 30)).toBe(Number(want % 2n ** 30n));
    }
    // FNV-1a 64 of arbitrary keys against a BigInt reference.
    const ref = (v: bigint): bigint => {
      let h = 0xcbf29ce484222325n;
      for (let i = 0n; i < 8n; i++) h = ((h ^ ((v >> (8n * i)) & 0xffn)) * 0x100000001b3n) & (2n ** 64n - 1n);
      return h;
    };
    for (const v of [0n, 1n, 0xdeadbeefn, 0x123456789abcdef0n, 2n ** 64n - 1n]) {
      fnv1a64(Number(v & 0xffffffffn), Number(v >> 32n));
      expect((BigInt(H.hi) << 32n) | BigInt(H.lo)).toBe(ref(v));
    }
  });

  it('Zipfian n=1000 theta=0.99 vectors', () => {
    const z = new Zipfian(0, 1000);
    expect(z.zeta2).toBeCloseTo(1.5034777750283594, 12);
    expect(z.zetan).toBeCloseTo(7.728953217284729, 10);
    expect(z.eta).toBeCloseTo(0.07480608670689805, 12);
    expect(zeta(2, 0.99)).toBeCloseTo(1.5034777750283594, 12);
    const cases: [number, number][] = [[0, 0], [0.05, 0], [0.1, 0], [0.2, 2], [0.5, 22], [0.9, 471], [0.99, 927], [0.999999, 999]];
    for (const [u, v] of cases) expect(z.next(u)).toBe(v);
  });

  it('ScrambledZipfian vectors (itemcount 1001)', () => {
    const s = new ScrambledZipfian(0, 1000);
    expect(s.raw(0)).toBe(0);
    expect(s.next(0)).toBe(144);
    expect(s.raw(0.5)).toBe(134552);
    expect(s.next(0.5)).toBe(367);
    expect(s.raw(0.9)).toBe(1170869537);
    expect(s.next(0.9)).toBe(991);
  });
});
