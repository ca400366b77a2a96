// The page-fault handler (FreeBSD vm_fault in miniature): the one place that walks map entry ->
// object chain -> page -> pmap. Resolves demand-zero, copy-on-write, file fills and stack growth;
// anything else is a real violation, reported with the address, access, reason and map entry.

import { ACCESS_EXEC, ACCESS_WRITE, ACCESS_NAMES, type AccessKind } from '../../mmu/pageWalker.js';
import { type MapEntry, PROT_READ, PROT_WRITE, PROT_EXEC, ENTRY_COW, ENTRY_NEEDS_COPY, ENTRY_GROWS_DOWN, protString } from './vmMap.js';
import { lookupPage, pageHit, allocObjectPage, shadowObject, collapseChain, VmObject } from './vmObject.js';
import type { Vmspace, VmHost } from './vmspace.js';
import { formatAddr } from '../../mmu/units.js';
import { STACK_MAX } from '../layout.js';

export interface FaultCosts {
  pageFaultHandler: number;
  pageZero4K: number;
  pageCopy4K: number;
  objectPageLookup: number;
}

export interface FaultOutcome {
  ok: boolean;
  /** Why it could not be resolved. */
  reason: string;
  entry: MapEntry | null;
}

const OK: FaultOutcome = { ok: true, reason: '', entry: null };

function describeEntry(e: MapEntry): string {
  return `${formatAddr(e.start)}-${formatAddr(e.end)} ${protString(e.prot)} ${e.label} (${e.object ? e.object.describe() : 'no object'})`;
}

/** One line for a fault that could not be resolved: access, address, reason and the entry. */
export function faultReport(va: bigint, access: AccessKind, out: FaultOutcome): string {
  const where = out.entry ? `entry ${describeEntry(out.entry)}` : 'no map entry';
  return `${ACCESS_NAMES[access]} at ${formatAddr(va)}: ${out.reason} [${where}]`;
}

/**
 * Resolve a fault at `va` for `access` in `vs`: on success the page is mapped in `vs`'s page tables
 * and the invalidations its change needs are shot down. Returns ok, or the reason it is a real
 * violation (no mapping, no permission, out of memory) for the caller to kill the process or return
 * EFAULT. A failure leaves the map, objects and page tables consistent, but not always exactly as
 * they were: the handler's cycles are charged, a stack entry may have grown, a copy-on-write entry
 * may have got its shadow object (and its chain collapsed), and a page allocated before a
 * page-table allocation failed stays resident in its object.
 * The caller: the faulting thread's CPU is the kernel's current CPU; `va` is below 2^53.
 */
export function vmFault(host: VmHost & { costs: FaultCosts }, vs: Vmspace, va: number, access: AccessKind): FaultOutcome {
  const home = vs.homeOf(va);
  if (home === vs) return resolve(host, vs, va, access);
  // A shadow's private address: the home's map and tables decide; the shadow only links them.
  const linked = vs.linkPrivate(va);
  if (linked === 1) {
    host.charge('fault', host.costs.pageFaultHandler);
    return OK; // the translation was there, only the link was missing: retry
  }
  if (linked < 0) return { ok: false, reason: 'out of memory for a page table', entry: null };
  const out = resolve(host, home, va, access);
  if (out.ok && vs.linkPrivate(va) < 0) return { ok: false, reason: 'out of memory for a page table', entry: null };
  return out;
}

function resolve(host: VmHost & { costs: FaultCosts }, vs: Vmspace, va: number, access: AccessKind): FaultOutcome {
  host.charge('fault', host.costs.pageFaultHandler);
  let entry = vs.map.lookup(va);
  if (!entry) {
    entry = growStack(host, vs, va);
    if (!entry) return { ok: false, reason: 'no mapping at this address (segmentation fault)', entry: null };
  }
  const need = access === ACCESS_WRITE ? PROT_WRITE : access === ACCESS_EXEC ? PROT_EXEC : PROT_READ;
  if ((entry.prot & need) === 0) {
    return { ok: false, reason: `${ACCESS_NAMES[access]} not permitted (mapping is ${protString(entry.prot)})`, entry };
  }
  if (!entry.object) return { ok: false, reason: 'mapping has no backing object', entry };
  const obj0 = entry.object;
  const ps = obj0.pageSize;
  const pageVa = va - (va % ps);
  const level = obj0.pageShift === 30 ? 3 : obj0.pageShift === 21 ? 2 : 1;
  const write = access === ACCESS_WRITE;
  const cow = (entry.flags & ENTRY_COW) !== 0;

  // A write to a copy-on-write entry that has no private object yet gets its shadow now.
  if (write && cow && (entry.flags & ENTRY_NEEDS_COPY) !== 0) {
    entry.object = shadowObject(obj0, entry.offset, entry.end - entry.start);
    obj0.mappers.delete(entry);
    entry.object.mappers.add(entry);
    entry.offset = 0;
    entry.flags &= ~ENTRY_NEEDS_COPY;
  }
  const top: VmObject = entry.object;
  if (write && cow) collapseChain(host, top);
  const off = entry.offset + (pageVa - entry.start);
  host.charge('fault', host.costs.objectPageLookup);
  const hitPa = lookupPage(top, off);
  const hit = hitPa >= 0;
  let pa: number;
  let writable = (entry.prot & PROT_WRITE) !== 0;
  if (hit && pageHit.object === top) {
    pa = hitPa;
  } else if (hit && !cow) {
    pa = hitPa; // shared mapping of a backing page (not copy-on-write)
  } else if (hit && write) {
    // Copy-on-write: a private copy in the top object.
    pa = allocObjectPage(host, top, off, false);
    if (pa < 0) return { ok: false, reason: 'out of memory for a copy-on-write page', entry };
    host.copyFrame(pa, hitPa, ps);
    host.charge('fault', host.costs.pageCopy4K * (ps / 4096));
    unmapSharers(host, vs, top, off);
  } else if (hit) {
    pa = hitPa;
    writable = false; // read of a page still shared with the parent: keep it read-only
  } else {
    // Nothing anywhere in the chain: zero-fill. A file's page is created in the file (page cache);
    // a private mapping of a file hole gets its zero page in the private layer.
    const target = bottomIfFile(top, off, cow, write);
    pa = allocObjectPage(host, target.object, target.offset, true);
    if (pa < 0) return { ok: false, reason: 'out of memory for a zero-fill page', entry };
    host.charge('fault', host.costs.pageZero4K * (ps / 4096));
    if (target.object !== top && cow) writable = false;
  }
  if ((entry.flags & ENTRY_NEEDS_COPY) !== 0) writable = false;
  const r = vs.pmap.enter(pageVa, pa, { writable, user: true, nx: (entry.prot & PROT_EXEC) === 0 }, level);
  if (r < 0) return { ok: false, reason: 'out of memory for a page table', entry };
  host.flushPmap(vs.pmap);
  return OK;
}

/** For a file at the bottom of a read-only view, fill the page cache; otherwise the top object. */
function bottomIfFile(top: VmObject, off: number, cow: boolean, write: boolean): { object: VmObject; offset: number } {
  if (cow && write) return { object: top, offset: off };
  let o: VmObject = top;
  let at = off;
  while (o.backing) {
    at += o.backingOffset;
    o = o.backing;
  }
  if (o.type === 'file') return { object: o, offset: at };
  return { object: top, offset: off };
}

/**
 * When `top` is shared by several entries (a MAP_SHARED anonymous region after fork), the others
 * may still map the backing page read-only: drop those translations so they fault onto the copy.
 */
function unmapSharers(host: VmHost, self: Vmspace, top: VmObject, off: number): void {
  if (top.mappers.size <= 1) return;
  for (const e of top.mappers) {
    const va = e.start + (off - e.offset);
    const owner = e.map?.owner as Vmspace | undefined;
    if (va < e.start || va >= e.end || !owner || owner === self) continue;
    owner.pmap.remove(va, va + top.pageSize);
    host.flushPmap(owner.pmap);
  }
}

/** Grow a GROWS_DOWN stack entry to cover `va` if it lies within the stack limit below it. */
function growStack(host: VmHost, vs: Vmspace, va: number): MapEntry | null {
  const above = vs.map.overlapping(va, vs.map.max).find((e) => e.start > va);
  if (!above || (above.flags & ENTRY_GROWS_DOWN) === 0) return null;
  const newStart = va - (va % 4096);
  // The limit counts from the top of the whole stack: the pieces earlier growth added sit
  // contiguously below the original entry, so walk up through them.
  let stackTop = above.end;
  for (let e = vs.map.lookup(stackTop); e && e.start === stackTop && e.label === above.label; e = vs.map.lookup(stackTop)) stackTop = e.end;
  if (stackTop - newStart > STACK_MAX) return null;
  if (!vs.map.isFree(newStart, above.start)) return null;
  // Extend by a new entry sharing the stack's role; its own zero-fill object.
  const e: MapEntry = {
    start: newStart, end: above.start, prot: above.prot, maxProt: above.maxProt, inheritance: above.inheritance,
    object: new VmObject('anon', above.start - newStart, 12, 0, above.label), offset: 0,
    flags: above.flags, segment: 0, label: above.label,
  };
  above.flags &= ~ENTRY_GROWS_DOWN;
  vs.map.insert(e);
  host.charge('vm', 0);
  return e;
}
