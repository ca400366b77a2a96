// Sizes and addresses as people write them: "64G", "2M", "0x7f00_0000_0000", 4096.

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

export const PAGE_SIZE = 4096;

const SUFFIX: Record<string, number> = { '': 1, B: 1, K: KiB, M: MiB, G: GiB, T: TiB, P: TiB * 1024 };

/** Parse "4K", "2M", "1G", "1T", "0x1000", "4096" (underscores allowed) into a bigint; throws on bad text. */
export function parseSizeBig(text: string): bigint {
  const t = text.trim().replace(/_/g, '');
  let m = /^0x([0-9a-f]+)$/i.exec(t);
  if (m) return BigInt('0x' + m[1]);
  m = /^([0-9]+)\s*([KMGTP]?)(?:i?B)?$/i.exec(t);
  if (!m) throw new RangeError(`not a size or number: "${text}"`);
  return BigInt(m[1]) * BigInt(SUFFIX[m[2].toUpperCase()]);
}

/** Like parseSizeBig but the result must be a safe integer. */
export function parseSize(text: string): number {
  const v = parseSizeBig(text);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`size too large: "${text}"`);
  return Number(v);
}

/** 4096 -> "4K", 3*GiB -> "3G", 1536 -> "1536". */
export function formatSize(bytes: number): string {
  for (const [s, v] of [['T', TiB], ['G', GiB], ['M', MiB], ['K', KiB]] as const) {
    if (bytes >= v && bytes % v === 0) return `${bytes / v}${s}`;
  }
  return String(bytes);
}

/** Hex with underscores every 16 bits, e.g. 0x7f00_0000_0000. */
export function formatAddr(addr: number | bigint): string {
  const h = BigInt(addr).toString(16);
  const groups: string[] = [];
  for (let i = h.length; i > 0; i -= 4) groups.unshift(h.slice(Math.max(0, i - 4), i));
  return '0x' + groups.join('_');
}

