// The page walker: reads x86-64 paging-structure entries from emulated physical memory, level by
// level, like the hardware does (SDM Vol. 3A §4.5, §4.6, §4.7). It checks present, reserved bits,
// user/supervisor, write (with CR0.WP), execute-disable (with EFER.NXE) and protection keys, sets
// the accessed and dirty flags of a successful walk, and produces the #PF error code.
// Results land in fields (no allocation per walk).

import { PhysicalMemory, type RemapListener } from './physicalMemory.js';
import * as constants from './constants.js';
import * as pte from './pte.js';

// The constants the walk reads, as module-local consts, which V8 folds into the code; an imported
// or exported binding (this module's own exports included) is a Cell load and two checks per use
// (constants.ts). The access kinds and #PF error-code bits are defined there and re-exported here.
const { TF_D, TF_G, TF_U, TF_W, TF_XD, ACCESS_WRITE, ACCESS_EXEC, PF_P, PF_WR, PF_US, PF_RSVD, PF_ID, PF_PK } = constants;
const { PTE_A, PTE_D, PTE_G, PTE_HI_XD, PTE_P, PTE_PS } = pte;
export { ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC, PF_P, PF_WR, PF_US, PF_RSVD, PF_ID, PF_PK } from './constants.js';
export type AccessKind = typeof constants.ACCESS_READ | typeof ACCESS_WRITE | typeof ACCESS_EXEC;
export const ACCESS_NAMES = ['read', 'write', 'exec'] as const;

/** Describe an error code the way a kernel log would: "present write user". */
export function describeFaultCode(code: number): string {
  const parts = [code & PF_P ? 'protection' : 'not-present', code & PF_WR ? 'write' : 'read', code & PF_US ? 'user' : 'supervisor'];
  if (code & PF_RSVD) parts.push('reserved-bit');
  if (code & PF_ID) parts.push('instruction-fetch');
  if (code & PF_PK) parts.push('protection-key');
  return parts.join(' ');
}

export interface WalkControl {
  /** CR0.WP: supervisor writes honour R/W. */
  wp: boolean;
  /** EFER.NXE: bit 63 is XD rather than reserved. */
  nxe: boolean;
  /** CR4.PKE: user pages are subject to PKRU. */
  pke: boolean;
  /** PKRU: 2 bits per key, AD = bit 2k, WD = bit 2k+1. */
  pkru: number;
  /** MAXPHYADDR (e.g. 46): address bits from here to 51 are reserved. */
  maxPhysAddrBits: number;
}

export class PageWalker implements RemapListener {
  // --- result of the last walk ---
  ok = false;
  /** #PF error code when !ok (0 means: see `ok`). */
  errorCode = 0;
  /** Level of the leaf: 1 (4 KiB), 2 (2 MiB), 3 (1 GiB). */
  leafLevel = 1;
  /** Physical base of the page (aligned to its size). */
  frameBase = 0;
  /**
   * frameBase as halves: the low 32 bits as an int32 and the high bits. The fill after a walk
   * passes these on, not frameBase: a double of 2^31 or more passed to a call that is not inlined
   * becomes a new HeapNumber, one per walk on machines whose frames lie above 2 GiB.
   */
  frameLo = 0;
  frameHi = 0;
  /**
   * Combined rights, global and dirty, in the TLB's entry-flag bits (TF_W, TF_U, TF_XD, TF_G, TF_D):
   * one field the fill after a walk takes as it is (read one by one through the getters below).
   */
  leafFlags = 0;
  get writable(): boolean { return (this.leafFlags & TF_W) !== 0; }
  get user(): boolean { return (this.leafFlags & TF_U) !== 0; }
  get xd(): boolean { return (this.leafFlags & TF_XD) !== 0; }
  get global(): boolean { return (this.leafFlags & TF_G) !== 0; }
  get dirty(): boolean { return (this.leafFlags & TF_D) !== 0; }
  pkey = 0;
  /** Physical address of the leaf entry. */
  leafPa = 0;
  /** Memory references (entry reads) this walk made. */
  refs = 0;
  /** Physical addresses of this walk's references, in order (the data caches look them up). */
  readonly refPa = new Float64Array(5);
  /** Total references over the walker's life. */
  totalRefs = 0;
  /** Non-leaf entries walked (for the paging-structure caches): level, next table, rights. */
  readonly nlLevel = new Int32Array(5);
  readonly nlTable = new Float64Array(5);
  readonly nlRights = new Int32Array(5); // bit0 RW, bit1 US, bit2 XD (accumulated incl. this level)
  nlCount = 0;
  /** Low halves of the entries read (at refPa), so the A/D update needs no second read. */
  private readonly usedLo = new Int32Array(5);
  private reservedHiMask = 0;
  private lastMaxPhys = -1;
  /** The host read span (a chunk, or a whole slab) the last entry read came from (none yet: empty). */
  private cBase = -1;
  private cSpan = 0;
  private cWords: Int32Array = new Int32Array(0);

  constructor(readonly mem: PhysicalMemory) {
    mem.onRemap(this);
  }

  /** Memory moved chunks into a slab: forget the cached read span (its view may be retired). */
  dropMemoryViews(): void {
    this.cBase = -1;
    this.cSpan = 0;
    this.cWords = new Int32Array(0);
  }

  private reservedMaskFor(maxPhys: number): number {
    if (maxPhys !== this.lastMaxPhys) {
      this.lastMaxPhys = maxPhys;
      // address bits maxPhys..51 live in hi bits (maxPhys-32)..19
      this.reservedHiMask = maxPhys >= 52 ? 0 : (0x000fffff & ~((1 << (maxPhys - 32)) - 1));
    }
    return this.reservedHiMask;
  }

  /**
   * Walk for the address (lo, hi) starting at `level` in table `tablePa` with accumulated rights
   * (bit0 RW, bit1 US, bit2 XD). For a full walk pass the root level (4 or 5), CR3's table and 3.
   */
  walk(
    tablePa: number, level: number, rights: number,
    lo: number, hi: number, access: AccessKind, userMode: boolean, ctl: WalkControl,
  ): boolean {
    const mem = this.mem;
    const memSize = this.mem.size;
    const rsvHi = this.reservedMaskFor(ctl.maxPhysAddrBits);
    const nxe = ctl.nxe;
    this.refs = 0;
    this.nlCount = 0;
    this.ok = false;
    let rw = rights & 1;
    let us = (rights >>> 1) & 1;
    let xd = (rights >>> 2) & 1;
    let table = tablePa;
    const accessBits = (access === ACCESS_WRITE ? PF_WR : 0) | (userMode ? PF_US : 0) | (access === ACCESS_EXEC && nxe ? PF_ID : 0);
    let leafLo: number;
    let leafHi: number;
    let leafPa: number;
    for (;;) {
      const index = level === 1 ? (lo >>> 12) & 0x1ff
        : level === 2 ? (lo >>> 21) & 0x1ff
          : level === 3 ? ((lo >>> 30) | (hi << 2)) & 0x1ff
            : level === 4 ? (hi >>> 7) & 0x1ff : (hi >>> 16) & 0x1ff;
      const pa = table + index * 8;
      if (pa + 8 > memSize) this.mem.read32(pa); // throws the memory's own range error
      // Entries are 8-byte aligned, so both halves sit in one host chunk; untouched reads as zero.
      // Page tables cluster in a few chunks (or one slab): the last read span found is kept (a
      // materialised chunk's contents stay where they are until memory moves them into a slab, and
      // then it tells us: dropMemoryViews; an untouched chunk outside a slab is not cached).
      let words: Int32Array | undefined;
      if (pa >= this.cBase && pa - this.cBase < this.cSpan) words = this.cWords;
      else {
        words = mem.readSpan(pa);
        if (words !== undefined) { this.cBase = mem.readSpanPa; this.cSpan = mem.readSpanBytes; this.cWords = words; }
      }
      let elo = 0;
      let ehi = 0;
      if (words !== undefined) {
        const w = (pa - this.cBase) >>> 2;
        elo = words[w];
        ehi = words[w + 1];
      }
      this.refPa[this.refs++] = pa;
      if ((elo & PTE_P) === 0) return this.fail(accessBits);
      const ps = level !== 1 && (elo & PTE_PS) !== 0;
      const isLeaf = level === 1 || (ps && level <= 3);
      if ((ehi & rsvHi) !== 0 || (!nxe && (ehi & PTE_HI_XD) !== 0)
        || (ps && (level >= 4 // PS is reserved in a PML4E/PML5E
          || (level === 2 && (elo & 0x001fe000) !== 0) // 2M frame bits 13..20
          || (level === 3 && (elo & 0x3fffe000) !== 0)))) { // 1G frame bits 13..29
        return this.fail(accessBits | PF_P | PF_RSVD);
      }
      rw &= (elo >>> 1) & 1;
      us &= (elo >>> 2) & 1;
      if (nxe) xd |= ehi >>> 31;
      this.usedLo[this.refs - 1] = elo;
      if (isLeaf) {
        leafLo = elo;
        leafHi = ehi;
        leafPa = pa;
        break;
      }
      table = (ehi & 0x000fffff) * 4294967296 + ((elo & 0xfffff000) >>> 0);
      const n = this.nlCount++;
      this.nlLevel[n] = level;
      this.nlTable[n] = table;
      this.nlRights[n] = rw | (us << 1) | (xd << 2);
      level--;
    }
    // The leaf, here rather than in a function of its own: under V8's default inlining budget a
    // second function was one more real call on every walk (the walk is over the 460-byte limit,
    // so it is never inlined into its caller, and it could not inline its leaf step either).
    const pkey = (leafHi >>> 27) & 0xf;
    // Permission checks on the combined rights (SDM §4.6).
    if (userMode && us === 0) return this.fail(accessBits | PF_P);
    if (access === ACCESS_WRITE && rw === 0 && (userMode || ctl.wp)) return this.fail(accessBits | PF_P);
    if (access === ACCESS_EXEC && xd === 1) return this.fail(accessBits | PF_P);
    // PKRU governs data accesses to user-mode pages at any CPL (SDM §4.6.2); a supervisor write
    // ignores WD when CR0.WP = 0, just as it ignores R/W.
    if (ctl.pke && us === 1 && access !== ACCESS_EXEC) {
      const ad = (ctl.pkru >>> (2 * pkey)) & 1;
      const wd = (ctl.pkru >>> (2 * pkey + 1)) & 1;
      if (ad === 1 || (access === ACCESS_WRITE && wd === 1 && (userMode || ctl.wp))) return this.fail(accessBits | PF_P | PF_PK);
    }
    // Success: set A on every entry read (each was used: the walk reached the leaf), D on the leaf
    // for a write. Nothing wrote memory since the entries were read, so the values read stand in
    // for a re-read.
    const last = this.refs - 1;
    for (let i = 0; i <= last; i++) {
      const v = this.usedLo[i];
      const want = i === last && access === ACCESS_WRITE ? v | PTE_A | PTE_D : v | PTE_A;
      if (want !== v) mem.write32(this.refPa[i], (mem.read32(this.refPa[i]) | want) | 0);
    }
    this.totalRefs += this.refs;
    this.ok = true;
    this.errorCode = 0;
    this.leafLevel = level;
    // The page's base from the leaf's address bits, masked to the page size (bits 12..20 of a 2M
    // entry and 12..29 of a 1G one are PAT/reserved, checked above), as halves and as one number.
    const frameLo = leafLo & (level === 1 ? 0xfffff000 : level === 2 ? 0xffe00000 : 0xc0000000);
    const frameHi = leafHi & 0x000fffff;
    this.frameLo = frameLo;
    this.frameHi = frameHi;
    this.frameBase = frameHi * 4294967296 + (frameLo >>> 0);
    this.leafFlags = rw * TF_W | us * TF_U | xd * TF_XD | ((leafLo & PTE_G) !== 0 ? TF_G : 0)
      | (access === ACCESS_WRITE || (leafLo & PTE_D) !== 0 ? TF_D : 0);
    this.pkey = pkey;
    this.leafPa = leafPa;
    return true;
  }

  private fail(code: number): boolean {
    this.totalRefs += this.refs;
    this.ok = false;
    this.errorCode = code;
    return false;
  }
}
