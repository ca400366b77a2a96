// The fuzzer's memory-contents model: what each process should read at each address in each of
// its address spaces, and whether it may write there. Plain code over Maps and arrays, written
// from the documented semantics (docs/spacejmp.md, DESIGN.md), never from the kernel's data
// structures, so it can disagree with the kernel:
//  - a process's private region (everything outside the segment region: text, heap, stack, its
//    mmaps) is one set of mappings seen by its primary and every shadow it attached;
//  - fork gives the child a snapshot of the private region (copy-on-write: later writes on either
//    side stay on that side), shared mappings stay shared, attachments are not inherited;
//  - the segment region of a space holds segments: a primary's own (seg_attach(PRIMARY)), a
//    shadow's own (seg_attach(vh)), and its named space's, with the attacher's rights applied
//    (write only if the space and the segment both allow the attacher to write);
//  - a MAP_PRIVATE file mapping sees the file until it writes a page, then its own copy.
// The model follows the kernel's call results (a call that succeeded changes the model); what it
// predicts independently is every load's value and every access's fault/no-fault.

export const PAGE = 4096;

/** Bytes of a memory object: file, segment, anonymous memory; zero where never written. */
export class Bytes {
  private static next = 1;
  readonly id = Bytes.next++;
  readonly pages = new Map<number, Uint8Array>();

  constructor(readonly label: string) {}

  private page(i: number, create: boolean): Uint8Array | undefined {
    let p = this.pages.get(i);
    if (!p && create) this.pages.set(i, (p = new Uint8Array(PAGE)));
    return p;
  }

  read8(off: number): number {
    return this.page(Math.floor(off / PAGE), false)?.[off % PAGE] ?? 0;
  }

  write8(off: number, v: number): void {
    this.page(Math.floor(off / PAGE), true)![off % PAGE] = v & 0xff;
  }

  read64(off: number): bigint {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(this.read8(off + i));
    return v;
  }

  write64(off: number, v: bigint): void {
    for (let i = 0; i < 8; i++) this.write8(off + i, Number((v >> BigInt(8 * i)) & 0xffn));
  }

  hasPage(i: number): boolean {
    return this.pages.has(i);
  }

  clone(label = this.label): Bytes {
    const c = new Bytes(label);
    for (const [i, p] of this.pages) c.pages.set(i, p.slice());
    return c;
  }

  /** Zero [from, to) (a shrunk file's tail). */
  zero(from: number, to: number): void {
    for (const [i, p] of this.pages) {
      const a = i * PAGE;
      if (a + PAGE <= from || a >= to) continue;
      p.fill(0, Math.max(0, from - a), Math.min(PAGE, to - a));
    }
  }
}

export type RegionKind = 'anon-private' | 'anon-shared' | 'file-shared' | 'file-private' | 'segment';

export interface Region {
  start: number;
  end: number;
  prot: number;
  kind: RegionKind;
  /** The content: the process's own (anon-private), shared (anon-shared, file, segment). */
  bytes: Bytes;
  /** Offset of `start` within `bytes`. */
  offset: number;
  /** file-private: the pages this mapping has written (by page index of `bytes`), and their content. */
  overlay?: { bytes: Bytes; pages: Set<number>; pageSize: number };
  sid?: number;
  label: string;
  /** The lowest piece of a stack: an access just below it grows it (down to STACK_MAX below the top). */
  growsDown?: boolean;
}

export const PROT_R = 1;
export const PROT_W = 2;

/** A sorted, non-overlapping list of regions with the carving that map/unmap/protect need. */
export class RegionList {
  regions: Region[] = [];

  find(a: number): Region | undefined {
    for (const r of this.regions) if (a >= r.start && a < r.end) return r;
    return undefined;
  }

  overlaps(start: number, end: number): boolean {
    return this.regions.some((r) => r.start < end && start < r.end);
  }

  /** Remove [start, end), splitting regions at its edges. */
  carve(start: number, end: number): void {
    const out: Region[] = [];
    for (const r of this.regions) {
      if (r.end <= start || r.start >= end) { out.push(r); continue; }
      if (r.start < start) out.push({ ...r, end: start });
      if (r.end > end) out.push({ ...r, start: end, offset: r.offset + (end - r.start) });
    }
    this.regions = out.sort((a, b) => a.start - b.start);
  }

  insert(r: Region): void {
    this.carve(r.start, r.end);
    this.regions.push(r);
    this.regions.sort((a, b) => a.start - b.start);
  }

  /** Set the protection of [start, end) (which must be covered). */
  protect(start: number, end: number, prot: number): void {
    const inside = this.regions.filter((r) => r.start < end && start < r.end).map((r) => ({ ...r }));
    this.carve(start, end);
    for (const r of inside) {
      const s = Math.max(r.start, start);
      const e = Math.min(r.end, end);
      this.regions.push({ ...r, start: s, end: e, offset: r.offset + (s - r.start), prot });
    }
    this.regions.sort((a, b) => a.start - b.start);
  }

  clone(map: (r: Region) => Region): RegionList {
    const c = new RegionList();
    c.regions = this.regions.map(map);
    return c;
  }
}

/** A private file mapping's first write to a page copies the file's page (of the file's page size). */
function copyUp(r: Region, off: number): void {
  const o = r.overlay!;
  const page = Math.floor(off / o.pageSize);
  if (o.pages.has(page)) return;
  for (let i = 0; i < o.pageSize; i++) o.bytes.write8(page * o.pageSize + i, r.bytes.read8(page * o.pageSize + i));
  o.pages.add(page);
}

/** One byte through a region, for read/write system calls. */
export function readRegion8(r: Region, a: number): number {
  const off = r.offset + (a - r.start);
  if (r.overlay && r.overlay.pages.has(Math.floor(off / r.overlay.pageSize))) return r.overlay.bytes.read8(off);
  return r.bytes.read8(off);
}

export function writeRegion8(r: Region, a: number, v: number): void {
  const off = r.offset + (a - r.start);
  if (r.overlay) {
    copyUp(r, off);
    r.overlay.bytes.write8(off, v);
    return;
  }
  r.bytes.write8(off, v);
}

export interface Cred { uid: number; gid: number; groups?: readonly number[] }
export interface Owned { uid: number; gid: number; mode: number }

/** Unix rights: root may do anything; else owner bits, group bits (primary or supplementary group), other bits. */
export function allows(c: Cred, o: Owned, want: 'r' | 'w'): boolean {
  if (c.uid === 0) return true;
  const bit = want === 'r' ? 4 : 2;
  const shift = c.uid === o.uid ? 6 : c.gid === o.gid || (c.groups ?? []).includes(o.gid) ? 3 : 0;
  return ((o.mode >> shift) & bit) !== 0;
}

export interface ModelSegment extends Owned { sid: number; name: string; base: number; size: number; bytes: Bytes; deleted: boolean }
export interface ModelVas extends Owned { vid: number; name: string; segments: Map<number, number>; deleted: boolean }

export interface ModelAttachment {
  vh: number;
  vid: number;
  /** The shadow's own segment-region mappings (seg_attach(vh), MAP_FIXED there). */
  own: RegionList;
  /** Rights of each of the named space's segments in this shadow, fixed when it entered. */
  segProt: Map<number, number>;
  /** Whether the attacher could write the named space when it attached (like an open file's mode). */
  vasWritable: boolean;
}

export interface ModelProcess {
  name: string;
  pid: number;
  cred: Cred;
  live: boolean;
  /** The private region: outside the segment region, shared by the primary and every shadow. */
  priv: RegionList;
  /** The primary's segment-region mappings. */
  primaryReserved: RegionList;
  attachments: Map<number, ModelAttachment>;
  /** Which space each driven thread is in (0 = primary, else a vh). */
  threadSpace: Map<string, number>;
}

export class MemoryModel {
  readonly processes = new Map<string, ModelProcess>();
  readonly segments = new Map<number, ModelSegment>();
  readonly vases = new Map<number, ModelVas>();
  readonly files = new Map<string, { bytes: Bytes; length: number; uid: number; gid: number; mode: number }>();

  constructor(readonly reservedStart: number, readonly reservedEnd: number) {}

  inReserved(a: number): boolean {
    return a >= this.reservedStart && a < this.reservedEnd;
  }

  /** The region list an address falls in, for a process in space `vh`. */
  listFor(p: ModelProcess, vh: number, a: number): RegionList {
    if (!this.inReserved(a)) return p.priv;
    if (vh === 0) return p.primaryReserved;
    return p.attachments.get(vh)!.own;
  }

  /** Resolve `a` for a thread of `p` in space `vh`: the region, and its rights there. */
  resolve(p: ModelProcess, vh: number, a: number): { region: Region; prot: number } | null {
    const own = this.listFor(p, vh, a).find(a);
    if (own) return { region: own, prot: own.prot };
    if (vh !== 0 && this.inReserved(a)) {
      const att = p.attachments.get(vh)!;
      const v = this.vases.get(att.vid);
      if (!v) return null;
      for (const sid of v.segments.keys()) {
        const s = this.segments.get(sid)!;
        if (a >= s.base && a < s.base + s.size) {
          const prot = att.segProt.get(sid) ?? 0;
          return { region: { start: s.base, end: s.base + s.size, prot, kind: 'segment', bytes: s.bytes, offset: 0, sid, label: s.name }, prot };
        }
      }
    }
    return null;
  }

  /**
   * A stack grows when an access lands below its lowest piece, within `stackMax` of `stackTop`,
   * with nothing mapped in between: the new piece (zero-filled) joins the private region.
   */
  growStack(p: ModelProcess, a: number, stackTop: number, stackMax: number): boolean {
    if (this.inReserved(a)) return false;
    const page = a - (a % PAGE);
    const above = p.priv.regions.find((r) => r.start > a);
    if (!above || !above.growsDown) return false;
    // The limit counts the stack mapping the access extends: the contiguous run of stack
    // pieces above it (as Linux counts the grows-down VMA, which munmap may have split).
    let top = above.end;
    for (let r = p.priv.find(top); r && r.start === top && r.label === above.label; r = p.priv.find(top)) top = r.end;
    if (Math.min(top, stackTop) - page > stackMax) return false;
    above.growsDown = false;
    p.priv.insert({ start: page, end: above.start, prot: above.prot, kind: 'anon-private', bytes: new Bytes('stack'), offset: 0, label: above.label, growsDown: true });
    return true;
  }

  /**
   * An access of `width` bytes at `a`, as x86 makes it: one access per page it touches, lower page
   * first, every page translated and checked (a stack grows on the way) before any byte moves, so a
   * fault on either page moves nothing. Returns the regions holding each byte, or why not.
   */
  predictAccess(p: ModelProcess, vh: number, a: number, width: number, write: boolean, stackTop: number, stackMax: number):
    | { kind: 'ok'; regions: Region[] } | { kind: 'fault' } | { kind: 'unknown' } {
    const pages = Math.floor(a / PAGE) === Math.floor((a + width - 1) / PAGE) ? [a] : [a, (Math.floor(a / PAGE) + 1) * PAGE];
    let unknown = false;
    for (const q of pages) {
      if (!this.resolve(p, vh, q)) this.growStack(p, q, stackTop, stackMax);
      const hit = this.resolve(p, vh, q);
      if (!hit || hit.prot === 0) return { kind: 'fault' };
      if (write ? (hit.prot & PROT_W) === 0 : (hit.prot & PROT_R) === 0) {
        if (write) return { kind: 'fault' };
        unknown = true; // write- or exec-only: x86 reads anyway, or not
      }
    }
    if (unknown) return { kind: 'unknown' };
    const regions: Region[] = [];
    for (let i = 0; i < width; i++) regions.push(this.resolve(p, vh, a + i)!.region);
    return { kind: 'ok', regions };
  }

  /**
   * Rights of a named space's segment for an attacher (the documented rule): none (no mapping) if
   * the attacher may not read the segment — a live add cannot be refused on his behalf, so he
   * simply does not get it; write only if the attacher could write the space when it attached and
   * may write the segment now.
   */
  shadowProt(cred: Cred, vasWritable: boolean, v: ModelVas, sid: number): number {
    const s = this.segments.get(sid)!;
    if (!allows(cred, s, 'r')) return 0;
    let prot = v.segments.get(sid)!;
    if (!vasWritable || !allows(cred, s, 'w')) prot &= ~PROT_W;
    return prot;
  }

  /** fork: the child's private region is a snapshot; shared mappings stay shared. */
  forkProcess(parent: ModelProcess, name: string, pid: number): ModelProcess {
    const copies = new Map<Bytes, Bytes>();
    const copyOf = (b: Bytes): Bytes => {
      let c = copies.get(b);
      if (!c) copies.set(b, (c = b.clone()));
      return c;
    };
    const priv = parent.priv.clone((r) => {
      if (r.kind === 'anon-private') return { ...r, bytes: copyOf(r.bytes) };
      if (r.kind === 'file-private') return { ...r, overlay: { bytes: copyOf(r.overlay!.bytes), pages: new Set(r.overlay!.pages), pageSize: r.overlay!.pageSize } };
      return { ...r };
    });
    // The primary's reserved-region mappings other than segments are inherited too (segments are not).
    const reserved = parent.primaryReserved.clone((r) => (r.kind === 'anon-private' ? { ...r, bytes: copyOf(r.bytes) } : { ...r }));
    reserved.regions = reserved.regions.filter((r) => r.kind !== 'segment');
    const child: ModelProcess = {
      name, pid, cred: { ...parent.cred, groups: parent.cred.groups ? [...parent.cred.groups] : undefined }, live: true, priv, primaryReserved: reserved,
      attachments: new Map(), threadSpace: new Map([[name, 0]]),
    };
    this.processes.set(name, child);
    return child;
  }
}
