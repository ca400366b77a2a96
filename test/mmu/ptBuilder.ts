// Builds x86-64 page tables in emulated physical memory for tests and benchmarks, the way a
// kernel's pmap would: table frames come from a bump pointer, entries are written with encodePte.
// It is deliberately independent of the walker and TLB so it can serve as their oracle's input.

import { PhysicalMemory } from '../../mmu/physicalMemory.js';
import { encodePte, type PteFields, PTE_P, PTE_PS } from '../../mmu/pte.js';
import { levelIndex, splitBig } from '../../mmu/address.js';

export type PageSize = '4K' | '2M' | '1G';
export const LEAF_LEVEL: Record<PageSize, number> = { '4K': 1, '2M': 2, '1G': 3 };
export const SIZE_BYTES: Record<PageSize, number> = { '4K': 4096, '2M': 2 ** 21, '1G': 2 ** 30 };

/** Leaf attributes; omitted booleans default to false except present. */
export type LeafFlags = Partial<Omit<PteFields, 'frame' | 'pageSize'>>;

export interface MapOptions extends LeafFlags {
  size?: PageSize;
  /**
   * Attributes of the non-leaf entries created (or rewritten) on the way down, by level.
   * Defaults to present + writable + user so that the leaf alone decides the rights.
   */
  upper?: Partial<Record<number, LeafFlags>>;
}

const UPPER_DEFAULT: LeafFlags = { present: true, writable: true, user: true };

function toHalves(va: number | bigint): [number, number] {
  return splitBig(BigInt(va));
}

export class PtBuilder {
  readonly root: number;
  private next: number;
  /** Tables allocated so far (for reference-count style checks in tests). */
  tables = 0;

  /**
   * @param levels 4 or 5 (LA57)
   * @param tableArea physical range [base, limit) handed out to page-table frames
   */
  constructor(readonly mem: PhysicalMemory, readonly levels: 4 | 5, readonly tableArea: { base: number; limit: number }) {
    this.next = tableArea.base;
    this.root = this.allocTable();
  }

  allocTable(): number {
    const pa = this.next;
    if (pa + 4096 > this.tableArea.limit) throw new RangeError('PtBuilder: table area exhausted');
    this.next += 4096;
    this.mem.zeroPage(pa);
    this.tables++;
    return pa;
  }

  /** Physical address of the entry for `va` at `level` (5..1), or -1 if a level above is missing or a leaf. */
  entryPa(va: number | bigint, level: number): number {
    const [lo, hi] = toHalves(va);
    let table = this.root;
    for (let l: number = this.levels; l > level; l--) {
      const pa = table + levelIndex(lo, hi, l) * 8;
      const elo = this.mem.read32(pa);
      if ((elo & PTE_P) === 0 || ((l === 2 || l === 3) && (elo & PTE_PS) !== 0)) return -1;
      table = this.tableOf(pa);
    }
    return table + levelIndex(lo, hi, level) * 8;
  }

  read(va: number | bigint, level: number): [lo: number, hi: number] {
    const pa = this.entryPa(va, level);
    if (pa < 0) throw new RangeError(`no level-${level} entry for ${va}`);
    return [this.mem.read32(pa), this.mem.read32(pa + 4)];
  }

  readBig(va: number | bigint, level: number): bigint {
    const [lo, hi] = this.read(va, level);
    return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  }

  /** Write raw halves at the entry for `va` at `level` (the path above must exist). */
  writeRaw(va: number | bigint, level: number, lo: number, hi: number): void {
    const pa = this.entryPa(va, level);
    if (pa < 0) throw new RangeError(`no level-${level} entry for ${va}`);
    this.mem.write32(pa, lo);
    this.mem.write32(pa + 4, hi);
  }

  private tableOf(entryPa: number): number {
    const lo = this.mem.read32(entryPa);
    const hi = this.mem.read32(entryPa + 4);
    return (hi & 0x000fffff) * 4294967296 + ((lo & 0xfffff000) >>> 0);
  }

  /**
   * Map the page holding `va` to `frame`. Missing tables are allocated; a large leaf in the way of
   * a smaller mapping is replaced by an empty table (the caller invalidates, as a kernel would).
   */
  map(va: number | bigint, frame: number, opts: MapOptions = {}): void {
    const size = opts.size ?? '4K';
    const leafLevel = LEAF_LEVEL[size];
    const [lo, hi] = toHalves(va);
    let table = this.root;
    for (let l: number = this.levels; l > leafLevel; l--) {
      const pa = table + levelIndex(lo, hi, l) * 8;
      const elo = this.mem.read32(pa);
      const upper = { ...UPPER_DEFAULT, ...(opts.upper?.[l] ?? {}) };
      if ((elo & PTE_P) === 0 || ((l === 2 || l === 3) && (elo & PTE_PS) !== 0)) {
        const t = this.allocTable();
        this.put(pa, encodePte({ ...upper, frame: t }, l));
        table = t;
      } else {
        table = this.tableOf(pa);
        if (opts.upper?.[l]) this.put(pa, encodePte({ ...upper, frame: table }, l));
      }
    }
    const pa = table + levelIndex(lo, hi, leafLevel) * 8;
    const { upper: _u, size: _s, ...leaf } = opts;
    this.put(pa, encodePte({ present: true, ...leaf, pageSize: leafLevel > 1, frame }, leafLevel));
  }

  /** Clear the entry at `level` for `va` (whatever it maps). Returns false if there was no path. */
  unmap(va: number | bigint, level: number): boolean {
    const pa = this.entryPa(va, level);
    if (pa < 0) return false;
    this.put(pa, [0, 0]);
    return true;
  }

  /** Rewrite the leaf at `level` keeping its frame, with new attributes. */
  protect(va: number | bigint, level: number, flags: LeafFlags): void {
    const pa = this.entryPa(va, level);
    if (pa < 0) throw new RangeError(`no level-${level} entry for ${va}`);
    const lo = this.mem.read32(pa);
    const hi = this.mem.read32(pa + 4);
    let frame = (hi & 0x000fffff) * 4294967296 + ((lo & 0xfffff000) >>> 0);
    const large = level > 1 && (lo & PTE_PS) !== 0;
    if (large) frame -= frame % (level === 2 ? 2 ** 21 : 2 ** 30);
    this.put(pa, encodePte({ present: true, ...flags, pageSize: large, frame }, level));
  }

  private put(pa: number, [lo, hi]: [number, number]): void {
    this.mem.write32(pa, lo);
    this.mem.write32(pa + 4, hi);
  }
}
