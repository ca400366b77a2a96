// SpaceJMP (reference chapters 8-9, Figure 40): named address spaces, process-private shadows of
// them, memory segments, and vas_switch. Named spaces and segments are global, like files, and
// outlive their creators; a shadow is a process's attached copy of a named space plus the
// process's own text, heap and stack. Threads switch independently; a switch loads CR3 with the
// target's page-table root and tag (tag 0 flushes, a per-space PCID keeps entries).
//
// Keeping shadows consistent when a named space changes (left open by the reference): every
// change to a named space is applied to each of its shadows in the same call, with TLB
// shootdown on every CPU running one. Shadows get a segment's translations one of two ways:
//   copy    each shadow has its own page-table entries, written at attach (cost per page)
//   shared  a shadow links the named space's page-table subtrees for the reserved region at the
//           top level, so one write serves every shadow (cost per top-level slot); used while the
//           attacher's rights equal the named space's, converted to copy otherwise.

import type { Kernel } from '../kernel.js';
import type { Process, Thread, Credentials } from '../proc/process.js';
import { VmObject, allocObjectPage, releaseObject } from '../vm/vmObject.js';
import { MAP_FIXED, MAP_SHARED, type Vmspace } from '../vm/vmspace.js';
import { PROT_READ, PROT_WRITE, ENTRY_SEGMENT, ENTRY_NEEDS_COPY, type MapEntry, protString } from '../vm/vmMap.js';
import { shadowObject } from '../vm/vmObject.js';
import { fail } from '../errno.js';
import { RESERVED_START, reservedEnd } from '../layout.js';
import type { TagPolicy } from '../machineConfig.js';
import { Segment, mayAccess, modeString } from './segment.js';
import type { WaitChannel } from '../proc/process.js';
import { LEVEL_SPAN } from '../../mmu/address.js';
import { formatAddr, formatSize } from '../../mmu/units.js';

export const VAS_PRIMARY = 0;
export const VAS_CURRENT = -1;
/** vh values carry this bit so one argument can name a vid or a vh. */
export const VH_BIT = 0x10000;
/** vas_switch flag: fail with EBUSY instead of blocking on a segment lock. */
export const VAS_NOWAIT = 1;

export const VAS_CTL_INFO = 1;
export const VAS_CTL_DELETE = 2;
export const VAS_CTL_TAGS = 3;
export const VAS_CTL_CHMOD = 4;
export const VAS_CTL_PTPOLICY = 5;

export const SEG_CTL_INFO = 1;
export const SEG_CTL_DELETE = 2;
export const SEG_CTL_LOCKABLE = 3;
export const SEG_CTL_CHMOD = 4;

/** seg_alloc flag: back the segment with 2 MiB pages. */
export const SEG_2M = 1;

export type PtPolicy = 'copy' | 'shared';

const RW = PROT_READ | PROT_WRITE;

export class NamedVas {
  readonly segments = new Map<number, { seg: Segment; prot: number }>();
  readonly shadows = new Set<Attachment>();
  deleted = false;
  tags: TagPolicy;
  ptPolicy: PtPolicy;
  constructor(readonly vid: number, public name: string, public mode: number, readonly uid: number, readonly gid: number, readonly space: Vmspace, tags: TagPolicy, ptPolicy: PtPolicy) {
    this.tags = tags;
    this.ptPolicy = ptPolicy;
  }
}

export class Attachment {
  readonly threads = new Set<Thread>();
  /** Segments attached to this shadow only (seg_attach(vh, ...)). */
  readonly privateSegs = new Map<number, { seg: Segment; prot: number }>();
  /** Top-level slots (VA base) linked to the named space's tables, under the shared policy. */
  readonly linkedSlots = new Set<number>();
  constructor(readonly vh: number, readonly process: Process, readonly vas: NamedVas, readonly space: Vmspace, public ptPolicy: PtPolicy, readonly writable: boolean) {}
}

interface ProcState {
  attachments: Map<number, Attachment>;
  nextVh: number;
  primarySegs: Map<number, { seg: Segment; prot: number }>;
}

interface HeldLock { seg: Segment; write: boolean }

export interface SpaceJmpStats {
  switches: number;
  blockedSwitches: number;
  shadowUpdates: number;
}

export class SpaceJmp {
  readonly vases = new Map<number, NamedVas>();
  readonly segments = new Map<number, Segment>();
  private readonly vasByName = new Map<string, NamedVas>();
  private readonly segByName = new Map<string, Segment>();
  private readonly held = new Map<Thread, HeldLock[]>();
  private readonly lockCache = new WeakMap<Vmspace, { stamp: number; gen: number; locks: HeldLock[] }>();
  private lockableGen = 0;
  private nextVid = 1;
  private nextSid = 1;
  /** Page-table policy for new named spaces. */
  defaultPtPolicy: PtPolicy = 'copy';
  readonly stats: SpaceJmpStats = { switches: 0, blockedSwitches: 0, shadowUpdates: 0 };

  constructor(readonly kernel: Kernel) {
    kernel.hooks.push({
      threadExit: (t) => this.threadExit(t),
      processExit: (p) => this.processExit(p),
      afterExit: (p) => this.afterExit(p),
      // Each live segment's registry entry holds one reference to its wired object.
      invariants: { name: 'spacejmp', heldObjects: () => this.heldObjects() },
    });
  }

  // ------------------------------------------------------------------ lookups

  private state(p: Process): ProcState {
    if (!p.spacejmp) p.spacejmp = { attachments: new Map(), nextVh: 1, primarySegs: new Map() } satisfies ProcState;
    return p.spacejmp as ProcState;
  }

  attachments(p: Process): Attachment[] {
    return [...this.state(p).attachments.values()];
  }

  private vas(vid: number): NamedVas {
    const v = this.vases.get(vid);
    if (!v || v.deleted) fail('EINVAL', `no address space with id ${vid}`);
    return v;
  }

  private seg(sid: number): Segment {
    const s = this.segments.get(sid);
    if (!s || s.deleted) fail('EINVAL', `no segment with id ${sid}`);
    return s;
  }

  private attachment(p: Process, vh: number): Attachment {
    const a = this.state(p).attachments.get(vh);
    if (!a) fail('EINVAL', `no attached address space with handle ${vh}`);
    return a;
  }

  private checkName(name: string): void {
    if (typeof name !== 'string' || name.length === 0 || name.length > 255 || name.includes('\0')) fail('EINVAL', 'name must be 1..255 characters');
  }

  private checkMode(mode: number): void {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) fail('EINVAL', 'mode must be 0..0777');
  }

  // ------------------------------------------------------------------ address spaces

  vasCreate(t: Thread, name: string, mode: number): number {
    this.checkName(name);
    this.checkMode(mode);
    if (this.vasByName.has(name)) fail('EEXIST', `address space "${name}" exists`);
    const space = this.kernel.newVmspace('named', name, 'flush');
    const cred = t.process.cred;
    const v = new NamedVas(this.nextVid++, name, mode, cred.uid, cred.gid, space, this.kernel.config.tagPolicy, this.defaultPtPolicy);
    this.vases.set(v.vid, v);
    this.vasByName.set(name, v);
    return v.vid;
  }

  vasFind(t: Thread, name: string): number {
    this.checkName(name);
    const v = this.vasByName.get(name);
    if (!v) fail('ENOENT', `no address space named "${name}"`);
    if (!mayAccess(t.process.cred, v, 'r')) fail('EACCES', `"${name}" is not readable by uid ${t.process.cred.uid}`);
    return v.vid;
  }

  /** A new named space holding the same segments (the segments are shared, not copied). */
  vasClone(t: Thread, vid: number): number {
    const v = this.vas(vid);
    if (!mayAccess(t.process.cred, v, 'r')) fail('EACCES', `"${v.name}" is not readable`);
    let n = 1;
    while (this.vasByName.has(`${v.name}.clone${n}`)) n++;
    const nv = this.vasCreate(t, `${v.name}.clone${n}`, v.mode);
    const c = this.vases.get(nv)!;
    for (const { seg, prot } of v.segments.values()) this.mapSegment(c.space, seg, prot);
    for (const [sid, e] of v.segments) {
      c.segments.set(sid, { ...e });
      e.seg.attachedTo.add(c);
    }
    return nv;
  }

  /**
   * Attach: a shadow space private to the process with the named space's segments (at the
   * caller's rights) plus the process's text, heap and stack. Returns the handle (vh).
   */
  vasAttach(t: Thread, vid: number): number {
    const v = this.vas(vid);
    const cred = t.process.cred;
    if (!mayAccess(cred, v, 'r')) fail('EACCES', `"${v.name}" is not readable by uid ${cred.uid}`);
    const writable = mayAccess(cred, v, 'w');
    for (const { seg } of v.segments.values()) {
      if (!mayAccess(cred, seg, 'r')) fail('EACCES', `segment "${seg.name}" in "${v.name}" is not readable by uid ${cred.uid}`);
    }
    const p = t.process;
    const st = this.state(p);
    const vh = VH_BIT | st.nextVh;
    const space = this.kernel.newVmspace('shadow', `${v.name}@${p.pid}`, v.tags);
    const fullRights = [...v.segments.values()].every(({ seg, prot }) => this.effectiveProt(cred, writable, seg, prot) === prot);
    const att = new Attachment(vh, p, v, space, v.ptPolicy === 'shared' && fullRights ? 'shared' : 'copy', writable);
    try {
      this.copyPrivateRegions(p, space);
      for (const { seg, prot } of v.segments.values()) this.addToShadow(att, seg, prot);
    } catch (e) {
      this.kernel.destroyVmspace(space);
      throw e;
    }
    st.nextVh++;
    st.attachments.set(vh, att);
    v.shadows.add(att);
    for (const { seg } of v.segments.values()) seg.attachedTo.add(att);
    return vh;
  }

  private effectiveProt(cred: Credentials, vasWritable: boolean, seg: Segment, prot: number): number {
    let p = prot;
    if (!vasWritable || !mayAccess(cred, seg, 'w')) p &= ~PROT_WRITE;
    return p;
  }

  /** The process's text, heap and stack entries, sharing their objects with the primary. */
  private copyPrivateRegions(p: Process, shadow: Vmspace): void {
    for (const e of p.primary.map.entries) {
      if (e.start >= RESERVED_START || (e.flags & ENTRY_SEGMENT) !== 0) continue;
      if (e.label !== 'text' && e.label !== 'heap' && e.label !== 'stack') continue;
      if (e.object && (e.flags & ENTRY_NEEDS_COPY) !== 0) {
        // Give the entry its private object now so the primary and the shadow share one identity.
        const obj = e.object;
        e.object = shadowObject(obj, e.offset, e.end - e.start);
        obj.mappers.delete(e);
        e.object.mappers.add(e);
        e.offset = 0;
        e.flags &= ~ENTRY_NEEDS_COPY;
      }
      shadow.insertEntry({ ...e, inheritance: 'none' });
    }
  }

  /** Map a segment into a shadow according to the attachment's policy. */
  private addToShadow(att: Attachment, seg: Segment, prot: number): void {
    const eff = this.effectiveProt(att.process.cred, att.writable, seg, prot);
    if (att.ptPolicy === 'shared' && eff !== prot) this.convertToCopy(att);
    if (!att.space.map.isFree(seg.base, seg.end)) fail('EEXIST', `segment "${seg.name}" collides with a mapping in ${att.space.describe()}`);
    if (att.ptPolicy === 'copy') {
      this.mapSegment(att.space, seg, eff);
      return;
    }
    att.space.insertEntry(this.segmentEntry(seg, eff));
    this.linkSlots(att, seg);
  }

  private segmentEntry(seg: Segment, prot: number): Omit<MapEntry, 'map'> {
    return {
      start: seg.base, end: seg.end, prot, maxProt: prot, inheritance: 'none', object: seg.object, offset: 0,
      flags: ENTRY_SEGMENT, segment: seg.sid, label: seg.name,
    };
  }

  private mapSegment(space: Vmspace, seg: Segment, prot: number): void {
    space.mmap({
      addr: seg.base, len: seg.size, prot, flags: MAP_FIXED | MAP_SHARED, object: seg.object, offset: 0,
      label: seg.name, inheritance: 'none', entryFlags: ENTRY_SEGMENT, segment: seg.sid, maxProt: prot,
    });
  }

  private topSpan(): number {
    return LEVEL_SPAN[this.kernel.config.paging];
  }

  /** Link the named space's top-level subtrees covering `seg` into the shadow. */
  private linkSlots(att: Attachment, seg: Segment): void {
    const span = this.topSpan();
    const named = att.vas.space.pmap;
    const level = this.kernel.config.paging - 1;
    for (let slot = seg.base - (seg.base % span); slot < seg.end; slot += span) {
      if (att.linkedSlots.has(slot)) continue;
      const child = named.tableAt(slot, level);
      if (!child) throw new Error(`spacejmp: named space has no table for slot ${formatAddr(slot)}`);
      if (att.space.pmap.linkSubtree(slot, child) < 0) fail('ENOMEM', 'page table for a shadow');
      att.linkedSlots.add(slot);
    }
  }

  /** Stop sharing page tables with the named space: own copies of every segment's entries. */
  private convertToCopy(att: Attachment): void {
    const level = this.kernel.config.paging - 1;
    for (const slot of att.linkedSlots) att.space.pmap.unlinkSubtree(slot, level);
    att.linkedSlots.clear();
    this.kernel.flushPmap(att.space.pmap);
    att.ptPolicy = 'copy';
    for (const e of att.space.map.entries) if ((e.flags & ENTRY_SEGMENT) !== 0) att.space.populate(e);
  }

  vasDetach(t: Thread, vh: number): void {
    const p = t.process;
    const att = this.attachment(p, vh);
    if (att.threads.size > 0) fail('EBUSY', `a thread is still in ${att.space.describe()}`);
    this.destroyAttachment(att);
  }

  private destroyAttachment(att: Attachment): void {
    const st = this.state(att.process);
    st.attachments.delete(att.vh);
    att.vas.shadows.delete(att);
    for (const { seg } of att.vas.segments.values()) seg.attachedTo.delete(att);
    for (const { seg } of att.privateSegs.values()) seg.attachedTo.delete(att.space);
    this.kernel.destroyVmspace(att.space);
    for (const { seg } of [...att.vas.segments.values(), ...att.privateSegs.values()]) this.maybeFreeSegment(seg);
    if (att.vas.deleted && att.vas.shadows.size === 0) this.freeVas(att.vas);
  }

  /**
   * Switch the calling thread into the space named by `vh` (0 = primary). Lockable segments are
   * locked for the target (reader if mapped read-only, writer if writable) and released for the
   * source; if one is unavailable the call blocks (returns the channel to wait on) or, with
   * VAS_NOWAIT, fails with EBUSY.
   */
  vasSwitch(t: Thread, vh: number, flags = 0): WaitChannel | 0 {
    if ((flags & ~VAS_NOWAIT) !== 0) fail('EINVAL', 'unknown vas_switch flags');
    const p = t.process;
    const target = vh === VAS_PRIMARY ? null : this.attachment(p, vh);
    const space = target ? target.space : p.primary;
    const k = this.kernel;
    const costs = k.costs;
    if (space === t.space) {
      k.charge('vas_switch', costs.vasSwitchKernel);
      return 0;
    }
    const need = this.locksFor(space);
    for (const l of need) {
      if (!l.seg.lock.canAcquire(t, l.write)) {
        if ((flags & VAS_NOWAIT) !== 0) fail('EBUSY', `segment "${l.seg.name}" is locked (${l.seg.lock.describe()})`);
        this.stats.blockedSwitches++;
        return l.seg.lock.channel;
      }
    }
    this.releaseLocks(t);
    for (const l of need) l.seg.lock.acquire(t, l.write);
    if (need.length) this.held.set(t, need);
    const from = t.vh === VAS_PRIMARY ? null : this.state(p).attachments.get(t.vh) ?? null;
    from?.threads.delete(t);
    target?.threads.add(t);
    t.space = space;
    t.vh = vh;
    const cpu = k.enter(t); // loads CR3: the 'cr3' component
    k.charge('vas_switch', costs.vasSwitchKernel);
    if (space.pmap.pcid === 0) cpu.charge('vas_switch_refill', costs.untaggedRefillPenalty);
    this.stats.switches++;
    return 0;
  }

  /**
   * The locks a switch into `space` takes. Cached per space: recomputed only when its map changed
   * (map.timestamp) or some segment became (un)lockable (lockableGen), since every switch asks.
   */
  private locksFor(space: Vmspace): HeldLock[] {
    const c = this.lockCache.get(space);
    if (c && c.stamp === space.map.timestamp && c.gen === this.lockableGen) return c.locks;
    const out: HeldLock[] = [];
    for (const e of space.map.entries) {
      if ((e.flags & ENTRY_SEGMENT) === 0) continue;
      const seg = this.segments.get(e.segment);
      if (seg?.lockable) out.push({ seg, write: (e.prot & PROT_WRITE) !== 0 });
    }
    this.lockCache.set(space, { stamp: space.map.timestamp, gen: this.lockableGen, locks: out });
    return out;
  }

  private releaseLocks(t: Thread): void {
    const held = this.held.get(t);
    if (!held) return;
    this.held.delete(t);
    for (const l of held) {
      l.seg.lock.release(t, l.write);
      this.kernel.wakeAll(l.seg.lock.channel);
    }
  }

  /** Handle of the space the thread is in (0 = primary). */
  vasCurrent(t: Thread): number {
    return t.vh;
  }

  vasCtl(t: Thread, cmd: number, vid: number, arg = 0): number | Record<string, unknown> {
    if (vid === VAS_PRIMARY && cmd === VAS_CTL_TAGS) {
      // The caller's own primary space: its TLB tag policy is the process's to choose.
      if (arg !== 0 && arg !== 1) fail('EINVAL', 'tag policy is 0 (flush) or 1 (tagged)');
      this.kernel.setTagPolicy(t.process.primary, arg === 1 ? 'tagged' : 'flush');
      return 0;
    }
    const v = this.vas(vid);
    const cred = t.process.cred;
    const owner = cred.uid === 0 || cred.uid === v.uid;
    switch (cmd) {
      case VAS_CTL_INFO:
        if (!mayAccess(cred, v, 'r')) fail('EACCES', `"${v.name}" is not readable`);
        return this.vasInfo(v);
      case VAS_CTL_DELETE:
        if (!owner) fail('EPERM', `only the owner deletes "${v.name}"`);
        if (v.shadows.size > 0) fail('EBUSY', `"${v.name}" is attached by ${v.shadows.size} process(es)`);
        this.freeVas(v);
        return 0;
      case VAS_CTL_TAGS: {
        if (!owner) fail('EPERM', 'only the owner sets the tag policy');
        if (arg !== 0 && arg !== 1) fail('EINVAL', 'tag policy is 0 (flush) or 1 (tagged)');
        v.tags = arg === 1 ? 'tagged' : 'flush';
        for (const a of v.shadows) this.kernel.setTagPolicy(a.space, v.tags);
        return 0;
      }
      case VAS_CTL_CHMOD:
        if (!owner) fail('EPERM', 'only the owner changes the mode');
        this.checkMode(arg);
        v.mode = arg;
        return 0;
      case VAS_CTL_PTPOLICY:
        if (!owner) fail('EPERM', 'only the owner sets the page-table policy');
        if (arg !== 0 && arg !== 1) fail('EINVAL', 'page-table policy is 0 (copy) or 1 (shared)');
        v.ptPolicy = arg === 1 ? 'shared' : 'copy';
        return 0;
      default:
        fail('EINVAL', `unknown vas_ctl command ${cmd}`);
    }
  }

  private freeVas(v: NamedVas): void {
    v.deleted = true;
    if (this.vasByName.get(v.name) === v) this.vasByName.delete(v.name);
    if (v.shadows.size > 0) return;
    this.vases.delete(v.vid);
    this.kernel.destroyVmspace(v.space);
    for (const { seg } of v.segments.values()) {
      seg.attachedTo.delete(v);
      this.maybeFreeSegment(seg);
    }
    v.segments.clear();
  }

  // ------------------------------------------------------------------ segments

  segAlloc(t: Thread, name: string, base: number, size: number, mode: number, flags = 0): number {
    this.checkName(name);
    this.checkMode(mode);
    if ((flags & ~SEG_2M) !== 0) fail('EINVAL', 'unknown seg_alloc flags');
    if (this.segByName.has(name)) fail('EEXIST', `segment "${name}" exists`);
    const pageShift = (flags & SEG_2M) !== 0 ? 21 : 12;
    const ps = 2 ** pageShift;
    if (!Number.isSafeInteger(size) || size <= 0) fail('EINVAL', 'size must be positive');
    if (base % ps !== 0) fail('EINVAL', `base ${formatAddr(base)} is not ${formatSize(ps)}-aligned`);
    const len = Math.ceil(size / ps) * ps;
    const resEnd = reservedEnd(this.kernel.config.paging);
    if (base < RESERVED_START || base + len > resEnd) {
      fail('EINVAL', `segment ${formatAddr(base)}+${formatSize(len)} is outside the segment region [${formatAddr(RESERVED_START)}, ${formatAddr(resEnd)})`);
    }
    const k = this.kernel;
    const node = k.current.node;
    // Wired pages are reserved now: fail before the loop when they cannot exist (bounded work).
    if (len > k.frames.freeBytes()) fail('ENOMEM', `no memory for ${formatSize(len)} segment "${name}"`);
    const obj = new VmObject('wired', len, pageShift, node, name);
    for (let off = 0; off < len; off += ps) {
      if (allocObjectPage(k, obj, off, true) < 0) {
        releaseObject(k, obj);
        fail('ENOMEM', `no memory for ${formatSize(len)} segment "${name}"`);
      }
      k.charge('seg_alloc', k.costs.pageZero4K * (ps / 4096));
    }
    const cred = t.process.cred;
    const s = new Segment(this.nextSid++, name, base, len, mode, cred.uid, cred.gid, obj);
    this.segments.set(s.sid, s);
    this.segByName.set(name, s);
    return s.sid;
  }

  segFind(t: Thread, name: string): number {
    this.checkName(name);
    const s = this.segByName.get(name);
    if (!s) fail('ENOENT', `no segment named "${name}"`);
    if (!mayAccess(t.process.cred, s, 'r')) fail('EACCES', `segment "${name}" is not readable by uid ${t.process.cred.uid}`);
    return s.sid;
  }

  /** Resolve a seg_attach/seg_detach target: CURRENT, PRIMARY (0), a vh, or a vid. */
  private target(t: Thread, id: number): { space: Vmspace; vas: NamedVas | null; att: Attachment | null } {
    const p = t.process;
    if (id === VAS_CURRENT) {
      if (t.vh === VAS_PRIMARY) return { space: p.primary, vas: null, att: null };
      const att = this.attachment(p, t.vh);
      return { space: att.space, vas: null, att };
    }
    if (id === VAS_PRIMARY) return { space: p.primary, vas: null, att: null };
    if ((id & VH_BIT) !== 0) {
      const att = this.attachment(p, id);
      return { space: att.space, vas: null, att };
    }
    const v = this.vas(id);
    return { space: v.space, vas: v, att: null };
  }

  /** Attach a segment to a named space (and all its shadows), a shadow, or the primary. */
  segAttach(t: Thread, targetId: number, sid: number, prot = -1): number {
    const seg = this.seg(sid);
    const cred = t.process.cred;
    const tgt = this.target(t, targetId);
    const p = prot === -1 ? (mayAccess(cred, seg, 'w') ? RW : PROT_READ) : prot;
    if ((p & ~RW) !== 0 || (p & PROT_READ) === 0) fail('EINVAL', `segment protection must be R or RW, got ${protString(p)}`);
    if (!mayAccess(cred, seg, 'r') || ((p & PROT_WRITE) !== 0 && !mayAccess(cred, seg, 'w'))) {
      fail('EACCES', `segment "${seg.name}" (${modeString(seg.mode)}, uid ${seg.uid}) does not allow ${protString(p)} for uid ${cred.uid}`);
    }
    if (tgt.vas) {
      const v = tgt.vas;
      if (!mayAccess(cred, v, 'w')) fail('EACCES', `"${v.name}" is not writable by uid ${cred.uid}`);
      if (v.segments.has(sid)) fail('EEXIST', `segment "${seg.name}" is already in "${v.name}"`);
      if (!v.space.map.isFree(seg.base, seg.end)) fail('EEXIST', `segment "${seg.name}" collides with another segment in "${v.name}"`);
      for (const a of v.shadows) {
        if (!a.space.map.isFree(seg.base, seg.end)) fail('EEXIST', `segment "${seg.name}" collides with a mapping in ${a.space.describe()}`);
      }
      this.mapSegment(v.space, seg, p);
      v.segments.set(sid, { seg, prot: p });
      seg.attachedTo.add(v);
      for (const a of v.shadows) {
        this.addToShadow(a, seg, p);
        seg.attachedTo.add(a);
        this.stats.shadowUpdates++;
      }
      return 0;
    }
    const space = tgt.space;
    if (!space.map.isFree(seg.base, seg.end)) {
      fail('EEXIST', `segment "${seg.name}" at ${formatAddr(seg.base)} collides with an existing mapping in ${space.describe()}`);
    }
    this.mapSegment(space, seg, p);
    if (tgt.att) tgt.att.privateSegs.set(sid, { seg, prot: p });
    else this.state(t.process).primarySegs.set(sid, { seg, prot: p });
    seg.attachedTo.add(space);
    return 0;
  }

  segDetach(t: Thread, targetId: number, sid: number): number {
    const seg = this.segments.get(sid);
    if (!seg) fail('EINVAL', `no segment with id ${sid}`);
    const tgt = this.target(t, targetId);
    const k = this.kernel;
    if (tgt.vas) {
      const v = tgt.vas;
      if (!mayAccess(t.process.cred, v, 'w')) fail('EACCES', `"${v.name}" is not writable`);
      if (!v.segments.has(sid)) fail('EINVAL', `segment "${seg.name}" is not in "${v.name}"`);
      // Shadows with their own entries: unmap there (shootdown on CPUs running them).
      for (const a of v.shadows) {
        if (a.ptPolicy === 'copy') a.space.unmapRange(seg.base, seg.end);
      }
      // The named space's tables (shared by 'shared' shadows): clear once, invalidate everywhere.
      const named = v.space.pmap;
      named.remove(seg.base, seg.end);
      const vas = [...named.pendingVa];
      const full = named.pendingFull;
      k.flushPmap(named);
      for (const a of v.shadows) {
        if (a.ptPolicy !== 'shared') continue;
        a.space.removeEntriesOnly(seg.base, seg.end);
        if (full) a.space.pmap.pendingFull = true;
        for (const va of vas) a.space.pmap.queue(va, 4096);
        k.flushPmap(a.space.pmap);
      }
      v.space.removeEntriesOnly(seg.base, seg.end);
      v.segments.delete(sid);
      seg.attachedTo.delete(v);
      for (const a of v.shadows) {
        seg.attachedTo.delete(a);
        this.stats.shadowUpdates++;
      }
      this.maybeFreeSegment(seg);
      return 0;
    }
    const e = tgt.space.map.lookup(seg.base);
    if (!e || e.segment !== sid) fail('EINVAL', `segment "${seg.name}" is not attached to ${tgt.space.describe()}`);
    if (tgt.att && tgt.att.vas.segments.has(sid) && !tgt.att.privateSegs.has(sid)) {
      fail('EINVAL', `segment "${seg.name}" comes from "${tgt.att.vas.name}": detach it there`);
    }
    tgt.space.unmapRange(seg.base, seg.end);
    if (tgt.att) tgt.att.privateSegs.delete(sid);
    else this.state(t.process).primarySegs.delete(sid);
    seg.attachedTo.delete(tgt.space);
    this.maybeFreeSegment(seg);
    return 0;
  }

  /** A new segment with a copy of the contents, owned by the caller. */
  segClone(t: Thread, sid: number): number {
    const s = this.seg(sid);
    if (!mayAccess(t.process.cred, s, 'r')) fail('EACCES', `segment "${s.name}" is not readable`);
    let n = 1;
    while (this.segByName.has(`${s.name}.clone${n}`)) n++;
    const k = this.kernel;
    const nsid = this.segAlloc(t, `${s.name}.clone${n}`, s.base, s.size, s.mode, s.object.pageShift === 21 ? SEG_2M : 0);
    const c = this.segments.get(nsid)!;
    for (const [pindex, pa] of s.object.pages) {
      k.copyFrame(c.object.pages.get(pindex)!, pa, s.pageSize);
      k.charge('seg_clone', k.costs.pageCopy4K * (s.pageSize / 4096));
    }
    return nsid;
  }

  segCtl(t: Thread, sid: number, cmd: number, arg = 0): number | Record<string, unknown> {
    const s = this.seg(sid);
    const cred = t.process.cred;
    const owner = cred.uid === 0 || cred.uid === s.uid;
    switch (cmd) {
      case SEG_CTL_INFO:
        if (!mayAccess(cred, s, 'r')) fail('EACCES', `segment "${s.name}" is not readable`);
        return this.segInfo(s);
      case SEG_CTL_DELETE:
        if (!owner) fail('EPERM', `only the owner deletes segment "${s.name}"`);
        s.deleted = true;
        this.segByName.delete(s.name);
        this.maybeFreeSegment(s);
        return 0;
      case SEG_CTL_LOCKABLE:
        if (!owner) fail('EPERM', 'only the owner makes a segment lockable');
        if (arg !== 0 && arg !== 1) fail('EINVAL', 'lockable is 0 or 1');
        if (s.lock.held) fail('EBUSY', `segment "${s.name}" is locked (${s.lock.describe()})`);
        s.lockable = arg === 1;
        this.lockableGen++;
        return 0;
      case SEG_CTL_CHMOD:
        if (!owner) fail('EPERM', 'only the owner changes the mode');
        this.checkMode(arg);
        s.mode = arg;
        return 0;
      default:
        fail('EINVAL', `unknown seg_ctl command ${cmd}`);
    }
  }

  private maybeFreeSegment(s: Segment): void {
    if (!s.deleted || s.attachedTo.size > 0 || !this.segments.has(s.sid)) return;
    this.segments.delete(s.sid);
    releaseObject(this.kernel, s.object);
  }

  // ------------------------------------------------------------------ lifecycle

  private threadExit(t: Thread): void {
    this.releaseLocks(t);
    if (t.vh !== VAS_PRIMARY) {
      const st = this.state(t.process);
      st.attachments.get(t.vh)?.threads.delete(t);
    }
  }

  private processExit(p: Process): void {
    const st = this.state(p);
    for (const att of [...st.attachments.values()]) {
      att.threads.clear();
      this.destroyAttachment(att);
    }
  }

  /** The primary's teardown dropped its segment mappings: deleted segments may now go. */
  private afterExit(p: Process): void {
    const st = this.state(p);
    for (const { seg } of st.primarySegs.values()) {
      seg.attachedTo.delete(p.primary);
      this.maybeFreeSegment(seg);
    }
    st.primarySegs.clear();
  }

  // ------------------------------------------------------------------ views

  vasInfo(v: NamedVas): Record<string, unknown> {
    return {
      vid: v.vid, name: v.name, mode: modeString(v.mode), uid: v.uid, gid: v.gid, tags: v.tags, ptPolicy: v.ptPolicy,
      segments: [...v.segments.values()].map(({ seg, prot }) => ({ sid: seg.sid, name: seg.name, prot: protString(prot) })),
      shadows: [...v.shadows].map((a) => ({ pid: a.process.pid, vh: a.vh, threads: a.threads.size, ptPolicy: a.ptPolicy })),
    };
  }

  segInfo(s: Segment): Record<string, unknown> {
    return {
      sid: s.sid, name: s.name, base: formatAddr(s.base), size: s.size, mode: modeString(s.mode), uid: s.uid, gid: s.gid,
      pageSize: s.pageSize, lockable: s.lockable, lock: s.lock.describe(), deleted: s.deleted, attachments: s.attachedTo.size,
    };
  }

  /** Objects the SpaceJMP registries hold a reference to (for the invariant checker). */
  heldObjects(): VmObject[] {
    return [...this.segments.values()].map((s) => s.object);
  }
}

