// vas_switch benchmark (issue 4, Benchmarks (1) and (3)); prints one JSON document on stdout,
// progress on stderr; never pass/fail.
//
//  (1) Table 6 of the reference: the modelled cycles of one vas_switch by component, every one an
//      event (syscall entry and exit, the VAS lock, pm_active atomics, the CR3 load, the kernel's own
//      references through the TLB: after an untagged flush, its refills), with TLB tags and without,
//      caches off and on, for the m2 (DragonFly BSD) and m2-barrelfish profiles, next to the
//      reference's figures and with the difference explained (docs/cost-model.md).
//  (3) Emulator wall-clock: vas_switch calls per second (back and forth between two attached
//      spaces, through the real syscall path) against mmap+munmap of a window of N pages of a
//      preloaded tmpfs file (MAP_FIXED|MAP_SHARED|MAP_POPULATE, then munmap; syscall path) as N
//      grows, each also with its modelled cycles per operation. A raw JS call loop gives the
//      host's scale.
//
// Two clocks, never mixed: `modelled cycles, profile P` are cycles of the emulated machine;
// `emulator wall-clock` is host time taken by the emulator itself.

import { Kernel } from '../kernel/kernel.js';
import type { Thread } from '../kernel/proc/process.js';
import { syscall } from '../syscalls/dispatch.js';
import type { RawArg } from '../syscalls/table.js';
import { TRACE_CONSTANTS } from '../syscalls/trace/runner.js';
import { RESERVED_START } from '../kernel/layout.js';
import { resolveProfile, type CostProfile } from '../mmu/costModel.js';
import { GiB } from '../mmu/units.js';
import { hostJson, loadAverage, measureRate, type Rate } from './timing.js';

const C = TRACE_CONSTANTS;

/** The reference's Table 6 (machine M2, cycles). `rest` = vas_switch - system call - CR3 load. */
export const TABLE6 = {
  m2: {
    os: 'DragonFly BSD',
    untagged: { cr3: 130, syscall: 357, vasSwitch: 1127, rest: 1127 - 357 - 130 },
    tagged: { cr3: 224, syscall: 357, vasSwitch: 807, rest: 807 - 357 - 224 },
  },
  'm2-barrelfish': {
    os: 'Barrelfish',
    untagged: { cr3: 130, syscall: 130, vasSwitch: 664, rest: 664 - 130 - 130 },
    tagged: { cr3: 224, syscall: 130, vasSwitch: 462, rest: 462 - 130 - 224 },
  },
} as const;

export type Table6Profile = keyof typeof TABLE6;

/** Make a call that must succeed; its value as a number. */
export function call(k: Kernel, t: Thread, name: string, ...args: RawArg[]): number {
  const r = syscall(k, t, name, args);
  if (typeof r !== 'number' && typeof r !== 'bigint') throw new Error(`bench: ${name} blocked`);
  if (r < 0) throw new Error(`bench: ${name}(${args.map(String).join(', ')}) failed: ${r}`);
  return Number(r);
}

export interface SwitchRig {
  k: Kernel;
  t: Thread;
  /** Handles of two attached spaces (shadows of two named spaces holding one segment). */
  vhA: number;
  vhB: number;
  vidA: number;
  vidB: number;
  segBase: number;
  segBytes: number;
}

/**
 * One process with two attached spaces: a segment of `segPages` 4 KiB pages in the segment region,
 * attached to two named spaces, each attached by the process. Both shadows map the same frames at
 * the same addresses; their tag policy is `tagged` (one PCID each, and the primary's) or flush.
 */
export function switchRig(opts: { profile?: CostProfile; segPages?: number; tagged?: boolean; cpus?: number; memBytes?: number; caches?: boolean } = {}): SwitchRig {
  const k = new Kernel({ profile: opts.profile ?? resolveProfile('m2'), cpus: opts.cpus ?? 1, memBytes: opts.memBytes ?? 1 * GiB, caches: opts.caches ?? false });
  const p = k.spawn('bench', { uid: 1000, gid: 1000 });
  const t = p.threads[0];
  const segPages = opts.segPages ?? 16;
  const segBase = RESERVED_START + 1 * GiB;
  const segBytes = segPages * 4096;
  const sid = call(k, t, 'seg_alloc', 'bench-seg', BigInt(segBase), segBytes, 0o600);
  const vidA = call(k, t, 'vas_create', 'bench-a', 0o600);
  const vidB = call(k, t, 'vas_create', 'bench-b', 0o600);
  call(k, t, 'seg_attach', vidA, sid);
  call(k, t, 'seg_attach', vidB, sid);
  const vhA = call(k, t, 'vas_attach', vidA);
  const vhB = call(k, t, 'vas_attach', vidB);
  const rig = { k, t, vhA, vhB, vidA, vidB, segBase, segBytes };
  setTags(rig, opts.tagged ?? false);
  return rig;
}

/** TLB tag policy of both named spaces (and so their shadows) and of the primary: PCIDs or tag 0. */
export function setTags(r: SwitchRig, tagged: boolean): void {
  const v = tagged ? 1 : 0;
  call(r.k, r.t, 'vas_ctl', C.VAS_CTL_TAGS, r.vidA, v);
  call(r.k, r.t, 'vas_ctl', C.VAS_CTL_TAGS, r.vidB, v);
  call(r.k, r.t, 'vas_ctl', C.VAS_CTL_TAGS, C.PRIMARY, v);
}

export interface SwitchBreakdown {
  profile: string;
  tagged: boolean;
  caches: boolean;
  /** Modelled cycles of one vas_switch (A -> B), syscall entry/exit included. */
  total: number;
  /** System-call entry and exit as measured (the profile's `syscall`). */
  syscall: number;
  /** The MOV to CR3 (tagged or untagged). */
  cr3: number;
  /** Locks taken: the process's VAS lock, segment locks (an atomic each). */
  lock: number;
  /** pmap_activate: this CPU's bit out of the old pmap's pm_active and into the new one's (two atomics). */
  pmapActivate: number;
  /** The kernel's own references beyond a warm hit: STLB hits and page walks (refills). */
  kernelTlb: number;
  /** The kernel's own data references beyond an L1D hit (caches on). */
  kernelCache: number;
  /** Wake-ups of lock waiters on other CPUs. */
  wakeup: number;
  /** Anything else charged during the call (expected 0). */
  other: number;
  cr3Writes: number;
  tlbFlushes: number;
  /** Per switch: the kernel's own references, and the L1 misses, STLB hits, walks and walk references they made. */
  kernelRefs: number;
  kernelL1Misses: number;
  kernelStlbHits: number;
  kernelWalks: number;
  kernelWalkRefs: number;
  /** The same figure for every one of the measured switches (the model is deterministic). */
  stable: boolean;
}

/** Table 6 in the model: one vas_switch between two attached spaces, by component. */
export function measureSwitchBreakdown(profileName: Table6Profile | string, tagged: boolean, switches = 8, opts: { caches?: boolean; costs?: string } = {}): SwitchBreakdown {
  const profile = resolveProfile(profileName, opts.costs ?? '');
  const r = switchRig({ profile, tagged, caches: opts.caches });
  const { k, t } = r;
  const cpu = k.enter(t);
  call(k, t, 'vas_switch', r.vhA);
  call(k, t, 'vas_switch', r.vhB);
  call(k, t, 'vas_switch', r.vhA);
  const totals: number[] = [];
  const by0 = { ...cpu.cyclesBy };
  const w0 = cpu.cr3Writes;
  const f0 = cpu.tlbFlushes;
  const k0 = cpu.kernelCounters();
  for (let i = 0; i < switches; i++) {
    const c0 = cpu.clock;
    call(k, t, 'vas_switch', i % 2 === 0 ? r.vhB : r.vhA);
    totals.push(cpu.clock - c0);
  }
  const by1 = cpu.cyclesBy;
  const k1 = cpu.kernelCounters();
  const d = (key: string): number => ((by1[key] ?? 0) - (by0[key] ?? 0)) / switches;
  const dk = (key: 'accesses' | 'l1Misses' | 'stlbHits' | 'walks' | 'walkRefs'): number => (k1[key] - k0[key]) / switches;
  const total = totals.reduce((s, x) => s + x, 0) / switches;
  const parts = {
    syscall: d('syscall'), cr3: d('cr3'), lock: d('lock'), pmapActivate: d('pmap-activate'),
    kernelTlb: d('kernel-tlb'), kernelCache: d('kernel-cache'), wakeup: d('wakeup'),
  };
  const sum = Object.values(parts).reduce((a, b) => a + b, 0);
  return {
    profile: profile.name,
    tagged,
    caches: k.config.caches,
    total,
    ...parts,
    other: total - sum,
    cr3Writes: (cpu.cr3Writes - w0) / switches,
    tlbFlushes: (cpu.tlbFlushes - f0) / switches,
    kernelRefs: dk('accesses'),
    kernelL1Misses: dk('l1Misses'),
    kernelStlbHits: dk('stlbHits'),
    kernelWalks: dk('walks'),
    kernelWalkRefs: dk('walkRefs'),
    stable: totals.every((x) => x === totals[0]),
  };
}

/** One column of Table 6 (a profile), both tag policies, modelled by component next to the reference. */
export function table6Column(name: Table6Profile, caches: boolean) {
  const ref = TABLE6[name];
  const clockGHz = resolveProfile(name).params.clockGHz;
  const [u, tg] = ([false, true] as const).map((tagged) => {
    const b = measureSwitchBreakdown(name, tagged, 8, { caches });
    const rf = tagged ? ref.tagged : ref.untagged;
    const rest = b.total - b.syscall - b.cr3;
    return {
      b,
      tags: tagged ? 'tagged (per-space PCID, CR3 no-flush)' : 'untagged (tag 0: the CR3 load flushes)',
      modelled: {
        syscall: b.syscall, cr3Load: b.cr3,
        restOfSwitch: rest,
        rest: { lock: b.lock, pmapActivate: b.pmapActivate, kernelTlbRefill: b.kernelTlb, kernelCache: b.kernelCache, wakeup: b.wakeup, other: b.other },
        vasSwitchTotal: b.total, nanoseconds: round(b.total / clockGHz, 1),
        kernelReferencesPerSwitch: { refs: b.kernelRefs, l1Misses: b.kernelL1Misses, stlbHits: b.kernelStlbHits, walks: b.kernelWalks, walkRefs: b.kernelWalkRefs, counters: 'kernel-mode (Cpu.kernelCounters), not in the user counters' },
        cr3WritesPerSwitch: b.cr3Writes, tlbFlushesPerSwitch: b.tlbFlushes, sameEverySwitch: b.stable,
      },
      reference: { syscall: rf.syscall, cr3Load: rf.cr3, restOfSwitch: rf.rest, vasSwitchTotal: rf.vasSwitch },
      modelledMinusReference: { syscall: b.syscall - rf.syscall, cr3Load: b.cr3 - rf.cr3, restOfSwitch: round(rest - rf.rest, 1), vasSwitchTotal: round(b.total - rf.vasSwitch, 1) },
      modelledOverReference: round(b.total / rf.vasSwitch, 4),
    };
  });
  const extra = u.b.total - tg.b.total;
  const refills = u.b.kernelTlb + u.b.kernelCache - tg.b.kernelTlb - tg.b.kernelCache;
  const refExtra = ref.untagged.vasSwitch - ref.tagged.vasSwitch;
  const strip = ({ b: _b, ...row }: typeof u) => row;
  return {
    profile: name,
    caches,
    clock: `modelled cycles, profile ${name}, caches ${caches ? 'on' : 'off'}`,
    referenceColumn: `reference Table 6, ${ref.os} on M2 (Xeon E5-2670v2 @ 2.5 GHz), cycles`,
    untagged: strip(u),
    tagged: strip(tg),
    untaggedOverTagged: { modelled: round(u.b.total / tg.b.total, 4), reference: round(ref.untagged.vasSwitch / ref.tagged.vasSwitch, 4) },
    untaggedExtra: {
      what: 'untagged minus tagged: the CR3 load difference plus the refills the flush caused (the kernel\'s own walks after the flush)',
      modelled: extra, cr3Difference: u.b.cr3 - tg.b.cr3, refills,
      refillWalks: u.b.kernelWalks - tg.b.kernelWalks, refillWalkRefs: u.b.kernelWalkRefs - tg.b.kernelWalkRefs,
      reference: refExtra, referenceRefills: refExtra - (ref.untagged.cr3 - ref.tagged.cr3),
    },
    explained:
      `tagged: ${tg.b.total} modelled vs ${ref.tagged.vasSwitch} (${round(tg.b.total / ref.tagged.vasSwitch, 3)}x); the syscall and CR3 figures are the reference's own measurements, ` +
      `and the rest of the switch is ${round(tg.b.total - tg.b.syscall - tg.b.cr3, 1)} modelled (locks ${tg.b.lock}, pm_active atomics ${tg.b.pmapActivate}, kernel TLB ${tg.b.kernelTlb}, cache ${tg.b.kernelCache}) vs ${ref.tagged.rest}: ` +
      `the model prices events, not instructions, so the warm execution of sys_vas_switch's own code is missing. ` +
      `untagged: ${u.b.total} vs ${ref.untagged.vasSwitch} (${round(u.b.total / ref.untagged.vasSwitch, 3)}x); the extra over tagged is ${extra} modelled (CR3 ${u.b.cr3 - tg.b.cr3}, refills ${refills} from ${u.b.kernelWalks - tg.b.kernelWalks} kernel walks of ${u.b.kernelWalkRefs - tg.b.kernelWalkRefs} references) vs ${refExtra} (refills ${refExtra - (ref.untagged.cr3 - ref.tagged.cr3)}).` +
      (name === 'm2-barrelfish' ? ' The emulated kernel is one kernel: the Barrelfish column differs only in its measured syscall figure, so its refill is DragonFly\'s path, where Barrelfish\'s smaller CPU driver touches fewer pages.' : ''),
  };
}

// ---------------------------------------------------------------- mmap/munmap windows

export interface MmapRig {
  k: Kernel;
  t: Thread;
  fd: number;
  /** Fixed address of the window in the primary space. */
  addr: number;
}

/** Window address: in the ordinary user half, far from text/heap/stack and the mmap base. */
const WINDOW_ADDR = 0x20_0000_0000;

/** A tmpfs file of `filePages` 4 KiB pages, all resident (a warm page cache), open read-write. */
export function mmapRig(opts: { profile?: CostProfile; filePages: number; rig?: { k: Kernel; t: Thread } }): MmapRig {
  let k: Kernel;
  let t: Thread;
  if (opts.rig) ({ k, t } = opts.rig);
  else {
    k = new Kernel({ profile: opts.profile ?? resolveProfile('m2'), cpus: 1, memBytes: 1 * GiB });
    t = k.spawn('bench-mmap', { uid: 1000, gid: 1000 }).threads[0];
  }
  const fd = call(k, t, 'open', '/bench-window', C.O_CREAT | C.O_RDWR, 0o600);
  call(k, t, 'ftruncate', fd, opts.filePages * 4096);
  k.tmpfs.preload(k.tmpfs.lookup('/bench-window'));
  return { k, t, fd, addr: WINDOW_ADDR };
}

const MMAP_FLAGS = C.MAP_FIXED | C.MAP_SHARED | C.MAP_POPULATE;

/** One mmap (populated) of `pages` pages of the file at the window, then munmap; syscall path. */
export function mmapMunmap(m: MmapRig, pages: number): void {
  const len = pages * 4096;
  const r = syscall(m.k, m.t, 'mmap', [m.addr, len, C.RW, MMAP_FLAGS, m.fd, 0]);
  if (r !== m.addr) throw new Error(`bench: mmap of ${pages} pages returned ${String(r)}`);
  const u = syscall(m.k, m.t, 'munmap', [m.addr, len]);
  if (u !== 0) throw new Error(`bench: munmap of ${pages} pages returned ${String(u)}`);
}

export interface MmapCycles {
  pages: number;
  /** Modelled cycles of one mmap + munmap pair. */
  total: number;
  mmap: number;
  munmap: number;
  /** Cycles per component of the pair (syscall, vm, pte, invlpg, ...). */
  byComponent: Record<string, number>;
  stable: boolean;
}

/** Modelled cycles of mmap+munmap of an N-page window (after one warm-up pair builds the page tables). */
export function measureMmapCycles(m: MmapRig, pages: number, reps = 3): MmapCycles {
  const cpu = m.k.enter(m.t);
  mmapMunmap(m, pages); // page-table pages for the window now exist, as in a steady loop
  const len = pages * 4096;
  const by0 = { ...cpu.cyclesBy };
  const totals: number[] = [];
  let mm = 0;
  let mu = 0;
  for (let i = 0; i < reps; i++) {
    const c0 = cpu.clock;
    syscall(m.k, m.t, 'mmap', [m.addr, len, C.RW, MMAP_FLAGS, m.fd, 0]);
    const c1 = cpu.clock;
    syscall(m.k, m.t, 'munmap', [m.addr, len]);
    const c2 = cpu.clock;
    mm += c1 - c0;
    mu += c2 - c1;
    totals.push(c2 - c0);
  }
  const by1 = cpu.cyclesBy;
  const byComponent: Record<string, number> = {};
  for (const key of Object.keys(by1)) {
    const v = ((by1[key] ?? 0) - (by0[key] ?? 0)) / reps;
    if (v !== 0) byComponent[key] = round(v, 1);
  }
  byComponent.access = 0; // the pair makes no user loads or stores
  return { pages, total: totals.reduce((s, x) => s + x, 0) / reps, mmap: mm / reps, munmap: mu / reps, byComponent, stable: totals.every((x) => x === totals[0]) };
}

// ---------------------------------------------------------------- wall-clock harness

/** `n` switches through the syscall path, alternating between the two attached spaces. */
export function switchLoop(r: SwitchRig, n: number): void {
  const { k, t, vhA, vhB } = r;
  for (let i = 0; i < n; i += 2) {
    if (syscall(k, t, 'vas_switch', [vhB]) !== 0) throw new Error('bench: vas_switch failed');
    if (syscall(k, t, 'vas_switch', [vhA]) !== 0) throw new Error('bench: vas_switch failed');
  }
}

let sink = 0;
function emptyCall(x: number): number { return x + 1; }
/** The raw baseline: a loop of calls to a trivial JS function (V8 may inline it). */
function rawLoop(n: number): void {
  let s = sink;
  const f = emptyCall;
  for (let i = 0; i < n; i++) s = f(s);
  sink = s;
}

// ---------------------------------------------------------------- main

interface Args { reps: number; budgetMs: number; switchOps: number; windows: number[]; quick: boolean }

const WINDOWS = [1, 4, 16, 64, 256, 1024, 4096];

function parseArgs(argv: string[]): Args {
  const a: Args = { reps: 5, budgetMs: 800, switchOps: 4000, windows: WINDOWS, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = Number(argv[i + 1]);
    if (k === '--reps' && Number.isSafeInteger(v) && v > 0) { a.reps = v; i++; }
    else if (k === '--budget-ms' && Number.isFinite(v) && v >= 0) { a.budgetMs = v; i++; }
    else if (k === '--switch-ops' && Number.isSafeInteger(v) && v >= 2) { a.switchOps = v; i++; }
    else if (k === '--windows' && argv[i + 1]) {
      a.windows = argv[i + 1].split(',').map(Number);
      if (a.windows.some((n) => !Number.isSafeInteger(n) || n < 1 || n > 65536)) throw new RangeError('bench vas-switch: --windows wants page counts 1..65536, e.g. 1,16,256');
      i++;
    }
    else if (k === '--quick') { a.reps = 2; a.budgetMs = 100; a.switchOps = 1000; a.quick = true; }
    else throw new RangeError(`bench vas-switch: bad argument "${k}" (use --reps N, --budget-ms N, --switch-ops N, --windows 1,4,16, --quick)`);
  }
  return a;
}

function round(x: number, d = 3): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const log = (s: string): void => { process.stderr.write(`[bench vas-switch] ${s}\n`); };
  const load0 = loadAverage();
  const t0 = performance.now();

  // (1) Table 6.
  log('table 6: modelled breakdown');
  const table6 = (['m2', 'm2-barrelfish'] as const).map((name) => table6Column(name, false));
  const table6CachesOn = (['m2', 'm2-barrelfish'] as const).map((name) => table6Column(name, true));
  for (const t of [...table6, ...table6CachesOn]) log(`  ${t.profile} caches ${t.caches ? 'on' : 'off'}: untagged ${t.untagged.modelled.vasSwitchTotal} (ref ${t.untagged.reference.vasSwitchTotal}), tagged ${t.tagged.modelled.vasSwitchTotal} (ref ${t.tagged.reference.vasSwitchTotal})`);

  // (3) Wall-clock: vas_switch vs mmap+munmap of N pages.
  log('wall-clock: raw baseline');
  const rawOps = 1_000_000;
  rawLoop(rawOps);
  const raw = measureRate(args.reps, Math.min(args.budgetMs, 300), rawOps, () => { rawLoop(rawOps); });

  const switchRates: Record<'untagged' | 'tagged', { rate: Rate; modelledCyclesPerSwitch: number }> = {} as never;
  for (const tagged of [false, true]) {
    const key = tagged ? 'tagged' : 'untagged';
    log(`wall-clock: vas_switch ${key}`);
    const r = switchRig({ tagged, segPages: 16 });
    const cpu = r.k.enter(r.t);
    switchLoop(r, 2000); // JIT warm-up
    const c0 = cpu.clock;
    const before = r.k.spacejmp.stats.switches;
    const rate = measureRate(args.reps, args.budgetMs, args.switchOps, () => { switchLoop(r, args.switchOps); });
    const n = r.k.spacejmp.stats.switches - before;
    switchRates[key] = { rate, modelledCyclesPerSwitch: round((cpu.clock - c0) / n, 3) };
  }

  const maxPages = Math.max(...args.windows);
  const mrig = mmapRig({ filePages: maxPages });
  const mmapRows = [];
  log('wall-clock: mmap+munmap warm-up (JIT) over every window');
  for (let pass = 0; pass < 2; pass++) {
    for (const pages of args.windows) for (let i = 0; i < Math.max(2, Math.round(512 / pages)); i++) mmapMunmap(mrig, pages);
  }
  const base = switchRates.untagged.rate.opsPerSec;
  for (const pages of args.windows) {
    const cyc = measureMmapCycles(mrig, pages);
    // Aim for calls of a few milliseconds whatever the window.
    const ops = Math.max(1, Math.round((args.quick ? 64 : 256) / pages));
    mmapMunmap(mrig, pages);
    const rate = measureRate(args.reps, args.budgetMs, ops, () => { for (let i = 0; i < ops; i++) mmapMunmap(mrig, pages); });
    log(`wall-clock: mmap+munmap ${pages} pages: ${rate.opsPerSec}/s (vas_switch untagged ${base}/s), modelled ${cyc.total} cycles`);
    mmapRows.push({
      pages,
      windowBytes: pages * 4096,
      wallClock: {
        clock: 'emulator wall-clock',
        mmapMunmapPairsPerSec: rate.opsPerSec,
        pairsPerCall: ops,
        calls: rate.calls,
        ratioToVasSwitchUntagged: round(rate.opsPerSec / base, 5),
        ratioToVasSwitchTagged: round(rate.opsPerSec / switchRates.tagged.rate.opsPerSec, 5),
        hostMicrosecondsPerPair: round(1e6 / rate.opsPerSec, 3),
        cpuTimePairsPerSec: rate.cpuTimeOpsPerSec,
      },
      modelled: {
        clock: 'modelled cycles, profile m2',
        cyclesPerPair: cyc.total,
        mmapCycles: cyc.mmap,
        munmapCycles: cyc.munmap,
        perPage: round(cyc.total / pages, 2),
        overVasSwitchUntagged: round(cyc.total / table6[0].untagged.modelled.vasSwitchTotal, 3),
        overVasSwitchTagged: round(cyc.total / table6[0].tagged.modelled.vasSwitchTotal, 3),
        byComponent: cyc.byComponent,
        sameEveryPair: cyc.stable,
      },
    });
  }

  const m2u = table6[0].untagged.modelled.vasSwitchTotal;
  const m2t = table6[0].tagged.modelled.vasSwitchTotal;
  const crossover = mmapRows.find((r) => r.modelled.cyclesPerPair > m2u);
  const doc = {
    bench: 'vas-switch',
    node: process.version,
    host: hostJson(load0),
    clocks: {
      modelled: 'modelled cycles of the emulated machine under the named cost profile (m2: Xeon E5-2670v2 @ 2.5 GHz, reference Table 6 DragonFly BSD figures; m2-barrelfish: its Barrelfish column)',
      wallClock: 'emulator wall-clock: host time the emulator takes; rates are operations per host second, best of repeated calls',
    },
    profile: { name: 'm2', params: resolveProfile('m2').params },
    table6: {
      what: 'Table 6: modelled cycles of one vas_switch between two attached spaces (syscall path), by component, next to the reference',
      note: 'every cycle from an event: syscall = entry/exit as measured (the profile\'s syscall), cr3Load = MOV to CR3 (mmu/cpu.ts writeCr3), lock = the process\'s VAS lock and segment locks (an atomic each), pmapActivate = pm_active bit clear/set (two atomics), kernelTlbRefill = the kernel\'s own references through the TLB beyond a warm hit (STLB hits and walks: after an untagged flush, the refills), kernelCache = their data-cache misses beyond L1D (caches on); the reference gives only the total for the rest (restOfSwitch = total - syscall - CR3 load)',
      profiles: table6,
      profilesCachesOn: table6CachesOn,
    },
    wallClock: {
      what: 'emulator wall-clock rates through the syscall path: vas_switch back and forth between two attached spaces vs mmap(MAP_FIXED|MAP_SHARED|MAP_POPULATE) of an N-page window of a preloaded tmpfs file followed by munmap',
      clock: 'emulator wall-clock (host), with modelled cycles (profile m2) alongside',
      rawBaseline: {
        what: 'loop of calls to a trivial JS function (V8 may inline it): the host\'s scale',
        clock: 'emulator wall-clock',
        callsPerSec: raw.opsPerSec,
      },
      vasSwitch: {
        baseline: 'untagged (tag 0, the reference\'s default); ratios below are to it',
        untagged: {
          switchesPerSec: switchRates.untagged.rate.opsPerSec, calls: switchRates.untagged.rate.calls, switchesPerCall: args.switchOps,
          hostMicrosecondsPerSwitch: round(1e6 / switchRates.untagged.rate.opsPerSec, 3),
          overRawCall: round(raw.opsPerSec / switchRates.untagged.rate.opsPerSec, 1),
          modelledCyclesPerSwitch: switchRates.untagged.modelledCyclesPerSwitch,
        },
        tagged: {
          switchesPerSec: switchRates.tagged.rate.opsPerSec, calls: switchRates.tagged.rate.calls, switchesPerCall: args.switchOps,
          hostMicrosecondsPerSwitch: round(1e6 / switchRates.tagged.rate.opsPerSec, 3),
          overRawCall: round(raw.opsPerSec / switchRates.tagged.rate.opsPerSec, 1),
          modelledCyclesPerSwitch: switchRates.tagged.modelledCyclesPerSwitch,
        },
      },
      mmapMunmap: mmapRows,
      notes: [
        'each mmap enters one PTE per page (pte) after an object-page lookup per page (vm); munmap removes them and frees the window\'s page-table pages (pmap: re-allocated by the next mmap)',
        'munmap invalidates page by page (invlpg per page) for small windows and with one whole-context flush for large ones',
        'small-window host time is dominated by fixed per-call work, notably page-table page allocation and free in the frame allocator',
      ],
    },
    summary:
      `Table 6 (modelled, m2): vas_switch ${m2u} cycles untagged / ${m2t} tagged (reference DragonFly BSD 1127 / 807; ` +
      `m2-barrelfish ${table6[1].untagged.modelled.vasSwitchTotal} / ${table6[1].tagged.modelled.vasSwitchTotal} vs 664 / 462). ` +
      `Emulator wall-clock: ${switchRates.untagged.rate.opsPerSec} untagged and ${switchRates.tagged.rate.opsPerSec} tagged switches/s; ` +
      `mmap+munmap pairs/s fall from ${mmapRows[0]?.wallClock.mmapMunmapPairsPerSec} (${mmapRows[0]?.pages} page) to ${mmapRows.at(-1)?.wallClock.mmapMunmapPairsPerSec} (${mmapRows.at(-1)?.pages} pages). ` +
      `Modelled, one mmap+munmap pair costs ${mmapRows[0]?.modelled.cyclesPerPair} cycles at ${mmapRows[0]?.pages} page and ${mmapRows.at(-1)?.modelled.cyclesPerPair} at ${mmapRows.at(-1)?.pages} pages` +
      (crossover ? `; the smallest window costing more than an untagged vas_switch (modelled) is ${crossover.pages} page(s).` : '; no window costs more than an untagged vas_switch (modelled).'),
    runSeconds: round((performance.now() - t0) / 1000, 1),
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}
