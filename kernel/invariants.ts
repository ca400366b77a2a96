// The kernel invariant checker, for tests and debug sessions: every allocated frame has exactly
// one owner, reference counts match the references that exist, each pmap agrees with its vm map,
// and no TLB or paging-structure cache holds a translation its page tables no longer allow.
// It reads page tables with the software reader (mmu/pageTableReader.ts: no walker, so no A/D
// side effects) and changes nothing. Cost is linear in resident pages and table pages: not for hot paths.

import type { Kernel } from './kernel.js';
import type { InvariantContributor } from './hooks.js';
import type { Vmspace } from './vm/vmspace.js';
import type { Pmap } from './vm/pmap.js';
import type { OpenFile } from './proc/process.js';
import { VmObject } from './vm/vmObject.js';
import { type MapEntry, PROT_WRITE, PROT_EXEC, ENTRY_COW, ENTRY_NEEDS_COPY } from './vm/vmMap.js';
import { PTE_RW, PTE_US, PTE_HI_XD, pteFrame } from '../mmu/pte.js';
import { LEVEL_SPAN } from '../mmu/address.js';
import { forEachPresent, isLeafEntry, softWalkVa } from '../mmu/pageTableReader.js';
import { TF_W, TF_U, TF_XD, TF_G } from '../mmu/tlb.js';
import { tlbContents } from './snapshot.js';

export type { InvariantContributor };

function held(c: InvariantContributor): { object: VmObject; refs: number }[] {
  return [...(c.heldObjects?.() ?? [])].map((h) => (h instanceof VmObject ? { object: h, refs: 1 } : h));
}

/** What the modules installed on the kernel (kernel.hooks) contribute, each once. */
function contributors(kernel: Kernel): InvariantContributor[] {
  const out: InvariantContributor[] = [];
  for (const h of kernel.hooks) if (h.invariants && !out.includes(h.invariants)) out.push(h.invariants);
  return out;
}

export class KernelInvariantError extends Error {
  constructor(readonly problems: string[]) {
    super(`${problems.length} kernel invariant violation${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`);
    this.name = 'KernelInvariantError';
  }
}

const hex = (n: number): string => '0x' + n.toString(16);
const levelOfShift = (shift: number): number => (shift === 30 ? 3 : shift === 21 ? 2 : 1);

/** Options: cap the problem list (a badly broken state can yield one per page). */
export interface CheckOptions { maxProblems?: number }

/** Every violation found, as one line each; empty when the kernel is consistent. */
export function checkKernelInvariants(kernel: Kernel, opts: CheckOptions = {}): string[] {
  const max = opts.maxProblems ?? 200;
  const problems: string[] = [];
  const report = (m: string): void => { if (problems.length < max) problems.push(m); };
  const extras = contributors(kernel);
  const objects = collectObjects(kernel, extras, report);
  checkFrames(kernel, objects, extras, report);
  checkReferences(kernel, objects, extras, report);
  checkPageTables(kernel, report);
  checkTlbs(kernel, report);
  for (const c of extras) for (const m of c.check?.() ?? []) report(`${c.name}: ${m}`);
  if (problems.length >= max) problems.push(`(stopped after ${max} problems)`);
  return problems;
}

/** checkKernelInvariants, throwing KernelInvariantError with every problem when there is one. */
export function assertKernelInvariants(kernel: Kernel, opts: CheckOptions = {}): void {
  const p = checkKernelInvariants(kernel, opts);
  if (p.length) throw new KernelInvariantError(p);
}

type Report = (m: string) => void;

// ------------------------------------------------------------------ objects reachable

/** Every object reachable from map entries, tmpfs and contributors, with their backing chains. */
function collectObjects(kernel: Kernel, extras: InvariantContributor[], report: Report): Set<VmObject> {
  const seen = new Set<VmObject>();
  const add = (o: VmObject | null, where: string): void => {
    for (; o && !seen.has(o); o = o.backing) {
      if (o.refCount <= 0) report(`${where}: reaches dead object ${o.describe()} (refCount ${o.refCount})`);
      seen.add(o);
    }
  };
  for (const vs of kernel.spaces) for (const e of vs.map.entries) add(e.object, `${vs.describe()} entry ${hex(e.start)}`);
  for (const f of kernel.tmpfs.files.values()) add(f.object, `tmpfs ${f.path}`);
  for (const f of openFiles(kernel)) if (f.object) add(f.object, `open file ${f.describe()}`);
  for (const c of extras) for (const h of held(c)) add(h.object, c.name);
  return seen;
}

// ------------------------------------------------------------------ (a) frame ownership

function checkFrames(kernel: Kernel, objects: Set<VmObject>, extras: InvariantContributor[], report: Report): void {
  try {
    kernel.frames.checkInvariants();
  } catch (e) {
    report(e instanceof Error ? e.message : String(e));
  }
  const allocated = new Map<number, number>();
  for (const b of kernel.frames.allocatedBlocks()) allocated.set(b.pa, b.order);
  const owner = new Map<number, string>();
  const own = (pa: number, order: number, who: string): void => {
    const prev = owner.get(pa);
    if (prev !== undefined) report(`frame ${hex(pa)} owned twice: by ${prev} and by ${who}`);
    owner.set(pa, who);
    const o = allocated.get(pa);
    if (o === undefined) report(`frame ${hex(pa)} (order ${order}) held by ${who} is not an allocated block (free or part of another)`);
    else if (o !== order) report(`frame ${hex(pa)} held by ${who} as order ${order} is allocated as order ${o}`);
  };
  for (const obj of objects) {
    for (const [pindex, pa] of obj.pages) {
      if (pindex < 0 || pindex >= obj.pageCount) report(`${obj.describe()} holds page ${pindex} beyond its size ${obj.size}`);
      if (pa % obj.pageSize !== 0) report(`${obj.describe()} page ${pindex} at ${hex(pa)} is not ${obj.pageSize}-aligned`);
      own(pa, obj.order, `${obj.describe()} page ${pindex}`);
    }
  }
  for (const t of kernel.tables.values()) own(t.pa, 0, `page table L${t.level} of pmap ${t.owner.id}`);
  for (const c of extras) for (const f of c.ownedFrames?.() ?? []) own(f.pa, f.order, c.name);
  for (const [pa, order] of allocated) {
    if (!owner.has(pa)) report(`frame ${hex(pa)} (order ${order}) is allocated but owned by nothing (leak)`);
  }
}

// ------------------------------------------------------------------ (b) reference counts

function checkReferences(kernel: Kernel, objects: Set<VmObject>, extras: InvariantContributor[], report: Report): void {
  const refs = new Map<VmObject, number>();
  const bump = (o: VmObject, n = 1): void => { refs.set(o, (refs.get(o) ?? 0) + n); };
  const mappers = new Map<VmObject, Set<MapEntry>>();
  for (const vs of kernel.spaces) {
    for (const e of vs.map.entries) {
      if (e.map !== vs.map) report(`${vs.describe()} entry ${hex(e.start)}: its map field names another map`);
      if (!e.object) continue;
      bump(e.object);
      let s = mappers.get(e.object);
      if (!s) mappers.set(e.object, (s = new Set()));
      s.add(e);
    }
  }
  const shadows = new Map<VmObject, Set<VmObject>>();
  for (const o of objects) {
    if (!o.backing) continue;
    bump(o.backing);
    let s = shadows.get(o.backing);
    if (!s) shadows.set(o.backing, (s = new Set()));
    s.add(o);
  }
  for (const f of kernel.tmpfs.files.values()) {
    if (f.unlinked) report(`tmpfs ${f.path} is still listed but marked unlinked`);
    else bump(f.object);
  }
  // An open file holds one reference however many descriptors (fork, dup) share it, and counts those descriptors.
  const descriptors = new Map<OpenFile, number>();
  for (const p of kernel.processes.values()) for (const f of p.fds.values()) descriptors.set(f, (descriptors.get(f) ?? 0) + 1);
  for (const [f, n] of descriptors) {
    if (f.object) bump(f.object);
    if (f.refCount !== n) report(`open file ${f.describe()}: refCount ${f.refCount} but ${n} descriptors name it`);
  }
  for (const c of extras) for (const h of held(c)) bump(h.object, h.refs);
  for (const o of objects) {
    const want = refs.get(o) ?? 0;
    if (o.refCount !== want) report(`${o.describe()} refCount ${o.refCount} but ${want} references exist`);
    const m = mappers.get(o) ?? new Set<MapEntry>();
    if (!sameSet(o.mappers, m)) report(`${o.describe()} mappers (${o.mappers.size}) disagree with the ${m.size} map entries that reference it`);
    const sh = shadows.get(o) ?? new Set<VmObject>();
    if (!sameSet(o.shadows, sh)) report(`${o.describe()} shadows (${o.shadows.size}) disagree with the ${sh.size} objects backed by it`);
  }
}

/** Every open file of every process, once each (descriptors shared by fork name one file). */
function openFiles(kernel: Kernel): Set<OpenFile> {
  const out = new Set<OpenFile>();
  for (const p of kernel.processes.values()) for (const f of p.fds.values()) out.add(f);
  return out;
}

function sameSet<T>(a: Set<T>, b: Set<T>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

// ------------------------------------------------------------------ (c) pmaps against vm maps

/** Where an object chain finds the page at `offset`: the object, its frame, and the offset within it. */
function chainLookup(obj: VmObject, offset: number): { object: VmObject; pa: number; at: number } | null {
  let off = offset;
  for (let o: VmObject | null = obj; o; o = o.backing) {
    const pa = o.pages.get(Math.floor(off / o.pageSize));
    if (pa !== undefined) return { object: o, pa, at: off };
    off += o.backingOffset;
  }
  return null;
}

function checkPageTables(kernel: Kernel, report: Report): void {
  const owners = new Map<Pmap, Vmspace>();
  for (const vs of kernel.spaces) owners.set(vs.pmap, vs);
  // Entry counts and links come from the table pages themselves, whichever pmap owns them.
  const linkCount = new Map<number, number>();
  for (const t of kernel.tables.values()) {
    if (!owners.has(t.owner) && t.owner !== kernel.kernelHalf.pmap) report(`page table ${hex(t.pa)} (L${t.level}) belongs to pmap ${t.owner.id}, which no live space has`);
    let live = 0;
    forEachPresent(kernel.mem, t.pa, (i, lo, hi) => {
      live++;
      if (isLeafEntry(t.level, lo)) return;
      const child = pteFrame(lo, hi);
      const ci = kernel.tables.get(child);
      if (!ci) { report(`L${t.level} table ${hex(t.pa)}[${i}] points at ${hex(child)}, which is not a registered page table`); return; }
      if (ci.level !== t.level - 1) report(`L${t.level} table ${hex(t.pa)}[${i}] points at an L${ci.level} table`);
      linkCount.set(child, (linkCount.get(child) ?? 0) + 1);
    });
    if (live !== t.live) report(`page table ${hex(t.pa)} (L${t.level}, pmap ${t.owner.id}) records ${t.live} live entries but holds ${live}`);
  }
  for (const t of kernel.tables.values()) {
    const n = linkCount.get(t.pa) ?? 0;
    if (n !== t.links) report(`page table ${hex(t.pa)} (L${t.level}) records ${t.links} links but ${n} entries point at it`);
  }
  const reached = new Set<number>();
  for (const [pm, vs] of owners) {
    if (kernel.tables.get(pm.root)?.owner !== pm) { report(`${vs.describe()}: root ${hex(pm.root)} is not a page table it owns`); continue; }
    const leaves = [0, 0, 0, 0];
    try {
      pm.forEachTable((info, base, viaLink) => {
        if (viaLink) return; // a linked subtree is checked from its owner
        if (info.owner !== pm) return;
        reached.add(info.pa);
        forEachPresent(kernel.mem, info.pa, (i, lo, hi) => {
          if (!isLeafEntry(info.level, lo)) return;
          leaves[info.level]++;
          checkLeaf(vs, base + i * LEVEL_SPAN[info.level], lo, hi, info.level, report);
        });
      });
    } catch (e) {
      report(`${vs.describe()}: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (let l = 1; l <= 3; l++) {
      if (pm.leaves[l] !== leaves[l]) report(`${vs.describe()}: pmap counts ${pm.leaves[l]} L${l} leaves but its tables hold ${leaves[l]}`);
    }
  }
  for (const t of kernel.tables.values()) {
    if (!reached.has(t.pa) && owners.has(t.owner)) report(`page table ${hex(t.pa)} (L${t.level}) of ${owners.get(t.owner)!.describe()} is unreachable from its root (leaked)`);
  }
}

function checkLeaf(vs: Vmspace, va: number, lo: number, hi: number, level: number, report: Report): void {
  const span = LEVEL_SPAN[level];
  const at = `${vs.describe()} leaf ${hex(va)} (L${level})`;
  const e = vs.map.lookup(va);
  if (!e) { report(`${at}: present but no map entry covers it`); return; }
  if (va + span > e.end) { report(`${at}: runs past its entry's end ${hex(e.end)}`); return; }
  if (e.prot === 0) { report(`${at}: present in a PROT_NONE entry`); return; }
  const obj = e.object;
  if (!obj) { report(`${at}: its entry has no object`); return; }
  if (levelOfShift(obj.pageShift) !== level) report(`${at}: page size ${span} but the entry's object ${obj.describe()} uses ${obj.pageSize}`);
  const hit = chainLookup(obj, e.offset + (va - e.start));
  if (!hit) { report(`${at}: maps ${hex(pteFrame(lo, hi))} but the object chain of ${obj.describe()} has no page there`); return; }
  const hitPs = hit.object.pageSize;
  if (hitPs < span) { report(`${at}: maps a ${span}-byte page over a ${hitPs}-byte page of ${hit.object.describe()}`); return; }
  const want = hit.pa + (hit.at % hitPs) - (hit.at % span);
  const frame = pteFrame(lo, hi) - (pteFrame(lo, hi) % span);
  if (frame !== want) report(`${at}: maps frame ${hex(frame)} but the object chain supplies ${hex(want)} (${hit.object.describe()})`);
  if ((lo & PTE_RW) !== 0) {
    if ((e.prot & PROT_WRITE) === 0) report(`${at}: writable in a read-only entry`);
    else if ((e.flags & ENTRY_NEEDS_COPY) !== 0) report(`${at}: writable while its entry still needs a copy (copy-on-write pending)`);
    else if ((e.flags & ENTRY_COW) !== 0 && hit.object !== obj) report(`${at}: writable onto ${hit.object.describe()}, a copy-on-write backing page`);
  }
  if ((lo & PTE_US) === 0) report(`${at}: not user-accessible`);
  if ((hi & PTE_HI_XD) === 0 && (e.prot & PROT_EXEC) === 0) report(`${at}: executable in a non-exec entry`);
}

// ------------------------------------------------------------------ (d) TLBs and paging-structure caches

function checkTlbs(kernel: Kernel, report: Report): void {
  const byPcid = new Map<number, Pmap>();
  for (const vs of kernel.spaces) {
    const pm = vs.pmap;
    if (pm.pcid === 0) continue;
    const other = byPcid.get(pm.pcid);
    if (other) report(`PCID ${pm.pcid} is held by pmaps ${other.id} and ${pm.id}`);
    byPcid.set(pm.pcid, pm);
    for (const id of pm.activeOn) if (kernel.loaded[id] !== vs) report(`${vs.describe()} claims to be active on cpu${id}, which has another space loaded`);
  }
  for (const cpu of kernel.cpus) {
    const id = cpu.id;
    const loaded = kernel.loaded[id];
    if (loaded) {
      if (!kernel.spaces.has(loaded)) report(`cpu${id} has a dead space loaded (${loaded.describe()})`);
      if (cpu.cr3Base !== loaded.pmap.root || cpu.pcid !== loaded.pmap.pcid) report(`cpu${id}: CR3 ${hex(cpu.cr3Base)}/PCID ${cpu.pcid} is not the loaded ${loaded.describe()} (${hex(loaded.pmap.root)}/${loaded.pmap.pcid})`);
      if (!loaded.pmap.activeOn.has(id)) report(`cpu${id}: loaded ${loaded.describe()} does not list it in activeOn`);
    }
    // Which pmap would an entry tagged `pcid` be used for, if it were looked up on this CPU?
    const owner = (pcid: number, global: boolean): Pmap | null => {
      if (global) return loaded ? loaded.pmap : null;
      if (loaded && loaded.pmap.pcid === pcid) return loaded.pmap;
      if (pcid === 0) return null; // untagged entries die at the next untagged CR3 load
      const pm = byPcid.get(pcid);
      return pm && !pm.staleOn.has(id) ? pm : null;
    };
    const tlb = tlbContents(kernel, id);
    for (const a of tlb.structures) {
      for (const e of a.entries) {
        const f = e.flags;
        const pm = owner(e.pcid, (f & TF_G) !== 0);
        if (!pm) continue;
        const va = e.va;
        const size = e.sizeLevel;
        const where = `cpu${id} ${a.name} slot ${e.slot} (PCID ${e.pcid}, ${hex(va)})`;
        const w = softWalkVa(kernel.mem, pm.root, pm.levels, va);
        if (!w.present) { report(`${where}: caches ${hex(e.frame)} but pmap ${pm.id} no longer maps it`); continue; }
        if (w.level !== size || w.frame !== e.frame) {
          report(`${where}: caches a ${e.pageBytes}-byte page at ${hex(e.frame)} but the tables map a ${LEVEL_SPAN[w.level]}-byte page at ${hex(w.frame)}`);
          continue;
        }
        if ((f & TF_W) !== 0 && !w.writable) report(`${where}: cached writable but the tables make it read-only`);
        if ((f & TF_U) !== 0 && !w.user) report(`${where}: cached user-accessible but the tables make it supervisor-only`);
        if ((f & TF_XD) === 0 && w.xd) report(`${where}: cached executable but the tables forbid execution`);
      }
    }
    for (const c of tlb.psc) {
      const l = c.level;
      const pm = owner(c.pcid, false);
      if (!pm || l > pm.levels) continue;
      const va = c.va;
      const where = `cpu${id} PSC L${l} slot ${c.slot} (PCID ${c.pcid}, ${hex(va)})`;
      const w = softWalkVa(kernel.mem, pm.root, pm.levels, va, { stopLevel: l });
      if (!w.present || w.level !== l || w.table !== c.table) {
        report(`${where}: caches table ${hex(c.table)} but pmap ${pm.id} ${w.present && w.level === l ? `now points at ${hex(w.table)}` : 'has no such table there'}`);
        continue;
      }
      const r = c.rights;
      if ((r & 1) !== 0 && !w.writable) report(`${where}: caches write rights the tables no longer grant`);
      if ((r & 2) !== 0 && !w.user) report(`${where}: caches user rights the tables no longer grant`);
      if ((r & 4) === 0 && w.xd) report(`${where}: caches execute rights the tables no longer grant`);
    }
  }
}

