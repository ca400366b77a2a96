// vm_map: the machine-independent description of an address space — a sorted list of entries,
// each a page-aligned range with protections, inheritance and the vm object behind it.
// Addresses are page-aligned numbers (exact up to 2^56, which covers the 57-bit user half).

import { VmObject, referenceObject } from './vmObject.js';

export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const PROT_ALL = 7;

export type Inheritance = 'share' | 'copy' | 'none';

/** Entry flags (FreeBSD MAP_ENTRY_* values). */
export const ENTRY_COW = 0x4;
export const ENTRY_NEEDS_COPY = 0x8;
export const ENTRY_GROWS_DOWN = 0x1000;
/** SpaceJMP: the entry maps a memory segment. */
export const ENTRY_SEGMENT = 0x10000;

export interface MapEntry {
  start: number;
  end: number;
  prot: number;
  maxProt: number;
  inheritance: Inheritance;
  object: VmObject | null;
  /** Byte offset of `start` within the object. */
  offset: number;
  flags: number;
  /** Segment id when ENTRY_SEGMENT. */
  segment: number;
  /** What the region is, for views ("heap", "stack", "text", a file path, a segment name). */
  label: string;
  /** The map holding the entry (set by insert), so an object's mappers lead back to their pmaps. */
  map?: VmMap;
}

/** "rw-" style text of PROT_* bits. */
export function protString(p: number): string {
  return (p & PROT_READ ? 'r' : '-') + (p & PROT_WRITE ? 'w' : '-') + (p & PROT_EXEC ? 'x' : '-');
}

export class VmMap {
  readonly entries: MapEntry[] = [];
  /** The address space this map describes (a Vmspace; typed loosely to keep layers acyclic). */
  owner: { pmap: { remove(start: number, end: number): number } } | null = null;
  /** Bumped on every change (views and cached lookups notice). */
  timestamp = 0;

  constructor(
    /** Lowest and highest+1 user addresses. */
    readonly min: number,
    readonly max: number,
    /** The reserved region for segments: ordinary mmap never picks addresses in it. */
    readonly reservedStart: number,
    readonly reservedEnd: number,
  ) {}

  /** Index of the first entry with end > va. */
  private indexAfter(va: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid].end <= va) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The entry containing `va`, or null. Binary search; reads only. */
  lookup(va: number): MapEntry | null {
    const i = this.indexAfter(va);
    const e = this.entries[i];
    return e && e.start <= va ? e : null;
  }

  /** Entries overlapping [start, end), in order. */
  overlapping(start: number, end: number): MapEntry[] {
    const out: MapEntry[] = [];
    for (let i = this.indexAfter(start); i < this.entries.length && this.entries[i].start < end; i++) out.push(this.entries[i]);
    return out;
  }

  /** True when no entry overlaps [start, end). */
  isFree(start: number, end: number): boolean {
    const i = this.indexAfter(start);
    return i >= this.entries.length || this.entries[i].start >= end;
  }

  /** Insert an entry over a free range. The entry owns one reference to its object (taken by the caller). */
  insert(e: MapEntry): void {
    if (!(e.start < e.end) || e.start % 4096 !== 0 || e.end % 4096 !== 0) throw new Error(`vmMap.insert: bad range ${e.start.toString(16)}-${e.end.toString(16)}`);
    if (e.start < this.min || e.end > this.max) throw new Error('vmMap.insert: outside the map');
    if (!this.isFree(e.start, e.end)) throw new Error(`vmMap.insert: ${e.start.toString(16)}-${e.end.toString(16)} overlaps`);
    e.map = this;
    this.entries.splice(this.indexAfter(e.start), 0, e);
    if (e.object) e.object.mappers.add(e);
    this.timestamp++;
  }

  /** Make `va` an entry boundary, splitting the entry that spans it. */
  clip(va: number): void {
    const e = this.lookup(va);
    if (!e || e.start === va) return;
    const right: MapEntry = { ...e, start: va, offset: e.offset + (va - e.start) };
    e.end = va;
    if (right.object) {
      referenceObject(right.object);
      right.object.mappers.add(right);
    }
    this.entries.splice(this.indexAfter(va), 0, right);
    this.timestamp++;
  }

  /** Detach and return the entries inside [start, end) after clipping; the caller releases objects. */
  removeRange(start: number, end: number): MapEntry[] {
    this.clip(start);
    this.clip(end);
    const i = this.indexAfter(start);
    let j = i;
    while (j < this.entries.length && this.entries[j].start < end) j++;
    const removed = this.entries.splice(i, j - i);
    for (const e of removed) e.object?.mappers.delete(e);
    if (removed.length) this.timestamp++;
    return removed;
  }

  /**
   * First free range of `len` bytes aligned to `align`, at or above `hint`, outside the reserved
   * region; -1 if none. Searches upward from the hint, then from the bottom.
   */
  findSpace(len: number, align: number, hint: number): number {
    const tryFrom = (from: number): number => {
      let a = Math.ceil(Math.max(from, this.min) / align) * align;
      for (let i = this.indexAfter(a); ; i++) {
        if (a < this.reservedEnd && a + len > this.reservedStart) a = Math.ceil(this.reservedEnd / align) * align;
        const next = i < this.entries.length ? this.entries[i] : null;
        if (next && next.end <= a) continue;
        const limit = next ? next.start : this.max;
        if (a + len <= limit && !(a < this.reservedEnd && a + len > this.reservedStart)) return a + len <= this.max ? a : -1;
        if (!next) return -1;
        a = Math.ceil(next.end / align) * align;
      }
    };
    const r = tryFrom(hint);
    return r >= 0 || hint <= this.min ? r : tryFrom(this.min);
  }

  /** Total mapped bytes. */
  get size(): number {
    let n = 0;
    for (const e of this.entries) n += e.end - e.start;
    return n;
  }
}
