// SpaceJMP (reference chapters 8-9, Figure 40): the calls over named address spaces, their
// shadows, memory segments and vas_switch. Named spaces and segments are global, like files
// (registry.ts); a shadow is a process's attached view of a named space (shadow.ts); segment locks
// follow one rule wherever a segment becomes reachable (locks.ts). SpaceJMP installs itself into
// every kernel at boot and is reached as `kernel.spacejmp`; the kernel does not import it.
//
// The rules every path follows:
// - Rights: a segment reached through a space gets the reacher's own rights, computed when it
//   becomes reachable (attach, a live add to the named space, seg_attach): no read right, no
//   mapping (an attach is refused with EACCES instead); read-only right, read-only mapping.
// - Locks: a segment that becomes reachable where threads run is locked for them first (take,
//   block, or EBUSY with VAS_NOWAIT), as vas_switch does.
// - Consistency: a change to a named space reaches every shadow in the same call; TLB shootdown
//   covers every CPU running an affected space (kernel/vm's pmap sharers).
// - In a shadow the named space's segments come first: a segment added to the named space evicts
//   what the attacher mapped there on his own (an attacher cannot block the owner).

import { Kernel, registerBootModule, type LifecycleHooks } from '../kernel.js';
import type { Process, Thread, WaitChannel } from '../proc/process.js';
import { VmObject, allocObjectPage, releaseObject } from '../vm/vmObject.js';
import type { Vmspace } from '../vm/vmspace.js';
import { PROT_READ, PROT_WRITE, protString } from '../vm/vmMap.js';
import { fail } from '../errno.js';
import { CYC_LOCK, CYC_PMAP_ACTIVATE } from '../../mmu/cpu.js';
import { ACCESS_READ } from '../../mmu/pageWalker.js';
import { RESERVED_START, reservedEnd } from '../layout.js';
import { formatAddr, formatSize } from '../../mmu/units.js';
import { Segment, mayAccess, modeString } from './segment.js';
import { Registry, checkName, checkMode } from './registry.js';
import { NamedVas, Attachment, type SegRef, rightsFor, mapSegment, shareSegment, convertToCopy } from './shadow.js';
import { LockTable, type LockRequest } from './locks.js';
import {
  VAS_PRIMARY, VAS_CURRENT, VH_BIT, VAS_NOWAIT, VAS_CTL_INFO, VAS_CTL_DELETE, VAS_CTL_TAGS, VAS_CTL_CHMOD, VAS_CTL_PTPOLICY,
  SEG_CTL_INFO, SEG_CTL_DELETE, SEG_CTL_LOCKABLE, SEG_CTL_CHMOD, SEG_2M, type PtPolicy,
} from './constants.js';

export * from './constants.js';
export { NamedVas, Attachment } from './shadow.js';

const RW = PROT_READ | PROT_WRITE;

/** A process's SpaceJMP state: its shadows and the segments attached to its primary. */
interface ProcState {
  attachments: Map<number, Attachment>;
  nextVh: number;
  primarySegs: Map<number, SegRef>;
}

export interface SpaceJmpStats {
  switches: number;
  blockedSwitches: number;
  shadowUpdates: number;
}

/** Where seg_attach/seg_detach act: a named space, one of the caller's shadows, or its primary. */
type Target = { kind: 'named'; vas: NamedVas } | { kind: 'shadow'; att: Attachment } | { kind: 'primary'; p: Process };

declare module '../kernel.js' {
  interface Kernel {
    /** SpaceJMP, installed at boot by kernel/spacejmp. */
    readonly spacejmp: SpaceJmp;
  }
}

export class SpaceJmp {
  private readonly reg = new Registry();
  readonly vases = this.reg.vases;
  readonly segments = this.reg.segments;
  private readonly procs = new WeakMap<Process, ProcState>();
  private lastProc: Process | null = null;
  private lastState: ProcState | null = null;
  private readonly locks: LockTable;
  /** Page-table policy for new named spaces. */
  defaultPtPolicy: PtPolicy = 'copy';
  readonly stats: SpaceJmpStats = { switches: 0, blockedSwitches: 0, shadowUpdates: 0 };

  constructor(readonly kernel: Kernel) {
    this.locks = new LockTable(this.reg.segments, (ch) => this.wakeLockWaiters(ch), (seg) => this.lockOp(seg));
    const hooks: LifecycleHooks = {
      threadStart: (t) => this.threadStart(t),
      threadExit: (t) => this.threadExit(t),
      processExit: (p) => this.processExit(p),
      afterExit: (p) => this.afterExit(p),
      // Each live segment's registry entry holds one reference to its wired object.
      invariants: { name: 'spacejmp', heldObjects: () => this.heldObjects(), check: () => this.check() },
    };
    kernel.hooks.push(hooks);
  }

  // ------------------------------------------------------------------ lookups

  private state(p: Process): ProcState {
    // Every vas_switch asks twice for the same process: the last answer is kept (a state is
    // never replaced once made), which saves the WeakMap lookups.
    if (p === this.lastProc) return this.lastState!;
    let st = this.procs.get(p);
    if (!st) this.procs.set(p, (st = { attachments: new Map(), nextVh: 1, primarySegs: new Map() }));
    this.lastProc = p;
    this.lastState = st;
    return st;
  }

  attachments(p: Process): Attachment[] {
    return [...this.state(p).attachments.values()];
  }

  private attachment(p: Process, vh: number): Attachment {
    const a = this.state(p).attachments.get(vh);
    if (!a) fail('EINVAL', `no attached address space with handle ${vh}`);
    return a;
  }

  /** Resolve a seg_attach/seg_detach target: CURRENT, PRIMARY (0), a vh, or a vid. */
  private target(t: Thread, id: number): Target {
    const p = t.process;
    const vh = id === VAS_CURRENT ? t.vh : id;
    if (vh === VAS_PRIMARY) return { kind: 'primary', p };
    if ((vh & VH_BIT) !== 0) return { kind: 'shadow', att: this.attachment(p, vh) };
    return { kind: 'named', vas: this.reg.vas(id) };
  }

  private spaceOf(tg: Target): Vmspace {
    return tg.kind === 'named' ? tg.vas.space : tg.kind === 'shadow' ? tg.att.space : tg.p.primary;
  }

  /** Threads executing in `space` now. */
  private threadsIn(space: Vmspace): Thread[] {
    const out: Thread[] = [];
    for (const p of this.kernel.processes.values()) {
      if (!p.live) continue;
      for (const t of p.threads) if (t.state !== 'exited' && t.space === space) out.push(t);
    }
    return out;
  }

  /** Blocked-or-EBUSY for a lock that cannot be granted now (the call changed nothing). */
  private lockWait(seg: Segment, flags: number): WaitChannel {
    if ((flags & VAS_NOWAIT) !== 0) fail('EBUSY', `segment "${seg.name}" is locked (${seg.lock.describe()})`);
    return seg.lock.channel;
  }

  private newSpace(kind: 'named' | 'shadow', name: string, tags: import('../machineConfig.js').TagPolicy): Vmspace {
    return this.kernel.newVmspace(kind, name, tags); // ENOMEM (no frame for a root) comes back as a SysError
  }

  // ------------------------------------------------------------------ address spaces

  vasCreate(t: Thread, name: string, mode: number): number {
    checkName(name);
    checkMode(mode);
    if (this.reg.vasByName.has(name)) fail('EEXIST', `address space "${name}" exists`);
    const space = this.newSpace('named', name, 'flush');
    const cred = t.process.cred;
    const v = new NamedVas(this.reg.newVid(), name, mode, cred.uid, cred.gid, space, this.kernel.config.tagPolicy, this.defaultPtPolicy);
    this.reg.vases.set(v.vid, v);
    this.reg.vasByName.set(name, v);
    return v.vid;
  }

  vasFind(t: Thread, name: string): number {
    checkName(name);
    const v = this.reg.vasByName.get(name);
    if (!v) fail('ENOENT', `no address space named "${name}"`);
    if (!mayAccess(t.process.cred, v, 'r')) fail('EACCES', `"${name}" is not readable by uid ${t.process.cred.uid}`);
    return v.vid;
  }

  /** A new named space holding the same segments (the segments are shared, not copied). */
  vasClone(t: Thread, vid: number): number {
    const v = this.reg.vas(vid);
    if (!mayAccess(t.process.cred, v, 'r')) fail('EACCES', `"${v.name}" is not readable`);
    const nv = this.vasCreate(t, this.reg.cloneName(v.name, (n) => this.reg.vasByName.has(n)), v.mode);
    const c = this.reg.vases.get(nv)!;
    for (const [sid, e] of v.segments) {
      mapSegment(c.space, e.seg, e.prot);
      c.segments.set(sid, { ...e });
      e.seg.attachedTo.add(c);
    }
    return nv;
  }

  /**
   * Attach: a shadow of the named space for the calling process — its private region (the
   * primary's, linked) plus the named space's segments at the caller's rights. Returns the vh.
   */
  vasAttach(t: Thread, vid: number): number {
    const v = this.reg.vas(vid);
    const p = t.process;
    const cred = p.cred;
    if (!mayAccess(cred, v, 'r')) fail('EACCES', `"${v.name}" is not readable by uid ${cred.uid}`);
    const writable = mayAccess(cred, v, 'w');
    const rights = new Map<number, number>();
    for (const [sid, { seg, prot }] of v.segments) {
      const r = rightsFor(cred, writable, seg, prot);
      if (r === null) fail('EACCES', `segment "${seg.name}" in "${v.name}" is not readable by uid ${cred.uid}`);
      rights.set(sid, r);
    }
    const st = this.state(p);
    const space = this.newSpace('shadow', `${v.name}@${p.pid}`, v.tags);
    if (space.sharePrivateRegion(p.primary) < 0) {
      this.kernel.destroyVmspace(space);
      fail('ENOMEM', 'no memory for the page tables of an attached space');
    }
    const fullRights = [...v.segments.values()].every(({ seg, prot }) => rights.get(seg.sid) === prot);
    const vh = VH_BIT | st.nextVh++;
    const att = new Attachment(vh, p, v, space, v.ptPolicy === 'shared' && fullRights ? 'shared' : 'copy', writable);
    for (const [sid, { seg }] of v.segments) this.addNamedSegment(att, seg, rights.get(sid)!);
    st.attachments.set(vh, att);
    v.shadows.add(att);
    return vh;
  }

  /** Map a named-space segment into one shadow at `prot`, per the shadow's page-table policy. */
  private addNamedSegment(att: Attachment, seg: Segment, prot: number): void {
    const full = att.vas.segments.get(seg.sid)?.prot ?? prot;
    if (att.ptPolicy === 'shared' && prot !== full) convertToCopy(att, (s) => this.kernel.flushPmap(s.pmap));
    if (att.ptPolicy === 'shared') shareSegment(att, { seg, prot });
    else mapSegment(att.space, seg, prot);
    att.named.set(seg.sid, prot);
    seg.attachedTo.add(att);
  }

  vasDetach(t: Thread, vh: number): void {
    const att = this.attachment(t.process, vh);
    if (att.threads.size > 0) fail('EBUSY', `a thread is still in ${att.space.describe()}`);
    this.destroyAttachment(att);
  }

  private destroyAttachment(att: Attachment): void {
    this.state(att.process).attachments.delete(att.vh);
    att.vas.shadows.delete(att);
    this.kernel.destroyVmspace(att.space);
    const segs = [...att.named.keys()].map((sid) => this.reg.segments.get(sid)!).concat([...att.privateSegs.values()].map((r) => r.seg));
    for (const seg of segs) {
      seg.attachedTo.delete(att);
      this.maybeFreeSegment(seg);
    }
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
    const k = this.kernel;
    const kh = k.kernelHalf;
    const cpu = k.enter(t); // the syscall path has done it already; direct callers (tests) have not
    // sys_vas_switch: take the process's VAS lock (its handle table's line) and look the handle
    // up there; the lock's release is a plain store.
    kh.vasSwitchEntry(cpu, p);
    cpu.chargeAt(CYC_LOCK, k.costs.atomicRmw);
    const target = vh === VAS_PRIMARY ? null : this.attachment(p, vh);
    const space = target ? target.space : p.primary;
    kh.spaceLine(cpu, space, 0, ACCESS_READ);
    if (space === t.space) return 0;
    const need = this.locks.locksFor(space);
    if (need.length) {
      const blocker = this.locks.conflict(need.map((l) => ({ t, seg: l.seg, write: l.write })));
      if (blocker) {
        if ((flags & VAS_NOWAIT) === 0) this.stats.blockedSwitches++;
        return this.lockWait(blocker, flags);
      }
    }
    const from = t.vh === VAS_PRIMARY ? null : this.state(p).attachments.get(t.vh) ?? null;
    from?.threads.delete(t);
    target?.threads.add(t);
    const old = t.space;
    t.space = space;
    t.vh = vh;
    this.locks.reconcile(t, false, need);
    // pmap_activate: this CPU's bit leaves the old pmap's pm_active and joins the new one's
    // (an atomic each), the new pmap's root is read, then CR3 is loaded ('cr3').
    kh.pmapActivate(cpu, old, space);
    cpu.chargeAt(CYC_PMAP_ACTIVATE, 2 * k.costs.atomicRmw);
    k.enter(t);
    this.stats.switches++;
    return 0;
  }

  /** A segment lock taken or released: its lock word's line and a locked read-modify-write. */
  private lockOp(seg: Segment): void {
    const k = this.kernel;
    k.kernelHalf.lockOp(k.current, seg);
    k.current.chargeAt(CYC_LOCK, k.costs.atomicRmw);
  }

  /** Wake a lock's waiters: each one on another CPU costs this CPU an IPI and a run-queue insert. */
  private wakeLockWaiters(ch: WaitChannel): void {
    const k = this.kernel;
    let remote = 0;
    for (const w of ch.waiters) if (w.cpu !== k.current.id) remote++;
    k.wakeAll(ch);
    if (remote > 0) k.charge('wakeup', remote * k.costs.wakeup);
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
    const v = this.reg.vas(vid);
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
        checkMode(arg);
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
    if (this.reg.vasByName.get(v.name) === v) this.reg.vasByName.delete(v.name);
    if (v.shadows.size > 0) return;
    this.reg.vases.delete(v.vid);
    this.kernel.destroyVmspace(v.space);
    for (const { seg } of v.segments.values()) {
      seg.attachedTo.delete(v);
      this.maybeFreeSegment(seg);
    }
    v.segments.clear();
  }

  // ------------------------------------------------------------------ segments

  segAlloc(t: Thread, name: string, base: number, size: number, mode: number, flags = 0): number {
    checkName(name);
    checkMode(mode);
    if ((flags & ~SEG_2M) !== 0) fail('EINVAL', 'unknown seg_alloc flags');
    if (this.reg.segByName.has(name)) fail('EEXIST', `segment "${name}" exists`);
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
    // Fail fast when the frames cannot exist, rather than allocating page by page first.
    if (len > k.frames.freeBytes()) fail('ENOMEM', `no memory for ${formatSize(len)} segment "${name}"`);
    const obj = new VmObject('wired', len, pageShift, k.current.node, name);
    for (let off = 0; off < len; off += ps) {
      if (allocObjectPage(k, obj, off, true) < 0) {
        releaseObject(k, obj);
        fail('ENOMEM', `no memory for ${formatSize(len)} segment "${name}"`);
      }
      k.charge('seg_alloc', k.costs.pageZero4K * (ps / 4096));
    }
    const cred = t.process.cred;
    const s = new Segment(this.reg.newSid(), name, base, len, mode, cred.uid, cred.gid, obj);
    this.reg.segments.set(s.sid, s);
    this.reg.segByName.set(name, s);
    return s.sid;
  }

  segFind(t: Thread, name: string): number {
    checkName(name);
    const s = this.reg.segByName.get(name);
    if (!s) fail('ENOENT', `no segment named "${name}"`);
    if (!mayAccess(t.process.cred, s, 'r')) fail('EACCES', `segment "${name}" is not readable by uid ${t.process.cred.uid}`);
    return s.sid;
  }

  /**
   * Attach a segment to a named space (and so every shadow of it), a shadow, or the primary. The
   * caller needs the rights it asks for; a shadow's attacher gets his own. Threads running where
   * the segment arrives take its lock first: the call blocks (returns the channel) or, with
   * VAS_NOWAIT, fails with EBUSY, having changed nothing.
   */
  segAttach(t: Thread, targetId: number, sid: number, prot = -1, flags = 0): number | WaitChannel {
    if ((flags & ~VAS_NOWAIT) !== 0) fail('EINVAL', 'unknown seg_attach flags');
    const seg = this.reg.seg(sid);
    const cred = t.process.cred;
    const tg = this.target(t, targetId);
    const p = prot === -1 ? (mayAccess(cred, seg, 'w') ? RW : PROT_READ) : prot;
    if ((p & ~RW) !== 0 || (p & PROT_READ) === 0) fail('EINVAL', `segment protection must be R or RW, got ${protString(p)}`);
    if (!mayAccess(cred, seg, 'r') || ((p & PROT_WRITE) !== 0 && !mayAccess(cred, seg, 'w'))) {
      fail('EACCES', `segment "${seg.name}" (${modeString(seg.mode)}, uid ${seg.uid}) does not allow ${protString(p)} for uid ${cred.uid}`);
    }
    if (tg.kind === 'named') return this.addToNamed(t, tg.vas, seg, p, flags);
    const space = this.spaceOf(tg);
    if (!space.map.isFree(seg.base, seg.end)) {
      fail('EEXIST', `segment "${seg.name}" at ${formatAddr(seg.base)} collides with an existing mapping in ${space.describe()}`);
    }
    const threads = this.threadsIn(space);
    if (seg.lockable && threads.length) {
      const blocker = this.locks.conflict(threads.map((x) => ({ t: x, seg, write: (p & PROT_WRITE) !== 0 })));
      if (blocker) return this.lockWait(blocker, flags);
    }
    mapSegment(space, seg, p);
    if (tg.kind === 'shadow') tg.att.privateSegs.set(sid, { seg, prot: p });
    else this.state(tg.p).primarySegs.set(sid, { seg, prot: p });
    seg.attachedTo.add(tg.kind === 'shadow' ? tg.att : space);
    for (const x of threads) this.locks.reconcile(x);
    return 0;
  }

  /** seg_attach(vid, sid): the named space and every shadow of it, each at its attacher's rights. */
  private addToNamed(t: Thread, v: NamedVas, seg: Segment, prot: number, flags: number): number | WaitChannel {
    const cred = t.process.cred;
    if (!mayAccess(cred, v, 'w')) fail('EACCES', `"${v.name}" is not writable by uid ${cred.uid}`);
    if (v.segments.has(seg.sid)) fail('EEXIST', `segment "${seg.name}" is already in "${v.name}"`);
    if (!v.space.map.isFree(seg.base, seg.end)) fail('EEXIST', `segment "${seg.name}" collides with another segment in "${v.name}"`);
    const rights = new Map<Attachment, number | null>();
    const reqs: LockRequest[] = [];
    for (const a of v.shadows) {
      const r = rightsFor(a.process.cred, a.writable, seg, prot);
      rights.set(a, r);
      if (r === null || !seg.lockable) continue;
      for (const x of a.threads) reqs.push({ t: x, seg, write: (r & PROT_WRITE) !== 0 });
    }
    const blocker = reqs.length ? this.locks.conflict(reqs) : null;
    if (blocker) return this.lockWait(blocker, flags);
    mapSegment(v.space, seg, prot);
    v.segments.set(seg.sid, { seg, prot });
    seg.attachedTo.add(v);
    for (const a of v.shadows) {
      this.evictLocal(a, seg.base, seg.end);
      const r = rights.get(a)!;
      if (r === null) {
        // Not readable by this attacher: no mapping, and no linked table that would grant one.
        convertToCopy(a, (s) => this.kernel.flushPmap(s.pmap));
      } else {
        this.addNamedSegment(a, seg, r);
      }
      for (const x of a.threads) this.locks.reconcile(x);
      this.stats.shadowUpdates++;
    }
    return 0;
  }

  /** The named space's segment takes [start, end) in the shadow: the attacher's own mappings there go. */
  private evictLocal(a: Attachment, start: number, end: number): void {
    if (a.space.map.isFree(start, end)) return;
    for (const { seg } of [...a.privateSegs.values()]) {
      if (seg.base < end && seg.end > start) this.detachLocal({ kind: 'shadow', att: a }, seg);
    }
    a.space.unmapRange(start, end);
  }

  segDetach(t: Thread, targetId: number, sid: number): number {
    const seg = this.reg.segments.get(sid);
    if (!seg) fail('EINVAL', `no segment with id ${sid}`);
    const tg = this.target(t, targetId);
    if (tg.kind === 'named') {
      const v = tg.vas;
      if (!mayAccess(t.process.cred, v, 'w')) fail('EACCES', `"${v.name}" is not writable`);
      if (!v.segments.has(sid)) fail('EINVAL', `segment "${seg.name}" is not in "${v.name}"`);
      // The named space's tables first (shared-policy shadows see it at once, and its shootdown
      // reaches them), then every shadow's own entries.
      v.space.unmapRange(seg.base, seg.end);
      v.segments.delete(sid);
      seg.attachedTo.delete(v);
      for (const a of v.shadows) {
        if (a.named.delete(sid)) a.space.unmapRange(seg.base, seg.end);
        seg.attachedTo.delete(a);
        for (const x of a.threads) this.locks.reconcile(x);
        this.stats.shadowUpdates++;
      }
      this.maybeFreeSegment(seg);
      return 0;
    }
    const local = tg.kind === 'shadow' ? tg.att.privateSegs : this.state(tg.p).primarySegs;
    if (!local.has(sid)) {
      if (tg.kind === 'shadow' && tg.att.named.has(sid)) fail('EINVAL', `segment "${seg.name}" comes from "${tg.att.vas.name}": detach it there`);
      fail('EINVAL', `segment "${seg.name}" is not attached to ${this.spaceOf(tg).describe()}`);
    }
    this.detachLocal(tg, seg);
    return 0;
  }

  /** Take a segment attached to one space (a shadow's own, or the primary's) out of it. */
  private detachLocal(tg: Target, seg: Segment): void {
    const space = this.spaceOf(tg);
    space.unmapRange(seg.base, seg.end);
    if (tg.kind === 'shadow') tg.att.privateSegs.delete(seg.sid);
    else if (tg.kind === 'primary') this.state(tg.p).primarySegs.delete(seg.sid);
    seg.attachedTo.delete(tg.kind === 'shadow' ? tg.att : space);
    for (const x of this.threadsIn(space)) this.locks.reconcile(x);
    this.maybeFreeSegment(seg);
  }

  /** A new segment with a copy of the contents, owned by the caller. */
  segClone(t: Thread, sid: number): number {
    const s = this.reg.seg(sid);
    if (!mayAccess(t.process.cred, s, 'r')) fail('EACCES', `segment "${s.name}" is not readable`);
    const k = this.kernel;
    const name = this.reg.cloneName(s.name, (n) => this.reg.segByName.has(n));
    const nsid = this.segAlloc(t, name, s.base, s.size, s.mode, s.object.pageShift === 21 ? SEG_2M : 0);
    const c = this.reg.segments.get(nsid)!;
    for (const [pindex, pa] of s.object.pages) {
      k.copyFrame(c.object.pages.get(pindex)!, pa, s.pageSize);
      k.charge('seg_clone', k.costs.pageCopy4K * (s.pageSize / 4096));
    }
    return nsid;
  }

  segCtl(t: Thread, sid: number, cmd: number, arg = 0): number | Record<string, unknown> {
    const s = this.reg.seg(sid);
    const cred = t.process.cred;
    const owner = cred.uid === 0 || cred.uid === s.uid;
    switch (cmd) {
      case SEG_CTL_INFO:
        if (!mayAccess(cred, s, 'r')) fail('EACCES', `segment "${s.name}" is not readable`);
        return this.segInfo(s);
      case SEG_CTL_DELETE:
        if (!owner) fail('EPERM', `only the owner deletes segment "${s.name}"`);
        s.deleted = true;
        this.reg.segByName.delete(s.name);
        this.maybeFreeSegment(s);
        return 0;
      case SEG_CTL_LOCKABLE:
        if (!owner) fail('EPERM', 'only the owner makes a segment lockable');
        if (arg !== 0 && arg !== 1) fail('EINVAL', 'lockable is 0 or 1');
        this.setLockable(s, arg === 1);
        return 0;
      case SEG_CTL_CHMOD:
        if (!owner) fail('EPERM', 'only the owner changes the mode');
        checkMode(arg);
        s.mode = arg;
        return 0;
      default:
        fail('EINVAL', `unknown seg_ctl command ${cmd}`);
    }
  }

  /**
   * Lockable on: the threads already in spaces mapping it take the lock now (EBUSY when they
   * could not all hold it together: the caller cannot wait for other threads to leave). Off: the
   * holders release it.
   */
  private setLockable(s: Segment, on: boolean): void {
    if (s.lockable === on) return;
    const affected: { t: Thread; write: boolean }[] = [];
    for (const space of this.kernel.spaces) {
      const e = space.map.lookup(s.base);
      if (!e || e.segment !== s.sid) continue;
      for (const t of this.threadsIn(space)) affected.push({ t, write: (e.prot & PROT_WRITE) !== 0 });
    }
    if (on && this.locks.conflict(affected.map((a) => ({ ...a, seg: s })))) {
      fail('EBUSY', `segment "${s.name}" is in use by threads that cannot hold its lock together`);
    }
    s.lockable = on;
    this.locks.lockableChanged();
    for (const a of affected) this.locks.reconcile(a.t);
  }

  private maybeFreeSegment(s: Segment): void {
    if (!s.deleted || s.attachedTo.size > 0 || !this.reg.segments.has(s.sid)) return;
    this.reg.segments.delete(s.sid);
    releaseObject(this.kernel, s.object);
  }

  // ------------------------------------------------------------------ lifecycle

  /** A new thread starts in the primary: it takes the primary's segment locks like a switch in (EBUSY if it cannot). */
  private threadStart(t: Thread): void {
    const need = this.locks.locksFor(t.space);
    if (need.length === 0) return;
    const blocker = this.locks.conflict(need.map((l) => ({ t, seg: l.seg, write: l.write })));
    if (blocker) fail('EBUSY', `a new thread would need segment "${blocker.name}", which is locked (${blocker.lock.describe()})`);
    this.locks.reconcile(t);
  }

  private threadExit(t: Thread): void {
    this.locks.reconcile(t, true);
    if (t.vh !== VAS_PRIMARY) this.state(t.process).attachments.get(t.vh)?.threads.delete(t);
  }

  private processExit(p: Process): void {
    for (const att of [...this.state(p).attachments.values()]) {
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

  // ------------------------------------------------------------------ views and checks

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
    return [...this.reg.segments.values()].map((s) => s.object);
  }

  /** SpaceJMP's own invariants: locks match spaces, shadows share their process's private region. */
  private check(): string[] {
    const threads: Thread[] = [];
    const out: string[] = [];
    for (const p of this.kernel.processes.values()) {
      if (!p.live) continue;
      threads.push(...p.threads);
      for (const a of this.state(p).attachments.values()) {
        if (a.space.privateHome !== p.primary) out.push(`${a.space.describe()} does not share ${p.name}[${p.pid}]'s private region`);
        for (const e of a.space.map.entries) if (!a.space.inSegmentRegion(e.start)) out.push(`${a.space.describe()} has a private entry of its own at ${formatAddr(e.start)}`);
      }
    }
    return out.concat(this.locks.check(threads));
  }
}

registerBootModule((k) => {
  Object.defineProperty(k, 'spacejmp', { value: new SpaceJmp(k), enumerable: true });
});
