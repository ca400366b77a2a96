// Reading page tables in software: the one place that follows x86-64 paging structures in emulated
// physical memory for anything other than a real memory access — the kernel's pmap lookups, the
// invariant checker, the machine snapshot (the shell's `pt` view and `walk`), `sjmp demo`.
// Unlike the hardware walker (pageWalker.ts) it sets no accessed/dirty bits, consults no TLB or
// paging-structure cache, checks no rights and charges no cycles: reading changes nothing.
//
// The hardware walker keeps its own loop on purpose: it is on the TLB-miss path, reads entries
// straight out of the memory chunks and leaves its results in fields so a walk allocates nothing.

import { PTE_P, PTE_PS, PTE_RW, PTE_US, PTE_HI_XD, pteFrame } from './pte.js';
import { levelIndex, LEVEL_SPAN, TWO32 } from './address.js';

/** What the reader needs of physical memory (PhysicalMemory has it). */
export interface TableMemory {
  read32(pa: number): number;
}

/** Entries per paging structure. */
export const TABLE_ENTRIES = 512;

/** True when an entry present at `level` maps a page (level 1, or PS set at level 2 or 3). */
export function isLeafEntry(level: number, lo: number): boolean {
  return level === 1 || ((level === 2 || level === 3) && (lo & PTE_PS) !== 0);
}

/**
 * Where an entry points: for a leaf, the base of the page it maps (aligned to its size, so a large
 * page's PAT bit is not mistaken for an address bit); otherwise the next table's address.
 */
export function entryTarget(level: number, lo: number, hi: number): number {
  const frame = pteFrame(lo, hi);
  return isLeafEntry(level, lo) ? frame - (frame % LEVEL_SPAN[level]) : frame;
}

/** Call `fn` for each present entry of the table at `table` (level `level`), in index order. */
export function forEachPresent(mem: TableMemory, table: number, fn: (index: number, lo: number, hi: number) => void): void {
  for (let i = 0; i < TABLE_ENTRIES; i++) {
    const lo = mem.read32(table + i * 8);
    if ((lo & PTE_P) !== 0) fn(i, lo, mem.read32(table + i * 8 + 4));
  }
}

/** How many entries of the table at `table` are present. */
export function presentEntries(mem: TableMemory, table: number): number {
  let n = 0;
  for (let i = 0; i < TABLE_ENTRIES; i++) if ((mem.read32(table + i * 8) & PTE_P) !== 0) n++;
  return n;
}

/** One level of a software walk: the entry read and what it is. */
export interface WalkStep {
  level: number;
  /** Address of the table read at this level. */
  table: number;
  index: number;
  /** Physical address of the entry (table + index * 8). */
  entryPa: number;
  lo: number;
  hi: number;
  present: boolean;
  leaf: boolean;
}

/** Where a software walk ended. */
export interface SoftWalk {
  /** The walk reached a leaf (or, with stopLevel, the non-leaf entry at that level). */
  present: boolean;
  /** Level of the last entry read: the leaf's, the missing entry's, or stopLevel. */
  level: number;
  /** Entry halves of the last entry read (0 when none). */
  lo: number;
  hi: number;
  /** Its physical address. */
  entryPa: number;
  /** Page base for a leaf (aligned to its size), else 0. */
  frame: number;
  /** The table the entry at stopLevel points to (stopLevel walks), else 0. */
  table: number;
  /** Rights combined over every level read, as the hardware combines them. */
  writable: boolean;
  user: boolean;
  xd: boolean;
  /** Every entry read, root first, when the caller asked for them. */
  steps: WalkStep[] | null;
}

export interface SoftWalkOptions {
  /** Stop at the non-leaf entry of this level (2..5) and report the table it points to; a leaf
   *  above it ends the walk with present = false (a cached table there would be stale). */
  stopLevel?: number;
  /** Record every entry read in `steps`. */
  steps?: boolean;
}

/**
 * Follow the virtual address with halves (vlo, vhi) from the table at `root` down `levels` levels,
 * reading entries only. Returns where it ended; never throws for an unmapped address (present is
 * false). The caller passes a canonical address; the reader does not check canonical form.
 */
export function softWalk(mem: TableMemory, root: number, levels: number, vlo: number, vhi: number, opts: SoftWalkOptions = {}): SoftWalk {
  const stopLevel = opts.stopLevel ?? 0;
  const res: SoftWalk = {
    present: false, level: levels, lo: 0, hi: 0, entryPa: 0, frame: 0, table: 0,
    writable: true, user: true, xd: false, steps: opts.steps ? [] : null,
  };
  let table = root;
  for (let l = levels; l >= 1; l--) {
    const index = levelIndex(vlo, vhi, l);
    const entryPa = table + index * 8;
    const lo = mem.read32(entryPa);
    const hi = mem.read32(entryPa + 4);
    const present = (lo & PTE_P) !== 0;
    const leaf = present && isLeafEntry(l, lo);
    res.steps?.push({ level: l, table, index, entryPa, lo, hi, present, leaf });
    res.level = l;
    res.lo = lo;
    res.hi = hi;
    res.entryPa = entryPa;
    if (!present) return res;
    res.writable &&= (lo & PTE_RW) !== 0;
    res.user &&= (lo & PTE_US) !== 0;
    res.xd ||= (hi & PTE_HI_XD) !== 0;
    if (leaf) {
      res.present = stopLevel === 0;
      res.frame = entryTarget(l, lo, hi);
      return res;
    }
    if (l === stopLevel) {
      res.present = true;
      res.table = pteFrame(lo, hi);
      return res;
    }
    table = pteFrame(lo, hi);
  }
  return res;
}

/** softWalk for a virtual address given as a number (below 2^53). */
export function softWalkVa(mem: TableMemory, root: number, levels: number, va: number, opts: SoftWalkOptions = {}): SoftWalk {
  return softWalk(mem, root, levels, va >>> 0, Math.floor(va / TWO32), opts);
}
