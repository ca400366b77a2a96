import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  HPCC_starts,
  HpccStream,
  PERIOD,
  TableChecksum,
  applyUpdates,
  countErrors,
  createTable,
  defaultUpdates,
  hex64,
  initTable,
  joinHalves,
  rawGupsLoop,
  rawGupsLoopWide,
  referenceRandomAccess,
  splitHalves,
  startsHalves,
  stepBig,
  stepHalves,
  tableChecksum,
  tableIndex,
  verificationLine,
  verifyTable,
  verifyWindow,
} from '../../userland/gups/hpcc.js';

// An independent BigInt model of HPCC written from the definition (multiplication by x modulo
// P(x) = x^64 + x^2 + x + 1 over GF(2)), not from the module under test.
const M = (1n << 64n) - 1n;
const P_LOW = 0x7n;
const refStep = (r: bigint): bigint => ((r << 1n) & M) ^ ((r >> 63n) & 1n ? P_LOW : 0n);

// Carry-less a*b mod P, bit by bit: a different route to x^n than HPCC's squaring table.
function mulmod(a: bigint, b: bigint): bigint {
  let acc = 0n;
  let x = a;
  for (let i = 0n; i < 64n; i++) {
    if ((b >> i) & 1n) acc ^= x;
    x = refStep(x);
  }
  return acc;
}

function powx(n: bigint): bigint {
  let result = 1n;
  let base = 2n;
  for (let e = n; e > 0n; e >>= 1n) {
    if (e & 1n) result = mulmod(result, base);
    base = mulmod(base, base);
  }
  return result;
}

function refTable(lg: number, updates = 4 << lg): bigint[] {
  const size = 1 << lg;
  const tab = Array.from({ length: size }, (_, i) => BigInt(i));
  const mask = BigInt(size - 1);
  let r = 1n;
  for (let k = 0; k < updates; k++) {
    r = refStep(r);
    tab[Number(r & mask)] ^= r;
  }
  return tab;
}

// docs/gups.md's definition, written independently: sum of Table[i] * (2i + 1) mod 2^64.
function refChecksum(tab: bigint[], firstIndex = 0): string {
  let acc = 0n;
  tab.forEach((v, i) => { acc = (acc + v * (2n * BigInt(firstIndex + i) + 1n)) & M; });
  return acc.toString(16).padStart(16, '0');
}

function tableBig(t: Int32Array): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < t.length; i += 2) out.push(joinHalves(t[i], t[i + 1]));
  return out;
}

const h = (v: bigint): string => '0x' + v.toString(16).padStart(16, '0');

describe('the LFSR stream', () => {
  it('steps in halves exactly like the 64-bit BigInt definition', () => {
    const s = new HpccStream();
    let r = 1n;
    for (let k = 0; k < 5000; k++) {
      expect(s.value()).toBe(r);
      expect(s.pos).toBe(k);
      s.next();
      r = refStep(r);
    }
  });

  it('steps correctly across the top bit for arbitrary values', () => {
    const out = [0, 0];
    let x = 0x9e3779b97f4a7c15n;
    for (let k = 0; k < 1000; k++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & M;
      const [lo, hi] = splitHalves(x);
      stepHalves(lo, hi, out);
      expect(joinHalves(out[0], out[1])).toBe(refStep(x));
      expect(stepBig(x)).toBe(refStep(x));
    }
  });

  it('holds signed int32 halves', () => {
    const s = new HpccStream(63);
    expect(s.hi).toBe(-0x80000000);
    expect(s.lo).toBe(0);
    expect(hex64(s.lo, s.hi)).toBe('8000000000000000');
    s.next();
    expect(s.value()).toBe(7n);
  });
});

describe('HPCC_starts', () => {
  it('equals stepping n times from 1', () => {
    let r = 1n;
    const want = new Map<number, bigint>();
    for (let n = 0; n <= 5000; n++) {
      want.set(n, r);
      r = refStep(r);
    }
    for (const n of [0, 1, 2, 3, 31, 32, 33, 63, 64, 65, 127, 128, 1000, 1023, 1024, 4095, 4999, 5000]) {
      expect(h(HPCC_starts(n)), `n=${n}`).toBe(h(want.get(n)!));
    }
    for (let n = 0; n <= 5000; n += 37) expect(HPCC_starts(n)).toBe(want.get(n));
  });

  it('matches the published vectors (workloads.md §1.6)', () => {
    const vectors: [number | bigint, string][] = [
      [0, '0x0000000000000001'],
      [1, '0x0000000000000002'],
      [2, '0x0000000000000004'],
      [3, '0x0000000000000008'],
      [63, '0x8000000000000000'],
      [64, '0x0000000000000007'],
      [65, '0x000000000000000e'],
      [100, '0x0000007000000000'],
      [128, '0x0000000000000015'],
      [1000, '0xb6b6db0000000103'],
      [4096, '0x0000000000000013'],
      [1048576, '0x0000000100010111'],
      [1073741824, '0x0000000100010007'],
      [32768, '0x0000000100000101'],
      [1317624576693539400n, '0x8000000000000003'],
      [1317624576693539401n, '0x0000000000000001'],
      [-1, '0x8000000000000003'],
    ];
    for (const [n, v] of vectors) {
      expect(h(HPCC_starts(n)), `n=${n}`).toBe(v);
      if (n >= 0) expect(h(powx(BigInt(n))), `powx n=${n}`).toBe(v);
    }
  });

  it('agrees with square-and-multiply for large n', () => {
    const ns = [2n ** 40n + 7n, 2n ** 52n - 1n, 2n ** 53n + 12345n, 2n ** 60n + 2n ** 33n + 1n, PERIOD - 2n, 987654321987654321n];
    for (const n of ns) expect(h(HPCC_starts(n)), `n=${n}`).toBe(h(powx(n)));
    expect(HPCC_starts(Number(2n ** 40n + 7n))).toBe(powx(2n ** 40n + 7n));
  });

  it('reduces modulo the period like HPCC', () => {
    expect(HPCC_starts(PERIOD + 5n)).toBe(HPCC_starts(5));
    expect(HPCC_starts(3n * PERIOD + 1000n)).toBe(HPCC_starts(1000));
    expect(HPCC_starts(-PERIOD)).toBe(1n);
    expect(HPCC_starts(-1000)).toBe(HPCC_starts(PERIOD - 1000n));
    expect(refStep(HPCC_starts(PERIOD - 1n))).toBe(1n);
    expect(HPCC_starts(2 ** 53 - 1)).toBe(powx(2n ** 53n - 1n));
    // Past 2^53 a number may already have been rounded, so only bigints are taken there.
    expect(() => HPCC_starts(2 ** 60)).toThrow(RangeError);
    expect(() => HPCC_starts(1000.5)).toThrow(RangeError);
    expect(() => HPCC_starts(Number.MAX_SAFE_INTEGER + 2)).toThrow(RangeError);
  });

  it('lets a stream start at the i-th value and continue like the full stream', () => {
    const s = new HpccStream(2n ** 40n + 7n);
    let r = powx(2n ** 40n + 7n);
    for (let k = 0; k < 300; k++) {
      expect(s.value()).toBe(r);
      s.next();
      r = refStep(r);
    }
    const out = new Int32Array(2);
    startsHalves(777, out);
    expect(joinHalves(out[0], out[1])).toBe(powx(777n));
  });
});

describe('table index', () => {
  it('is ran & (size-1) for sizes up to 2^52 words', () => {
    let x = 0x0123456789abcdefn;
    for (let k = 0; k < 200; k++) {
      x = refStep(refStep(refStep(x))) ^ (x << 7n & M);
      const [lo, hi] = splitHalves(x);
      for (const lg of [0, 1, 8, 25, 30, 31, 32, 33, 40, 52]) {
        expect(tableIndex(lo, hi, lg)).toBe(Number(x & ((1n << BigInt(lg)) - 1n)));
      }
    }
  });
});

describe('reference RandomAccess', () => {
  // Vectors from workloads.md §1.6: Table[0], Table[1], Table[T-1], xor-all, sum64.
  const vectors: Record<number, string[]> = {
    8: ['0x0001557eaa800000', '0xe76d86012400b501', '0x00000000000000ff', '0x00000001fffe0000', '0xed265c0722f41584'],
    10: ['0x4aeadb0b8169a800', '0x763060edd63e0800', '0x00000000000003ff', '0xffffffffffffffe1', '0xac384cb84247d355'],
    12: ['0x349e57ecdfa64000', '0x81c181fca8a17000', '0x090b42aa8a882000', '0x000000000001ffe0', '0xa8a6a9ffd2252eb4'],
  };

  for (const lg of [8, 10, 12]) {
    it(`gives HPCC's table for 2^${lg} words and verifies with zero errors`, () => {
      const run = referenceRandomAccess(lg);
      expect(run.updates).toBe(4 << lg);
      expect(defaultUpdates(lg)).toBe(4 << lg);
      const tab = tableBig(run.table);
      expect(tab).toEqual(refTable(lg));
      const T = 1 << lg;
      const xorAll = tab.reduce((a, b) => a ^ b, 0n);
      const sum = tab.reduce((a, b) => (a + b) & M, 0n);
      expect([tab[0], tab[1], tab[T - 1], xorAll, sum].map(h)).toEqual(vectors[lg]);

      const v = verifyTable(run.table, run.updates);
      expect(v).toEqual({ errors: 0, tableSize: T, passed: true });
      expect(verificationLine(v)).toBe(`Found 0 errors in ${T} locations (passed).`);
    });
  }

  it('gives the same table when the stream is split into chunks started with HPCC_starts', () => {
    const lg = 10;
    const whole = referenceRandomAccess(lg).table;
    const parts = createTable(lg);
    const N = defaultUpdates(lg);
    const cuts = [0, 1, 333, 1024, 2047, 3000, N];
    for (let c = cuts.length - 2; c >= 0; c--) applyUpdates(parts, cuts[c], cuts[c + 1] - cuts[c]);
    expect(parts).toEqual(whole);
  });

  it('fails verification when more than 1 % of the table is corrupted, passes at exactly 1 %', () => {
    const lg = 12;
    const T = 1 << lg;
    const limit = Math.floor(0.01 * T); // 40 of 4096

    const ok = referenceRandomAccess(lg);
    for (let i = 0; i < limit; i++) ok.table[2 * (i * 97 % T)] ^= 1;
    const v1 = verifyTable(ok.table, ok.updates);
    expect(v1.errors).toBe(limit);
    expect(v1.passed).toBe(true);

    const bad = referenceRandomAccess(lg);
    for (let i = 0; i <= limit; i++) bad.table[2 * (i * 97 % T) + 1] ^= 0x40000000;
    const v2 = verifyTable(bad.table, bad.updates);
    expect(v2.errors).toBe(limit + 1);
    expect(v2.passed).toBe(false);
    expect(verificationLine(v2)).toBe(`Found ${limit + 1} errors in ${T} locations (failed).`);

    // Lost updates (a run that skipped some stream values) are caught the same way.
    const lost = createTable(lg);
    applyUpdates(lost, 0, defaultUpdates(lg) - 500);
    expect(verifyTable(lost, defaultUpdates(lg)).passed).toBe(false);
  });

  it('initialises and checks windows of a larger table by their global index', () => {
    const w = new Int32Array(8);
    const first = 2 ** 32 - 2;
    initTable(w, first);
    expect(tableBig(w)).toEqual([first, first + 1, first + 2, first + 3].map(BigInt));
    expect(countErrors(w, first)).toBe(0);
    expect(countErrors(w, 0)).toBe(4);
  });

  it('verifies window by window exactly as the whole table (the engine verifies emulated tables so)', () => {
    const lg = 10;
    const T = 1 << lg;
    const run = referenceRandomAccess(lg);
    for (let i = 0; i < 13; i++) run.table[2 * ((i * 331) % T) + (i & 1)] ^= 1 << (i % 31);
    const whole = verifyTable(Int32Array.from(run.table), run.updates).errors;
    expect(whole).toBe(13);
    for (const windows of [2, 8, 64]) {
      const ww = T / windows;
      let errors = 0;
      for (let w = 0; w < windows; w++) errors += verifyWindow(run.table.slice(2 * w * ww, 2 * (w + 1) * ww), w * ww, lg, run.updates);
      expect(errors).toBe(whole);
    }
  });
});

describe('checksum', () => {
  it('matches the BigInt reference', () => {
    for (const lg of [0, 3, 6, 8, 10, 12]) {
      const run = referenceRandomAccess(lg);
      expect(tableChecksum(run.table), `lg=${lg}`).toBe(refChecksum(refTable(lg)));
    }
    const fresh = createTable(7);
    expect(tableChecksum(fresh)).toBe(refChecksum(Array.from({ length: 128 }, (_, i) => BigInt(i))));
  });

  it('weights by 2i + 1 exactly, including carries and indices past 2^31', () => {
    const values = [0x8000000180000001n, 0xffffffffffffffffn, 0x00000000ffffffffn, 0xffffffff00000000n, 1n, 0x123456789abcdef0n];
    for (const v of values) {
      const [lo, hi] = splitHalves(v);
      for (const i of [0, 1, 31, 32, 63, 64, 1000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]) {
        const c = new TableChecksum();
        c.add(i, lo, hi);
        c.add(i + 1, lo, hi);
        expect(c.hex(), `v=${v} i=${i}`).toBe(refChecksum([v, v], i));
      }
    }
  });

  it('equals the BigInt sum for any words at any index below 2^33 (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 2 ** 33 - 2 })), { minLength: 1, maxLength: 8 }),
      (items) => {
        const c = new TableChecksum();
        let acc = 0n;
        for (const [v, i] of items) {
          const [lo, hi] = splitHalves(v);
          c.add(i, lo, hi);
          acc = (acc + v * (2n * BigInt(i) + 1n)) & M;
        }
        expect(c.hex()).toBe(acc.toString(16).padStart(16, '0'));
      },
    ), { numRuns: 2000 });
  });

  it('tells tables apart that the old position-blind checksum could not', () => {
    // the same updates on tables of different sizes, and one update applied 64 words away
    const sums = [8, 9, 10, 11].map((lg) => { const t = createTable(lg); rawGupsLoop(t, 4096); return tableChecksum(t); });
    expect(new Set(sums).size).toBe(4);
    const a = createTable(10);
    const b = createTable(10);
    a[2 * 5] ^= 0x1234;
    b[2 * 69] ^= 0x1234;
    expect(tableChecksum(a)).not.toBe(tableChecksum(b));
  });

  it('combines windows in any order', () => {
    const run = referenceRandomAccess(10);
    const c = new TableChecksum();
    c.addWords(run.table.subarray(1024, 2048), 512);
    c.addWords(run.table.subarray(0, 1024), 0);
    expect(c.hex()).toBe(tableChecksum(run.table));
    expect(c.hex()).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('raw GUPS loop', () => {
  it('leaves the same table as the reference and returns elapsed ms', () => {
    for (const lg of [6, 10, 12]) {
      const t = createTable(lg);
      const ms = rawGupsLoop(t, defaultUpdates(lg));
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(t).toEqual(referenceRandomAccess(lg).table);
    }
  });

  it('handles a start offset like the stream', () => {
    const a = createTable(8);
    rawGupsLoop(a, 700);
    rawGupsLoop(a, 324, 700);
    expect(a).toEqual(referenceRandomAccess(8).table);
  });

  it('wide loop (tables over 2^30 words) computes the same table on small sizes', () => {
    for (const lg of [0, 5, 11]) {
      const t = createTable(lg);
      rawGupsLoopWide(t, 3, 0);
      rawGupsLoopWide(t, defaultUpdates(lg) - 3, 3);
      expect(t).toEqual(referenceRandomAccess(lg).table);
    }
  });
});
