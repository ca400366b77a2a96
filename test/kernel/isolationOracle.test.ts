// The isolation oracle: random sequences of fork, exit, threads, mmap/munmap/mprotect, stack
// growth, stores, every SpaceJMP call, chmod, lockable on/off and switches, across three users
// with supplementary groups, both page-table policies, both paging modes and both tag policies.
// After every step, every space of every live process is probed at a fixed set of addresses
// (read, then a write of the value read) and compared with a PLAIN model: maps of numbers that
// say what each space reads there and whether it may write — written from the rules in
// docs/spacejmp.md, sharing nothing with the kernel's code. The kernel invariant checker runs
// after every step too, and at the end, with everything exited and deleted, every frame is free.
//
// ISOLATION_RUNS=N (default 25) and ISOLATION_STEPS=N (default 50) make longer runs.

import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Kernel } from '../../kernel/kernel.js';
import { MachineFault } from '../../mmu/cpu.js';
import type { Process, Thread } from '../../kernel/proc/process.js';
import type { Vmspace } from '../../kernel/vm/vmspace.js';
import { syscall, isWouldBlock } from '../../syscalls/dispatch.js';
import { checkKernelInvariants } from '../../kernel/invariants.js';
import '../../kernel/spacejmp/spacejmp.js';

// ------------------------------------------------------------------ the plain model

const R = 1;
const W = 2;
const X = 4;
const RW = R | W;
const VH = 0x10000;
const NOWAIT = 1;
const PRIMARY = 0;
const CURRENT = -1;

const TEXT = 0x40_0000;
const HEAP = 0x1000_0000;
const STACK_TOP = 2 ** 46 - 2 ** 20;
const STACK_PAGES = [STACK_TOP - 4096, STACK_TOP - 2 ** 20 - 4096, STACK_TOP - 3 * 2 ** 20];
const MMAP_PAGES = [0x20_0000_0000, 0x20_0000_1000, 0x20_0000_2000];
const SEG = 2 ** 46;
/** Segment bases: two in one top-level slot, one in the next (4-level: 2^39 per slot). */
const SEG_BASES = [SEG, SEG + 2 ** 21, SEG + 2 ** 39];
/** Anonymous fixed mappings inside the segment region; the first collides with SEG_BASES[1]. */
const REGION_PAGES = [SEG + 2 ** 21, SEG + 2 ** 22];
const PROBES = [TEXT, HEAP, HEAP + 4096, ...STACK_PAGES, ...MMAP_PAGES, ...SEG_BASES, ...REGION_PAGES];
const MODES = [0o600, 0o640, 0o644, 0o660, 0o666, 0o604];

interface Cred { uid: number; gid: number; groups: number[] }
const USERS: Cred[] = [
  { uid: 1000, gid: 100, groups: [200] },
  { uid: 1001, gid: 200, groups: [] },
  { uid: 1002, gid: 300, groups: [100] },
];

interface Cell { v: number }
/** A page: its contents (a cell, shared with the other process for MAP_SHARED after fork) and rights. */
interface Page { cell: Cell; prot: number; shared?: boolean }
interface MSeg { sid: number; name: string; base: number; mode: number; uid: number; gid: number; cell: Cell; lockable: boolean; deleted: boolean; freed: boolean }
interface MVas { vid: number; name: string; mode: number; uid: number; gid: number; segs: Map<number, number>; deleted: boolean }
interface MAtt { vh: number; vas: MVas; named: Map<number, number>; local: Map<number, number>; anon: Map<number, Page>; writable: boolean }
interface MThread { kt: Thread; att: MAtt | null }
interface MProc {
  kp: Process; cred: Cred; alive: boolean;
  /** The private region: page -> cell and rights, the same in every space of the process. */
  priv: Map<number, Page>;
  primarySegs: Map<number, number>;
  primaryAnon: Map<number, Page>;
  atts: MAtt[];
  nextVh: number;
  threads: MThread[];
}

function mayAccess(c: Cred, o: { uid: number; gid: number; mode: number }, want: 'r' | 'w'): boolean {
  if (c.uid === 0) return true;
  const shift = c.uid === o.uid ? 6 : c.gid === o.gid || c.groups.includes(o.gid) ? 3 : 0;
  return ((o.mode >> shift) & (want === 'r' ? 4 : 2)) !== 0;
}

/** The first NAME.cloneN no live object is called. */
function cloneName(name: string, objs: { name: string; deleted: boolean }[]): string {
  for (let n = 1; ; n++) if (!objs.some((o) => !o.deleted && o.name === `${name}.clone${n}`)) return `${name}.clone${n}`;
}

class Model {
  procs: MProc[] = [];
  segs: MSeg[] = [];
  vases: MVas[] = [];

  live(): MProc[] { return this.procs.filter((p) => p.alive); }

  segsOf(space: { att: MAtt | null; p: MProc }): Map<number, number> {
    if (!space.att) return space.p.primarySegs;
    return new Map([...space.att.named, ...space.att.local]);
  }

  anonOf(space: { att: MAtt | null; p: MProc }): Map<number, Page> {
    return space.att ? space.att.anon : space.p.primaryAnon;
  }

  /** What `va` holds in a space of `p` (att null: the primary), or null when nothing is mapped. */
  lookup(p: MProc, att: MAtt | null, va: number): Page | null {
    if (va >= SEG && va < SEG * 2) {
      for (const [sid, prot] of this.segsOf({ p, att })) {
        const s = this.segs[sid - 1];
        if (s.base === va) return { cell: s.cell, prot };
      }
      return this.anonOf({ p, att }).get(va) ?? null;
    }
    return p.priv.get(va) ?? null;
  }

  /** Threads (of any process) now in a space that maps `seg`, with the rights they have there. */
  holders(seg: MSeg): { t: MThread; w: boolean }[] {
    const out: { t: MThread; w: boolean }[] = [];
    for (const p of this.live()) {
      for (const t of p.threads) {
        const prot = this.segsOf({ p, att: t.att }).get(seg.sid);
        if (prot !== undefined) out.push({ t, w: (prot & W) !== 0 });
      }
    }
    return out;
  }

  /** Whether every request can hold its lock together with the holders of lockable segments now. */
  grantable(reqs: { t: MThread; seg: MSeg; w: boolean }[]): boolean {
    const state = new Map<MSeg, { writer: MThread | null; readers: Set<MThread> }>();
    for (const r of reqs) {
      if (!r.seg.lockable) continue;
      let s = state.get(r.seg);
      if (!s) {
        s = { writer: null, readers: new Set() };
        for (const h of this.holders(r.seg)) {
          if (h.w) s.writer = h.t;
          else s.readers.add(h.t);
        }
        state.set(r.seg, s);
      }
      if (s.writer && s.writer !== r.t) return false;
      if (r.w) {
        for (const x of s.readers) if (x !== r.t) return false;
        s.writer = r.t;
      } else {
        s.readers.add(r.t);
      }
    }
    return true;
  }

  mapped(seg: MSeg): boolean {
    if (this.vases.some((v) => !v.deleted && v.segs.has(seg.sid))) return true;
    for (const p of this.live()) {
      if (p.primarySegs.has(seg.sid)) return true;
      if (p.atts.some((a) => a.named.has(seg.sid) || a.local.has(seg.sid))) return true;
    }
    return false;
  }

  freeSegs(): void {
    for (const s of this.segs) if (s.deleted && !s.freed && !this.mapped(s)) s.freed = true;
  }
}

// ------------------------------------------------------------------ operations

type Op =
  | { k: 'fork'; p: number }
  | { k: 'exit'; p: number }
  | { k: 'thread'; p: number }
  | { k: 'mmap'; p: number; t: number; page: number; prot: number; shared: boolean }
  | { k: 'munmap'; p: number; t: number; page: number }
  | { k: 'mprotect'; p: number; t: number; page: number; prot: number }
  | { k: 'regionMap'; p: number; t: number; page: number }
  | { k: 'regionUnmap'; p: number; t: number; page: number }
  | { k: 'store'; p: number; t: number; addr: number; v: number }
  | { k: 'segAlloc'; p: number; base: number; mode: number }
  | { k: 'vasCreate'; p: number; mode: number }
  | { k: 'attach'; p: number; vas: number }
  | { k: 'detach'; p: number; att: number }
  | { k: 'switch'; p: number; t: number; to: number }
  | { k: 'segAttach'; p: number; t: number; target: number; seg: number; prot: number }
  | { k: 'segDetach'; p: number; t: number; target: number; seg: number }
  | { k: 'lockable'; p: number; seg: number; on: boolean }
  | { k: 'segChmod'; p: number; seg: number; mode: number }
  | { k: 'segDelete'; p: number; seg: number }
  | { k: 'vasChmod'; p: number; vas: number; mode: number }
  | { k: 'vasDelete'; p: number; vas: number }
  | { k: 'ptPolicy'; p: number; vas: number; shared: boolean }
  | { k: 'vasClone'; p: number; vas: number }
  | { k: 'segClone'; p: number; seg: number }
  | { k: 'vasFind'; p: number; vas: number }
  | { k: 'segFind'; p: number; seg: number };

const small = fc.nat(7);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('fork' as const), p: small }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('exit' as const), p: small }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('thread' as const), p: small }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('mmap' as const), p: small, t: small, page: fc.nat(2), prot: fc.constantFrom(0, R, RW), shared: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('munmap' as const), p: small, t: small, page: fc.nat(2) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('mprotect' as const), p: small, t: small, page: fc.nat(4), prot: fc.constantFrom(0, R, RW) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('regionMap' as const), p: small, t: small, page: fc.nat(1) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('regionUnmap' as const), p: small, t: small, page: fc.nat(1) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('store' as const), p: small, t: small, addr: fc.nat(PROBES.length - 1), v: fc.integer({ min: 1, max: 0x7fff_ffff }) }), weight: 6 },
  { arbitrary: fc.record({ k: fc.constant('segAlloc' as const), p: small, base: fc.nat(SEG_BASES.length - 1), mode: fc.nat(MODES.length - 1) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('vasCreate' as const), p: small, mode: fc.nat(MODES.length - 1) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('attach' as const), p: small, vas: small }), weight: 5 },
  { arbitrary: fc.record({ k: fc.constant('detach' as const), p: small, att: small }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('switch' as const), p: small, t: small, to: fc.integer({ min: -1, max: 3 }) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('segAttach' as const), p: small, t: small, target: fc.integer({ min: -2, max: 5 }), seg: small, prot: fc.constantFrom(-1, R, RW) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('segDetach' as const), p: small, t: small, target: fc.integer({ min: -2, max: 5 }), seg: small }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('lockable' as const), p: small, seg: small, on: fc.boolean() }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('segChmod' as const), p: small, seg: small, mode: fc.nat(MODES.length - 1) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('segDelete' as const), p: small, seg: small }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('vasChmod' as const), p: small, vas: small, mode: fc.nat(MODES.length - 1) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('vasDelete' as const), p: small, vas: small }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('ptPolicy' as const), p: small, vas: small, shared: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('vasClone' as const), p: small, vas: small }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('segClone' as const), p: small, seg: small }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('vasFind' as const), p: small, vas: small }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('segFind' as const), p: small, seg: small }), weight: 1 },
);

/** Every run starts with each user owning a segment in a named space of his own (random modes, policies). */
const preludeArb: fc.Arbitrary<Op[]> = fc.tuple(
  fc.array(fc.nat(MODES.length - 1), { minLength: 3, maxLength: 3 }),
  fc.array(fc.nat(MODES.length - 1), { minLength: 3, maxLength: 3 }),
  fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
).map(([segModes, vasModes, shared]) => [0, 1, 2].flatMap((u): Op[] => [
  { k: 'segAlloc', p: u, base: u, mode: segModes[u] },
  { k: 'vasCreate', p: u, mode: vasModes[u] },
  { k: 'ptPolicy', p: u, vas: u, shared: shared[u] },
  { k: 'segAttach', p: u, t: 0, target: u, seg: u, prot: -1 },
]));

const EINVAL = -22;
const EACCES = -13;
const EPERM = -1;
const EBUSY = -16;
const EEXIST = -17;
const ENOMEM = -12;
const ENOENT = -2;

// ------------------------------------------------------------------ the run

const STATS = new Map<string, number>();

class Run {
  readonly k: Kernel;
  readonly m = new Model();
  private nextName = 1;

  constructor(readonly paging: 4 | 5, tags: 'flush' | 'tagged') {
    this.k = new Kernel({ memBytes: 256 * 2 ** 20, cpus: 2, paging, tagPolicy: tags });
  }

  start(): void {
    for (const cred of USERS) {
      const kp = this.k.spawn(`u${cred.uid}`, { ...cred });
      this.m.procs.push(this.newProc(kp, cred, new Map()));
    }
    // Text, heap and the initial stack page exist from the start; stack growth pages are
    // mapped on first touch, which the model does not distinguish from always being there.
  }

  private newProc(kp: Process, cred: Cred, priv: Map<number, Page>): MProc {
    const p: MProc = { kp, cred, alive: true, priv, primarySegs: new Map(), primaryAnon: new Map(), atts: [], nextVh: 1, threads: [{ kt: kp.threads[0], att: null }] };
    if (priv.size === 0) {
      priv.set(TEXT, { cell: { v: 0 }, prot: R | X });
      priv.set(HEAP, { cell: { v: 0 }, prot: RW });
      priv.set(HEAP + 4096, { cell: { v: 0 }, prot: RW });
      for (const s of STACK_PAGES) priv.set(s, { cell: { v: 0 }, prot: RW });
    }
    return p;
  }

  private proc(i: number): MProc | null {
    const live = this.m.live();
    return live.length ? live[i % live.length] : null;
  }

  private thread(p: MProc, i: number): MThread {
    return p.threads[i % p.threads.length];
  }

  private call(t: MThread, name: string, args: (number | string)[]): number {
    const r = syscall(this.k, t.kt, name, args);
    if (isWouldBlock(r)) throw new Error(`${name} blocked although every call here passes VAS_NOWAIT`);
    return Number(r);
  }

  private expectResult(what: string, got: number, want: number | 'ok'): boolean {
    const key = `${what.split('(')[0]} ${got >= 0 ? 'ok' : got}`;
    STATS.set(key, (STATS.get(key) ?? 0) + 1);
    const ok = want === 'ok' ? got >= 0 : got === want;
    if (!ok) throw new Error(`${what}: kernel returned ${got}, the model expects ${want}`);
    return got >= 0;
  }

  /** Index 7 names no segment (an unknown id); the others pick one of those made so far. */
  private seg(i: number): MSeg | null {
    return this.m.segs.length && i !== 7 ? this.m.segs[i % this.m.segs.length] : null;
  }

  private vas(i: number): MVas | null {
    return this.m.vases.length && i !== 7 ? this.m.vases[i % this.m.vases.length] : null;
  }

  step(op: Op): void {
    const p = this.proc(op.p);
    if (!p) return;
    const m = this.m;
    const t0 = p.threads[0];
    switch (op.k) {
      case 'fork': {
        if (m.live().length >= 6) return;
        const pid = this.call(t0, 'fork', []);
        expect(pid).toBeGreaterThan(0);
        const priv = new Map<number, Page>();
        for (const [va, pg] of p.priv) priv.set(va, { cell: pg.shared ? pg.cell : { v: pg.cell.v }, prot: pg.prot, shared: pg.shared });
        const child = this.newProc(this.k.processes.get(pid)!, p.cred, priv);
        // The primary's own mappings in the segment region are part of the primary: copied too.
        for (const [va, pg] of p.primaryAnon) child.primaryAnon.set(va, { cell: { v: pg.cell.v }, prot: pg.prot });
        m.procs.push(child);
        return;
      }
      case 'exit': {
        if (m.live().length <= 1) return;
        this.call(t0, 'exit', [0]);
        p.alive = false;
        m.freeSegs();
        return;
      }
      case 'thread': {
        if (p.threads.length >= 2) return;
        // A new thread starts in the primary and takes its lockable segments' locks, or is refused.
        const nt: MThread = { kt: t0.kt, att: null };
        const reqs = [...m.segsOf({ p, att: null })].map(([sid, prot]) => ({ t: nt, seg: m.segs[sid - 1], w: (prot & W) !== 0 }));
        if (this.expectResult('thread_create', this.call(t0, 'thread_create', ['t2', -1]), m.grantable(reqs) ? 'ok' : EBUSY)) {
          nt.kt = p.kp.threads[p.kp.threads.length - 1];
          p.threads.push(nt);
        }
        return;
      }
      case 'mmap': {
        const t = this.thread(p, op.t);
        const va = MMAP_PAGES[op.page];
        const flags = (op.shared ? 0x1 : 0x2) | 0x1000 | 0x10;
        this.expectResult('mmap', this.call(t, 'mmap', [va, 4096, op.prot, flags, -1, 0]), va);
        p.priv.set(va, { cell: { v: 0 }, prot: op.prot, shared: op.shared });
        return;
      }
      case 'munmap': {
        const va = MMAP_PAGES[op.page];
        this.expectResult('munmap', this.call(this.thread(p, op.t), 'munmap', [va, 4096]), 0);
        p.priv.delete(va);
        return;
      }
      case 'mprotect': {
        const va = [...MMAP_PAGES, HEAP, HEAP + 4096][op.page];
        const pg = p.priv.get(va);
        if (this.expectResult('mprotect', this.call(this.thread(p, op.t), 'mprotect', [va, 4096, op.prot]), pg ? 0 : ENOMEM)) pg!.prot = op.prot;
        return;
      }
      case 'regionMap': {
        const t = this.thread(p, op.t);
        const va = REGION_PAGES[op.page];
        const here = { p, att: t.att };
        const blocked = [...m.segsOf(here).keys()].some((sid) => m.segs[sid - 1].base === va);
        if (this.expectResult('mmap in the segment region', this.call(t, 'mmap', [va, 4096, RW, 0x2 | 0x1000 | 0x10, -1, 0]), blocked ? EINVAL : va)) {
          m.anonOf(here).set(va, { cell: { v: 0 }, prot: RW });
        }
        return;
      }
      case 'regionUnmap': {
        const t = this.thread(p, op.t);
        const va = REGION_PAGES[op.page];
        const here = { p, att: t.att };
        const blocked = [...m.segsOf(here).keys()].some((sid) => m.segs[sid - 1].base === va);
        if (this.expectResult('munmap in the segment region', this.call(t, 'munmap', [va, 4096]), blocked ? EINVAL : 0)) m.anonOf(here).delete(va);
        return;
      }
      case 'store': {
        const t = this.thread(p, op.t);
        const va = PROBES[op.addr];
        const pg = m.lookup(p, t.att, va);
        const may = pg !== null && (pg.prot & W) !== 0;
        const done = this.access(t.kt, va, op.v);
        if (done !== may) throw new Error(`store to 0x${va.toString(16)} by ${t.kt.describe()}: kernel ${done ? 'allowed' : 'faulted'}, the model ${may ? 'allows' : 'forbids'} it`);
        if (may) pg!.cell.v = op.v;
        return;
      }
      case 'segAlloc': {
        const base = SEG_BASES[op.base];
        const mode = MODES[op.mode];
        const name = `s${this.nextName++}`;
        const sid = this.call(t0, 'seg_alloc', [name, base, 4096, mode, 0]);
        expect(sid).toBe(m.segs.length + 1);
        m.segs.push({ sid, name, base, mode, uid: p.cred.uid, gid: p.cred.gid, cell: { v: 0 }, lockable: false, deleted: false, freed: false });
        return;
      }
      case 'vasCreate': {
        const name = `v${this.nextName++}`;
        const vid = this.call(t0, 'vas_create', [name, MODES[op.mode]]);
        expect(vid).toBe(m.vases.length + 1);
        m.vases.push({ vid, name, mode: MODES[op.mode], uid: p.cred.uid, gid: p.cred.gid, segs: new Map(), deleted: false });
        return;
      }
      case 'attach': return this.attach(p, op.vas);
      case 'vasClone': {
        // A new named space owned by the caller, with the same segments (shared, not copied).
        const v = this.vas(op.vas);
        const want = !v || v.deleted ? EINVAL : !mayAccess(p.cred, v, 'r') ? EACCES : m.vases.length + 1;
        if (this.expectResult('vas_clone', this.call(t0, 'vas_clone', [v ? v.vid : 99]), want)) {
          m.vases.push({ vid: want, name: cloneName(v!.name, m.vases), mode: v!.mode, uid: p.cred.uid, gid: p.cred.gid, segs: new Map(v!.segs), deleted: false });
        }
        return;
      }
      case 'segClone': {
        // A new segment owned by the caller, at the same base, with a copy of the contents.
        const sg = this.seg(op.seg);
        const want = !sg || sg.deleted ? EINVAL : !mayAccess(p.cred, sg, 'r') ? EACCES : m.segs.length + 1;
        if (this.expectResult('seg_clone', this.call(t0, 'seg_clone', [sg ? sg.sid : 99]), want)) {
          m.segs.push({ sid: want, name: cloneName(sg!.name, m.segs), base: sg!.base, mode: sg!.mode, uid: p.cred.uid, gid: p.cred.gid, cell: { v: sg!.cell.v }, lockable: false, deleted: false, freed: false });
        }
        return;
      }
      case 'vasFind': {
        const v = this.vas(op.vas);
        const want = !v || v.deleted ? ENOENT : !mayAccess(p.cred, v, 'r') ? EACCES : v.vid;
        this.expectResult('vas_find', this.call(t0, 'vas_find', [v ? v.name : 'nothing']), want);
        return;
      }
      case 'segFind': {
        const sg = this.seg(op.seg);
        const want = !sg || sg.deleted ? ENOENT : !mayAccess(p.cred, sg, 'r') ? EACCES : sg.sid;
        this.expectResult('seg_find', this.call(t0, 'seg_find', [sg ? sg.name : 'nothing']), want);
        return;
      }
      case 'detach': {
        const a = p.atts[op.att % Math.max(1, p.atts.length)];
        const vh = a ? a.vh : VH | 99;
        const busy = a !== undefined && p.threads.some((t) => t.att === a);
        if (this.expectResult('vas_detach', this.call(t0, 'vas_detach', [vh]), !a ? EINVAL : busy ? EBUSY : 0)) {
          p.atts.splice(p.atts.indexOf(a), 1);
          m.freeSegs();
        }
        return;
      }
      case 'switch': {
        const t = this.thread(p, op.t);
        const a = op.to < 0 || p.atts.length === 0 ? null : p.atts[op.to % p.atts.length];
        let want = 0;
        if (a !== t.att) {
          // The thread's own current locks never block it (it leaves them as it switches).
          const reqs = [...m.segsOf({ p, att: a })].map(([sid, prot]) => ({ t, seg: m.segs[sid - 1], w: (prot & W) !== 0 }));
          if (!m.grantable(reqs)) want = EBUSY;
        }
        if (this.expectResult('vas_switch', this.call(t, 'vas_switch', [a ? a.vh : PRIMARY, NOWAIT]), want)) t.att = a;
        return;
      }
      case 'segAttach': return this.segAttach(p, op);
      case 'segDetach': return this.segDetach(p, op);
      case 'lockable': {
        const s = this.seg(op.seg);
        const sid = s ? s.sid : 99;
        let want = 0;
        if (!s || s.deleted) want = EINVAL;
        else if (p.cred.uid !== s.uid) want = EPERM;
        else if (op.on && !s.lockable) {
          const hs = m.holders(s);
          const writers = hs.filter((h) => h.w).map((h) => h.t);
          if (writers.length > 1 || (writers.length === 1 && hs.some((h) => h.t !== writers[0]))) want = EBUSY;
        }
        if (this.expectResult('seg_ctl LOCKABLE', this.call(t0, 'seg_ctl', [sid, 3, op.on ? 1 : 0]), want)) s!.lockable = op.on;
        return;
      }
      case 'segChmod': {
        const s = this.seg(op.seg);
        const want = !s || s.deleted ? EINVAL : p.cred.uid !== s.uid ? EPERM : 0;
        if (this.expectResult('seg_ctl CHMOD', this.call(t0, 'seg_ctl', [s ? s.sid : 99, 4, MODES[op.mode]]), want)) s!.mode = MODES[op.mode];
        return;
      }
      case 'segDelete': {
        const s = this.seg(op.seg);
        const want = !s || s.deleted ? EINVAL : p.cred.uid !== s.uid ? EPERM : 0;
        if (this.expectResult('seg_ctl DELETE', this.call(t0, 'seg_ctl', [s ? s.sid : 99, 2, 0]), want)) {
          s!.deleted = true;
          m.freeSegs();
        }
        return;
      }
      case 'vasChmod': case 'vasDelete': case 'ptPolicy': {
        const v = this.vas(op.vas);
        const shadows = v ? m.live().some((q) => q.atts.some((a) => a.vas === v)) : false;
        let want = !v || v.deleted ? EINVAL : p.cred.uid !== v.uid ? EPERM : 0;
        if (want === 0 && op.k === 'vasDelete' && shadows) want = EBUSY;
        const args = op.k === 'vasChmod' ? [4, v ? v.vid : 99, MODES[op.mode]] : op.k === 'vasDelete' ? [2, v ? v.vid : 99, 0] : [5, v ? v.vid : 99, op.shared ? 1 : 0];
        if (this.expectResult(`vas_ctl ${op.k}`, this.call(t0, 'vas_ctl', args), want)) {
          if (op.k === 'vasChmod') v!.mode = MODES[op.mode];
          if (op.k === 'vasDelete') {
            v!.deleted = true;
            m.freeSegs();
          }
        }
        return;
      }
    }
  }

  private attach(p: MProc, i: number): void {
    const m = this.m;
    const v = this.vas(i);
    const t0 = p.threads[0];
    let want: number | 'ok' = 'ok';
    if (!v || v.deleted) want = EINVAL;
    else if (!mayAccess(p.cred, v, 'r')) want = EACCES;
    else if ([...v.segs.keys()].some((sid) => !mayAccess(p.cred, m.segs[sid - 1], 'r'))) want = EACCES;
    const vh = this.call(t0, 'vas_attach', [v ? v.vid : 99]);
    if (!this.expectResult('vas_attach', vh, want)) return;
    expect(vh).toBe(VH | p.nextVh++);
    const writable = mayAccess(p.cred, v!, 'w');
    const named = new Map<number, number>();
    for (const [sid, prot] of v!.segs) named.set(sid, writable && mayAccess(p.cred, m.segs[sid - 1], 'w') ? prot : prot & ~W);
    p.atts.push({ vh, vas: v!, named, local: new Map(), anon: new Map(), writable });
  }

  /** seg_attach/seg_detach targets: -2 PRIMARY, -1 CURRENT, 0..2 a vid, 3..5 one of the caller's vhs. */
  private target(p: MProc, t: MThread, n: number): { id: number; vas?: MVas | null; att?: MAtt | null; bad: boolean } {
    if (n === -2) return { id: PRIMARY, att: null, bad: false };
    if (n === -1) return { id: CURRENT, att: t.att, bad: false };
    if (n <= 2) {
      const v = this.vas(n);
      return { id: v ? v.vid : 99, vas: v, bad: !v || v.deleted };
    }
    const a = p.atts.length ? p.atts[n % p.atts.length] : null;
    return { id: a ? a.vh : VH | 99, att: a, bad: !a };
  }

  private segAttach(p: MProc, op: Extract<Op, { k: 'segAttach' }>): void {
    const m = this.m;
    const t = this.thread(p, op.t);
    const s = this.seg(op.seg);
    const tg = this.target(p, t, op.target);
    const prot = op.prot === -1 ? (s && mayAccess(p.cred, s, 'w') ? RW : R) : op.prot;
    let want = 0;
    if (!s || s.deleted || tg.bad) want = EINVAL;
    else if (!mayAccess(p.cred, s, 'r') || ((prot & W) !== 0 && !mayAccess(p.cred, s, 'w'))) want = EACCES;
    else if (tg.vas) {
      const v = tg.vas;
      if (!mayAccess(p.cred, v, 'w')) want = EACCES;
      else if (v.segs.has(s.sid) || [...v.segs.keys()].some((sid) => m.segs[sid - 1].base === s.base)) want = EEXIST;
      else {
        const reqs: { t: MThread; seg: MSeg; w: boolean }[] = [];
        for (const q of m.live()) {
          for (const a of q.atts) {
            if (a.vas !== v || !mayAccess(q.cred, s, 'r')) continue;
            const w = a.writable && mayAccess(q.cred, s, 'w') && (prot & W) !== 0;
            for (const x of q.threads) if (x.att === a) reqs.push({ t: x, seg: s, w });
          }
        }
        if (!m.grantable(reqs)) want = EBUSY;
      }
    } else {
      const here = { p, att: tg.att ?? null };
      const taken = [...m.segsOf(here).keys()].some((sid) => m.segs[sid - 1].base === s.base) || m.anonOf(here).has(s.base);
      if (taken) want = EEXIST;
      else if (!m.grantable(p.threads.filter((x) => x.att === here.att).map((x) => ({ t: x, seg: s, w: (prot & W) !== 0 })))) want = EBUSY;
    }
    const got = this.call(t, 'seg_attach', [tg.id, s ? s.sid : 99, op.prot, NOWAIT]);
    if (!this.expectResult(`seg_attach(${tg.id}, ${s?.sid})`, got, want)) return;
    if (tg.vas) {
      tg.vas.segs.set(s!.sid, prot);
      for (const q of m.live()) {
        for (const a of q.atts) {
          if (a.vas !== tg.vas) continue;
          // The named space's segment takes the range: the attacher's own mappings there go.
          for (const sid of [...a.local.keys()]) if (m.segs[sid - 1].base === s!.base) a.local.delete(sid);
          a.anon.delete(s!.base);
          if (mayAccess(q.cred, s!, 'r')) a.named.set(s!.sid, a.writable && mayAccess(q.cred, s!, 'w') ? prot : prot & ~W);
        }
      }
      m.freeSegs();
    } else if (tg.att) {
      tg.att.local.set(s!.sid, prot);
    } else {
      p.primarySegs.set(s!.sid, prot);
    }
  }

  private segDetach(p: MProc, op: Extract<Op, { k: 'segDetach' }>): void {
    const m = this.m;
    const t = this.thread(p, op.t);
    const s = this.seg(op.seg);
    const tg = this.target(p, t, op.target);
    let want = 0;
    if (!s || s.freed || tg.bad) want = EINVAL;
    else if (tg.vas) {
      if (!mayAccess(p.cred, tg.vas, 'w')) want = EACCES;
      else if (!tg.vas.segs.has(s.sid)) want = EINVAL;
    } else {
      const local = tg.att ? tg.att.local : p.primarySegs;
      if (!local.has(s.sid)) want = EINVAL;
    }
    if (!this.expectResult(`seg_detach(${tg.id}, ${s?.sid})`, this.call(t, 'seg_detach', [tg.id, s ? s.sid : 99]), want)) return;
    if (tg.vas) {
      tg.vas.segs.delete(s!.sid);
      for (const q of m.live()) for (const a of q.atts) if (a.vas === tg.vas) a.named.delete(s!.sid);
    } else if (tg.att) {
      tg.att.local.delete(s!.sid);
    } else {
      p.primarySegs.delete(s!.sid);
    }
    m.freeSegs();
  }

  /** A 32-bit access by `t` in its space: a store of `v` (or a load when v is null); false when it faults. */
  private access(t: Thread, va: number, v: number | null): boolean {
    const cpu = this.k.enter(t);
    try {
      this.k.catchingFaults(() => (v === null ? cpu.load32(va) : cpu.store32(va, v)));
      return true;
    } catch (e) {
      if (e instanceof MachineFault) return false;
      throw e;
    }
  }

  private read(t: Thread, va: number): number | null {
    const cpu = this.k.enter(t);
    try {
      return this.k.catchingFaults(() => cpu.load32(va)) >>> 0;
    } catch (e) {
      if (e instanceof MachineFault) return null;
      throw e;
    }
  }

  /** Probe every space of every live process at every probe address, against the model. */
  check(): void {
    const problems = checkKernelInvariants(this.k);
    if (problems.length) throw new Error(`kernel invariants:\n  ${problems.join('\n  ')}`);
    for (const p of this.m.live()) {
      const t = p.threads[0];
      const saved = t.kt.space;
      for (const att of [...p.atts, null]) { // shadows first: their first touch must reach the one private region
        // Which kernel space is the model's attachment (found by its handle; nothing else is read).
        const space: Vmspace = att ? this.k.spacejmp.attachments(p.kp).find((a) => a.vh === att.vh)!.space : p.kp.primary;
        t.kt.space = space;
        try {
          for (const va of PROBES) this.probe(p, att, t.kt, va);
        } finally {
          t.kt.space = saved;
        }
      }
      this.k.enter(t.kt);
    }
  }

  private probe(p: MProc, att: MAtt | null, t: Thread, va: number): void {
    const pg = this.m.lookup(p, att, va);
    const where = `${t.process.name}[${t.process.pid}] in ${att ? `vh 0x${att.vh.toString(16)}` : 'its primary'} at 0x${va.toString(16)}`;
    const got = this.read(t, va);
    const readable = pg !== null && (pg.prot & R) !== 0;
    if (!readable) {
      if (got !== null) throw new Error(`${where}: reads ${got}, the model has ${pg ? 'no read right' : 'nothing mapped'}`);
    } else if (got !== pg.cell.v >>> 0) {
      throw new Error(`${where}: reads ${got}, the model says ${pg.cell.v}`);
    }
    const writable = pg !== null && (pg.prot & W) !== 0;
    const wrote = this.access(t, va, got ?? 0);
    if (wrote !== writable) throw new Error(`${where}: a store ${wrote ? 'succeeds' : 'faults'}, the model ${writable ? 'allows' : 'forbids'} it`);
  }

  /** Everything exits and is deleted: every frame the machine had free at boot is free again. */
  finish(freeAtBoot: number): void {
    const root = this.k.spawn('root', { uid: 0, gid: 0 });
    for (const p of this.m.live()) {
      this.call(p.threads[0], 'exit', [0]);
      p.alive = false;
    }
    const rt = root.threads[0];
    for (const v of this.m.vases) if (!v.deleted) expect(syscall(this.k, rt, 'vas_ctl', [2, v.vid, 0])).toBe(0);
    for (const s of this.m.segs) if (!s.deleted) expect(syscall(this.k, rt, 'seg_ctl', [s.sid, 2, 0])).toBe(0);
    syscall(this.k, rt, 'exit', [0]);
    expect(checkKernelInvariants(this.k)).toEqual([]);
    expect(this.k.frames.freeBytes()).toBe(freeAtBoot);
  }
}

describe('isolation oracle', () => {
  it('every space of every process reads what the plain model says, with its rights, after every step', () => {
    const runs = Number(process.env.ISOLATION_RUNS ?? 25);
    const steps = Number(process.env.ISOLATION_STEPS ?? 50);
    fc.assert(
      fc.property(fc.constantFrom(4 as const, 5 as const), fc.constantFrom('flush' as const, 'tagged' as const), preludeArb, fc.array(opArb, { minLength: 1, maxLength: steps, size: 'max' }), (paging, tags, prelude, rest) => {
        const ops = [...prelude, ...rest];
        const run = new Run(paging, tags);
        const free = run.k.frames.freeBytes();
        run.start();
        run.check();
        for (const op of ops) {
          run.step(op);
          run.check();
        }
        run.finish(free);
      }),
      { numRuns: runs, seed: process.env.ISOLATION_SEED ? Number(process.env.ISOLATION_SEED) : undefined },
    );
    if (process.env.ISOLATION_STATS) console.log([...STATS].sort().map(([k, n]) => `${k}: ${n}`).join('\n'));
  }, 600_000);
});
