// The program generator: syzkaller-style, it picks each next step from the state the program has
// built so far (live processes and threads, descriptors, mappings, segments, named spaces,
// handles), mostly with plausible arguments and, in the hostile phase, with arguments meant to
// break things: 0, unaligned, wrap-around past 2^48/2^57, NaN/Infinity/fractions/negatives,
// huge lengths, other users' ids and dead ids. Deterministic for a seed.

import { HEAP_BASE, HEAP_SIZE, STACK_TOP, STACK_SIZE, TEXT_BASE, RESERVED_START } from '../../kernel/layout.js';
import {
  MAP_ANON, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MAP_EXCL, MAP_POPULATE, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, WNOHANG,
} from '../../syscalls/constants.js';
import {
  VAS_CTL_INFO, VAS_CTL_DELETE, VAS_CTL_TAGS, VAS_CTL_CHMOD, VAS_CTL_PTPOLICY, SEG_CTL_INFO, SEG_CTL_DELETE, SEG_CTL_LOCKABLE, SEG_CTL_CHMOD,
  SEG_2M, VAS_NOWAIT, VH_BIT,
} from '../../kernel/spacejmp/spacejmp.js';
import type { Session } from './session.js';
import type { Arg, Phase, Step, Width } from './program.js';
import { processOf, isRef } from './program.js';

/** A small seeded PRNG of the fuzzer's own (mulberry32), so programs do not depend on the kernel's. */
export class FuzzRng {
  private s: number;
  constructor(seed: number) { this.s = (seed >>> 0) ^ 0x5bd1e995; }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  below(n: number): number { return Math.floor((this.u32() / 4294967296) * n); }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.below(xs.length)]; }
}

const RW = 3;
const MAX_PROCESSES = 6;
const PATHS = ['/a', '/b', '/c', '/d'];
const NAMES = ['s0', 's1', 's2', 's3'];
const MODES = [0o600, 0o640, 0o660, 0o644, 0o666, 0o400, 0o000, 0o606];
/** Root, two users of group 100, one of group 200 who is also in group 100, one alone. */
const USERS: { uid: number; gid: number; groups?: number[] }[] = [
  { uid: 0, gid: 0 }, { uid: 1000, gid: 100 }, { uid: 1001, gid: 100 }, { uid: 1002, gid: 200, groups: [100] }, { uid: 1003, gid: 1003 },
];

interface Mapping { bind: string; len: number; prot: number; proc: string }
interface Seg { bind: string; base: number; size: number }

export class Generator {
  private readonly rng: FuzzRng;
  private nextProc = 0;
  private nextBind = 0;
  private readonly mappings: Mapping[] = [];
  private readonly segs: Seg[] = [];
  private readonly vids: string[] = [];
  private readonly vhs = new Map<string, string[]>();
  private readonly qids: string[] = [];
  private readonly fds: string[] = [];
  private readonly deadPids: string[] = [];

  constructor(seed: number, readonly phases: ReadonlySet<Phase>, readonly session: Session) {
    this.rng = new FuzzRng(seed);
  }

  private has(p: Phase): boolean { return this.phases.has(p); }

  private bind(prefix: string): string { return `${prefix}${this.nextBind++}`; }

  next(): Step {
    const r = this.rng;
    const actors = this.session.liveActors();
    if (actors.length === 0 || (actors.length < MAX_PROCESSES && r.chance(0.03))) return this.spawn();
    const actor = r.pick(actors);
    const inShadow = this.session.spaceOf(actor) !== 0;
    const privateOk = !inShadow || this.has('shadow-private');
    const kinds: [number, () => Step | null][] = [
      [30, () => this.memory(actor, privateOk)],
      [privateOk ? 10 : 0, () => this.mmap(actor)],
      [privateOk ? 4 : 0, () => this.munmapOrProtect(actor)],
      [8, () => this.files(actor)],
      [4, () => this.ipc(actor)],
      [4, () => this.processCall(actor)],
      [this.has('spacejmp') ? 22 : 0, () => this.spacejmp(actor)],
      [this.has('hostile') ? 8 : 0, () => this.hostile(actor)],
    ];
    const total = kinds.reduce((s, [w]) => s + w, 0);
    for (let tries = 0; tries < 8; tries++) {
      let x = r.below(total);
      for (const [w, f] of kinds) {
        if (x < w) { const s = f(); if (s) return s; break; }
        x -= w;
      }
    }
    return this.call(actor, 'getpid', []);
  }

  private call(actor: string, name: string, args: Arg[], bind?: string, phase: Phase = 'basic'): Step {
    return { kind: 'call', actor, name, args, bind, phase };
  }

  private ref(bind: string, add = 0, fallback = 0): Arg {
    return { ref: bind, add, fallback };
  }

  private spawn(): Step {
    const u = this.rng.pick(USERS);
    return { kind: 'spawn', actor: `p${this.nextProc++}`, uid: u.uid, gid: u.gid, groups: u.groups, phase: 'basic' };
  }

  // ------------------------------------------------------------------ loads and stores

  private address(actor: string, privateOk: boolean): Arg | null {
    const r = this.rng;
    const proc = processOf(actor);
    const options: (() => Arg | null)[] = [];
    if (privateOk) {
      options.push(() => HEAP_BASE + 8 * r.below(HEAP_SIZE / 8 / 64) * (r.chance(0.5) ? 1 : 64));
      options.push(() => STACK_TOP - 8 - 8 * r.below(STACK_SIZE / 8 / 64) * (r.chance(0.5) ? 1 : 64));
      options.push(() => TEXT_BASE + 8 * r.below(512));
      options.push(() => {
        const ms = this.mappings.filter((m) => m.proc === proc || r.chance(0.2));
        if (!ms.length) return null;
        const m = r.pick(ms);
        return this.ref(m.bind, 8 * r.below(Math.max(1, Math.min(m.len, 64 * 4096) / 8)), HEAP_BASE);
      });
      options.push(() => (r.chance(0.5) ? STACK_TOP - STACK_SIZE - 8 - 4096 * r.below(2100) : 0x7000_0000 + 8 * r.below(1024)));
    }
    options.push(() => {
      if (!this.segs.length) return null;
      const s = r.pick(this.segs);
      return s.base + 8 * r.below(Math.min(s.size, 16 * 4096) / 8);
    });
    for (let i = 0; i < 4; i++) {
      const a = r.pick(options)();
      if (a !== null) return a;
    }
    return null;
  }

  private memory(actor: string, privateOk: boolean): Step | null {
    const addr = this.address(actor, privateOk);
    if (addr === null) return null;
    const r = this.rng;
    // Mostly aligned 64-bit accesses; also narrow ones, unaligned ones, and ones that cross into
    // the next page (two accesses on x86: both pages checked before any byte moves).
    const width: Width = r.chance(0.7) ? 8 : r.pick<Width>([1, 2, 4]);
    const roll = r.below(10);
    const at = roll === 0 && width > 1 ? this.moved(addr, (o) => o - (o % 4096) + 4096 - 1 - r.below(width - 1))
      : roll === 1 ? this.moved(addr, (o) => o + 1 + r.below(7)) : addr;
    const phase = privateOk && this.session.spaceOf(actor) !== 0 ? 'shadow-private' : 'basic';
    if (r.chance(0.5)) return { kind: 'load', actor, addr: at, width, phase };
    const value = (BigInt(r.u32()) << 32n) | BigInt(r.u32());
    return { kind: 'store', actor, addr: at, value, width, phase };
  }

  /** An address moved within its page (a literal, or a reference's offset from its page-aligned base). */
  private moved(a: Arg, f: (offset: number) => number): Arg {
    if (isRef(a)) return { ...a, add: f(a.add ?? 0) };
    if (typeof a === 'number') return f(a);
    return a;
  }

  // ------------------------------------------------------------------ memory calls

  private mmap(actor: string): Step | null {
    const r = this.rng;
    const len = r.pick([4096, 8192, 3 * 4096, 16 * 4096, 100, 2 ** 21]);
    const prot = r.pick([RW, RW, 1, 0, 7, 5]);
    const phase: Phase = this.session.spaceOf(actor) !== 0 ? 'shadow-private' : 'basic';
    const bind = this.bind('m');
    const proc = processOf(actor);
    const own = [...this.session.openFds(actor).entries()].filter(([, h]) => !h.pipe).map(([fd]) => fd);
    if (r.chance(0.2) && (own.length || this.fds.length)) {
      const flags = r.pick([MAP_SHARED, MAP_PRIVATE]) | (r.chance(0.2) ? MAP_POPULATE : 0);
      this.mappings.push({ bind, len, prot, proc });
      return this.call(actor, 'mmap', [0, Math.min(len, 4 * 4096), prot, flags, own.length ? r.pick(own) : this.ref(r.pick(this.fds), 0, -1), 0], bind, phase);
    }
    const shared = r.chance(0.25);
    let flags = MAP_ANON | (shared ? MAP_SHARED : MAP_PRIVATE) | (r.chance(0.1) ? MAP_POPULATE : 0);
    let addr: Arg = 0;
    if (r.chance(0.2)) {
      flags |= MAP_FIXED | (r.chance(0.5) ? MAP_EXCL : 0);
      const ms = this.mappings.filter((m) => m.proc === proc);
      addr = ms.length && r.chance(0.6) ? this.ref(r.pick(ms).bind, 4096 * r.below(4), HEAP_BASE) : r.pick([HEAP_BASE, HEAP_BASE + 4096 * r.below(256), 0x7000_0000]);
    }
    this.mappings.push({ bind, len, prot, proc });
    return this.call(actor, 'mmap', [addr, len, prot, flags], bind, phase);
  }

  private munmapOrProtect(actor: string): Step | null {
    const r = this.rng;
    const proc = processOf(actor);
    const ms = this.mappings.filter((m) => m.proc === proc);
    const phase: Phase = this.session.spaceOf(actor) !== 0 ? 'shadow-private' : 'basic';
    const at: Arg = ms.length && r.chance(0.8) ? this.ref(r.pick(ms).bind, 4096 * r.below(3), HEAP_BASE) : r.pick([HEAP_BASE, STACK_TOP - STACK_SIZE, HEAP_BASE + 4096 * r.below(200)]);
    const len = 4096 * (1 + r.below(4));
    if (r.chance(0.4)) return this.call(actor, 'munmap', [at, len], undefined, phase);
    return this.call(actor, 'mprotect', [at, len, r.pick([0, 1, RW, 5, 7])], undefined, phase);
  }

  // ------------------------------------------------------------------ files and IPC

  private buffer(actor: string): Arg {
    const r = this.rng;
    const proc = processOf(actor);
    const ms = this.mappings.filter((m) => m.proc === proc);
    if (this.session.spaceOf(actor) !== 0 && !this.has('shadow-private')) {
      // In a shadow, only segment-region buffers (mapped or not) unless private changes are allowed.
      return this.segs.length ? r.pick(this.segs).base + 8 * r.below(64) : RESERVED_START + 8 * r.below(512);
    }
    if (ms.length && r.chance(0.5)) return this.ref(r.pick(ms).bind, 8 * r.below(512), HEAP_BASE);
    return HEAP_BASE + 8 * r.below(4096);
  }

  private files(actor: string): Step | null {
    const r = this.rng;
    const own = [...this.session.openFds(actor).keys()];
    const fd = (): Arg => (own.length && r.chance(0.8) ? r.pick(own) : this.fds.length && r.chance(0.7) ? this.ref(r.pick(this.fds), 0, 99) : r.below(6));
    switch (r.below(9)) {
      case 0: case 1: {
        const bind = this.bind('f');
        this.fds.push(bind);
        const flags = r.pick([O_RDWR | O_CREAT, O_RDONLY, O_WRONLY | O_CREAT | O_TRUNC, O_RDWR | O_CREAT | O_EXCL, O_RDWR]);
        return this.call(actor, 'open', [r.pick(PATHS), flags, r.pick(MODES)], bind);
      }
      case 2: return this.call(actor, 'write', [fd(), this.buffer(actor), r.pick([8, 64, 4096, 5000, 3])]);
      case 3: return this.call(actor, 'read', [fd(), this.buffer(actor), r.pick([8, 64, 4096, 5000])]);
      case 4: return this.call(actor, 'lseek', [fd(), r.pick([0, 8, 4096, 100]), r.below(3)]);
      case 5: return this.call(actor, 'ftruncate', [fd(), r.pick([0, 100, 4096, 3 * 4096, 50000])]);
      case 6: return this.call(actor, 'close', [fd()]);
      case 7: return this.call(actor, 'unlink', [r.pick(PATHS)]);
      default: return this.call(actor, 'pipe', [this.buffer(actor)]);
    }
  }

  private ipc(actor: string): Step | null {
    const r = this.rng;
    const q = (): Arg => (this.qids.length ? this.ref(r.pick(this.qids), 0, 99) : r.below(3));
    switch (r.below(5)) {
      case 0: {
        const bind = this.bind('q');
        this.qids.push(bind);
        return this.call(actor, 'msgq_create', [r.chance(0.5) ? '' : r.pick(NAMES), r.pick(MODES), 1 + r.below(4), r.pick([64, 4096])], bind);
      }
      case 1: return this.call(actor, 'msgq_send', [q(), this.buffer(actor), r.pick([8, 64, 100])]);
      case 2: return this.call(actor, 'msgq_recv', [q(), this.buffer(actor), r.pick([8, 64, 4096])]);
      case 3: return this.call(actor, 'msgq_open', [r.pick(NAMES)]);
      default: return this.call(actor, 'msgq_destroy', [q()]);
    }
  }

  private processCall(actor: string): Step | null {
    const r = this.rng;
    const proc = processOf(actor);
    const attached = (this.session.processModel(actor)?.attachments.size ?? 0) > 0;
    switch (r.below(8)) {
      case 0: case 1: {
        if (attached && !this.has('fork-attached')) return null;
        if (this.session.liveActors().length >= MAX_PROCESSES * 2) return null;
        const name = `p${this.nextProc++}`;
        return this.call(actor, 'fork', [], name, attached ? 'fork-attached' : 'basic');
      }
      case 2: {
        if (!r.chance(0.3)) return null;
        this.deadPids.push(proc);
        return this.call(actor, 'exit', [r.below(256)]);
      }
      case 3: return this.call(actor, 'waitpid', [-1, r.chance(0.5) ? this.buffer(actor) : 0, WNOHANG]);
      case 4: {
        // A driven thread ends itself now and then; the main thread rarely (the process goes on
        // while another thread lives, and ends with the last).
        if (r.chance(actor.includes('.') ? 0.6 : 0.03)) return this.call(actor, 'thread_exit', [r.below(256)]);
        const n = this.session.threadNames(proc).length;
        if (n >= 3) return this.call(actor, 'sched_yield', []);
        return { kind: 'thread', actor: `${proc}.t${n}`, phase: 'basic' };
      }
      case 5: return this.call(actor, 'set_affinity', [r.below(2) - 1, 0]);
      case 6: return this.call(actor, 'thread_create', ['', -1]);
      default: return this.call(actor, r.pick(['getpid', 'getppid', 'gettid', 'getuid', 'getgid', 'vas_current']), []);
    }
  }

  // ------------------------------------------------------------------ SpaceJMP

  private vh(actor: string): Arg {
    const live = [...(this.session.processModel(actor)?.attachments.keys() ?? [])];
    if (live.length && this.rng.chance(0.7)) return this.rng.pick(live);
    const list = this.vhs.get(processOf(actor)) ?? [];
    return list.length && this.rng.chance(0.9) ? this.ref(this.rng.pick(list), 0, VH_BIT | 1) : VH_BIT | (1 + this.rng.below(3));
  }

  private vid(): Arg {
    const live = [...this.session.model.vases.keys()];
    if (live.length && this.rng.chance(0.6)) return this.rng.pick(live);
    return this.vids.length && this.rng.chance(0.9) ? this.ref(this.rng.pick(this.vids), 0, 1) : 1 + this.rng.below(4);
  }

  private sid(): Arg {
    const live = [...this.session.model.segments.keys()];
    if (live.length && this.rng.chance(0.6)) return this.rng.pick(live);
    return this.segs.length && this.rng.chance(0.9) ? this.ref(this.rng.pick(this.segs).bind, 0, 1) : 1 + this.rng.below(4);
  }

  private spacejmp(actor: string): Step | null {
    const r = this.rng;
    const proc = processOf(actor);
    const sj = 'spacejmp' as Phase;
    switch (r.below(14)) {
      case 0: {
        const bind = this.bind('s');
        const big = r.chance(0.15);
        const base = RESERVED_START + (big ? 2 ** 21 : 4096) * r.below(64) + 2 ** 30 * r.below(4);
        const size = big ? 2 ** 21 : 4096 * (1 + r.below(4));
        this.segs.push({ bind, base, size });
        return this.call(actor, 'seg_alloc', [r.pick(NAMES) + (r.chance(0.5) ? '' : String(r.below(9))), base, size, r.pick(MODES), big ? SEG_2M : 0], bind, sj);
      }
      case 1: {
        const bind = this.bind('v');
        this.vids.push(bind);
        return this.call(actor, 'vas_create', [r.pick(NAMES), r.pick(MODES)], bind, sj);
      }
      case 2: case 3: return this.call(actor, 'seg_attach', [r.pick([this.vid(), this.vid(), 0, -1, this.vh(actor)]), this.sid(), r.pick([-1, -1, 1, RW, 7])], undefined, sj);
      case 4: {
        // Mostly a segment that is attached there (from the model), else anything.
        const m = this.session.processModel(actor);
        const pairs: [number, number][] = [];
        for (const v of this.session.model.vases.values()) for (const sid of v.segments.keys()) pairs.push([v.vid, sid]);
        for (const reg of m?.primaryReserved.regions ?? []) if (reg.sid !== undefined) pairs.push([0, reg.sid]);
        for (const [vh, att] of m?.attachments ?? []) for (const reg of att.own.regions) if (reg.sid !== undefined) pairs.push([vh, reg.sid]);
        if (pairs.length && r.chance(0.7)) { const [tg, sid] = r.pick(pairs); return this.call(actor, 'seg_detach', [tg, sid], undefined, sj); }
        return this.call(actor, 'seg_detach', [r.pick([this.vid(), 0, -1, this.vh(actor)]), this.sid()], undefined, sj);
      }
      case 5: case 6: {
        const bind = this.bind('h');
        const list = this.vhs.get(proc) ?? [];
        list.push(bind);
        this.vhs.set(proc, list);
        return this.call(actor, 'vas_attach', [this.vid()], bind, sj);
      }
      case 7: case 8: return this.call(actor, 'vas_switch', [r.chance(0.3) ? 0 : this.vh(actor), r.chance(0.5) ? VAS_NOWAIT : 0], undefined, sj);
      case 9: return this.call(actor, 'vas_detach', [this.vh(actor)], undefined, sj);
      case 10: {
        const cmd = r.pick([VAS_CTL_INFO, VAS_CTL_DELETE, VAS_CTL_TAGS, VAS_CTL_CHMOD, ...(this.has('shared-pt') ? [VAS_CTL_PTPOLICY, VAS_CTL_PTPOLICY] : [])]);
        const arg = cmd === VAS_CTL_CHMOD ? r.pick(MODES) : cmd === VAS_CTL_PTPOLICY ? 1 : r.below(2);
        return this.call(actor, 'vas_ctl', [cmd, this.vid(), arg], undefined, cmd === VAS_CTL_PTPOLICY ? 'shared-pt' : sj);
      }
      case 11: {
        const cmd = r.pick([SEG_CTL_INFO, SEG_CTL_DELETE, SEG_CTL_LOCKABLE, SEG_CTL_CHMOD]);
        return this.call(actor, 'seg_ctl', [this.sid(), cmd, cmd === SEG_CTL_CHMOD ? r.pick(MODES) : r.below(2)], undefined, sj);
      }
      case 12: {
        if (r.chance(0.5)) return this.call(actor, 'vas_find', [r.pick(NAMES)], undefined, sj);
        return this.call(actor, 'seg_find', [r.pick(NAMES)], undefined, sj);
      }
      default: {
        if (r.chance(0.5)) {
          const bind = this.bind('v');
          this.vids.push(bind);
          return this.call(actor, 'vas_clone', [this.vid()], bind, sj);
        }
        const bind = this.bind('s');
        const src = this.segs.length ? r.pick(this.segs) : null;
        if (src) this.segs.push({ ...src, bind });
        return this.call(actor, 'seg_clone', [this.sid()], bind, sj);
      }
    }
  }

  // ------------------------------------------------------------------ hostile arguments

  private hostileNumber(): Arg {
    const r = this.rng;
    return r.pick<Arg>([
      0, -1, -4096, 1, 4095, 4097, 0.5, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER,
      2 ** 31, 2 ** 32, 2 ** 33, 2 ** 40, 2 ** 47, 2 ** 48 - 4096, 2 ** 48, 2 ** 50, 2 ** 53, 2 ** 56, 2 ** 57 - 4096,
      2n ** 57n, 2n ** 63n, 2n ** 64n - 4096n, -(2n ** 63n), 0xffff_8000_0000_0000n, 0xff00_0000_0000_0000n,
      RESERVED_START, RESERVED_START - 4096, STACK_TOP, HEAP_BASE + 1, HEAP_BASE + 4093,
    ]);
  }

  private hostileId(): Arg {
    const r = this.rng;
    if (this.deadPids.length && r.chance(0.3)) return { ref: r.pick(this.deadPids), fallback: 999 };
    return r.pick<Arg>([0, 1, -1, 2, 3, 7, 99, 4096, VH_BIT, VH_BIT | 1, VH_BIT | 99, 2 ** 31 - 1, NaN, 0.5, -2]);
  }

  private hostile(actor: string): Step | null {
    const r = this.rng;
    const h = 'hostile' as Phase;
    const n = (): Arg => this.hostileNumber();
    const id = (): Arg => this.hostileId();
    const inShadow = this.session.spaceOf(actor) !== 0;
    const privOk = !inShadow || this.has('shadow-private');
    switch (r.below(16)) {
      case 0: return privOk ? this.call(actor, 'mmap', [n(), n(), r.pick([RW, 0, 7, n()]), r.pick([MAP_ANON | MAP_PRIVATE, MAP_ANON | MAP_SHARED | MAP_POPULATE, MAP_ANON | MAP_PRIVATE | MAP_FIXED, MAP_ANON | MAP_PRIVATE | MAP_POPULATE, n()])], undefined, h) : null;
      case 1: return privOk ? this.call(actor, 'munmap', [n(), n()], undefined, h) : null;
      case 2: return privOk ? this.call(actor, 'mprotect', [n(), n(), r.pick([0, 1, RW, n()])], undefined, h) : null;
      case 3: return this.call(actor, 'write', [this.fds.length ? this.ref(r.pick(this.fds), 0, 3) : id(), privOk ? r.pick([n(), this.buffer(actor)]) : this.buffer(actor), r.pick([n(), 2 ** 33])], undefined, h);
      case 4: return this.call(actor, 'read', [this.fds.length ? this.ref(r.pick(this.fds), 0, 3) : id(), privOk ? r.pick([n(), this.buffer(actor)]) : this.buffer(actor), r.pick([n(), 2 ** 33])], undefined, h);
      case 5: return this.call(actor, 'ftruncate', [this.fds.length ? this.ref(r.pick(this.fds), 0, 3) : id(), r.pick([n(), 2 ** 50, 2 ** 40])], undefined, h);
      case 6: return this.call(actor, 'lseek', [this.fds.length ? this.ref(r.pick(this.fds), 0, 3) : id(), n(), r.pick([0, 1, 2, 3, n()])], undefined, h);
      case 7: return this.call(actor, 'seg_alloc', [r.pick(NAMES), n(), n(), r.pick([0o600, n()]), r.pick([0, SEG_2M, n()])], undefined, h);
      case 8: return this.call(actor, r.pick(['seg_attach', 'seg_detach']), [id(), id(), n()].slice(0, 3), undefined, h);
      case 9: return this.call(actor, r.pick(['vas_attach', 'vas_detach', 'vas_clone']), [id()], undefined, h);
      case 10: return this.call(actor, 'vas_switch', [id(), r.pick([0, 1, n()])], undefined, h);
      case 11: return this.call(actor, r.pick(['vas_ctl', 'seg_ctl']), [id(), id(), n()], undefined, h);
      case 12: return this.call(actor, r.pick(['waitpid', 'trace']), [id(), privOk ? r.pick([0, n()]) : 0], undefined, h);
      case 13: return this.call(actor, r.pick(['msgq_send', 'msgq_recv']), [id(), privOk ? r.pick([n(), this.buffer(actor)]) : this.buffer(actor), n()], undefined, h);
      case 14: return this.call(actor, r.pick(['set_affinity', 'thread_create']), r.chance(0.5) ? [n(), id()] : ['x', n()], undefined, h);
      default: {
        const name = r.pick(['open', 'msgq_create', 'pipe', 'close', 'vas_create']);
        if (name === 'pipe' && !privOk) return null;
        return this.call(actor, name, [r.pick(['', '/x', 'x'.repeat(300), n()]), n()].slice(0, r.below(3)), undefined, h);
      }
    }
  }
}
