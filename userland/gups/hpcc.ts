// HPCC RandomAccess, independent of the emulator: the LFSR stream, HPCC_starts, the table index,
// HPCC's verification, the table checksum the GUPS report prints, and a raw typed-array loop that
// is the wall-clock baseline. The three emulated designs (MAP, MP, VAS) build on this file, so that
// every one of them applies exactly HPCC's stream and can be checked against the same table.
//
// 64-bit values are two 32-bit halves held as *signed* int32 bit patterns (the `| 0` form), the
// same form PhysicalMemory.read32 returns and Int32Array stores: V8 keeps such values as small
// integers in object fields and locals, so stepping the stream never allocates. Use `>>> 0` to get
// an unsigned view; `joinHalves` for a bigint.

/** Feedback term: the stream is multiplication by x modulo x^64 + x^2 + x + 1 over GF(2). */
export const POLY = 0x7;
/** Period of the stream (x^PERIOD = 1 mod P). */
export const PERIOD = 1317624576693539401n;

const TWO32 = 4294967296;
const MASK64 = (1n << 64n) - 1n;

/** Unsigned 64-bit value of a pair of halves. */
export function joinHalves(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Signed-int32 halves of the low 64 bits of `v`. */
export function splitHalves(v: bigint): [lo: number, hi: number] {
  const u = v & MASK64;
  return [Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
}

/** 16 lowercase hex digits of a pair of halves. */
export function hex64(lo: number, hi: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

// One step, written out wherever speed matters (the stream's next(), the loops below):
//   lo' = (lo << 1) ^ ((hi >> 31) & POLY)      -- arithmetic shift: all ones iff bit 63 was set
//   hi' = (hi << 1) | (lo >>> 31)
// The lo' line uses the old hi and the hi' line the old lo, so both read before either is written.

/** Advance (lo, hi) by one step into out[0], out[1]. For cold paths; hot loops inline the step. */
export function stepHalves(lo: number, hi: number, out: Int32Array | number[]): void {
  out[0] = (lo << 1) ^ ((hi >> 31) & POLY);
  out[1] = (hi << 1) | (lo >>> 31);
}

/** One step on a bigint, for cold paths and tests of the halves. */
export function stepBig(r: bigint): bigint {
  return ((r << 1n) & MASK64) ^ ((r >> 63n) & 1n ? BigInt(POLY) : 0n);
}

// m2[j] = x^(2j) mod P as halves (lo at 2j, hi at 2j+1). Squaring in GF(2)[x] maps x^j to x^(2j)
// (the Frobenius map is linear), so the square of a value is the XOR of m2[j] over its set bits;
// this is how HPCC_starts jumps ahead in O(64 log n) instead of n steps.
const M2 = (() => {
  const m = new Int32Array(128);
  const v = new Int32Array([1, 0]);
  for (let j = 0; j < 64; j++) {
    m[2 * j] = v[0];
    m[2 * j + 1] = v[1];
    stepHalves(v[0], v[1], v);
    stepHalves(v[0], v[1], v);
  }
  return m;
})();

/** Bring n into HPCC's range exactly as HPCC_starts does (n == PERIOD is left alone, as in C). */
function reduceIndex(n: number | bigint): bigint {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) {
    throw new RangeError(`stream index ${n} is not an exact integer; pass a bigint`);
  }
  let b = BigInt(n);
  if (b < 0n) b = (b % PERIOD) + PERIOD;
  if (b > PERIOD) b %= PERIOD;
  return b;
}

/**
 * HPCC_starts(n): the n-th value of the stream (value_0 = 1, value_k = x^k mod P), written as
 * halves into out[0] (lo) and out[1] (hi). Negative n counts back from the period, like HPCC.
 */
export function startsHalves(n: number | bigint, out: Int32Array | number[]): void {
  const b = reduceIndex(n);
  if (b === 0n) {
    out[0] = 1;
    out[1] = 0;
    return;
  }
  // The reduced index is below 2^61, so it fits the two halves exactly.
  const nlo = Number(b & 0xffffffffn) | 0;
  const nhi = Number(b >> 32n) | 0;
  let i = 62;
  while (i >= 0 && ((i >= 32 ? nhi >>> (i - 32) : nlo >>> i) & 1) === 0) i--;
  // The top set bit of n is accounted for by starting at x^1.
  let lo = 2;
  let hi = 0;
  while (i > 0) {
    let slo = 0;
    let shi = 0;
    for (let j = 0; j < 32; j++) {
      if ((lo >>> j) & 1) {
        slo ^= M2[2 * j];
        shi ^= M2[2 * j + 1];
      }
      if ((hi >>> j) & 1) {
        slo ^= M2[64 + 2 * j];
        shi ^= M2[64 + 2 * j + 1];
      }
    }
    lo = slo;
    hi = shi;
    i--;
    if (((i >= 32 ? nhi >>> (i - 32) : nlo >>> i) & 1) !== 0) {
      stepHalves(lo, hi, out);
      lo = out[0];
      hi = out[1];
    }
  }
  out[0] = lo;
  out[1] = hi;
}

/** HPCC_starts(n) as an unsigned bigint. */
export function HPCC_starts(n: number | bigint): bigint {
  const out = [0, 0];
  startsHalves(n, out);
  return joinHalves(out[0], out[1]);
}

/**
 * A position in HPCC's stream. `lo`/`hi` hold value_pos; `next()` advances in place to value_pos+1.
 * HPCC's update loop is `s.next(); update with (s.lo, s.hi)`, starting from position 0, so the
 * updates use value_1 .. value_NUPDATE; a chunk of updates [a+1, a+n] starts with `seek(a)`.
 */
export class HpccStream {
  lo = 1;
  hi = 0;
  /** Index of the current value; exact below 2^53, which no run approaches. */
  pos = 0;

  constructor(start: number | bigint = 0) {
    if (start !== 0) this.seek(start);
  }

  /** Jump to value_n (HPCC_starts). */
  seek(n: number | bigint): void {
    const out = [0, 0];
    startsHalves(n, out);
    this.lo = out[0];
    this.hi = out[1];
    this.pos = typeof n === 'bigint' ? Number(n) : n;
  }

  next(): void {
    // The step written out (see stepHalves): next() is the stream's per-update primitive.
    const lo = this.lo;
    const hi = this.hi;
    this.lo = (lo << 1) ^ ((hi >> 31) & POLY);
    this.hi = (hi << 1) | (lo >>> 31);
    this.pos++;
  }

  /** The current value as an unsigned bigint (cold path). */
  value(): bigint {
    return joinHalves(this.lo, this.hi);
  }
}

/** Largest table this code addresses: word indices stay exact JS numbers. */
export const MAX_LOG2_TABLE = 52;

function checkLog2(log2Size: number): void {
  if (!Number.isInteger(log2Size) || log2Size < 0 || log2Size > MAX_LOG2_TABLE) {
    throw new RangeError(`log2 table size must be an integer in 0..${MAX_LOG2_TABLE}, got ${log2Size}`);
  }
}

/** Mask for the low half of `ran & (2^log2Size - 1)`. */
export function indexMaskLo(log2Size: number): number {
  checkLog2(log2Size);
  return log2Size >= 32 ? -1 : ((1 << log2Size) - 1) | 0;
}

/** Mask for the high half of `ran & (2^log2Size - 1)` (zero for tables of at most 2^32 words). */
export function indexMaskHi(log2Size: number): number {
  checkLog2(log2Size);
  return log2Size <= 32 ? 0 : ((1 << (log2Size - 32)) - 1) | 0;
}

/**
 * `ran & (size-1)` for a table of 2^log2Size words (0..52, not checked here: this is called per
 * update), from the halves, as a JS number.
 */
export function tableIndex(lo: number, hi: number, log2Size: number): number {
  return log2Size < 32
    ? (lo & ((1 << log2Size) - 1)) >>> 0
    : (hi & ((1 << (log2Size - 32)) - 1)) * TWO32 + (lo >>> 0);
}

/** Updates HPCC performs by default: four per table word. */
export function defaultUpdates(log2Size: number): number {
  checkLog2(log2Size);
  return 4 * 2 ** log2Size;
}

// Host tables: 2^log2Size 64-bit words as an Int32Array of halves (lo at 2i, hi at 2i+1), the same
// layout the emulated table has in physical memory. Node's typed arrays cap the length near 2^32
// elements, so a host table holds at most 2^31 words (16 GiB); larger tables exist only emulated.

/** A host table initialised to Table[i] = i (i + firstIndex for a part of a larger table). */
export function createTable(log2Size: number, firstIndex = 0): Int32Array {
  checkLog2(log2Size);
  const size = 2 ** log2Size;
  if (2 * size > 2 ** 32) throw new RangeError(`a host table of 2^${log2Size} words does not fit a typed array`);
  const t = new Int32Array(2 * size);
  initTable(t, firstIndex);
  return t;
}

/** Reset a host table (or a window of one, starting at word `firstIndex`) to Table[i] = i. */
export function initTable(table: Int32Array, firstIndex = 0): void {
  const words = table.length >>> 1;
  let lo = firstIndex % TWO32 | 0;
  let hi = Math.floor(firstIndex / TWO32) | 0;
  for (let i = 0, p = 0; i < words; i++, p += 2) {
    table[p] = lo;
    table[p + 1] = hi;
    lo = (lo + 1) | 0;
    if (lo === 0) hi = (hi + 1) | 0;
  }
}

/**
 * Apply stream values value_start+1 .. value_start+count to a whole host table with HPCC's rule
 * `Table[ran & (size-1)] ^= ran`. The table's length fixes its size (a power of two).
 */
export function applyUpdates(table: Int32Array, start: number | bigint, count: number): void {
  rawGupsLoop(table, count, start);
}

/** log2 of the number of 64-bit words in a host table; throws unless it is a power of two. */
export function log2Words(table: Int32Array): number {
  const words = table.length / 2;
  const lg = Math.log2(words);
  if (!Number.isInteger(lg) || words < 1) throw new RangeError(`table of ${table.length} int32 halves is not 2^k 64-bit words`);
  return lg;
}

export interface RandomAccessRun {
  table: Int32Array;
  log2Size: number;
  updates: number;
}

/** The reference scalar RandomAccess: Table[i] = i, then `updates` (default 4 × size) updates. */
export function referenceRandomAccess(log2Size: number, updates = defaultUpdates(log2Size)): RandomAccessRun {
  const table = createTable(log2Size);
  applyUpdates(table, 0, updates);
  return { table, log2Size, updates };
}

/** Entries of a host table (or window starting at word `firstIndex`) with Table[i] != i. */
export function countErrors(table: Int32Array, firstIndex = 0): number {
  const words = table.length >>> 1;
  let lo = firstIndex % TWO32 | 0;
  let hi = Math.floor(firstIndex / TWO32) | 0;
  let errors = 0;
  for (let i = 0, p = 0; i < words; i++, p += 2) {
    if (table[p] !== lo || table[p + 1] !== hi) errors++;
    lo = (lo + 1) | 0;
    if (lo === 0) hi = (hi + 1) | 0;
  }
  return errors;
}

export interface Verification {
  errors: number;
  tableSize: number;
  passed: boolean;
}

/** HPCC's tolerance: racing parallel updates may be lost, so up to 1 % wrong entries pass. */
export function verificationPassed(errors: number, tableSize: number): boolean {
  return errors <= 0.01 * tableSize;
}

/**
 * The part of HPCC's update loop that lands in one window of a 2^log2Table-word table: values
 * value_1 .. value_updates whose index falls in the `words.length / 2` words starting at
 * Table[firstIndex] are XORed into `words`. Applying it to the final window restores Table[i] = i
 * there (XOR twice), which is how HPCC verifies; the engine verifies an emulated table window by
 * window this way, a host table is one window.
 */
export function applyWindowUpdates(words: Int32Array, firstIndex: number, log2Table: number, updates: number): void {
  checkLog2(log2Table);
  const n = words.length >>> 1;
  const s = new HpccStream(0);
  let lo = s.lo;
  let hi = s.hi;
  for (let i = 0; i < updates; i++) {
    // The step written out (see stepHalves): this loop runs updates × windows times.
    const t = (lo << 1) ^ ((hi >> 31) & POLY);
    hi = (hi << 1) | (lo >>> 31);
    lo = t;
    const at = tableIndex(lo, hi, log2Table) - firstIndex;
    if (at >= 0 && at < n) {
      words[2 * at] ^= lo;
      words[2 * at + 1] ^= hi;
    }
  }
}

/**
 * HPCC's verification of a window (a whole host table is the window at 0): apply the same
 * `updates` values again, count wrong entries. Modifies the words — take the checksum first.
 * Returns the number of entries with Table[i] != i.
 */
export function verifyWindow(words: Int32Array, firstIndex: number, log2Table: number, updates: number): number {
  applyWindowUpdates(words, firstIndex, log2Table, updates);
  return countErrors(words, firstIndex);
}

/**
 * HPCC's verification of a host table: apply the same `updates` values again (XOR twice restores
 * Table[i] = i), count wrong entries, pass within 1 %. Modifies the table — take the checksum first.
 */
export function verifyTable(table: Int32Array, updates: number): Verification {
  const errors = verifyWindow(table, 0, log2Words(table), updates);
  const tableSize = table.length >>> 1;
  return { errors, tableSize, passed: verificationPassed(errors, tableSize) };
}

/** HPCC's report line. */
export function verificationLine(v: Verification): string {
  return `Found ${v.errors} errors in ${v.tableSize} locations (${v.passed ? 'passed' : 'failed'}).`;
}

/**
 * The table checksum: the sum over all i of Table[i] * (2i + 1), mod 2^64. Each word is weighted by
 * an odd multiplier unique to its index, so a value applied one word (or 64 words) away changes the
 * sum, and tables of different sizes differ; addition lets windows be summed in any order. Feed
 * words one at a time (emulated memory) with `add`, or host arrays with `addWords`.
 */
export class TableChecksum {
  lo = 0;
  hi = 0;

  add(index: number, lo: number, hi: number): void {
    // (hi:lo) * (mh:ml) mod 2^64 with ml:mh the halves of 2i + 1 (up to 2^33 + 1), in int32 math:
    // the low word of lo * ml is Math.imul's; its high word comes from 16-bit limbs, each partial
    // sum below 2^32 so `>>> 16` is exact (the double form used `%` and Math.floor on values past
    // 2^31, which V8 runs as calls to fmod/floor: the checksum was ~6 % of a GUPS MP run's time).
    const m = 2 * index + 1;
    const ml = m >>> 0;
    const mh = Math.floor(m / TWO32) >>> 0;
    const a = lo >>> 0;
    const a0 = a & 0xffff;
    const a1 = a >>> 16;
    const b0 = ml & 0xffff;
    const b1 = ml >>> 16;
    const m1 = a1 * b0 + ((a0 * b0) >>> 16);
    const m2 = a0 * b1 + (m1 & 0xffff);
    const pLo = Math.imul(a, ml) >>> 0;
    const pHi = a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(a, mh) + Math.imul(hi, ml);
    const sumLo = (this.lo >>> 0) + pLo;
    this.lo = sumLo | 0;
    this.hi = (this.hi + pHi + (sumLo >= TWO32 ? 1 : 0)) | 0;
  }

  /** Fold in a host table or window whose first word is Table[firstIndex]. */
  addWords(words: Int32Array, firstIndex = 0): void {
    const n = words.length >>> 1;
    for (let i = 0; i < n; i++) this.add(firstIndex + i, words[2 * i], words[2 * i + 1]);
  }

  hex(): string {
    return hex64(this.lo, this.hi);
  }
}

/** The checksum of a whole host table, as 16 lowercase hex digits. */
export function tableChecksum(table: Int32Array): string {
  const c = new TableChecksum();
  c.addWords(table);
  return c.hex();
}

/**
 * The raw baseline: `updates` HPCC updates over a host table, starting after value_start, with no
 * emulation at all. Returns elapsed wall-clock milliseconds of the update loop alone (HPCC times
 * only this loop). Kept free of calls, BigInt and allocation so it measures the host, not us.
 */
export function rawGupsLoop(table: Int32Array, updates: number, start: number | bigint = 0): number {
  const log2Size = log2Words(table);
  // Above 2^30 words the doubled index leaves int32, so those tables take the wide loop.
  if (log2Size > 30) return rawGupsLoopWide(table, updates, start);
  const s = new HpccStream(start);
  let lo = s.lo;
  let hi = s.hi;
  const mask = (1 << log2Size) - 1;
  const t0 = performance.now();
  for (let k = 0; k < updates; k++) {
    // The step inlined on purpose: this loop is the timed wall-clock baseline.
    const t = (lo << 1) ^ ((hi >> 31) & POLY);
    hi = (hi << 1) | (lo >>> 31);
    lo = t;
    const p = (lo & mask) << 1;
    table[p] ^= lo;
    table[p + 1] ^= hi;
  }
  return performance.now() - t0;
}

/** rawGupsLoop for any table size: the index takes bits from hi and is a double, not an int32. */
export function rawGupsLoopWide(table: Int32Array, updates: number, start: number | bigint = 0): number {
  const log2Size = log2Words(table);
  const mlo = indexMaskLo(log2Size);
  const mhi = indexMaskHi(log2Size);
  const s = new HpccStream(start);
  let lo = s.lo;
  let hi = s.hi;
  const t0 = performance.now();
  for (let k = 0; k < updates; k++) {
    // The step inlined on purpose: this loop is the timed wall-clock baseline.
    const t = (lo << 1) ^ ((hi >> 31) & POLY);
    hi = (hi << 1) | (lo >>> 31);
    lo = t;
    const p = 2 * ((hi & mhi) * TWO32 + ((lo & mlo) >>> 0));
    table[p] ^= lo;
    table[p + 1] ^= hi;
  }
  return performance.now() - t0;
}
