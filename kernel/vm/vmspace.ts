// vmspace = vm map + pmap: one address space. mmap/munmap/mprotect, fork's copy, and teardown.
// Every operation validates before it changes anything, so a failing call leaves the space as it was.
//
// A SpaceJMP shadow has a private home: its process's primary. Everything outside the segment
// region (text, data, heap, stacks, every ordinary mapping) is the primary's map and the primary's
// page tables, which the shadow links at 2^39-byte granularity (level-3 tables), the way a kernel
// half is shared: a change is made once, in the primary, and every space of the process sees it;
// the primary's shootdowns reach the shadows through pmap.sharers. Only the segment region is the
// shadow's own.

import { VmMap, type MapEntry, PROT_READ, PROT_WRITE, PROT_EXEC, ENTRY_COW, ENTRY_NEEDS_COPY, ENTRY_SEGMENT, type Inheritance } from './vmMap.js';
import { Pmap, type PmapHost, type LeafRights } from './pmap.js';
import { VmObject, type ObjectHost, referenceObject, releaseObject, lookupPage, pageHit } from './vmObject.js';
import { fail } from '../errno.js';
import { USER_MIN, userMax, RESERVED_START, reservedEnd } from '../layout.js';
import type { PagingMode } from '../../mmu/address.js';
import { CYC_VM } from '../../mmu/cpu.js';

export const MAP_SHARED = 0x1;
export const MAP_PRIVATE = 0x2;
export const MAP_FIXED = 0x10;
export const MAP_ANON = 0x1000;
/** FreeBSD: with MAP_FIXED, fail instead of replacing an existing mapping. */
export const MAP_EXCL = 0x4000;
/** Map every resident page of the object now (Linux MAP_POPULATE): no faults later. */
export const MAP_POPULATE = 0x8000;
export const MAP_KNOWN = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANON | MAP_EXCL | MAP_POPULATE;

/** MAP_POPULATE walks ranges up to this many pages page by page (see residentCandidates). */
const POPULATE_WALK_PAGES = 2 ** 18;

export type SpaceKind = 'primary' | 'named' | 'shadow';

/** Granularity at which a shadow links its private home's tables: one level-3 table (PDPT). */
export const PRIVATE_LINK_SPAN = 2 ** 39;
const PRIVATE_LINK_LEVEL = 3;

/** What a vmspace needs from the kernel. */
export interface VmHost extends ObjectHost, PmapHost {
  /** Carry out the invalidations a pmap queued, on every CPU that may hold them. */
  flushPmap(pmap: Pmap): void;
  readonly costs: PmapHost['costs'] & { mapEntryOp: number; objectPageLookup: number };
  /** Share the kernel half with a new address space's pmap (a kernel without one leaves it out). */
  linkKernelHalf?(pm: Pmap): void;
}

let nextSpaceId = 1;

export interface MmapRequest {
  addr: number | null;
  len: number;
  prot: number;
  flags: number;
  object: VmObject | null;
  offset: number;
  label?: string;
  inheritance?: Inheritance;
  /** Entry flags to add (ENTRY_SEGMENT, ENTRY_GROWS_DOWN ...). */
  entryFlags?: number;
  segment?: number;
  maxProt?: number;
}

export class Vmspace {
  readonly id = nextSpaceId++;
  readonly map: VmMap;
  readonly pmap: Pmap;
  /** Base address non-fixed mmap searches from (moved by ASLR). */
  mmapBase: number;
  /** A shadow's private home (its process's primary); null for primaries and named spaces. */
  privateHome: Vmspace | null = null;
  /** Its slot in the kernel half's data pages and the numbering that gave it (kernel/kernelHalf.ts). */
  kernelSlot = -1;
  kernelSlotGen = 0;

  constructor(readonly host: VmHost, readonly kind: SpaceKind, readonly paging: PagingMode, mmapBase: number, public name = '') {
    this.map = new VmMap(USER_MIN, userMax(paging), RESERVED_START, reservedEnd(paging));
    this.pmap = new Pmap(host, paging);
    host.linkKernelHalf?.(this.pmap);
    this.map.owner = this;
    this.mmapBase = mmapBase;
  }

  /** Whether `va` lies in the segment region (the part of a shadow that is its own). */
  inSegmentRegion(va: number): boolean {
    return va >= this.map.reservedStart && va < this.map.reservedEnd;
  }

  /** The space whose map and page tables hold `va`: the private home for a shadow's private addresses. */
  homeOf(va: number): Vmspace {
    return this.privateHome !== null && !this.inSegmentRegion(va) ? this.privateHome : this;
  }

  /**
   * Make `home`'s private region this space's (SpaceJMP attach): link every private-region table
   * `home` has now; later ones are linked on first fault (linkPrivate). Returns 0, or -1 when out
   * of memory for a table of this space's own (the caller destroys the space).
   */
  sharePrivateRegion(home: Vmspace): number {
    this.privateHome = home;
    const bases: number[] = [];
    home.pmap.forEachOwnedTableAt(PRIVATE_LINK_LEVEL, (_info, base) => {
      if (!this.inSegmentRegion(base)) bases.push(base);
    });
    for (const b of bases) if (this.linkPrivate(b) < 0) return -1;
    return 0;
  }

  /**
   * Link the private home's table covering `va` if this space does not link it yet: 1 when a link
   * was made, 0 when there was nothing to do, -1 out of memory, -2 when this space has a table of
   * its own there (cannot happen while private addresses are only ever edited in the home).
   */
  linkPrivate(va: number): number {
    if (!this.privateHome) return 0;
    const base = va - (va % PRIVATE_LINK_SPAN);
    const t = this.privateHome.pmap.tableAt(base, PRIVATE_LINK_LEVEL);
    if (!t || this.pmap.tableAt(base, PRIVATE_LINK_LEVEL) === t) return 0;
    const r = this.pmap.linkSubtree(base, t);
    return r < 0 ? r : 1;
  }

  /** "primary #3", "named "x" #5": kind, name and id, for reports. */
  describe(): string {
    return `${this.kind}${this.name ? ` "${this.name}"` : ''} #${this.id}`;
  }

  /**
   * Map a range. With MAP_FIXED the range replaces what was there (unless MAP_EXCL, which fails
   * with ENOMEM on overlap, as FreeBSD does); otherwise the hint is a starting point.
   * `object` null means anonymous zero-fill. Returns the address.
   */
  mmap(r: MmapRequest): number {
    const pageSize = r.object ? r.object.pageSize : 4096;
    if (this.privateHome) {
      const fixed = (r.flags & MAP_FIXED) !== 0 && r.addr !== null && Number.isSafeInteger(r.len) && r.len > 0;
      if (!fixed) return this.privateHome.mmap(r);
      const end = r.addr! + Math.ceil(r.len / pageSize) * pageSize;
      const inRegion = this.inSegmentRegion(r.addr!);
      if (inRegion !== this.inSegmentRegion(end - 1) || (r.addr! < this.map.reservedStart && end > this.map.reservedEnd)) {
        fail('EINVAL', 'in an attached space a fixed mapping may not span the private region and the segment region');
      }
      if (!inRegion) return this.privateHome.mmap(r);
    }
    if (r.len <= 0 || !Number.isSafeInteger(r.len)) fail('EINVAL', 'length must be positive');
    if ((r.flags & ~MAP_KNOWN) !== 0) fail('EINVAL', 'unknown flags');
    if (((r.flags & MAP_SHARED) !== 0) === ((r.flags & MAP_PRIVATE) !== 0)) fail('EINVAL', 'exactly one of MAP_SHARED and MAP_PRIVATE');
    if ((r.flags & MAP_EXCL) !== 0 && (r.flags & MAP_FIXED) === 0) fail('EINVAL', 'MAP_EXCL needs MAP_FIXED');
    if ((r.prot & ~7) !== 0) fail('EINVAL', 'bad protection');
    if (r.offset % pageSize !== 0) fail('EINVAL', `offset must be ${pageSize}-aligned`);
    const len = Math.ceil(r.len / pageSize) * pageSize;
    if (r.object && r.offset + len > r.object.size) fail('EINVAL', 'mapping runs past the end of the object');
    let addr: number;
    if ((r.flags & MAP_FIXED) !== 0) {
      if (r.addr === null || r.addr % pageSize !== 0) fail('EINVAL', `MAP_FIXED address must be ${pageSize}-aligned`);
      addr = r.addr;
      if (addr < this.map.min || addr + len > this.map.max) fail('ENOMEM', 'range outside the user address space');
      if (!this.map.isFree(addr, addr + len)) {
        if ((r.flags & MAP_EXCL) !== 0) fail('ENOMEM', 'MAP_EXCL: range already mapped');
        this.refuseSegments(addr, addr + len);
        this.unmapRange(addr, addr + len);
      }
    } else {
      const hint = r.addr !== null && r.addr >= this.map.min ? r.addr : this.mmapBase;
      addr = this.map.findSpace(len, pageSize, Math.ceil(hint / pageSize) * pageSize);
      if (addr < 0) fail('ENOMEM', 'no free range large enough');
    }
    let object = r.object;
    let flags = r.entryFlags ?? 0;
    const shared = (r.flags & MAP_SHARED) !== 0;
    if (object) {
      referenceObject(object);
      if (!shared && object.type !== 'wired') flags |= ENTRY_COW | ENTRY_NEEDS_COPY;
    } else {
      object = new VmObject('anon', len, 12, 0, r.label ?? 'anon');
    }
    const maxProt = r.maxProt ?? PROT_READ | PROT_WRITE | PROT_EXEC;
    const e: MapEntry = {
      start: addr, end: addr + len, prot: r.prot, maxProt,
      inheritance: r.inheritance ?? (shared ? 'share' : 'copy'),
      object, offset: r.object ? r.offset : 0, flags, segment: r.segment ?? 0,
      label: r.label ?? (r.object ? r.object.label : 'anon'),
    };
    this.map.insert(e);
    this.host.charge('vm', this.host.costs.mapEntryOp);
    if ((r.flags & MAP_POPULATE) !== 0 || object.type === 'wired') this.populate(e);
    return addr;
  }

  /**
   * Enter every resident page of the entry's object chain in [from, to) into the pmap (no faults
   * later). Out of memory for a page table it stops early: the rest comes by faults.
   */
  populate(e: MapEntry, from = e.start, to = e.end): number {
    const obj = e.object;
    if (!obj || e.prot === 0) return 0;
    const level = obj.pageShift === 30 ? 3 : obj.pageShift === 21 ? 2 : 1;
    const ps = obj.pageSize;
    const start = Math.max(e.start, from);
    const end = Math.min(e.end, to);
    // The two rights a page can get: the entry's object's own page, or a backing object's page,
    // which copy-on-write keeps read-only (one record each, not one per page).
    const mayWrite = (e.prot & PROT_WRITE) !== 0 && (e.flags & ENTRY_NEEDS_COPY) === 0;
    const nx = (e.prot & PROT_EXEC) === 0;
    const own: LeafRights = { writable: mayWrite, user: true, nx };
    const backing: LeafRights = { writable: mayWrite && (e.flags & ENTRY_COW) === 0, user: true, nx };
    const candidates = this.residentCandidates(e, start, end);
    const count = candidates ? candidates.length : Math.max(0, Math.ceil((end - start) / ps));
    let n = 0;
    for (let i = 0; i < count; i++) {
      const va = candidates ? candidates[i] : start + i * ps;
      this.host.chargeAt(CYC_VM, this.host.costs.objectPageLookup);
      const pa = lookupPage(obj, e.offset + (va - e.start));
      if (pa < 0) continue;
      if (this.pmap.enter(va, pa, pageHit.object === obj ? own : backing, level) < 0) break;
      n++;
    }
    this.host.flushPmap(this.pmap);
    return n;
  }

  /**
   * The page addresses of entry `e` to look up, in order, or null for every page of [from, to).
   * Up to POPULATE_WALK_PAGES pages the whole range is walked page by page, as it always was (its
   * modelled cost is one lookup per page); beyond that only pages resident somewhere in the object
   * chain are visited, like a page-cache range lookup that skips holes — walking 2^40 bytes page
   * by page was 2^28 steps (42 minutes of emulator time) for a mapping with nothing resident.
   */
  private residentCandidates(e: MapEntry, from: number, to: number): number[] | null {
    const obj = e.object!;
    const ps = obj.pageSize;
    const pages = (to - from) / ps;
    let resident = 0;
    for (let o: VmObject | null = obj; o; o = o.backing) resident += o.pages.size;
    if (pages <= POPULATE_WALK_PAGES || pages <= resident) return null;
    const out: number[] = [];
    const seen = new Set<number>();
    let off = e.offset;
    for (let o: VmObject | null = obj; o; o = o.backing) {
      for (const [pindex, _pa] of o.pages) {
        const byteOff = pindex * o.pageSize - off; // offset of this page within the entry's view
        for (let b = byteOff; b < byteOff + o.pageSize; b += ps) {
          if (b < from - e.start || b >= to - e.start) continue;
          const va = e.start + (b - (b % ps));
          if (!seen.has(va)) { seen.add(va); out.push(va); }
        }
      }
      off += o.backingOffset;
    }
    return out.sort((a, b) => a - b);
  }

  /** Unmap [start, end): page tables first (with shootdown), then entries and their objects. */
  unmapRange(start: number, end: number): void {
    const entries = this.map.overlapping(start, end);
    if (entries.length === 0) return;
    for (const e of entries) {
      const ps = e.object ? e.object.pageSize : 4096;
      if ((start > e.start && start % ps !== 0) || (end < e.end && end % ps !== 0)) fail('EINVAL', `range splits a ${ps}-byte page`);
    }
    this.pmap.remove(Math.max(start, entries[0].start), Math.min(end, entries[entries.length - 1].end));
    this.host.flushPmap(this.pmap);
    for (const e of this.map.removeRange(start, end)) {
      if (e.object) releaseObject(this.host, e.object);
      this.host.charge('vm', this.host.costs.mapEntryOp);
    }
  }

  /**
   * Drop the map entries in [start, end) and their object references without touching the pmap:
   * for ranges whose translations live in page tables shared with another space.
   */
  removeEntriesOnly(start: number, end: number): void {
    for (const e of this.map.removeRange(start, end)) {
      if (e.object) releaseObject(this.host, e.object);
      this.host.charge('vm', this.host.costs.mapEntryOp);
    }
  }

  /** Insert an entry for an existing object without mapping pages (they arrive via shared tables or faults). */
  insertEntry(e: Omit<MapEntry, 'map'>): MapEntry {
    if (e.object) referenceObject(e.object);
    this.map.insert(e as MapEntry);
    this.host.charge('vm', this.host.costs.mapEntryOp);
    return e as MapEntry;
  }

  /** munmap(2): remove every mapping in [addr, addr+len) and queue the invalidations (the caller
   *  shoots them down). EINVAL for an unaligned or out-of-range range or one holding a segment;
   *  nothing is changed then. */
  munmap(addr: number, len: number): void {
    if (addr % 4096 !== 0 || len <= 0) fail('EINVAL', 'address must be page-aligned and length positive');
    const end = addr + Math.ceil(len / 4096) * 4096;
    if (addr < this.map.min || end > this.map.max) fail('EINVAL', 'range outside the user address space');
    this.refuseSegments(addr, end);
    const home = this.privateHome;
    if (!home) {
      this.unmapRange(addr, end);
      return;
    }
    // A shadow: the private pieces are the home's, the segment-region piece is its own.
    const rs = Math.max(addr, this.map.reservedStart);
    const re = Math.min(end, this.map.reservedEnd);
    if (rs >= re) {
      home.munmap(addr, len);
      return;
    }
    home.refuseSegments(addr, rs);
    home.refuseSegments(re, end);
    if (addr < rs) home.unmapRange(addr, rs);
    if (re < end) home.unmapRange(re, end);
    this.unmapRange(rs, re);
  }

  /** munmap and MAP_FIXED never take a segment away: that is seg_detach's (EINVAL). */
  private refuseSegments(start: number, end: number): void {
    for (const e of this.map.overlapping(start, end)) {
      if ((e.flags & ENTRY_SEGMENT) !== 0) fail('EINVAL', `${e.label} is a segment: detach it with seg_detach`);
    }
  }

  /** Change protection; lowering rights invalidates TLBs; raising beyond maxProt is EACCES. */
  mprotect(addr: number, len: number, prot: number): void {
    if (addr % 4096 !== 0 || len <= 0) fail('EINVAL', 'address must be page-aligned and length positive');
    if ((prot & ~7) !== 0) fail('EINVAL', 'bad protection');
    const end = addr + Math.ceil(len / 4096) * 4096;
    if (this.privateHome) {
      const inRegion = this.inSegmentRegion(addr);
      if (inRegion !== this.inSegmentRegion(end - 1) || (addr < this.map.reservedStart && end > this.map.reservedEnd)) {
        fail('EINVAL', 'in an attached space mprotect may not span the private region and the segment region');
      }
      if (!inRegion) {
        this.privateHome.mprotect(addr, len, prot);
        return;
      }
    }
    const entries = this.map.overlapping(addr, end);
    // The whole range must be mapped (POSIX ENOMEM otherwise), and every entry must allow prot.
    let cursor = addr;
    for (const e of entries) {
      if (e.start > cursor) fail('ENOMEM', 'range not fully mapped');
      if ((prot & ~e.maxProt) !== 0) fail('EACCES', `${e.label}: protection beyond the mapping's maximum`);
      const ps = e.object ? e.object.pageSize : 4096;
      if ((addr > e.start && addr % ps !== 0) || (end < e.end && end % ps !== 0)) fail('EINVAL', `range splits a ${ps}-byte page`);
      cursor = e.end;
    }
    if (cursor < end) fail('ENOMEM', 'range not fully mapped');
    this.map.clip(addr);
    this.map.clip(end);
    for (const e of this.map.overlapping(addr, end)) {
      const lowered = (e.prot & ~prot) !== 0;
      e.prot = prot;
      if (lowered) this.pmap.protect(e.start, e.end, { writable: (prot & PROT_WRITE) !== 0, nx: (prot & PROT_EXEC) === 0 });
      if (prot === 0) this.pmap.remove(e.start, e.end);
    }
    this.map.timestamp++;
    this.host.flushPmap(this.pmap);
    this.host.charge('vm', this.host.costs.mapEntryOp);
  }

  /**
   * fork: a new space with this one's entries by inheritance. 'copy' entries become
   * copy-on-write in both (and this space's pages lose write access); 'share' entries share the
   * object; 'none' entries are left out. Segments are never inherited (SpaceJMP: fork does not
   * carry attachments) unless they are in the primary with 'share'.
   */
  forkInto(child: Vmspace): void {
    for (const e of this.map.entries) {
      if (e.inheritance === 'none') continue;
      const c: MapEntry = { ...e };
      if (e.object) referenceObject(e.object);
      if (e.inheritance === 'copy' && e.object && e.object.type !== 'wired') {
        e.flags |= ENTRY_COW | ENTRY_NEEDS_COPY;
        c.flags |= ENTRY_COW | ENTRY_NEEDS_COPY;
        if ((e.prot & PROT_WRITE) !== 0) this.pmap.protect(e.start, e.end, { writable: false, nx: (e.prot & PROT_EXEC) === 0 });
      }
      child.map.insert(c);
      this.host.charge('vm', this.host.costs.mapEntryOp);
      if (e.object?.type === 'wired') child.populate(c);
    }
    this.host.flushPmap(this.pmap);
  }

  /** Tear everything down: entries, objects, page tables. */
  destroy(): void {
    // No per-page unmapping: the space is unloaded everywhere and its page tables go whole
    // (shared subtrees just lose a link); only the object references need dropping.
    for (const e of this.map.removeRange(this.map.min, this.map.max)) {
      if (e.object) releaseObject(this.host, e.object);
    }
    this.pmap.destroy();
  }

  /** Resident 4K-equivalent pages mapped by the pmap. */
  get residentBytes(): number {
    const l = this.pmap.leaves;
    return l[1] * 4096 + l[2] * 2 ** 21 + l[3] * 2 ** 30;
  }
}
