// Virtual addresses: JS numbers on the per-access path, bigint at human-facing interfaces.
// A 57-bit user address above 2^53 is only reachable exactly through the bigint path.

export type PagingMode = 4 | 5;

export const TWO32 = 4294967296;

/** Highest user address + 1 for the paging mode (the lower canonical half). */
export function userTop(mode: PagingMode): bigint {
  return mode === 5 ? 1n << 56n : 1n << 47n;
}

/** Canonical: bits 63..(47|56) all equal. Works on the unsigned 64-bit value. */
export function isCanonical(va: bigint, mode: PagingMode): boolean {
  const bits = mode === 5 ? 57n : 48n;
  const v = BigInt.asUintN(64, va);
  const top = v >> (bits - 1n);
  return top === 0n || top === (1n << (65n - bits)) - 1n;
}

/** Split a 64-bit address into unsigned halves. */
export function splitBig(va: bigint): [lo: number, hi: number] {
  const v = BigInt.asUintN(64, va);
  return [Number(v & 0xffffffffn) >>> 0, Number(v >> 32n) >>> 0];
}

/** The unsigned 64-bit value of two 32-bit halves. */
export function joinBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Table index (9 bits) of `va` at level 1..5, from its halves. */
export function levelIndex(lo: number, hi: number, level: number): number {
  switch (level) {
    case 1: return (lo >>> 12) & 0x1ff;
    case 2: return (lo >>> 21) & 0x1ff;
    case 3: return ((lo >>> 30) | (hi << 2)) & 0x1ff;
    case 4: return (hi >>> 7) & 0x1ff;
    case 5: return (hi >>> 16) & 0x1ff;
    default: throw new RangeError(`bad paging level ${level}`);
  }
}

/** Bytes mapped by one entry at level 1..5. */
export const LEVEL_SPAN = [0, 2 ** 12, 2 ** 21, 2 ** 30, 2 ** 39, 2 ** 48] as const;
