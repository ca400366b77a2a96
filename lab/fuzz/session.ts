// Runs a fuzz program on a fresh emulated machine, step by step, the way the trace runner does
// (init is pid 1; processes are driven statement by statement; a call that would block sleeps and
// is retried after every later step), keeping the memory model in step and checking the oracles:
//   exception  nothing but an errno or a kill comes back from a system call or an access
//   panic      no call ends in a kernel panic (dispatch's report of an emulator bug)
//   invariants the kernel invariant checker, every `invariantsEvery` steps and at the end
//   memory     every load returns what the model says, every access faults exactly when it says
//   progress   every call's modelled cycles stay within a bound of the work it could do
//   leak       once everything has exited and every name is deleted, every frame is free

import { Kernel, ProcessKilled } from '../../kernel/kernel.js';
import { SysError } from '../../kernel/errno.js';
import type { Process, Thread } from '../../kernel/proc/process.js';
import { checkKernelInvariants } from '../../kernel/invariants.js';
import { MachineFault } from '../../mmu/cpu.js';
import { RESERVED_START, reservedEnd, HEAP_BASE, HEAP_SIZE, STACK_TOP, STACK_SIZE, STACK_MAX, TEXT_BASE, TEXT_SIZE } from '../../kernel/layout.js';
import { syscall, isWouldBlock, KernelPanic } from '../../syscalls/dispatch.js';
import type { RawArg } from '../../syscalls/table.js';
import {
  MAP_ANON, MAP_FIXED, MAP_SHARED, O_ACCMODE, O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY,
} from '../../syscalls/constants.js';
import { VH_BIT, VAS_CTL_DELETE, VAS_CTL_CHMOD, SEG_CTL_CHMOD, SEG_2M } from '../../kernel/spacejmp/spacejmp.js';
import { MemoryModel, allows, Bytes, RegionList, PROT_R, PROT_W, readRegion8, writeRegion8, type ModelProcess, type Region } from './model.js';
import { isRef, processOf, type Arg, type Phase, type Step, type Width } from './program.js';

export type OracleName = 'exception' | 'panic' | 'invariants' | 'memory' | 'progress' | 'leak';

export interface Failure {
  oracle: OracleName;
  /** Index of the step it was seen at (steps.length for end-of-run checks). */
  step: number;
  message: string;
  /** progress: the modelled-cycle bound the call broke. */
  cycleBound?: number;
}

export interface SessionOptions {
  invariantsEvery: number;
  /** Modelled cycles any call may take before its length counts (default 2 M). */
  progressBaseCycles?: number;
}

export interface OpenFile { path: string; bytes: Bytes; file: ModelFile; readable: boolean; writable: boolean; offset: number; pipe?: ModelPipe; end?: 'r' | 'w' }
export interface ModelFile { bytes: Bytes; length: number; pageSize: number }
export interface ModelPipe { data: number[] }

/** The calls whose modelled cost may grow with a length argument (index of the length). */
const LENGTH_ARG: Record<string, number> = { mmap: 1, munmap: 1, mprotect: 1, read: 2, write: 2, ftruncate: 1, seg_alloc: 2, msgq_send: 2, msgq_recv: 2 };

/** The calls that copy to or from a user buffer (index of the buffer). */
const BUFFER_ARG: Record<string, number> = { read: 1, write: 1, pipe: 0, waitpid: 1, wait: 0, msgq_send: 1, msgq_recv: 1 };

/** Modelled cycles a call may take beyond the work its length allows (one page of work each way is far less). */
const BASE_CYCLES = 2_000_000;
const CYCLES_PER_PAGE = 40_000;
/**
 * Emulator wall-clock per step before it counts as a hang, whatever the modelled cycles say: 10 s
 * plus 0.1 ms per page of work the call's length allows (a 2^33-byte write from a mapped buffer
 * legitimately faults in and copies every page the machine has).
 */
const WALL_MS = 10_000;
const WALL_MS_PER_PAGE = 0.1;
/** Beyond this many bytes moved by one read/write, the model stops checking a process's contents. */
const MODEL_COPY_LIMIT = 1 << 16;

export class Session {
  readonly kernel: Kernel;
  readonly model: MemoryModel;
  readonly env = new Map<string, bigint>();
  readonly failures: Failure[] = [];
  private readonly threads = new Map<string, Thread>();
  private readonly procs = new Map<string, Process>();
  private readonly fds = new Map<string, Map<number, OpenFile>>();
  private readonly pipes = new Map<string, number>();
  private readonly queues = new Map<number, Uint8Array[]>();
  private readonly pending: { actor: string; step: Step & { kind: 'call' }; args: RawArg[]; index: number }[] = [];
  private readonly unchecked = new Set<string>();
  /** Wait status words of processes that ended (exit code << 8, or the killing signal). */
  private readonly exitStatus = new Map<string, number>();
  private readonly baselineFrames: number;
  private stepIndex = 0;
  /**
   * The phases the steps actually ran in, judged from the state when they ran (a store is
   * 'shadow-private' if its thread was in a shadow and the address is private), not from what
   * the generator intended: shrinking can change which space a thread is in.
   */
  readonly phasesSeen = new Set<Phase>();
  /** What the model predicted for each access step (by index), for the trace of a failure. */
  readonly predictions = new Map<number, { kind: 'value'; value: bigint } | { kind: 'fault' }>();
  /** Spawn and thread steps the kernel refused (ENOMEM, EBUSY for a segment lock), with why. */
  readonly notCreated = new Map<number, string>();
  calls = 0;
  accesses = 0;
  /** Per call name: how many returned a value, how many an errno (coverage at a glance). */
  readonly outcomes = new Map<string, { ok: number; errno: number }>();

  constructor(config: ConstructorParameters<typeof Kernel>[0], readonly opts: SessionOptions) {
    this.kernel = new Kernel(config);
    const paging = this.kernel.config.paging;
    this.model = new MemoryModel(RESERVED_START, reservedEnd(paging));
    const init = this.kernel.spawn('init', { uid: 0, gid: 0 });
    this.addProcess('init', init);
    this.baselineFrames = this.kernel.frames.usedBytes();
  }

  // ------------------------------------------------------------------ actors

  private addProcess(name: string, p: Process, model?: ModelProcess): void {
    this.procs.set(name, p);
    this.threads.set(name, p.threads[0]);
    if (!model) {
      const priv = new RegionList();
      const anon = (start: number, len: number, prot: number, label: string): Region => ({ start, end: start + len, prot, kind: 'anon-private', bytes: new Bytes(label), offset: 0, label });
      priv.insert(anon(TEXT_BASE, TEXT_SIZE, PROT_R | 4, 'text'));
      priv.insert(anon(HEAP_BASE, HEAP_SIZE, PROT_R | PROT_W, 'heap'));
      priv.insert({ ...anon(STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_R | PROT_W, 'stack'), growsDown: true });
      model = { name, pid: p.pid, cred: { uid: p.cred.uid, gid: p.cred.gid, groups: [...(p.cred.groups ?? [])] }, live: true, priv, primaryReserved: new RegionList(), attachments: new Map(), threadSpace: new Map([[name, 0]]) };
      this.model.processes.set(name, model);
      this.fds.set(name, new Map());
    }
  }

  /** Names of processes that are alive (in the model and the kernel), and their driven threads. */
  liveActors(): string[] {
    const out: string[] = [];
    for (const [name, t] of this.threads) {
      const p = this.procs.get(processOf(name));
      if (!p || !p.live || t.state === 'exited' || name === 'init') continue;
      if (this.pending.some((x) => x.actor === name)) continue;
      out.push(name);
    }
    return out;
  }

  processModel(actor: string): ModelProcess | undefined {
    return this.model.processes.get(processOf(actor));
  }

  spaceOf(actor: string): number {
    return this.processModel(actor)?.threadSpace.get(actor) ?? 0;
  }

  kernelProcess(actor: string): Process | undefined {
    return this.procs.get(processOf(actor));
  }

  openFds(actor: string): Map<number, OpenFile> {
    return this.fds.get(processOf(actor)) ?? new Map();
  }

  threadNames(proc: string): string[] {
    return [...this.threads.keys()].filter((n) => processOf(n) === proc);
  }

  // ------------------------------------------------------------------ values

  value(a: Arg): RawArg {
    if (!isRef(a)) return a;
    // A name is a bound value, else a process name standing for its pid (as in traces).
    const v = this.env.get(a.ref) ?? (this.procs.has(a.ref) ? BigInt(this.procs.get(a.ref)!.pid) : undefined);
    if (v === undefined) return a.fallback;
    const r = v + BigInt(a.add ?? 0);
    return r >= BigInt(Number.MIN_SAFE_INTEGER) && r <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r) : r;
  }

  private fail(oracle: OracleName, message: string): void {
    this.failures.push({ oracle, step: this.stepIndex, message });
  }

  // ------------------------------------------------------------------ running

  /** Run one step; returns false once an oracle has failed. */
  run(step: Step, index: number): boolean {
    this.stepIndex = index;
    const t0 = Date.now();
    try {
      switch (step.kind) {
        case 'spawn': this.spawn(step); break;
        case 'thread': this.thread(step); break;
        case 'call': this.call(step, index); break;
        default: this.access(step); break;
      }
      this.retryPending();
    } catch (e) {
      this.fail('exception', `${step.kind} ${describeStep(step)}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    const wallBound = WALL_MS + WALL_MS_PER_PAGE * (step.kind === 'call' ? this.workPages(step.name, step.args.map((a) => this.value(a))) : 0);
    if (Date.now() - t0 > wallBound) this.fail('progress', `step took ${Date.now() - t0} ms of emulator wall-clock (bound ${Math.round(wallBound)} ms)`);
    if (this.failures.length === 0 && this.opts.invariantsEvery > 0 && (index + 1) % this.opts.invariantsEvery === 0) this.checkInvariants();
    return this.failures.length === 0;
  }

  checkInvariants(): void {
    const problems = checkKernelInvariants(this.kernel, { maxProblems: 5 });
    if (problems.length) this.fail('invariants', problems.join('; '));
  }

  private spawn(s: Step & { kind: 'spawn' }): void {
    if (this.procs.has(s.actor)) return;
    const init = this.procs.get('init')!;
    let p: Process;
    try {
      p = this.kernel.spawn(s.actor, { uid: s.uid, gid: s.gid, groups: s.groups ? [...s.groups] : [] }, { parent: init });
    } catch (e) {
      if (e instanceof Error && /ENOMEM/.test(e.message)) { this.notCreated.set(this.stepIndex, e.message); return; } // out of memory: the process does not exist
      throw e;
    }
    this.addProcess(s.actor, p);
  }

  private thread(s: Step & { kind: 'thread' }): void {
    if (this.threads.has(s.actor)) return;
    const p = this.procs.get(processOf(s.actor));
    const m = this.processModel(s.actor);
    if (!p || !p.live || !m) return;
    let t: Thread;
    try {
      t = this.kernel.newThread(p, s.actor.slice(s.actor.indexOf('.') + 1), null, -1);
    } catch (e) {
      // A refusal with an errno (EBUSY: a lockable segment the primary maps is held against the
      // new thread, as thread_create reports) is an outcome: the thread does not exist.
      if (e instanceof SysError) { this.notCreated.set(this.stepIndex, e.message); return; }
      throw e;
    }
    this.threads.set(s.actor, t);
    m.threadSpace.set(s.actor, 0);
  }

  private runnable(actor: string): Thread | null {
    const t = this.threads.get(actor);
    const p = this.procs.get(processOf(actor));
    if (!t || !p || !p.live || t.state === 'exited') return null;
    if (this.pending.some((x) => x.actor === actor)) return null;
    return t;
  }

  private call(s: Step & { kind: 'call' }, index: number): void {
    const t = this.runnable(s.actor);
    if (!t) return;
    const args = s.args.map((a) => this.value(a));
    this.classifyCall(s, args);
    this.calls++;
    const before = this.kernel.totalCycles;
    let r;
    try {
      r = syscall(this.kernel, t, s.name, args);
    } catch (e) {
      if (e instanceof KernelPanic) { this.fail('panic', `${e.report}\n${e.panic.stack.split('\n').slice(1, 6).join('\n')}`); return; }
      if (e instanceof ProcessKilled) { this.died(processOf(s.actor), 11); return; }
      this.fail('exception', `${s.name}(${args.map(String).join(', ')}) threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      return;
    }
    this.checkProgress(s.name, args, this.kernel.totalCycles - before);
    if (isWouldBlock(r)) {
      this.kernel.block(t, r.channel);
      this.pending.push({ actor: s.actor, step: s, args, index });
      return;
    }
    this.completed(s, args, r);
  }

  private classifyCall(s: Step & { kind: 'call' }, args: RawArg[]): void {
    const m = this.processModel(s.actor);
    const vh = m?.threadSpace.get(s.actor) ?? 0;
    this.phasesSeen.add(s.phase === 'hostile' ? 'hostile' : s.name.startsWith('vas_') || s.name.startsWith('seg_') ? 'spacejmp' : 'basic');
    // A call that copies to or from a private buffer while in a shadow touches the private region from there.
    const bi = BUFFER_ARG[s.name];
    const buf = bi === undefined ? undefined : args[bi];
    const privateBuffer = (typeof buf === 'number' || typeof buf === 'bigint') && Number(buf) !== 0 && !this.model.inReserved(Number(buf));
    if (vh !== 0 && (['mmap', 'munmap', 'mprotect'].includes(s.name) || privateBuffer)) this.phasesSeen.add('shadow-private');
    if (s.name === 'fork' && m && m.attachments.size > 0) this.phasesSeen.add('fork-attached');
    if (s.name === 'vas_ctl' && args[0] === 5) this.phasesSeen.add('shared-pt');
  }

  /** Pages of work a call's length argument allows, capped at the machine's memory. */
  private workPages(name: string, args: RawArg[]): number {
    // Calls whose work is the segments they copy or map, not a length argument: seg_clone copies
    // every page of the segment, vas_clone and the attaches map every segment they bring.
    const id = (i: number): number => { const x = args[i]; return typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : NaN; };
    const segPages = (sid: number): number => Math.ceil((this.model.segments.get(sid)?.size ?? 0) / 4096);
    const vasPages = (vid: number): number => [...(this.model.vases.get(vid)?.segments.keys() ?? [])].reduce((n, sid) => n + segPages(sid), 0);
    if (name === 'seg_clone') return segPages(id(0));
    if (name === 'seg_attach') return segPages(id(1));
    if (name === 'vas_clone' || name === 'vas_attach') return vasPages(id(0));
    const li = LENGTH_ARG[name];
    if (li === undefined) return 0;
    const len = args[li];
    const n = typeof len === 'number' && Number.isFinite(len) ? len : typeof len === 'bigint' ? Number(len) : 0;
    return Math.max(0, Math.min(Math.ceil(n / 4096), this.kernel.config.memBytes / 4096));
  }

  private checkProgress(name: string, args: RawArg[], cycles: number): void {
    const pages = this.workPages(name, args);
    const bound = (this.opts.progressBaseCycles ?? BASE_CYCLES) + CYCLES_PER_PAGE * pages;
    if (cycles > bound) this.failures.push({ oracle: 'progress', step: this.stepIndex, cycleBound: bound, message: `${name} took ${Math.round(cycles)} modelled cycles, more than the bound ${bound} for ${pages} pages of work` });
  }

  private retryPending(): void {
    let progress = true;
    while (progress) {
      progress = false;
      for (const p of [...this.pending]) {
        const t = this.threads.get(p.actor)!;
        const proc = this.procs.get(processOf(p.actor))!;
        if (!proc.live || t.state === 'exited') { this.pending.splice(this.pending.indexOf(p), 1); continue; }
        if (t.state === 'blocked') continue;
        let r;
        try {
          r = syscall(this.kernel, t, p.step.name, p.args, { restart: true });
        } catch (e) {
          this.pending.splice(this.pending.indexOf(p), 1);
          if (e instanceof KernelPanic) { this.fail('panic', e.report); return; }
          if (e instanceof ProcessKilled) { this.died(processOf(p.actor), 11); continue; }
          throw e;
        }
        if (isWouldBlock(r)) { this.kernel.block(t, r.channel); continue; }
        this.pending.splice(this.pending.indexOf(p), 1);
        this.completed(p.step, p.args, r);
        progress = true;
      }
    }
  }

  /** The process is gone: killed by `signal` (its wait status), or exited (status recorded by the caller). */
  private died(proc: string, signal = 0): void {
    if (signal) this.exitStatus.set(proc, signal);
    const m = this.model.processes.get(proc);
    if (m) m.live = false;
    this.fds.get(proc)?.clear();
  }

  // ------------------------------------------------------------------ memory accesses

  private access(s: Step & { kind: 'load' | 'store' }): void {
    const t = this.runnable(s.actor);
    const m = this.processModel(s.actor);
    if (!t || !m) return;
    const raw = this.value(s.addr);
    if (typeof raw !== 'number' && typeof raw !== 'bigint') return;
    const va = BigInt(raw);
    if (va < 0n) return;
    this.accesses++;
    const vh = m.threadSpace.get(s.actor) ?? 0;
    this.phasesSeen.add(s.phase === 'hostile' ? 'hostile' : 'basic');
    if (vh !== 0) this.phasesSeen.add(this.model.inReserved(Number(va)) ? 'spacejmp' : 'shadow-private');
    const width = s.width ?? 8;
    const exact = va + BigInt(width) <= 2n ** 56n;
    const a = Number(va);
    const unchecked = this.unchecked.has(m.name) || !exact;
    const want = exact ? this.model.predictAccess(m, vh, a, width, s.kind === 'store', STACK_TOP, STACK_MAX) : null;
    const predictedValue = want?.kind === 'ok' && s.kind === 'load' ? readBytes(want.regions, a, width) : null;
    const expectFault = want?.kind === 'fault';
    if (!unchecked) {
      if (expectFault) this.predictions.set(this.stepIndex, { kind: 'fault' });
      else if (predictedValue !== null) this.predictions.set(this.stepIndex, { kind: 'value', value: predictedValue });
    }
    const k = this.kernel;
    let got: bigint | null = null;
    let faulted = false;
    try {
      const run = (): void => { got = this.perform(t, s, va, width); };
      if (expectFault || !exact || want?.kind === 'unknown') k.catchingFaults(run); else run();
    } catch (e) {
      if (e instanceof MachineFault) faulted = true;
      else if (e instanceof ProcessKilled) {
        this.died(m.name, 11);
        if (/out of memory/.test(e.report)) return; // the machine ran out: a legitimate kill
        if (!unchecked) this.fail('memory', `${describeStep(s)} in ${spaceName(vh)}: killed (${e.report}) but the model says it ${s.kind === 'load' ? `reads ${hex(predictedValue ?? 0n)}` : 'may write'}`);
        return;
      } else throw e;
    }
    if (faulted && /out of memory/.test(k.lastUnresolved?.report ?? '')) return;
    if (unchecked || !want || want.kind === 'unknown') return;
    const where = (r: Region[]): string => [...new Set(r.map((x) => `${x.kind} ${x.label}`))].join(' and ');
    if (want.kind === 'fault') {
      if (!faulted) {
        this.fail('memory', s.kind === 'load'
          ? `${describeStep(s)} in ${spaceName(vh)} read ${hex(got!)} but the model says it faults (nothing mapped or not readable)`
          : `${describeStep(s)} in ${spaceName(vh)} succeeded but the model says it may not write there`);
      }
      return;
    }
    if (faulted) {
      this.fail('memory', `${describeStep(s)} in ${spaceName(vh)} faulted (${k.lastUnresolved?.report ?? ''}) but the model says ${s.kind === 'load' ? `it reads ${hex(predictedValue!)} from` : 'it may write'} ${where(want.regions)}`);
      return;
    }
    if (s.kind === 'load') {
      if (got !== predictedValue) this.fail('memory', `${describeStep(s)} in ${spaceName(vh)} read ${hex(got!)} but the model says ${hex(predictedValue!)} (${where(want.regions)})`);
      return;
    }
    const v = BigInt.asUintN(64, s.value);
    for (let i = 0; i < width; i++) writeRegion8(want.regions[i], a + i, Number((v >> BigInt(8 * i)) & 0xffn));
  }

  /** The access through the thread's CPU, exactly as the trace runner performs it (page crossings split as x86 does). */
  private perform(t: Thread, s: Step & { kind: 'load' | 'store' }, va: bigint, width: Width): bigint | null {
    const cpu = this.kernel.enter(t);
    if (s.kind === 'load') return cpu.loadBig(va, width);
    cpu.storeBig(va, width, BigInt.asUintN(64, s.value));
    return null;
  }

  // ------------------------------------------------------------------ the model follows results

  /** User bytes through the model, for calls that copy (read/write/pipes/queues/wait/pipe). */
  private userRegion(m: ModelProcess, vh: number, a: number): Region | null {
    return this.model.resolve(m, vh, a)?.region ?? null;
  }

  private copyToUser(m: ModelProcess, vh: number, va: number, data: ArrayLike<number>): void {
    if (data.length > MODEL_COPY_LIMIT) { this.unchecked.add(m.name); return; }
    for (let i = 0; i < data.length; i++) {
      const r = this.userRegion(m, vh, va + i);
      if (r) writeRegion8(r, va + i, data[i]);
    }
  }

  private copyFromUser(m: ModelProcess, vh: number, va: number, n: number): Uint8Array {
    const out = new Uint8Array(Math.min(n, MODEL_COPY_LIMIT));
    if (n > MODEL_COPY_LIMIT) { this.unchecked.add(m.name); return out; }
    for (let i = 0; i < n; i++) {
      const r = this.userRegion(m, vh, va + i);
      out[i] = r ? readRegion8(r, va + i) : 0;
    }
    return out;
  }

  private completed(s: Step & { kind: 'call' }, args: RawArg[], r: number | bigint): void {
    if (s.bind) {
      this.env.set(s.bind, BigInt(r));
    }
    const v = typeof r === 'bigint' ? Number(r) : r;
    let o = this.outcomes.get(s.name);
    if (!o) this.outcomes.set(s.name, (o = { ok: 0, errno: 0 }));
    if (v < 0 && v >= -4095) { o.errno++; return; } // an error changes nothing
    o.ok++;
    const m = this.processModel(s.actor);
    if (!m) return;
    const vh = m.threadSpace.get(s.actor) ?? 0;
    const n = (i: number): number => { const x = args[i]; return typeof x === 'bigint' ? Number(x) : typeof x === 'number' ? x : 0; };
    const fdt = this.fds.get(m.name)!;
    switch (s.name) {
      case 'mmap': this.mmapped(m, vh, v, n(1), n(2), n(3), n(4), n(5), s.actor); break;
      case 'munmap': this.carve(m, vh, n(0), n(0) + Math.ceil(n(1) / 4096) * 4096); break;
      case 'mprotect': this.protect(m, vh, n(0), n(0) + Math.ceil(n(1) / 4096) * 4096, n(2)); break;
      case 'fork': {
        if (!s.bind) break;
        const child = this.kernel.processes.get(v);
        if (!child) break;
        // The child's private region is a copy of what the model knows of the parent's: if the
        // model lost track of the parent (a copy too large to follow), it has of the child too.
        if (this.unchecked.has(m.name)) this.unchecked.add(s.bind);
        const cm = this.model.forkProcess(m, s.bind, v);
        this.fds.set(s.bind, new Map(fdt));
        this.addProcess(s.bind, child, cm);
        break;
      }
      case 'exit': this.exited(m.name, n(0)); break;
      case 'thread_exit': {
        // The thread is gone (its steps are skipped from now on); the last one ends the process.
        m.threadSpace.delete(s.actor);
        if (!this.procs.get(m.name)?.live) this.exited(m.name, n(0));
        break;
      }
      case 'wait': case 'waitpid': {
        const status = n(s.name === 'wait' ? 0 : 1);
        if (status !== 0) {
          const z = [...this.model.processes.values()].find((x) => x.pid === v);
          const word = z && this.exitStatus.has(z.name) ? this.exitStatus.get(z.name)! : null;
          if (word === null) this.unchecked.add(m.name);
          else this.copyToUser(m, vh, status, [word & 0xff, (word >> 8) & 0xff, (word >> 16) & 0xff, (word >>> 24) & 0xff]);
        }
        break;
      }
      case 'open': case 'creat': {
        const path = String(args[0]);
        const flags = s.name === 'creat' ? O_CREAT | O_WRONLY | O_TRUNC : n(1);
        let f = this.model.files.get(path) as unknown as ModelFile | undefined;
        if (!f) {
          f = { bytes: new Bytes(path), length: 0, pageSize: s.name === 'open' && args[3] !== undefined ? n(3) : 4096 };
          this.model.files.set(path, f as never);
        }
        const acc = flags & O_ACCMODE;
        if ((flags & O_TRUNC) !== 0 && acc !== O_RDONLY) this.truncated(f, 0);
        fdt.set(v, { path, bytes: f.bytes, file: f, readable: acc !== O_WRONLY, writable: acc !== O_RDONLY, offset: 0 });
        break;
      }
      case 'ftruncate': { const h = fdt.get(n(0)); if (h) this.truncated(h.file, n(1)); break; }
      case 'lseek': { const h = fdt.get(n(0)); if (h) h.offset = v; break; }
      case 'unlink': this.model.files.delete(String(args[0])); break;
      case 'close': fdt.delete(n(0)); break;
      case 'pipe': {
        const free: number[] = [];
        for (let fd = 0; free.length < 2; fd++) if (!fdt.has(fd)) free.push(fd);
        const pipe: ModelPipe = { data: [] };
        const dummy = { bytes: new Bytes('pipe'), length: 0, pageSize: 4096 };
        fdt.set(free[0], { path: '', bytes: dummy.bytes, file: dummy, readable: true, writable: false, offset: 0, pipe, end: 'r' });
        fdt.set(free[1], { path: '', bytes: dummy.bytes, file: dummy, readable: false, writable: true, offset: 0, pipe, end: 'w' });
        const word = [free[0], free[1]].flatMap((x) => [x & 0xff, (x >> 8) & 0xff, (x >> 16) & 0xff, (x >>> 24) & 0xff]);
        this.copyToUser(m, vh, n(0), word);
        break;
      }
      case 'read': {
        const h = fdt.get(n(0));
        if (!h) break;
        if (h.pipe) {
          const data = h.pipe.data.splice(0, v);
          this.copyToUser(m, vh, n(1), data);
        } else {
          const data: number[] = [];
          if (v > MODEL_COPY_LIMIT) this.unchecked.add(m.name);
          else for (let i = 0; i < v; i++) data.push(h.file.bytes.read8(h.offset + i));
          this.copyToUser(m, vh, n(1), data);
          h.offset += v;
        }
        break;
      }
      case 'write': {
        const h = fdt.get(n(0));
        if (!h) break;
        const data = this.copyFromUser(m, vh, n(1), v);
        if (h.pipe) { for (const b of data) h.pipe.data.push(b); break; }
        if (v > MODEL_COPY_LIMIT) this.uncheckFile(h.file);
        else for (let i = 0; i < v; i++) h.file.bytes.write8(h.offset + i, data[i]);
        h.offset += v;
        h.file.length = Math.max(h.file.length, h.offset);
        break;
      }
      case 'msgq_create': this.queues.set(v, []); break;
      case 'msgq_destroy': this.queues.delete(n(0)); break;
      case 'msgq_send': { const q = this.queues.get(n(0)); if (q) q.push(this.copyFromUser(m, vh, n(1), n(2))); break; }
      case 'msgq_recv': { const q = this.queues.get(n(0)); const msg = q?.shift(); if (msg) this.copyToUser(m, vh, n(1), msg); break; }
      case 'vas_create': this.model.vases.set(v, { vid: v, name: String(args[0]), mode: n(1), uid: m.cred.uid, gid: m.cred.gid, segments: new Map(), deleted: false }); break;
      case 'vas_clone': {
        const src = this.model.vases.get(n(0));
        if (src) this.model.vases.set(v, { vid: v, name: `${src.name}.clone`, mode: src.mode, uid: m.cred.uid, gid: m.cred.gid, segments: new Map(src.segments), deleted: false });
        break;
      }
      case 'vas_attach': {
        const vas = this.model.vases.get(n(0));
        if (!vas) break;
        const segProt = new Map<number, number>();
        const vasWritable = allows(m.cred, vas, 'w');
        for (const sid of vas.segments.keys()) segProt.set(sid, this.model.shadowProt(m.cred, vasWritable, vas, sid));
        m.attachments.set(v, { vh: v, vid: vas.vid, own: new RegionList(), segProt, vasWritable });
        break;
      }
      case 'vas_detach': m.attachments.delete(n(0)); break;
      case 'vas_switch': m.threadSpace.set(s.actor, n(0)); break;
      case 'vas_ctl': {
        const vas = this.model.vases.get(n(1));
        if (n(0) === VAS_CTL_DELETE) this.model.vases.delete(n(1));
        else if (n(0) === VAS_CTL_CHMOD && vas) vas.mode = n(2);
        break;
      }
      case 'seg_alloc': {
        const ps = (n(4) & SEG_2M) !== 0 ? 2 ** 21 : 4096;
        const size = Math.ceil(n(2) / ps) * ps;
        this.model.segments.set(v, { sid: v, name: String(args[0]), base: n(1), size, mode: n(3), uid: m.cred.uid, gid: m.cred.gid, bytes: new Bytes(String(args[0])), deleted: false });
        break;
      }
      case 'seg_clone': {
        const src = this.model.segments.get(n(0));
        if (src) this.model.segments.set(v, { ...src, sid: v, uid: m.cred.uid, gid: m.cred.gid, bytes: src.bytes.clone(), deleted: false });
        break;
      }
      case 'seg_ctl': {
        const seg = this.model.segments.get(n(0));
        if (seg && n(1) === SEG_CTL_CHMOD) seg.mode = n(2);
        break;
      }
      case 'seg_attach': this.segAttached(m, vh, n(0), n(1), args[2] === undefined ? -1 : n(2)); break;
      case 'seg_detach': this.segDetached(m, vh, n(0), n(1)); break;
      default: break;
    }
  }

  private exited(proc: string, status: number): void {
    this.exitStatus.set(proc, (status & 0xff) << 8);
    this.died(proc);
  }

  private truncated(f: ModelFile, len: number): void {
    if (len < f.length) f.bytes.zero(len, Math.ceil(f.length / f.pageSize) * f.pageSize + f.pageSize);
    f.length = len;
  }

  private uncheckFile(f: ModelFile): void {
    for (const m of this.model.processes.values()) {
      if (m.priv.regions.some((r) => r.bytes === f.bytes)) this.unchecked.add(m.name);
    }
  }

  /** Which region lists [start, end) touches for a thread in `vh`. */
  private listsFor(m: ModelProcess, vh: number, start: number, end: number): RegionList[] {
    const out: RegionList[] = [];
    if (start < this.model.reservedStart) out.push(m.priv);
    if (end > this.model.reservedStart && start < this.model.reservedEnd) out.push(vh === 0 ? m.primaryReserved : m.attachments.get(vh)!.own);
    if (end > this.model.reservedEnd) out.push(m.priv);
    return out;
  }

  private carve(m: ModelProcess, vh: number, start: number, end: number): void {
    for (const l of this.listsFor(m, vh, start, end)) l.carve(start, end);
  }

  private protect(m: ModelProcess, vh: number, start: number, end: number, prot: number): void {
    for (const l of this.listsFor(m, vh, start, end)) l.protect(start, end, prot);
  }

  private mmapped(m: ModelProcess, vh: number, addr: number, len: number, prot: number, flags: number, fd: number, offset: number, actor: string): void {
    const h = (flags & MAP_ANON) === 0 ? this.fds.get(m.name)!.get(fd) : undefined;
    const ps = h ? h.file.pageSize : 4096;
    const end = addr + Math.ceil(len / ps) * ps;
    const fixed = (flags & MAP_FIXED) !== 0;
    const lists = this.listsFor(m, vh, addr, end);
    if (vh !== 0 && !m.attachments.has(vh)) { this.unchecked.add(m.name); return; }
    if (!fixed) {
      for (const l of lists) {
        if (l.overlaps(addr, end)) this.fail('memory', `mmap by ${actor} returned ${hex(BigInt(addr))}+${len}, which overlaps an existing mapping without MAP_FIXED`);
      }
      if (vh !== 0 && this.model.resolve(m, vh, addr)?.region.kind === 'segment') this.fail('memory', `mmap by ${actor} returned ${hex(BigInt(addr))} inside a segment of its shadow`);
    }
    const shared = (flags & MAP_SHARED) !== 0;
    let region: Region;
    if (!h) {
      region = { start: addr, end, prot, kind: shared ? 'anon-shared' : 'anon-private', bytes: new Bytes('anon'), offset: 0, label: shared ? 'anon-shared' : 'anon' };
    } else if (shared) {
      region = { start: addr, end, prot, kind: 'file-shared', bytes: h.file.bytes, offset, label: `file ${h.path}` };
    } else {
      region = { start: addr, end, prot, kind: 'file-private', bytes: h.file.bytes, offset, label: `private file ${h.path}`, overlay: { bytes: new Bytes('cow'), pages: new Set(), pageSize: h.file.pageSize } };
    }
    // A mapping across the segment region's edge: the part inside belongs to this space, the
    // parts outside to the private region (each piece keeps its offset into the same content).
    const rs = this.model.reservedStart;
    const re = this.model.reservedEnd;
    const pieces: [number, number, RegionList][] = [
      [addr, Math.min(end, rs), m.priv],
      [Math.max(addr, rs), Math.min(end, re), vh === 0 ? m.primaryReserved : m.attachments.get(vh)!.own],
      [Math.max(addr, re), end, m.priv],
    ];
    for (const [s0, e0, list] of pieces) if (s0 < e0) list.insert({ ...region, start: s0, end: e0, offset: region.offset + (s0 - addr) });
  }

  private targetList(m: ModelProcess, vh: number, target: number): { list: RegionList | null; vid: number | null } {
    if (target === -1) return { list: vh === 0 ? m.primaryReserved : m.attachments.get(vh)?.own ?? null, vid: null };
    if (target === 0) return { list: m.primaryReserved, vid: null };
    if ((target & VH_BIT) !== 0) return { list: m.attachments.get(target)?.own ?? null, vid: null };
    return { list: null, vid: target };
  }

  private segAttached(m: ModelProcess, vh: number, target: number, sid: number, prot: number): void {
    const seg = this.model.segments.get(sid);
    if (!seg) return;
    const p = prot === -1 ? (allowsW(m, seg) ? PROT_R | PROT_W : PROT_R) : prot;
    const { list, vid } = this.targetList(m, vh, target);
    if (vid !== null) {
      const vas = this.model.vases.get(vid);
      if (!vas) return;
      vas.segments.set(sid, p);
      // The named space's segments come first (docs/spacejmp.md): in every shadow of it, what the
      // attacher mapped in that range on his own (a segment attached to the shadow, a fixed
      // mapping) goes, and the segment is reached at the attacher's own rights, fixed now —
      // even where his own read-only attachment of the same segment was there before.
      for (const pm of this.model.processes.values()) {
        for (const att of pm.attachments.values()) {
          if (att.vid !== vid) continue;
          att.own.carve(seg.base, seg.base + seg.size);
          att.segProt.set(sid, this.model.shadowProt(pm.cred, att.vasWritable, vas, sid));
        }
      }
      return;
    }
    list?.insert({ start: seg.base, end: seg.base + seg.size, prot: p, kind: 'segment', bytes: seg.bytes, offset: 0, sid, label: `segment ${seg.name}` });
  }

  private segDetached(m: ModelProcess, vh: number, target: number, sid: number): void {
    const seg = this.model.segments.get(sid);
    if (!seg) return;
    const { list, vid } = this.targetList(m, vh, target);
    if (vid !== null) {
      this.model.vases.get(vid)?.segments.delete(sid);
      for (const pm of this.model.processes.values()) for (const att of pm.attachments.values()) if (att.vid === vid) att.segProt.delete(sid);
      return;
    }
    list?.carve(seg.base, seg.base + seg.size);
  }

  // ------------------------------------------------------------------ the end

  /**
   * Tear everything down as root would: every process exits (blocked ones are killed), every
   * segment, named space, file and queue is deleted; then every frame but init's must be free.
   */
  finish(): void {
    if (this.failures.length) return;
    this.stepIndex = Number.MAX_SAFE_INTEGER;
    try {
      this.checkInvariants();
      if (this.failures.length) return;
      const k = this.kernel;
      const init = this.procs.get('init')!;
      const root = init.threads[0];
      for (const [name, p] of this.procs) if (name !== 'init' && p.live) k.exit(p, 0);
      for (const p of [...k.processes.values()]) if (p !== init && p.live) k.exit(p, 0);
      while (init.children.size > 0 && [...init.children].some((c) => c.state === 'zombie')) {
        const r = syscall(k, root, 'waitpid', [-1, 0, 1]);
        if (typeof r !== 'number' || r <= 0) break;
      }
      for (const vid of [...k.spacejmp.vases.keys()]) syscall(k, root, 'vas_ctl', [VAS_CTL_DELETE, vid]);
      for (const sid of [...k.spacejmp.segments.keys()]) syscall(k, root, 'seg_ctl', [sid, 2]);
      for (const path of [...k.tmpfs.files.keys()]) syscall(k, root, 'unlink', [path]);
      for (const q of this.queues.keys()) syscall(k, root, 'msgq_destroy', [q]);
      this.checkInvariants();
      const used = k.frames.usedBytes();
      if (used !== this.baselineFrames) {
        this.fail('leak', `after every process exited and every name was deleted, ${used - this.baselineFrames} bytes of frames are still in use (${k.spacejmp.segments.size} segments, ${k.spacejmp.vases.size} named spaces, ${k.processes.size} processes left)`);
      }
    } catch (e) {
      this.fail('exception', `teardown: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  }
}

/** `width` bytes at `a`, little-endian, each through the region holding it. */
function readBytes(regions: readonly Region[], a: number, width: number): bigint {
  let v = 0n;
  for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(readRegion8(regions[i], a + i));
  return v;
}

function allowsW(m: ModelProcess, o: { uid: number; gid: number; mode: number }): boolean {
  return allows(m.cred, o, 'w');
}

export function hex(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

function spaceName(vh: number): string {
  return vh === 0 ? 'its primary space' : `shadow ${hex(BigInt(vh))}`;
}

export function describeStep(s: Step): string {
  const show = (a: Arg): string => (isRef(a) ? `${a.ref}${a.add ? `+${a.add}` : ''}` : typeof a === 'bigint' ? hex(a) : typeof a === 'string' ? JSON.stringify(a) : String(a));
  switch (s.kind) {
    case 'spawn': return `process ${s.actor} uid=${s.uid} gid=${s.gid}`;
    case 'thread': return `thread ${s.actor}`;
    case 'call': return `${s.actor}: ${s.bind ? `${s.bind} = ` : ''}${s.name}(${s.args.map(show).join(', ')})`;
    case 'load': return `${s.actor}: load${8 * (s.width ?? 8)} ${show(s.addr)}`;
    case 'store': return `${s.actor}: store${8 * (s.width ?? 8)} ${show(s.addr)} ${hex(BigInt.asUintN(8 * (s.width ?? 8), s.value))}`;
  }
}
