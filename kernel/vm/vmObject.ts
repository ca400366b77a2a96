// vm objects (BSD/Mach model, reference chapter 9): the source of pages for map entries.
//   anon   zero-fill on demand (also the shadow objects that implement copy-on-write)
//   wired  physical pages reserved at creation and never reclaimed (SpaceJMP segments)
//   file   a tmpfs file: its pages are the page cache, shared by every mapping of the file
// Reference counted. A shadow object's `backing` chain is searched on faults; when a backing
// object is referenced only by its one shadow, the chain collapses into the shadow.


export type ObjectType = 'anon' | 'wired' | 'file';

/** What objects need from the kernel: frames and the cost of touching them. */
export interface ObjectHost {
  allocFrame(order: number, node: number): number; // -1 when out of memory
  freeFrame(pa: number, order: number): void;
  zeroFrame(pa: number, bytes: number): void;
  copyFrame(dst: number, src: number, bytes: number): void;
}

/**
 * What an object's reverse map holds: the map entries (vmMap.ts MapEntry) that reference it, seen
 * here only as the range they map, where it starts in the object and the map holding them — so
 * this module does not import vmMap.ts (which imports this one).
 */
export interface ObjectMapper {
  readonly start: number;
  readonly end: number;
  /** Byte offset of `start` within the object. */
  readonly offset: number;
  /** The map holding the entry; its owner is the address space. */
  readonly map?: { readonly owner: unknown };
}

let nextObjectId = 1;

export class VmObject {
  readonly id = nextObjectId++;
  refCount = 1;
  /** Resident pages: page index (in units of this object's page size) -> physical address. */
  readonly pages = new Map<number, number>();
  backing: VmObject | null = null;
  /** Byte offset of this object's start within `backing`. */
  backingOffset = 0;
  /** Shadow objects whose backing is this object. */
  readonly shadows = new Set<VmObject>();
  /** Map entries that reference this object directly (an object-level reverse map). */
  readonly mappers = new Set<ObjectMapper>();
  /** Bytes per page of this object (4 KiB, 2 MiB or 1 GiB): 2 ** pageShift, kept as a field
   *  because the mapping paths ask for it once per page. */
  readonly pageSize: number;

  constructor(
    readonly type: ObjectType,
    /** Size in bytes (a multiple of the page size). */
    public size: number,
    /** log2 of the page size: 12 (4 KiB), 21 (2 MiB) or 30 (1 GiB). */
    readonly pageShift: number = 12,
    /** Preferred NUMA node for its frames. */
    readonly node: number = 0,
    /** A name for views: file path, segment name, or a role ("stack", "heap"). */
    public label = '',
  ) {
    this.pageSize = 2 ** pageShift;
  }

  /** Frame-allocator order of one page. */
  get order(): number { return this.pageShift - 12; }
  /** Pages the object spans (resident or not). */
  get pageCount(): number { return Math.ceil(this.size / this.pageSize); }

  /** "anon#3 -> file#1(/f)": the object and its backing chain, for reports. */
  describe(): string {
    const chain = this.backing ? ` -> ${this.backing.describe()}` : '';
    return `${this.type}#${this.id}${this.label ? `(${this.label})` : ''}${chain}`;
  }
}

/** Where the last lookupPage found its page: the object of the chain holding it (a field, not a
 *  returned record, so mapping a window allocates nothing per page). Valid until the next call. */
export const pageHit: { object: VmObject | null } = { object: null };

/** Find the page holding byte `offset` of `obj`, searching the shadow chain: its frame, or -1
 *  when no object of the chain has it. The object holding it is left in pageHit.object. */
export function lookupPage(obj: VmObject, offset: number): number {
  let o: VmObject | null = obj;
  let off = offset;
  while (o) {
    const pa = o.pages.get(Math.floor(off / o.pageSize));
    if (pa !== undefined) {
      pageHit.object = o;
      return pa;
    }
    off += o.backingOffset;
    o = o.backing;
  }
  pageHit.object = null;
  return -1;
}

/** Allocate, zero and insert the page holding `offset`; returns its pa or -1 (out of memory). */
export function allocObjectPage(host: ObjectHost, obj: VmObject, offset: number, zero = true): number {
  const pindex = Math.floor(offset / obj.pageSize);
  if (obj.pages.has(pindex)) throw new Error(`allocObjectPage: ${obj.describe()} already has page ${pindex}`);
  const pa = host.allocFrame(obj.order, obj.node);
  if (pa < 0) return -1;
  if (zero) host.zeroFrame(pa, obj.pageSize);
  obj.pages.set(pindex, pa);
  return pa;
}

/** Take one more reference on `obj` (a new map entry or holder) and return it; release with releaseObject. */
export function referenceObject(obj: VmObject): VmObject {
  obj.refCount++;
  return obj;
}

/** Drop one reference; at zero the pages are freed and the backing reference dropped (may collapse). */
export function releaseObject(host: ObjectHost, obj: VmObject): void {
  if (obj.refCount <= 0) throw new Error(`releaseObject: ${obj.describe()} has no references`);
  obj.refCount--;
  if (obj.refCount > 0) {
    // The last other user went away: if one shadow is all that is left, fold this object into it.
    if (obj.refCount === 1 && obj.shadows.size === 1) collapseChain(host, [...obj.shadows][0]);
    return;
  }
  for (const pa of obj.pages.values()) host.freeFrame(pa, obj.order);
  obj.pages.clear();
  const b = obj.backing;
  obj.backing = null;
  if (b) {
    b.shadows.delete(obj);
    releaseObject(host, b);
  }
}

/** Make a shadow (copy-on-write layer) over `obj`, taking over the caller's reference to it. */
export function shadowObject(obj: VmObject, offset: number, size: number): VmObject {
  // Same page size as what it shadows: the fault handler copies and maps one page of the entry's
  // size, so a 4 KiB shadow over a 2 MiB file page would take a 2 MiB copy into a 4 KiB frame.
  const s = new VmObject('anon', size, obj.pageShift, obj.node, obj.label);
  s.backing = obj;
  s.backingOffset = offset;
  obj.shadows.add(s);
  return s;
}

/**
 * Collapse `top`'s chain while its backing object is anonymous and referenced only by `top`
 * (FreeBSD vm_object_collapse): pages `top` lacks move up, shadowed ones are freed.
 * Physical addresses do not change, so existing mappings stay valid.
 */
export function collapseChain(host: ObjectHost, top: VmObject): number {
  let collapsed = 0;
  while (top.backing && top.backing.type === 'anon' && top.backing.refCount === 1 && top.backing.mappers.size === 0 && top.backing.pageShift === top.pageShift) {
    const b = top.backing;
    const base = top.backingOffset;
    for (const [pindex, pa] of b.pages) {
      const off = pindex * b.pageSize - base;
      const mine = off >= 0 && off < top.size ? Math.floor(off / top.pageSize) : -1;
      if (mine >= 0 && !top.pages.has(mine)) top.pages.set(mine, pa);
      else host.freeFrame(pa, b.order);
    }
    b.pages.clear();
    top.backing = b.backing;
    top.backingOffset = base + b.backingOffset;
    if (b.backing) {
      b.backing.shadows.delete(b);
      b.backing.shadows.add(top);
    }
    b.backing = null;
    b.refCount = 0;
    b.shadows.clear();
    collapsed++;
  }
  return collapsed;
}
