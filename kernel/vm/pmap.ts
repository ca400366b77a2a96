// pmap: the machine-dependent half of an address space — real x86-64 page tables in frames of
// emulated physical memory. It writes entries, frees page-table pages when they empty, and queues
// the TLB invalidations that its edits require; the kernel carries them out on every CPU that may
// hold the old translations (shootdown). Table pages may be shared between pmaps: every table page
// has one owner and counts its links. A SpaceJMP shadow links its process's private-region tables
// (owned by the primary) and, under the shared policy, the named space's segment subtrees. A pmap
// never edits a table it does not own: a local edit that meets a linked subtree unlinks it first
// (the vm map still describes everything, so what the link supplied comes back by faults).

import type { PhysicalMemory } from '../../mmu/physicalMemory.js';
import { pteLo, pteHi, pteFrame, PTE_P, PTE_PS, PTE_RW, PTE_US, PTE_G, PTE_HI_XD } from '../../mmu/pte.js';
import { fail } from '../errno.js';
import { levelIndex, LEVEL_SPAN, TWO32 } from '../../mmu/address.js';
import { isLeafEntry, softWalkVa } from '../../mmu/pageTableReader.js';
import { CYC_PMAP, CYC_PTE } from '../../mmu/cpu.js';
import { SmallSet } from '../smallSet.js';

export interface TableInfo {
  pa: number;
  level: number;
  /** Present entries in this table. */
  live: number;
  owner: Pmap;
  /** Parent entries (in any pmap) pointing at this table; the root has none. */
  links: number;
}

/** What a pmap needs from the kernel. */
export interface PmapHost {
  readonly mem: PhysicalMemory;
  /** Registry of every page-table page, shared by all pmaps. */
  readonly tables: Map<number, TableInfo>;
  /** A zeroed 4 KiB frame for a table, or -1 when out of memory. */
  allocTablePage(node: number): number;
  freeTablePage(pa: number): void;
  /** Charge the kernel's work to the CPU doing it. */
  charge(component: string, cycles: number): void;
  /** charge() for a CYC_* component (mmu/cpu.ts), without the name: the per-page paths use it. */
  chargeAt(component: number, cycles: number): void;
  readonly costs: { pteWrite: number; ptPageAlloc: number };
}

export interface LeafRights {
  writable: boolean;
  user: boolean;
  nx: boolean;
  global?: boolean;
}

/** Flags of an intermediate entry: it grants everything and the leaf decides (as x86 kernels do). */
const TABLE_FLAGS = PTE_P | PTE_RW | PTE_US;
/** Bytes one level-1 table maps. */
const PT_SPAN = LEVEL_SPAN[2];

/** Invalidation batch size beyond which a whole-PCID flush is cheaper than per-page INVLPG. */
export const FULL_FLUSH_THRESHOLD = 33;

let nextPmapId = 1;

export class Pmap {
  readonly id = nextPmapId++;
  readonly root: number;
  /** PCID this pmap runs under (0 = untagged: loading it flushes). */
  pcid = 0;
  /** CPUs whose CR3 currently points at this pmap. */
  readonly activeOn = new SmallSet<number>();
  /** CPUs that may still hold tagged entries of this pmap although it is not loaded there. */
  readonly staleOn = new SmallSet<number>();
  /** CPUs that have loaded it with its (non-zero) PCID: they may keep entries after switching away. */
  readonly taggedOn = new SmallSet<number>();
  /** Leaf entries present, by level (1 = 4K, 2 = 2M, 3 = 1G). */
  readonly leaves = [0, 0, 0, 0];
  /** Invalidations owed: the VAs of changed pages (INVLPG needs no size: it drops whatever entry
   *  covers the address), or a whole flush. */
  readonly pendingVa: number[] = [];
  pendingFull = false;
  /** Pmaps linking tables this pmap owns, with their link counts: they see this pmap's edits, so
   *  its invalidations are theirs too (the kernel's shootdown covers them). */
  readonly sharers = new Map<Pmap, number>();
  private readonly rootInfo: TableInfo;
  /** Halves of the entry the last read() read (fields, not a returned pair: the mapping paths
   *  read an entry per level per page). */
  private elo = 0;
  private ehi = 0;
  /** The table holding the entry the last entryAddress(..., create = true) returned. */
  private entryTable: TableInfo;
  /**
   * The level-1 table the last creating walk to a 4 KiB entry reached (null: none) and the
   * 2 MiB-aligned VA it maps: entering consecutive pages (MAP_POPULATE of a window) walks once
   * per table, not once per page. Every table on that path is this pmap's own, and only this pmap
   * edits its tables; the path stays valid until one of its upper entries is cleared (a table
   * freed or a link dropped), and every such place calls forgetLastTable().
   */
  private ptInfo: TableInfo | null = null;
  private ptVa = 0;

  constructor(readonly host: PmapHost, readonly levels: 4 | 5, readonly node = 0) {
    const pa = host.allocTablePage(node);
    if (pa < 0) fail('ENOMEM', 'no frame for a page-table root');
    this.root = pa;
    this.rootInfo = { pa, level: levels, live: 0, owner: this, links: 0 };
    this.entryTable = this.rootInfo;
    host.tables.set(pa, this.rootInfo);
    host.chargeAt(CYC_PMAP, host.costs.ptPageAlloc);
  }

  /** Table pages this pmap owns (linked subtrees of other pmaps not counted); linear in all tables. */
  get tablePages(): number {
    let n = 0;
    for (const t of this.host.tables.values()) if (t.owner === this) n++;
    return n;
  }

  /** Read the entry at `pa` into elo/ehi (both halves from one lookup of the host chunk). */
  private read(pa: number): void {
    const m = this.host.mem;
    const w = m.words(pa);
    if (w === undefined) {
      this.elo = 0;
      this.ehi = 0;
      return;
    }
    this.elo = w[m.at];
    this.ehi = w[m.at + 1];
  }

  private write(pa: number, lo: number, hi: number): void {
    const m = this.host.mem;
    const w = m.wordsFor(pa);
    w[m.at] = lo;
    w[m.at + 1] = hi;
    this.host.chargeAt(CYC_PTE, this.host.costs.pteWrite);
  }

  /** An upper entry of this pmap was cleared: the cached path to a level-1 table may be gone. */
  private forgetLastTable(): void {
    this.ptInfo = null;
  }

  /**
   * Address of the entry for `va` at `level`, creating intermediate tables when `create`.
   * Returns -1 if a table is missing (and not created), -2 when out of memory, -3 when a large
   * leaf sits above `level`.
   */
  entryAddress(va: number, level: number, create: boolean): number {
    const pt = this.ptInfo;
    if (create && level === 1 && pt !== null && va >= this.ptVa && va - this.ptVa < PT_SPAN) {
      this.entryTable = pt;
      return pt.pa + ((va >>> 12) & 511) * 8;
    }
    const lo = va >>> 0;
    const hi = Math.floor(va / TWO32);
    let table = this.root;
    let info = this.rootInfo; // the TableInfo of `table`, kept up to date only when creating
    for (let l: number = this.levels; l > level; l--) {
      const ea = table + levelIndex(lo, hi, l) * 8;
      this.read(ea);
      const elo = this.elo;
      if ((elo & PTE_P) === 0) {
        if (!create) return -1;
        const t = this.host.allocTablePage(this.node);
        if (t < 0) return -2;
        this.host.chargeAt(CYC_PMAP, this.host.costs.ptPageAlloc);
        const child: TableInfo = { pa: t, level: l - 1, live: 0, owner: this, links: 1 };
        this.host.tables.set(t, child);
        this.write(ea, pteLo(t, l, TABLE_FLAGS), pteHi(t, 0));
        info.live++;
        table = t;
        info = child;
        continue;
      }
      if ((l === 2 || l === 3) && (elo & PTE_PS) !== 0) return -3;
      const next = pteFrame(elo, this.ehi);
      if (create) {
        const ni = this.host.tables.get(next);
        if (ni?.owner !== this) {
          // An edit below a linked subtree: drop the link and build our own path (see the header).
          this.unlinkAt(ea, info, ni!, 0, 0);
          l++;
          continue;
        }
        info = ni;
      }
      table = next;
    }
    if (create) {
      this.entryTable = info;
      if (level === 1) {
        this.ptInfo = info;
        this.ptVa = va - (va % PT_SPAN);
      }
    }
    return table + levelIndex(lo, hi, level) * 8;
  }

  /**
   * Map the page at `va` (aligned to the level's size) to frame `pa`. Returns 0 for a new entry,
   * 1 when it replaced a present one (an invalidation was queued), -1 when out of memory.
   */
  enter(va: number, pa: number, rights: LeafRights, level = 1): number {
    const ea = this.entryAddress(va, level, true);
    if (ea === -2) return -1;
    if (ea < 0) throw new Error(`pmap.enter: a large page already covers ${va.toString(16)}`);
    this.read(ea);
    const olo = this.elo;
    const lo = pteLo(pa, level, PTE_P | (rights.writable ? PTE_RW : 0) | (rights.user ? PTE_US : 0)
      | (rights.global ? PTE_G : 0) | (level > 1 ? PTE_PS : 0));
    const hi = pteHi(pa, rights.nx ? PTE_HI_XD : 0);
    if ((olo & PTE_P) !== 0) {
      if (level === 1 || (olo & PTE_PS) !== 0) {
        this.write(ea, lo, hi);
        this.queue(va, LEVEL_SPAN[level]);
        return 1;
      }
      throw new Error(`pmap.enter: a page table sits where a ${LEVEL_SPAN[level]}-byte page goes at ${va.toString(16)}`);
    }
    this.write(ea, lo, hi);
    this.entryTable.live++;
    this.leaves[level]++;
    return 0;
  }

  private tableOf(entryPa: number): TableInfo {
    const t = this.host.tables.get(entryPa - (entryPa % 4096));
    if (!t) throw new Error(`pmap: ${entryPa.toString(16)} is not in a page table`);
    return t;
  }

  /** The leaf translating `va`: entry halves, level and the page's frame; null when unmapped. Reads only. */
  lookup(va: number): { lo: number; hi: number; level: number; frame: number; entryPa: number } | null {
    const w = softWalkVa(this.host.mem, this.root, this.levels, va);
    return w.present ? { lo: w.lo, hi: w.hi, level: w.level, frame: w.frame, entryPa: w.entryPa } : null;
  }

  /** Remove every leaf in [start, end); free table pages this pmap owns that empty. */
  remove(start: number, end: number): number {
    if (end <= start) return 0;
    return this.removeIn(this.root, this.levels, 0, start, end);
  }

  private removeIn(table: number, level: number, base: number, start: number, end: number): number {
    const span = LEVEL_SPAN[level];
    let removed = 0;
    const first = Math.max(0, Math.floor((start - base) / span));
    const last = Math.min(511, Math.floor((end - 1 - base) / span));
    const info = this.host.tables.get(table)!;
    for (let i = first; i <= last; i++) {
      const ea = table + i * 8;
      this.read(ea);
      const elo = this.elo;
      const ehi = this.ehi;
      if ((elo & PTE_P) === 0) continue;
      const va = base + i * span;
      const covers = va >= start && va + span <= end;
      const leaf = isLeafEntry(level, elo);
      if (leaf) {
        if (!covers) throw new Error(`pmap.remove: range splits a ${span}-byte page at ${va.toString(16)}`);
        this.write(ea, 0, 0);
        info.live--;
        this.leaves[level]--;
        this.queue(va, span);
        removed++;
        continue;
      }
      const child = pteFrame(elo, ehi);
      const ci = this.host.tables.get(child)!;
      if (ci.owner !== this) {
        // Another pmap's table: leave it unless it maps something here, then stop linking it.
        if (!this.hasLeavesIn(child, level - 1, va, start, end)) continue;
        this.unlinkAt(ea, info, ci, va, span);
        removed++;
        continue;
      }
      removed += this.removeIn(child, level - 1, va, start, end);
      // A table other pmaps link to (a SpaceJMP shared subtree) stays while they do.
      if (ci.live === 0 && ci.links <= 1) {
        this.write(ea, 0, 0);
        info.live--;
        this.forgetLastTable();
        this.host.tables.delete(child);
        this.host.freeTablePage(child);
        // The cleared upper entry may sit in paging-structure caches: an INVLPG in the range flushes them.
        this.queue(va, 4096);
      }
    }
    return removed;
  }

  private unlinkAt(ea: number, parent: TableInfo, child: TableInfo, va: number, span: number): void {
    this.forgetLastTable();
    this.write(ea, 0, 0);
    parent.live--;
    child.links--;
    this.dropSharer(child.owner);
    this.queueRange(va, span);
  }

  private dropSharer(owner: Pmap): void {
    const n = (owner.sharers.get(this) ?? 0) - 1;
    if (n > 0) owner.sharers.set(this, n);
    else owner.sharers.delete(this);
  }

  /** Whether the table `pa` (at `level`, covering from `base`) maps any leaf in [start, end). */
  private hasLeavesIn(pa: number, level: number, base: number, start: number, end: number): boolean {
    const span = LEVEL_SPAN[level];
    const first = Math.max(0, Math.floor((start - base) / span));
    const last = Math.min(511, Math.floor((end - 1 - base) / span));
    for (let i = first; i <= last; i++) {
      this.read(pa + i * 8);
      const lo = this.elo;
      const hi = this.ehi;
      if ((lo & PTE_P) === 0) continue;
      if (level === 1 || ((level === 2 || level === 3) && (lo & PTE_PS) !== 0)) return true;
      if (this.hasLeavesIn(pteFrame(lo, hi), level - 1, base + i * span, start, end)) return true;
    }
    return false;
  }

  /** Unlink every linked subtree that maps a leaf in [start, end) (before a local edit there). */
  private unlinkMapping(start: number, end: number): void {
    const visit = (table: number, level: number, base: number): void => {
      const span = LEVEL_SPAN[level];
      const info = this.host.tables.get(table)!;
      const first = Math.max(0, Math.floor((start - base) / span));
      const last = Math.min(511, Math.floor((end - 1 - base) / span));
      for (let i = first; i <= last; i++) {
        const ea = table + i * 8;
        this.read(ea);
        const lo = this.elo;
        const hi = this.ehi;
        if ((lo & PTE_P) === 0 || level === 1 || ((level === 2 || level === 3) && (lo & PTE_PS) !== 0)) continue;
        const child = pteFrame(lo, hi);
        const ci = this.host.tables.get(child)!;
        const va = base + i * span;
        if (ci.owner === this) visit(child, level - 1, va);
        else if (this.hasLeavesIn(child, level - 1, va, start, end)) this.unlinkAt(ea, info, ci, va, span);
      }
    };
    if (end > start) visit(this.root, this.levels, 0);
  }

  /** The table at `level` covering `va` (walking from the root, creating nothing), or null. */
  tableAt(va: number, level: number): TableInfo | null {
    if (level === this.levels) return this.host.tables.get(this.root) ?? null;
    const ea = this.entryAddress(va, level + 1, false);
    if (ea < 0) return null;
    this.read(ea);
    if ((this.elo & PTE_P) === 0 || isLeafEntry(level + 1, this.elo)) return null;
    return this.host.tables.get(pteFrame(this.elo, this.ehi)) ?? null;
  }

  /**
   * Link another pmap's table `child` (covering `va` at level child.level) into this pmap.
   * Returns 0 when linked (or already linked), -1 out of memory for a table on the way, -2 when
   * this pmap already has something of its own there (nothing is changed then).
   */
  linkSubtree(va: number, child: TableInfo): number {
    const ea = this.entryAddress(va, child.level + 1, true);
    if (ea === -2) return -1;
    if (ea < 0) return -2;
    const parent = this.entryTable;
    this.read(ea);
    if ((this.elo & PTE_P) !== 0) return pteFrame(this.elo, this.ehi) === child.pa ? 0 : -2;
    this.write(ea, pteLo(child.pa, child.level + 1, TABLE_FLAGS), pteHi(child.pa, 0));
    parent.live++;
    child.links++;
    child.owner.sharers.set(this, (child.owner.sharers.get(this) ?? 0) + 1);
    return 0;
  }

  /** Whether the entry covering `va` at `level + 1` links a table another pmap owns. */
  isLinked(va: number, level: number): boolean {
    const t = this.tableAt(va, level);
    return t !== null && t.owner !== this;
  }

  /** Unlink a shared subtree at the link point for `va` at `level` (the table's own level). */
  unlinkSubtree(va: number, level: number): void {
    const ea = this.entryAddress(va, level + 1, false);
    if (ea < 0) return;
    this.read(ea);
    if ((this.elo & PTE_P) === 0) return;
    const child = this.host.tables.get(pteFrame(this.elo, this.ehi));
    if (!child || child.owner === this) return;
    const span = LEVEL_SPAN[level + 1];
    this.unlinkAt(ea, this.tableOf(ea), child, va - (va % span), span);
    this.pruneEmpty(va);
  }

  /** Free empty owned tables on the path to `va` (after an unlink). */
  private pruneEmpty(va: number): void {
    this.remove(va - (va % LEVEL_SPAN[this.levels]), va - (va % LEVEL_SPAN[this.levels]) + 1);
  }

  /** Lower the rights of every leaf in [start, end) (linked subtrees mapping there are unlinked). */
  protect(start: number, end: number, rights: { writable: boolean; nx: boolean }): void {
    this.unlinkMapping(start, end);
    this.forEachLeaf(start, end, (va, lo, hi, level, ea) => {
      let nlo = lo;
      let nhi = hi;
      if (!rights.writable) nlo &= ~PTE_RW;
      if (rights.nx) nhi |= PTE_HI_XD;
      if (nlo !== lo || nhi !== hi) {
        this.write(ea, nlo, nhi);
        this.queue(va, LEVEL_SPAN[level]);
      }
    });
  }

  /** Visit leaves in [start, end) (owned or shared subtrees alike). */
  forEachLeaf(start: number, end: number, fn: (va: number, lo: number, hi: number, level: number, entryPa: number) => void): void {
    const visit = (table: number, level: number, base: number): void => {
      const span = LEVEL_SPAN[level];
      const first = Math.max(0, Math.floor((start - base) / span));
      const last = Math.min(511, Math.floor((end - 1 - base) / span));
      for (let i = first; i <= last; i++) {
        const ea = table + i * 8;
        this.read(ea);
        const lo = this.elo;
        const hi = this.ehi;
        if ((lo & PTE_P) === 0) continue;
        const va = base + i * span;
        if (isLeafEntry(level, lo)) fn(va, lo, hi, level, ea);
        else visit(pteFrame(lo, hi), level - 1, va);
      }
    };
    if (end > start) visit(this.root, this.levels, 0);
  }

  /** Visit the tables at `level` this pmap owns, with their VA bases (walking no lower). */
  forEachOwnedTableAt(level: number, fn: (info: TableInfo, base: number) => void): void {
    const visit = (pa: number, l: number, base: number): void => {
      const info = this.host.tables.get(pa);
      if (!info || info.owner !== this) return;
      if (l === level) {
        fn(info, base);
        return;
      }
      for (let i = 0; i < 512; i++) {
        this.read(pa + i * 8);
        const lo = this.elo;
        const hi = this.ehi;
        if ((lo & PTE_P) === 0 || ((l === 2 || l === 3) && (lo & PTE_PS) !== 0)) continue;
        visit(pteFrame(lo, hi), l - 1, base + i * LEVEL_SPAN[l]);
      }
    };
    visit(this.root, this.levels, 0);
  }

  /** Visit every table page reachable from the root (owned or linked), with its VA base. */
  forEachTable(fn: (info: TableInfo, base: number, viaLink: boolean) => void): void {
    const visit = (pa: number, base: number, viaLink: boolean): void => {
      const info = this.host.tables.get(pa);
      if (!info) throw new Error(`pmap ${this.id}: table ${pa.toString(16)} is not registered`);
      fn(info, base, viaLink);
      if (info.level === 1) return;
      const span = LEVEL_SPAN[info.level];
      for (let i = 0; i < 512; i++) {
        this.read(pa + i * 8);
        const lo = this.elo;
        const hi = this.ehi;
        if ((lo & PTE_P) === 0) continue;
        if (isLeafEntry(info.level, lo)) continue;
        const child = pteFrame(lo, hi);
        visit(child, base + i * span, viaLink || this.host.tables.get(child)?.owner !== this);
      }
    };
    visit(this.root, 0, false);
  }

  /**
   * Owe an invalidation of the page at `va` (of `_size` bytes, kept for callers' clarity): queued
   * for the next shootdown; past FULL_FLUSH_THRESHOLD pages it becomes one whole flush.
   */
  queue(va: number, _size: number): void {
    if (this.pendingFull) return;
    if (this.pendingVa.length >= FULL_FLUSH_THRESHOLD) {
      this.pendingFull = true;
      this.pendingVa.length = 0;
      return;
    }
    this.pendingVa.push(va);
  }

  /** A whole subtree went away: INVLPG at 2 MiB strides would miss its 4 KiB entries, so flush all. */
  private queueRange(_va: number, _span: number): void {
    this.pendingFull = true;
    this.pendingVa.length = 0;
  }

  /** True when invalidations are owed (the caller must shoot them down before returning to user code). */
  get hasPending(): boolean { return this.pendingFull || this.pendingVa.length > 0; }

  /** Forget owed invalidations: the caller has carried them out (Kernel.flushPmap) or needs none. */
  clearPending(): void {
    this.pendingFull = false;
    this.pendingVa.length = 0;
  }

  /** Free every table this pmap owns; linked subtrees of other pmaps just lose a link. */
  destroy(): void {
    this.forgetLastTable();
    const owned: number[] = [];
    const visit = (pa: number): void => {
      owned.push(pa);
      const info = this.host.tables.get(pa)!;
      if (info.level === 1) return;
      for (let i = 0; i < 512; i++) {
        this.read(pa + i * 8);
        const lo = this.elo;
        const hi = this.ehi;
        if ((lo & PTE_P) === 0 || isLeafEntry(info.level, lo)) continue;
        const child = this.host.tables.get(pteFrame(lo, hi))!;
        if (child.owner === this) visit(child.pa);
        else {
          child.links--;
          this.dropSharer(child.owner);
        }
      }
    };
    visit(this.root);
    for (const pa of owned) {
      this.host.tables.delete(pa);
      this.host.freeTablePage(pa);
    }
    this.leaves.fill(0);
    this.clearPending();
  }

  /** Rights of a leaf entry in the terms of LeafRights. */
  static rightsOf(lo: number, hi: number): LeafRights {
    return { writable: (lo & PTE_RW) !== 0, user: (lo & PTE_US) !== 0, nx: (hi & PTE_HI_XD) !== 0, global: (lo & PTE_G) !== 0 };
  }
}
