// 64-bit FNV-1a in 32-bit halves (no BigInt: it runs once per operation). Nibble picks a key's
// subtable from bits 29 and up of FNV-1a over the key's 8 little-endian bytes (reference: `(fnv1a(key)
// >> 29) & (ntables - 1)`); the bucket comes from the low bits of the same hash (the reference uses
// SipHash there — any good 64-bit hash serves the design). YCSB's fnvhash64 is the same function
// fed with a long's bytes, then Math.abs'd.

/** Result of the last hash: halves as unsigned 32-bit numbers. Reused, so hashing allocates nothing. */
export const H = { lo: 0, hi: 0 };

const OFF_LO = 0x84222325;
const OFF_HI = 0xcbf29ce4;
const TWO32 = 4294967296;

function mixByte(octet: number): void {
  const hl = (H.lo ^ octet) >>> 0;
  const hh = H.hi;
  // (hh:hl) * 0x100_000001b3 mod 2^64: the low product is below 2^41, exact in a double.
  const p = hl * 0x1b3;
  const carry = Math.floor(p / TWO32);
  H.lo = p >>> 0;
  H.hi = (Math.imul(hh, 0x1b3) + ((hl << 8) >>> 0) + carry) >>> 0;
}

/** FNV-1a 64 over the 8 little-endian bytes of (lo, hi); result in H. */
export function fnv1a64(lo: number, hi: number): void {
  H.lo = OFF_LO;
  H.hi = OFF_HI;
  for (let i = 0; i < 4; i++) mixByte((lo >>> (8 * i)) & 0xff);
  for (let i = 0; i < 4; i++) mixByte((hi >>> (8 * i)) & 0xff);
}

/** YCSB's fnvhash64 of a non-negative value below 2^53, reduced modulo n (n < 2^31). */
export function ycsbHashMod(v: number, n: number): number {
  fnv1a64(v >>> 0, Math.floor(v / TWO32) >>> 0);
  let lo = H.lo;
  let hi = H.hi;
  if (hi >= 0x80000000 && !(hi === 0x80000000 && lo === 0)) {
    // Java Math.abs on a negative long: two's complement negation.
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  // Long.MIN_VALUE stays negative in Java (a negative remainder); it is treated as unsigned here.
  // Shifting by 16 bits twice keeps every product below 2^47, exact in a double.
  return ((((hi % n) * 65536) % n) * 65536 % n + (lo % n)) % n;
}
