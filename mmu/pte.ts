// x86-64 paging-structure entries (SDM Vol. 3A §4.5), held as two 32-bit halves (lo = bits 0..31,
// hi = bits 32..63) exactly as they sit in emulated physical memory.
//
//  63  62..59  58..52  51 ........ 12  11..9  8  7      6  5  4    3    2    1    0
//  XD  PK      ignored frame address   avail  G  PS/PAT D  A  PCD  PWT  U/S  R/W  P

export const PTE_P = 1 << 0;
export const PTE_RW = 1 << 1;
export const PTE_US = 1 << 2;
export const PTE_PWT = 1 << 3;
export const PTE_PCD = 1 << 4;
export const PTE_A = 1 << 5;
export const PTE_D = 1 << 6;
/** Page size in a PDPTE/PDE; the PAT bit in a 4 KiB PTE. */
export const PTE_PS = 1 << 7;
export const PTE_PAT_4K = 1 << 7;
export const PTE_G = 1 << 8;
/** PAT bit of a 2 MiB / 1 GiB leaf (bit 12). */
export const PTE_PAT_LARGE = 1 << 12;
/** Bits of the high half. */
export const PTE_HI_XD = 0x80000000 | 0;
export const PTE_HI_PK_SHIFT = 27; // bits 59..62 -> hi bits 27..30
export const PTE_HI_FRAME_MASK = 0x000fffff; // address bits 32..51

/** Levels, numbered as the SDM's tables: 1 = PT, 2 = PD, 3 = PDPT, 4 = PML4, 5 = PML5. */
export const LEVEL_NAMES = ['', 'PT', 'PD', 'PDPT', 'PML4', 'PML5'] as const;

export interface PteFields {
  present: boolean;
  writable: boolean;
  user: boolean;
  pwt: boolean;
  pcd: boolean;
  accessed: boolean;
  dirty: boolean;
  /** PS at levels 2/3 (large page); for a 4 KiB PTE this bit is PAT and is reported in `pat`. */
  pageSize: boolean;
  global: boolean;
  pat: boolean;
  /** Bits 9..11, ignored by hardware. */
  avail: number;
  /** Physical address of the frame or next table (bits 12..51, as an exact number). */
  frame: number;
  protectionKey: number;
  xd: boolean;
}

/** Frame address from halves: bits 12..51 (caller masks large-page alignment if needed). */
export function pteFrame(lo: number, hi: number): number {
  return (hi & PTE_HI_FRAME_MASK) * 4294967296 + ((lo & 0xfffff000) >>> 0);
}

/**
 * Decode an entry read at `level` (1..5). A leaf at level 2/3 (PS=1) reports PAT from bit 12 and a
 * frame aligned to its page size; level 1 reports PAT from bit 7.
 */
export function decodePte(lo: number, hi: number, level: number): PteFields {
  const large = (level === 2 || level === 3) && (lo & PTE_PS) !== 0;
  let frame = pteFrame(lo, hi);
  if (large) frame = frame - (frame % (level === 2 ? 2 ** 21 : 2 ** 30));
  return {
    present: (lo & PTE_P) !== 0,
    writable: (lo & PTE_RW) !== 0,
    user: (lo & PTE_US) !== 0,
    pwt: (lo & PTE_PWT) !== 0,
    pcd: (lo & PTE_PCD) !== 0,
    accessed: (lo & PTE_A) !== 0,
    dirty: (lo & PTE_D) !== 0,
    pageSize: level !== 1 && (lo & PTE_PS) !== 0,
    global: (lo & PTE_G) !== 0,
    pat: level === 1 ? (lo & PTE_PAT_4K) !== 0 : large && (lo & PTE_PAT_LARGE) !== 0,
    avail: (lo >>> 9) & 7,
    frame,
    protectionKey: (hi >>> PTE_HI_PK_SHIFT) & 0xf,
    xd: (hi & PTE_HI_XD) !== 0,
  };
}

/**
 * Low half of the entry at `level` (1..5) for `frame`, with the low-half flag bits `flags` (PTE_P,
 * PTE_RW, ..., PTE_PS for a large leaf, the level's PAT bit, avail bits 9..11). The encoder: the
 * kernel's page-table edits call it (and pteHi) once per entry, so it takes numbers, not a record.
 * Throws if the frame is not aligned to the entry's page (or table) or is beyond 52 bits, or if PS
 * is set in a PML4E/PML5E.
 */
export function pteLo(frame: number, level: number, flags: number): number {
  const large = (level === 2 || level === 3) && (flags & PTE_PS) !== 0;
  const align = large ? (level === 2 ? 2 ** 21 : 2 ** 30) : 4096;
  const low = frame >>> 0; // bits 0..31 of an integer frame (ToUint32 is exact modulo 2^32)
  if (!Number.isSafeInteger(frame) || frame < 0 || frame >= 2 ** 52 || (low & (align - 1)) !== 0) {
    throw new RangeError(`frame 0x${frame.toString(16)} is not a ${align}-aligned 52-bit address`);
  }
  if ((level === 4 || level === 5) && (flags & PTE_PS) !== 0) throw new RangeError(`PS must be 0 in a ${LEVEL_NAMES[level]}E`);
  return (low | flags) | 0;
}

/** High half of the entry for `frame` (checked by pteLo), with high-half flag bits (PTE_HI_XD, the protection key). */
export function pteHi(frame: number, hiFlags: number): number {
  return ((Math.floor(frame / 4294967296) & PTE_HI_FRAME_MASK) | hiFlags) | 0;
}

/** Encode fields into [lo, hi] for `level` (pteLo/pteHi from a field record); throws as pteLo. */
export function encodePte(f: Partial<PteFields> & { frame: number }, level: number): [lo: number, hi: number] {
  let flags = 0;
  if (f.present) flags |= PTE_P;
  if (f.writable) flags |= PTE_RW;
  if (f.user) flags |= PTE_US;
  if (f.pwt) flags |= PTE_PWT;
  if (f.pcd) flags |= PTE_PCD;
  if (f.accessed) flags |= PTE_A;
  if (f.dirty) flags |= PTE_D;
  if (f.pageSize && level !== 1) flags |= PTE_PS; // at level 1 bit 7 is PAT, set from `pat` below
  if (f.global) flags |= PTE_G;
  if (f.pat) flags |= level === 1 ? PTE_PAT_4K : PTE_PAT_LARGE;
  if (f.avail) flags |= (f.avail & 7) << 9;
  let hiFlags = 0;
  if (f.protectionKey) hiFlags |= (f.protectionKey & 0xf) << PTE_HI_PK_SHIFT;
  if (f.xd) hiFlags |= PTE_HI_XD;
  return [pteLo(f.frame, level, flags), pteHi(f.frame, hiFlags)];
}

/** An entry's halves as one unsigned 64-bit value. */
export function pteToBigInt(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Halves of a 64-bit entry value. */
export function pteFromBigInt(v: bigint): [lo: number, hi: number] {
  return [Number(v & 0xffffffffn) | 0, Number((v >> 32n) & 0xffffffffn) | 0];
}

/** Short flag string for views: "P W U A D G PS XD" style, e.g. "PWU-AD-G-X". */
export function pteFlagString(lo: number, hi: number, level: number): string {
  const f = decodePte(lo, hi, level);
  return [
    f.present ? 'P' : '-',
    f.writable ? 'W' : 'R',
    f.user ? 'U' : 'S',
    f.accessed ? 'A' : '-',
    f.dirty ? 'D' : '-',
    f.pageSize ? 'L' : '-',
    f.global ? 'G' : '-',
    f.xd ? 'X' : '-',
  ].join('');
}
