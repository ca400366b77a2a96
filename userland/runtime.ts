// The runtime programs link against. A program is a module exporting `main(rt): ThreadBody`, a
// generator: it runs on an emulated thread, touches memory through the MMU of the CPU it is on,
// and reaches the kernel only through system calls. Calls that can block are generators used with
// `yield*` (the thread sleeps in the scheduler until woken, then the call is retried); the others
// are plain calls. Failed calls throw SysError with the kernel's explanation; `raw` gives -errno.
//
// The CPU a thread runs on can change between resumptions (scheduling, set_affinity), so the
// runtime re-reads it whenever the thread resumes and after each system call; loads and stores
// in between go straight to that CPU's fast path.
//
// What builds and drives machines (starting a program as a process, running the scheduler) is not
// here but in lab/launch.ts: a program only ever sees its runtime.

import {
  SysError, errnoName, HEAP_BASE, HEAP_SIZE, STACK_TOP,
  type Machine, type ThreadHandle, type ThreadBody, type YieldRequest, type UserCpu, type CpuInfo, type PerfCounters, type ProgramCosts,
} from '../syscalls/abi.js';
import { syscall, isWouldBlock, lastSyscallError, type SyscallReturn } from '../syscalls/dispatch.js';
import type { RawArg } from '../syscalls/table.js';
import { MAP_ANON, MAP_PRIVATE, PROT_READ, PROT_WRITE, O_RDONLY } from '../syscalls/constants.js';
import { Arena, type MemoryAccess } from './malloc.js';

/** A program's entry point: the body of its main thread (or of a thread or fork child). */
export type ProgramMain = (rt: Runtime) => ThreadBody;

/** What a blocking call is: a generator to use with `yield*`, returning the call's result. */
export type Blocking<T> = Generator<YieldRequest, T, unknown>;

export interface WaitResult {
  pid: number;
  /** The raw status word. */
  status: number;
  /** True when the child called exit (or returned from main); false when it was killed. */
  exited: boolean;
  /** Exit code (when exited). */
  code: number;
  /** Signal that killed it (when not exited): 11 for a fault, 6 for a program error. */
  signal: number;
}

/** Thrown by rt.exit to unwind the program; the process is already gone when it propagates. */
export class ProgramExit extends Error {
  constructor(readonly code: number) {
    super(`exit(${code})`);
    this.name = 'ProgramExit';
  }
}

/** The most arguments `Runtime.call` takes (mmap's six). */
const CALL_MAX_ARGS = 6;

/** Out-parameters of calls (pipe's two fds, wait's status) pass through this user memory. */
const SCRATCH = STACK_TOP - 64;

export class Runtime implements MemoryAccess {
  /** The CPU executing this thread; valid while the thread runs (the runtime keeps it current). */
  cpu: UserCpu;
  private heapArena: Arena | null = null;
  /** `call`'s argument arrays, one per argument count (index n: length n), and whether one is in use. */
  private readonly argArrays: RawArg[][] = Array.from({ length: CALL_MAX_ARGS + 1 }, (_, n) => Array.from({ length: n }, () => undefined as RawArg));
  private argsBusy = false;

  /** `kernel` and `thread` are handles for system calls, private to the runtime: programs use the
   *  methods below and never see a kernel structure. */
  constructor(private readonly kernel: Machine, private readonly thread: ThreadHandle) {
    this.cpu = kernel.cpus[thread.cpu];
  }

  get pid(): number { return this.thread.process.pid; }
  /** The CPU this thread is pinned to, or -1 for any (what set_affinity last set). */
  get affinity(): number { return this.thread.affinity; }

  /** Called when the thread is (re)started: it may be on another CPU now. */
  resume(): void {
    this.cpu = this.kernel.enter(this.thread);
  }

  // ------------------------------------------------------------------ memory (the per-access path)

  load8(va: number): number { return this.cpu.load8(va); }
  store8(va: number, v: number): void { this.cpu.store8(va, v); }
  load16(va: number): number { return this.cpu.load16(va); }
  store16(va: number, v: number): void { this.cpu.store16(va, v); }
  load32(va: number): number { return this.cpu.load32(va); }
  store32(va: number, v: number): void { this.cpu.store32(va, v); }
  /** Low half of the 64-bit value at `va`; the high half is in `rt.hi` afterwards. */
  load64(va: number): number { return this.cpu.load64(va); }
  get hi(): number { return this.cpu.hi; }
  store64(va: number, lo: number, hi: number): void { this.cpu.store64(va, lo, hi); }
  xor64(va: number, lo: number, hi: number): void { this.cpu.xor64(va, lo, hi); }
  /**
   * `n` (at most XOR_BATCH_MAX) read-modify-writes `*vas[k] ^= (vlo[k], vhi[k])` in order, with
   * exactly the modelled effects of n xor64 calls (the CPU translates first so the host overlaps
   * the data misses). For unrolled loops like GUPS's.
   */
  xor64Batch(vas: Float64Array, vlo: Int32Array, vhi: Int32Array, n: number): void { this.cpu.xor64Batch(vas, vlo, vhi, n); }
  // The other batches (at most BATCH_MAX accesses each) have the same guarantee: exactly the
  // modelled effects of the single calls in order, the data words moved after the translations so
  // the host overlaps their misses. Loads and stores are separate batches: a gather sees every
  // store made before it. Only for accesses whose addresses do not depend on each other's values.
  /** Gather: `(outLo[k], outHi[k]) = *vas[k]` for k < n, as n load64 calls (`rt.hi` as the last leaves it). */
  load64Batch(vas: Float64Array, outLo: Int32Array, outHi: Int32Array, n: number): void { this.cpu.load64Batch(vas, outLo, outHi, n); }
  /** Gather: `out[k] = *vas[k]` (32-bit) for k < n, as n load32 calls. */
  load32Batch(vas: Float64Array, out: Int32Array, n: number): void { this.cpu.load32Batch(vas, out, n); }
  /** Scatter: `*vas[k] = (vlo[k], vhi[k])` for k < n, as n store64 calls in order (a later store to a word wins). */
  store64Batch(vas: Float64Array, vlo: Int32Array, vhi: Int32Array, n: number): void { this.cpu.store64Batch(vas, vlo, vhi, n); }
  /** `words` 64-bit load/store pairs from `src` to `dst`, ascending, as that many load64 + store64 calls. */
  copy64(dst: number, src: number, words: number): void { this.cpu.copy64(dst, src, words); }
  /** `words` 32-bit load/store pairs from `src` to `dst`, ascending, as that many load32 + store32 calls. */
  copy32(dst: number, src: number, words: number): void { this.cpu.copy32(dst, src, words); }
  /** `words` sequential 32-bit loads from `va` into `out[at..]`, as that many load32 calls. */
  load32Seq(va: number, out: Int32Array, at: number, words: number): void { this.cpu.load32Seq(va, out, at, words); }
  /** `words` sequential 32-bit stores of `src[at..]` from `va` on, as that many store32 calls. */
  store32Seq(va: number, src: Int32Array, at: number, words: number): void { this.cpu.store32Seq(va, src, at, words); }

  /** The unsigned 64-bit value at `va` as a bigint (not for hot loops). */
  loadU64(va: number): bigint {
    const lo = this.cpu.load64(va);
    return (BigInt(this.cpu.hi >>> 0) << 32n) | BigInt(lo >>> 0);
  }

  storeU64(va: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.cpu.store64(va, Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0);
  }

  memset(dst: number, byte: number, n: number): void {
    let i = 0;
    for (; i < n && (dst + i) % 4 !== 0; i++) this.cpu.store8(dst + i, byte);
    const word = (byte & 0xff) * 0x01010101;
    for (; i + 4 <= n; i += 4) this.cpu.store32(dst + i, word);
    for (; i < n; i++) this.cpu.store8(dst + i, byte);
  }

  /** Copy `n` bytes (overlapping ranges are handled like memmove). */
  memcpy(dst: number, src: number, n: number): void {
    if (dst > src && dst < src + n) {
      for (let i = n - 1; i >= 0; i--) this.cpu.store8(dst + i, this.cpu.load8(src + i));
      return;
    }
    let i = 0;
    if ((dst - src) % 4 === 0) {
      for (; i < n && (src + i) % 4 !== 0; i++) this.cpu.store8(dst + i, this.cpu.load8(src + i));
      for (; i + 4 <= n; i += 4) this.cpu.store32(dst + i, this.cpu.load32(src + i));
    }
    for (; i < n; i++) this.cpu.store8(dst + i, this.cpu.load8(src + i));
  }

  readBytes(va: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.cpu.load8(va + i);
    return out;
  }

  writeBytes(va: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.cpu.store8(va + i, data[i]);
  }

  /**
   * The machine profile's program-side costs (read-only): what a program charges with `compute`
   * for work it does not spell out as loads and stores, e.g. `rt.compute(rt.costs.gupsUpdate * n)`.
   * They change with --profile and --costs like every other modelled cost.
   */
  get costs(): ProgramCosts { return this.kernel.programCosts; }

  /** Charge modelled CPU work that the program does not spell out as loads and stores. */
  compute(cycles: number): void {
    this.cpu.charge('compute', cycles);
  }

  // ------------------------------------------------------------------ the machine as user code sees it

  /** Modelled cycles of the CPU this thread runs on (its time-stamp counter; free to read). */
  get clock(): number { return this.cpu.clock; }

  /** The machine's CPUs and their sockets, as sysfs would list them. */
  cpuTopology(): CpuInfo[] {
    return this.kernel.cpus.map((c) => ({ id: c.id, node: c.node }));
  }

  /**
   * Every CPU's hardware counters (accesses, TLB hits and misses, walks, cycles, and with caches
   * modelled the lines each cache level served), as a perf_event-style read of the PMU would give
   * them; reading them is not charged.
   */
  perfCounters(): PerfCounters[] {
    return this.kernel.cpus.map((c) => {
      const caches = c.cacheCounters();
      return caches === null ? c.counters() : { ...c.counters(), caches };
    });
  }

  // ------------------------------------------------------------------ system calls

  /** A call as the kernel returns it: the value or -errno (WouldBlock when it would sleep). */
  raw(name: string, ...args: RawArg[]): SyscallReturn {
    const r = syscall(this.kernel, this.thread, name, args);
    this.afterCall();
    return r;
  }

  /**
   * A non-blocking call (at most CALL_MAX_ARGS arguments): its value, or a thrown SysError.
   * Positional parameters instead of a rest array, and the arguments passed to the kernel in one
   * of this runtime's arrays (one per count: the count is part of the call), so a call allocates
   * nothing of its own. The kernel keeps no reference to the array past the call (strace copies).
   */
  call(name: string, a0?: RawArg, a1?: RawArg, a2?: RawArg, a3?: RawArg, a4?: RawArg, a5?: RawArg): number {
    const n = arguments.length - 1; // the count, as a rest array would give it, without making one
    let args: RawArg[];
    if (n > CALL_MAX_ARGS || this.argsBusy) {
      // A call made while one is in the kernel (its own array), or more arguments than the
      // parameters hold (JS callers): the kernel answers EINVAL ("takes at most 6 arguments, got
      // n") without reading them. (`arguments` itself is not touched beyond its length: an
      // arguments object that escapes on any path is made on every call.)
      args = [a0, a1, a2, a3, a4, a5];
      args.length = n;
    } else {
      args = this.argArrays[n];
      if (n > 0) args[0] = a0;
      if (n > 1) args[1] = a1;
      if (n > 2) args[2] = a2;
      if (n > 3) args[3] = a3;
      if (n > 4) args[4] = a4;
      if (n > 5) args[5] = a5;
    }
    return this.callWith(name, args);
  }

  private callWith(name: string, args: RawArg[]): number {
    const own = args === this.argArrays[args.length];
    if (own) this.argsBusy = true;
    let r: SyscallReturn;
    try {
      r = syscall(this.kernel, this.thread, name, args);
    } finally {
      if (own) {
        this.argsBusy = false;
        args.fill(undefined); // keep no argument (a string, a body) alive past the call
      }
    }
    this.afterCall();
    if (isWouldBlock(r)) throw new Error(`${name} would block: use the blocking wrapper`);
    return this.check(name, r);
  }

  /** A call that may sleep: retried after every wake-up until it completes. */
  *callBlocking(name: string, ...args: RawArg[]): Blocking<number> {
    let r = syscall(this.kernel, this.thread, name, args);
    this.afterCall();
    while (isWouldBlock(r)) {
      yield r;
      r = syscall(this.kernel, this.thread, name, args, { restart: true });
      this.afterCall();
    }
    return this.check(name, r);
  }

  private afterCall(): void {
    if (this.thread.state !== 'exited') this.resume();
  }

  private check(name: string, r: number | bigint): number {
    const n = Number(r);
    if (n < 0 && n >= -4095) {
      const e = lastSyscallError(this.thread);
      throw new SysError(-n, `${name}: ${e?.message || errnoName(-n)}`);
    }
    return n;
  }

  getpid(): number { return this.call('getpid'); }
  getppid(): number { return this.call('getppid'); }
  gettid(): number { return this.call('gettid'); }
  getuid(): number { return this.call('getuid'); }
  getgid(): number { return this.call('getgid'); }

  /** mmap(addr, len, prot, flags, fd, offset); the defaults give private anonymous read-write memory anywhere. */
  mmap(len: number, prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANON, addr: number | bigint = 0, fd = -1, offset = 0): number {
    return this.call('mmap', addr, len, prot, flags, fd, offset);
  }

  munmap(addr: number | bigint, len: number): void { this.call('munmap', addr, len); }
  mprotect(addr: number | bigint, len: number, prot: number): void { this.call('mprotect', addr, len, prot); }

  open(path: string, flags = O_RDONLY, mode = 0o644, pageSize = 4096): number { return this.call('open', path, flags, mode, pageSize); }
  creat(path: string, mode = 0o644): number { return this.call('creat', path, mode); }
  ftruncate(fd: number, len: number): void { this.call('ftruncate', fd, len); }
  lseek(fd: number, offset: number, whence = 0): number { return this.call('lseek', fd, offset, whence); }
  unlink(path: string): void { this.call('unlink', path); }
  close(fd: number): void { this.call('close', fd); }

  /** A pipe: [read end, write end]. */
  pipe(): [number, number] {
    this.call('pipe', SCRATCH);
    return [this.cpu.load32(SCRATCH), this.cpu.load32(SCRATCH + 4)];
  }

  /** read(2): bytes read into `buf`, 0 at end of file; sleeps while a pipe is empty. */
  *read(fd: number, buf: number | bigint, len: number): Blocking<number> {
    return yield* this.callBlocking('read', fd, buf, len);
  }

  /** write(2) of all `len` bytes (a large pipe write goes in as room appears). */
  *write(fd: number, buf: number | bigint, len: number): Blocking<number> {
    let done = 0;
    do done += yield* this.callBlocking('write', fd, typeof buf === 'number' ? buf + done : buf + BigInt(done), len - done);
    while (done < len);
    return done;
  }

  /** Wait for a child (pid -1: any) to exit and reap it. */
  *wait(pid = -1): Blocking<WaitResult> {
    const got = yield* this.callBlocking('waitpid', pid, SCRATCH, 0);
    return decodeWaitStatus(got, this.cpu.load32(SCRATCH));
  }

  /**
   * fork: a child process with a copy-on-write copy of this address space, running `child` on its
   * own main thread (values captured by the closure are the child's copy of the parent's
   * registers). Returns the child's pid.
   */
  fork(child: ProgramMain): number {
    return this.call('fork', (t: ThreadHandle) => programBody(this.kernel, t, child));
  }

  /** A new thread of this process running `body`; returns its tid. */
  spawnThread(body: ProgramMain, opts: { name?: string; cpu?: number } = {}): number {
    return this.call('thread_create', opts.name ?? '', opts.cpu ?? -1, (t: ThreadHandle) => programBody(this.kernel, t, body));
  }

  /**
   * A cooperative point: the scheduler may run another thread here. Free — it stands for the
   * preemption a real machine would do — unlike schedYield, which is the system call.
   */
  *yield(): Blocking<void> {
    yield undefined;
  }

  /** sched_yield(2): a system call, then a cooperative point. */
  *schedYield(): Blocking<void> {
    this.call('sched_yield');
    yield undefined;
  }

  /** Pin this thread (or `tid`) to a CPU, -1 to unpin; the thread moves there now. */
  setAffinity(cpu: number, tid = 0): void { this.call('set_affinity', cpu, tid); }

  /** Switch strace-style tracing of a process (0: this one) on or off. */
  trace(on = true, pid = 0): void { this.call('trace', pid, on); }

  msgqCreate(name = '', opts: { mode?: number; maxMessages?: number; maxSize?: number } = {}): number {
    return this.call('msgq_create', name, opts.mode ?? 0o600, opts.maxMessages ?? 64, opts.maxSize ?? 8192);
  }

  msgqOpen(name: string): number { return this.call('msgq_open', name); }
  *msgqSend(qid: number, buf: number | bigint, len: number): Blocking<number> { return yield* this.callBlocking('msgq_send', qid, buf, len); }
  *msgqRecv(qid: number, buf: number | bigint, cap: number): Blocking<number> { return yield* this.callBlocking('msgq_recv', qid, buf, cap); }
  msgqDestroy(qid: number): void { this.call('msgq_destroy', qid); }

  /** End the process with `code`; does not return. */
  exit(code: number): never {
    this.raw('exit', code);
    throw new ProgramExit(code);
  }

  // ------------------------------------------------------------------ malloc

  /** The process heap (the standard heap region), opened or formatted on first use. */
  get heap(): Arena {
    this.heapArena ??= Arena.openOrFormat(this, HEAP_BASE, HEAP_SIZE);
    return this.heapArena;
  }

  /** Make `heap` (malloc/free) use an arena over [base, base+size): opened if one is there, else formatted. */
  useArena(base: number, size: number): Arena {
    this.heapArena = Arena.openOrFormat(this, base, size);
    return this.heapArena;
  }

  /** A view of another arena (e.g. one in a segment), leaving `heap` as it is. */
  arena(base: number, size?: number): Arena {
    return size === undefined ? Arena.open(this, base) : Arena.openOrFormat(this, base, size);
  }

  /** Allocate from `heap`: a 16-aligned address, or 0 when it is full. */
  malloc(n: number): number { return this.heap.malloc(n); }
  free(ptr: number): void { this.heap.free(ptr); }
}

export function decodeWaitStatus(pid: number, status: number): WaitResult {
  const sig = status & 0x7f;
  return { pid, status, exited: sig === 0, code: (status >> 8) & 0xff, signal: sig };
}

/**
 * The thread body the scheduler runs: the program's generator, with the runtime's CPU refreshed
 * at every resumption. Stopping it (exit, kill) stops the program's generator too.
 */
export function* programBody(kernel: Machine, thread: ThreadHandle, main: ProgramMain): ThreadBody {
  const rt = new Runtime(kernel, thread);
  rt.resume();
  const inner = main(rt);
  try {
    let v: unknown = undefined;
    for (;;) {
      const r = inner.next(v);
      if (r.done) return r.value;
      v = yield r.value;
      rt.resume();
    }
  } finally {
    inner.return(undefined);
  }
}
