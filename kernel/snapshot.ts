// The machine, read-only: plain-data pictures of processes and threads, address spaces (primary,
// named, shadow), segments, vm maps, page tables, TLB contents and counters. The shell's views,
// `--json` outputs and reports read the machine through this module only, so nothing outside the
// kernel depends on its fields. Every function here reads; none changes state, sets an A/D bit,
// touches a TLB or charges a cycle, so looking never changes what is measured.
//
// Records are JSON-safe (numbers, strings, arrays), except the `SpaceRef` handles, which name an
// address space for a later call (vmMap, pageTable, walkSpace) and are not to be looked into.

import type { Kernel } from './kernel.js';
import type { Vmspace } from './vm/vmspace.js';
import type { Process, Thread } from './proc/process.js';
import { describeMachine } from './machineConfig.js';
import type { CpuCounters, KernelCounters } from '../mmu/cpu.js';
import type { TlbArray } from '../mmu/tlb.js';
import { PAGE_BYTES } from '../mmu/tlb.js';
import { LEVEL_SPAN, TWO32, isCanonical, splitBig } from '../mmu/address.js';
import { entryTarget, forEachPresent, isLeafEntry, presentEntries, softWalk, type WalkStep } from '../mmu/pageTableReader.js';

/** Names an address space for the calls below; opaque outside this module. */
export type SpaceRef = { readonly __spaceRef: never };
const ref = (vs: Vmspace): SpaceRef => vs as unknown as SpaceRef;
const space = (r: SpaceRef): Vmspace => r as unknown as Vmspace;

// ------------------------------------------------------------------ processes and threads

export interface ThreadInfo {
  tid: number;
  name: string;
  /** CPU it runs on or last ran on (-1: never ran). */
  cpu: number;
  affinity: number;
  state: string;
  /** SpaceJMP handle of the space it executes in (0 = its primary). */
  vh: number;
  /** The named space it switched into (via its shadow), or null in its primary. */
  inNamedSpace: string | null;
  /** The space it executes in, described ("primary #3", "shadow "x" #7"). */
  space: string;
  /** "bob[3].main". */
  description: string;
}

export interface ProcessInfo {
  pid: number;
  name: string;
  uid: number;
  gid: number;
  state: string;
  live: boolean;
  threads: ThreadInfo[];
  /** Its primary address space. */
  primary: SpaceRef;
}

function threadInfo(k: Kernel, t: Thread): ThreadInfo {
  const att = t.vh === 0 ? undefined : k.spacejmp?.attachments(t.process).find((a) => a.vh === t.vh);
  return {
    tid: t.tid, name: t.name, cpu: t.cpu, affinity: t.affinity, state: t.state, vh: t.vh,
    inNamedSpace: att ? att.vas.name : null, space: t.space.describe(), description: t.describe(),
  };
}

function processInfo(k: Kernel, p: Process): ProcessInfo {
  return {
    pid: p.pid, name: p.name, uid: p.cred.uid, gid: p.cred.gid, state: p.state, live: p.live,
    threads: p.threads.map((t) => threadInfo(k, t)), primary: ref(p.primary),
  };
}

/** Every process the kernel still knows (live, zombie), by pid. */
export function processes(k: Kernel): ProcessInfo[] {
  return [...k.processes.values()].sort((a, b) => a.pid - b.pid).map((p) => processInfo(k, p));
}

// ------------------------------------------------------------------ address spaces and vm maps

export interface SpaceInfo {
  id: number;
  kind: string;
  name: string;
  /** "primary #3", "named "shared" #5". */
  description: string;
  pcid: number;
  /** Physical address of the top-level table. */
  root: number;
  levels: number;
  entries: number;
  mappedBytes: number;
  residentBytes: number;
  /** Present leaf entries by level: [_, 4K, 2M, 1G]. */
  leaves: number[];
}

/** The address space named by `r`, summarised. */
export function spaceInfo(r: SpaceRef): SpaceInfo {
  const vs = space(r);
  return {
    id: vs.id, kind: vs.kind, name: vs.name, description: vs.describe(), pcid: vs.pmap.pcid, root: vs.pmap.root, levels: vs.pmap.levels,
    entries: vs.map.entries.length, mappedBytes: vs.map.size, residentBytes: vs.residentBytes, leaves: [...vs.pmap.leaves],
  };
}

/** Every live address space (primary, named, shadow), by id. */
export function spaces(k: Kernel): SpaceInfo[] {
  return [...k.spaces].sort((a, b) => a.id - b.id).map((vs) => spaceInfo(ref(vs)));
}

export interface ObjectInfo {
  /** The object and its backing chain, described. */
  description: string;
  type: string;
  /** Pages resident in this object (not its backing chain). */
  resident: number;
}

export interface MapEntryInfo {
  start: number;
  end: number;
  prot: number;
  /** ENTRY_* bits of kernel/vm/vmMap.ts. */
  flags: number;
  /** The memory behind it is wired (a segment's: never paged, reserved at creation). */
  wired: boolean;
  inheritance: string;
  label: string;
  object: ObjectInfo | null;
  /** Byte offset of `start` within the object. */
  offset: number;
}

/** The vm map of a space, entry by entry in address order. */
export function vmMap(r: SpaceRef): MapEntryInfo[] {
  return space(r).map.entries.map((e) => ({
    start: e.start, end: e.end, prot: e.prot,
    flags: e.flags, wired: e.object?.type === 'wired',
    inheritance: e.inheritance, label: e.label, offset: e.offset,
    object: e.object ? { description: e.object.describe(), type: e.object.type, resident: e.object.pages.size } : null,
  }));
}

// ------------------------------------------------------------------ page tables

/** One present entry of one page table. */
export interface PageTableEntryInfo {
  index: number;
  /** First virtual address the entry covers. */
  va: number;
  lo: number;
  hi: number;
  leaf: boolean;
  /** Next table (non-leaf) or the mapped page's base (leaf). */
  target: number;
  /** The next table is owned by another address space (a SpaceJMP shared subtree). */
  linked: boolean;
  /** Present entries of the next table (non-leaf), else 0. */
  children: number;
}

export interface PageTableRoot {
  root: number;
  levels: number;
  pcid: number;
}

/** Where `r`'s page-table tree starts (CR3 value), its depth and PCID. */
export function pageTableRoot(r: SpaceRef): PageTableRoot {
  const pm = space(r).pmap;
  return { root: pm.root, levels: pm.levels, pcid: pm.pcid };
}

/** The present entries of the table at `table` (level `level`, covering VAs from `base`) in space `r`. */
export function pageTableEntries(k: Kernel, r: SpaceRef, table: number, level: number, base: number): PageTableEntryInfo[] {
  const owner = space(r).pmap;
  const out: PageTableEntryInfo[] = [];
  forEachPresent(k.mem, table, (index, lo, hi) => {
    const leaf = isLeafEntry(level, lo);
    const target = entryTarget(level, lo, hi);
    const info = leaf ? undefined : k.tables.get(target);
    out.push({
      index, va: base + index * LEVEL_SPAN[level], lo, hi, leaf, target,
      linked: !!info && info.owner !== owner, children: leaf ? 0 : presentEntries(k.mem, target),
    });
  });
  return out;
}

export interface SpaceWalk {
  va: bigint;
  steps: WalkStep[];
  /** Physical address `va` translates to, or null. */
  pa: number | null;
  pageSize: number;
  /** Why it does not translate: not canonical, or the level where an entry is missing. */
  stop: { reason: 'noncanonical' } | { reason: 'not-present'; level: number; index: number } | null;
}

/** Follow `va` through space `r`'s tables as the MMU would, reading entries without changing them. */
export function walkSpace(k: Kernel, r: SpaceRef, va: bigint): SpaceWalk {
  const pm = space(r).pmap;
  if (va < 0n || !isCanonical(va, pm.levels)) return { va, steps: [], pa: null, pageSize: 0, stop: { reason: 'noncanonical' } };
  const [vlo, vhi] = splitBig(va);
  const w = softWalk(k.mem, pm.root, pm.levels, vlo, vhi, { steps: true });
  const steps = w.steps!;
  if (!w.present) {
    const last = steps[steps.length - 1];
    return { va, steps, pa: null, pageSize: 0, stop: { reason: 'not-present', level: last.level, index: last.index } };
  }
  const span = LEVEL_SPAN[w.level];
  return { va, steps, pa: w.frame + Number(va % BigInt(span)), pageSize: span, stop: null };
}

// ------------------------------------------------------------------ TLBs

export interface TlbEntryInfo {
  structure: string;
  /** Slot index in the structure's arrays (set * ways + way). */
  slot: number;
  set: number;
  way: number;
  pcid: number;
  /** Virtual page base the entry translates. */
  va: number;
  /** Physical page base. */
  frame: number;
  /** 1 = 4K, 2 = 2M, 3 = 1G. */
  sizeLevel: number;
  pageBytes: number;
  /** TF_* bits. */
  flags: number;
}

export interface PscEntryInfo {
  level: number;
  slot: number;
  pcid: number;
  va: number;
  /** The next table the cached entry points to. */
  table: number;
  /** Rights accumulated to here: 1 write, 2 user, 4 execute. */
  rights: number;
}

export interface TlbStructureInfo {
  name: string;
  sets: number;
  ways: number;
  valid: number;
  entries: TlbEntryInfo[];
}

export interface TlbCounterInfo { name: string; entries: number; valid: number; hits: number; misses: number }

export interface TlbInfo {
  cpu: number;
  cr3: number;
  pcid: number;
  /** The space whose root CR3 holds, described, or null. */
  loadedSpace: string | null;
  /** The thread running (or last run) there, described, or null. */
  running: string | null;
  counters: TlbCounterInfo[];
  structures: TlbStructureInfo[];
  psc: PscEntryInfo[];
  /** Which space each non-zero PCID tags now. */
  pcidOwners: { pcid: number; space: string }[];
}

function arrayEntries(a: TlbArray): TlbEntryInfo[] {
  const out: TlbEntryInfo[] = [];
  for (let s = 0; s < a.entries; s++) {
    if (!a.isValid(s)) continue;
    out.push({
      structure: a.name, slot: s, set: Math.floor(s / a.ways), way: s % a.ways, pcid: a.pcidOf(s),
      va: (a.tagHiOf(s) >>> 0) * TWO32 + (a.tagLoOf(s) >>> 0), frame: a.frameOf(s), sizeLevel: a.sizeOf(s), pageBytes: PAGE_BYTES[a.sizeOf(s)], flags: a.flagsOf(s),
    });
  }
  return out;
}

/** One CPU's TLB: its counters, every valid entry of every structure, and the paging-structure caches. */
export function tlbContents(k: Kernel, cpuId: number): TlbInfo {
  const cpu = k.cpus[cpuId];
  const tlb = cpu.tlb;
  const structures = [...tlb.l1, tlb.stlb, tlb.stlb1g].map((a) => ({ name: a.name, sets: a.sets, ways: a.ways, valid: a.occupancy(), entries: arrayEntries(a) }));
  const psc: PscEntryInfo[] = [];
  for (let l = 2; l <= 5; l++) {
    const c = tlb.psc[l];
    if (!c) continue;
    for (let s = 0; s < c.entries; s++) {
      if (c.pcid[s] < 0) continue;
      psc.push({ level: l, slot: s, pcid: c.pcid[s], va: (c.tagHi[s] >>> 0) * TWO32 + (c.tagLo[s] >>> 0), table: c.table[s], rights: c.rights[s] });
    }
  }
  const pcidOwners: { pcid: number; space: string }[] = [];
  for (const vs of k.spaces) if (vs.pmap.pcid !== 0) pcidOwners.push({ pcid: vs.pmap.pcid, space: vs.describe() });
  return {
    cpu: cpuId, cr3: cpu.cr3Base, pcid: cpu.pcid,
    loadedSpace: k.loaded[cpuId]?.describe() ?? null, running: k.running[cpuId]?.describe() ?? null,
    counters: Object.entries(cpu.tlbCounters()).map(([name, c]) => ({ name, ...c })),
    structures, psc, pcidOwners,
  };
}

// ------------------------------------------------------------------ counters

export interface CountersInfo {
  /** The machine and its cost profile, described (every report names the profile). */
  machine: string;
  profile: string;
  /** Per CPU, as the CPU counts them (the one owner of counters): user-mode loads and stores. */
  cpus: CpuCounters[];
  /** Per CPU, the kernel's own references (syscall paths, vas_switch), kept out of `cpus`. */
  kernel: KernelCounters[];
  /** SpaceJMP's own counts, when SpaceJMP is installed. */
  spacejmp: { switches: number; blockedSwitches: number; shadowUpdates: number } | null;
}

/** Every CPU's counters (as the CPU owns them), the machine and profile, SpaceJMP's counts. */
export function counters(k: Kernel): CountersInfo {
  const sj = k.spacejmp?.stats;
  return {
    machine: describeMachine(k.config), profile: k.config.profile.name,
    cpus: k.cpus.map((c) => c.counters()),
    kernel: k.cpus.map((c) => c.kernelCounters()),
    spacejmp: sj ? { switches: sj.switches, blockedSwitches: sj.blockedSwitches, shadowUpdates: sj.shadowUpdates } : null,
  };
}

// ------------------------------------------------------------------ physical memory

/**
 * The byte at physical address `pa` (untouched memory reads as zero), or null beyond the end of
 * memory. Reads the backing store directly: no TLB, no cycles, no host memory allocated.
 */
export function physicalByte(k: Kernel, pa: number): number | null {
  return pa >= 0 && pa < k.mem.size ? k.mem.read8(pa) : null;
}

/** Bytes of physical memory the machine presents. */
export function physicalSize(k: Kernel): number {
  return k.mem.size;
}

// ------------------------------------------------------------------ SpaceJMP: named spaces, shadows, segments

export interface NamedSpaceInfo {
  vid: number;
  name: string;
  mode: number;
  uid: number;
  gid: number;
  tags: string;
  ptPolicy: string;
  spaceId: number;
  space: SpaceRef;
  segments: { sid: number; name: string; base: number; size: number; prot: number }[];
  /** The processes attached (each through its shadow). */
  shadows: { pid: number; processName: string; vh: number; threads: number; ptPolicy: string }[];
}

export interface ShadowInfo {
  pid: number;
  processName: string;
  vh: number;
  /** Name of the named space it shadows. */
  of: string;
  spaceId: number;
  space: SpaceRef;
  entries: number;
  writable: boolean;
  ptPolicy: string;
  /** Names of the threads executing in it now. */
  threads: string[];
}

export interface SegmentInfo {
  sid: number;
  name: string;
  deleted: boolean;
  base: number;
  size: number;
  pageSize: number;
  mode: number;
  uid: number;
  gid: number;
  lockable: boolean;
  lockHeld: boolean;
  /** Who holds the lock ("free", "read: a, b", "write: c"). */
  lock: string;
  /** Spaces that map it. */
  maps: number;
}

/** Named address spaces not deleted, by vid; null when SpaceJMP is not installed. */
export function namedSpaces(k: Kernel): NamedSpaceInfo[] | null {
  const sj = k.spacejmp;
  if (!sj) return null;
  return [...sj.vases.values()].filter((v) => !v.deleted).sort((a, b) => a.vid - b.vid).map((v) => ({
    vid: v.vid, name: v.name, mode: v.mode, uid: v.uid, gid: v.gid, tags: v.tags, ptPolicy: v.ptPolicy, spaceId: v.space.id, space: ref(v.space),
    segments: [...v.segments.values()].map(({ seg, prot }) => ({ sid: seg.sid, name: seg.name, base: seg.base, size: seg.size, prot })),
    shadows: [...v.shadows].map((a) => ({ pid: a.process.pid, processName: a.process.name, vh: a.vh, threads: a.threads.size, ptPolicy: a.ptPolicy })),
  }));
}

/** Every live process's shadows (attached named spaces), by pid then handle order; [] without SpaceJMP. */
export function shadows(k: Kernel): ShadowInfo[] {
  const sj = k.spacejmp;
  if (!sj) return [];
  const out: ShadowInfo[] = [];
  for (const p of [...k.processes.values()].sort((a, b) => a.pid - b.pid)) {
    if (!p.live) continue;
    for (const a of sj.attachments(p)) {
      out.push({
        pid: p.pid, processName: p.name, vh: a.vh, of: a.vas.name, spaceId: a.space.id, space: ref(a.space),
        entries: a.space.map.entries.length, writable: a.writable, ptPolicy: a.ptPolicy, threads: [...a.threads].map((t) => t.name),
      });
    }
  }
  return out;
}

/** Every segment (deleted ones still referenced included), by sid; null when SpaceJMP is not installed. */
export function segments(k: Kernel): SegmentInfo[] | null {
  const sj = k.spacejmp;
  if (!sj) return null;
  return [...sj.segments.values()].sort((a, b) => a.sid - b.sid).map((s) => ({
    sid: s.sid, name: s.name, deleted: s.deleted, base: s.base, size: s.size, pageSize: s.pageSize, mode: s.mode, uid: s.uid, gid: s.gid,
    lockable: s.lockable, lockHeld: s.lock.held, lock: s.lock.describe(), maps: s.attachedTo.size,
  }));
}

// ------------------------------------------------------------------ the whole machine

export interface MachineSnapshot {
  counters: CountersInfo;
  processes: Omit<ProcessInfo, 'primary'>[];
  spaces: (SpaceInfo & { map: MapEntryInfo[] })[];
  namedSpaces: Omit<NamedSpaceInfo, 'space'>[] | null;
  shadows: Omit<ShadowInfo, 'space'>[];
  segments: SegmentInfo[] | null;
}

/** Everything above in one JSON-safe document (no SpaceRef handles), for `--json` and reports. */
export function machineSnapshot(k: Kernel): MachineSnapshot {
  return {
    counters: counters(k),
    processes: processes(k).map(({ primary: _p, ...p }) => p),
    spaces: [...k.spaces].sort((a, b) => a.id - b.id).map((vs) => ({ ...spaceInfo(ref(vs)), map: vmMap(ref(vs)) })),
    namedSpaces: namedSpaces(k)?.map(({ space: _s, ...v }) => v) ?? null,
    shadows: shadows(k).map(({ space: _s, ...a }) => a),
    segments: segments(k),
  };
}
