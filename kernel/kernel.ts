// The emulated kernel: owns the machine (physical memory, CPUs), the frame allocator, every
// page-table page, the processes and their address spaces. It is the VmHost that vm objects,
// pmaps and vmspaces call back into for frames, costs and TLB shootdowns, and the fault handler
// every CPU traps into.

import { PhysicalMemory } from '../mmu/physicalMemory.js';
import { Cpu, MachineFault, type Fault, VECTOR_GP, CYC_CONTEXT_SWITCH } from '../mmu/cpu.js';
import { CacheHierarchy } from '../mmu/cache.js';
import { CachedCpu } from '../mmu/cachedCpu.js';
import { ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../mmu/pageWalker.js';
import { programCostsOf, type CostParams, type ProgramCosts } from '../mmu/costModel.js';
import { splitBig, joinBig } from '../mmu/address.js';
import { formatAddr } from '../mmu/units.js';
import { FrameAllocator } from './vm/frameAllocator.js';
import type { TableInfo } from './vm/pmap.js';
import { Pmap } from './vm/pmap.js';
import { Vmspace, type SpaceKind, type VmHost, MAP_FIXED, MAP_PRIVATE } from './vm/vmspace.js';
import { vmFault, faultReport } from './vm/vmFault.js';
import { Process, Thread, WaitChannel, type Credentials, type ThreadBody } from './proc/process.js';
import { Tmpfs } from './fs/tmpfs.js';
import { DEFAULT_MACHINE, type MachineConfig, type TagPolicy } from './machineConfig.js';
import { KernelHalf } from './kernelHalf.js';
import { Rng } from './rng.js';
import type { LifecycleHooks } from './hooks.js';
import { fail, SysError, ERRNO } from './errno.js';
import { PROT_READ, PROT_WRITE, PROT_EXEC, ENTRY_GROWS_DOWN } from './vm/vmMap.js';
import { TEXT_BASE, TEXT_SIZE, HEAP_BASE, HEAP_SIZE, STACK_TOP, STACK_SIZE, MMAP_BASE, ASLR_RANGE } from './layout.js';

/** 2^53: user addresses below it are exact as doubles (copyin/copyout's number path). */
const SAFE_RANGE_TOP = 1n << 53n;
const SAFE_TOP = 2 ** 53;

/**
 * A user address as system calls pass it: a number (a non-negative safe integer, how programs
 * pass them) or a bigint (any 64-bit value: trace literals, addresses above 2^53).
 */
export type UserAddr = number | bigint;

/** Thrown through a program's code when its process is killed (a fault it cannot survive). */
export class ProcessKilled extends Error {
  constructor(readonly process: Process, readonly report: string) {
    super(`${process.name}[${process.pid}] killed: ${report}`);
    this.name = 'ProcessKilled';
  }
}

export interface KernelEvent {
  cycles: number;
  cpu: number;
  kind: 'fault-killed' | 'exit' | 'spawn' | 'fork' | 'info' | 'panic';
  text: string;
}

export type { LifecycleHooks, InvariantContributor } from './hooks.js';

/**
 * Kernel modules above the core (SpaceJMP) install themselves into every kernel at boot: each
 * registers an installer when its module is loaded, so this file imports none of them.
 */
const bootModules: ((k: Kernel) => void)[] = [];

export function registerBootModule(install: (k: Kernel) => void): void {
  bootModules.push(install);
}

export class Kernel implements VmHost {
  readonly config: MachineConfig;
  readonly mem: PhysicalMemory;
  readonly frames: FrameAllocator;
  readonly cpus: Cpu[];
  readonly tables = new Map<number, TableInfo>();
  readonly tmpfs: Tmpfs;
  readonly rng: Rng;
  readonly processes = new Map<number, Process>();
  /** Thread running on each CPU (or last run there), and the space its CR3 holds. */
  readonly running: (Thread | null)[];
  readonly loaded: (Vmspace | null)[];
  /** The kernel's own text, data and per-CPU pages, linked into every address space. */
  readonly kernelHalf: KernelHalf;
  /** The CPU executing kernel code now; kernel work is charged to it. */
  current: Cpu;
  readonly events: KernelEvent[] = [];
  readonly hooks: LifecycleHooks[] = [];
  /** Every live vmspace (primary, named, shadow), for views and the invariant checker. */
  readonly spaces = new Set<Vmspace>();
  private nextPid = 1;
  private readonly freePcids: number[] = [];
  /** Set while unresolvable faults must come back as MachineFault instead of killing
   *  (copyin/copyout turn them into EFAULT; a trace's `expect fault` observes them). */
  private faultsAsErrors = false;
  /** The last fault that could not be resolved, with the kernel's reason. */
  lastUnresolved: { va: bigint; access: AccessKind; mapped: boolean; report: string; vector: number } | null = null;
  private nextCpuForThread = 0;

  constructor(config: Partial<MachineConfig> = {}) {
    this.config = { ...DEFAULT_MACHINE, ...config };
    const c = this.config;
    this.mem = new PhysicalMemory({ bytes: c.memBytes, nodes: c.nodes });
    this.frames = new FrameAllocator(this.mem);
    this.rng = new Rng(c.seed);
    this.cpus = this.bootCpus();
    this.current = this.cpus[0];
    this.running = new Array(c.cpus).fill(null);
    this.loaded = new Array(c.cpus).fill(null);
    for (let p = 4095; p >= 1; p--) this.freePcids.push(p);
    // Built at boot, before any address space: boot work is not charged to any CPU.
    const bootHost = { mem: this.mem, tables: this.tables, costs: this.costs, allocTablePage: (n: number) => this.allocTablePage(n), freeTablePage: (pa: number) => this.freeTablePage(pa), allocFrame: (o: number, n: number) => this.allocFrame(o, n), charge: () => {}, chargeAt: () => {} };
    this.kernelHalf = new KernelHalf(bootHost, c.paging, c.cpus, c.profile.params.kernelGlobal === 1, (i) => this.cpus[i].node, (cpu) => this.loaded[cpu.id] !== null);
    const kh = this.kernelHalf;
    this.hooks.push({ invariants: { name: 'kernel half', ownedFrames: () => kh.frames, check: () => kh.check(this.mem) } });
    this.tmpfs = new Tmpfs(this);
    for (const install of bootModules) install(this);
  }

  /** The CPUs as at power-on: empty TLBs and caches, zero counters and clocks. */
  private bootCpus(): Cpu[] {
    const c = this.config;
    const cpus: Cpu[] = [];
    const perNode = Math.max(1, Math.ceil(c.cpus / c.nodes));
    // With caches on: one LLC per node, shared by that node's cores; L1D and L2 per core.
    const llcs = c.caches ? Array.from({ length: c.nodes }, () => CacheHierarchy.newLlc(c.profile.caches)) : [];
    for (let i = 0; i < c.cpus; i++) {
      const node = Math.min(c.nodes - 1, Math.floor(i / perNode));
      const opts = { id: i, node, tlb: c.tlb, costs: c.profile.params, paging: c.paging };
      const cpu = c.caches ? new CachedCpu(this.mem, { ...opts, caches: CacheHierarchy.forCore(c.profile.caches, llcs[node]) }) : new Cpu(this.mem, opts);
      cpu.writeCr4({ pcide: true, pge: true });
      cpu.faultHandler = (cp, f) => this.onFault(cp, f);
      cpus.push(cpu);
    }
    return cpus;
  }

  /**
   * Leave a machine with no processes as a fresh boot would: new CPUs (empty TLBs and caches,
   * zero counters and clocks), pids and the CPU round-robin from the start, the seeded random
   * stream from the seed, the event log empty, and the free PCIDs in boot order. Spaces that exist
   * (named spaces restored from a machine image) keep their PCIDs and, as new spaces do, are
   * flushed on every CPU before their first use. Used after restoring an image, whose loader
   * processes would otherwise leave their pids and modelled cycles behind.
   */
  resetToBoot(): void {
    if (this.processes.size > 0) throw new Error('resetToBoot: processes still exist');
    const cpus = this.bootCpus();
    this.cpus.splice(0, this.cpus.length, ...cpus);
    this.current = this.cpus[0];
    this.running.fill(null);
    this.loaded.fill(null);
    this.nextPid = 1;
    this.nextCpuForThread = 0;
    this.rng.reseed(this.config.seed);
    this.events.length = 0;
    this.lastUnresolved = null;
    const used = new Set<number>();
    for (const vs of this.spaces) {
      const pm = vs.pmap;
      pm.activeOn.clear();
      pm.taggedOn.clear();
      pm.staleOn.clear();
      if (pm.pcid !== 0) {
        used.add(pm.pcid);
        for (const cpu of this.cpus) pm.staleOn.add(cpu.id);
      }
    }
    this.freePcids.length = 0;
    for (let p = 4095; p >= 1; p--) if (!used.has(p)) this.freePcids.push(p);
    this.kernelHalf.resetSlots();
  }

  /** The cost parameters of the machine's profile (modelled cycles per event). */
  get costs(): CostParams { return this.config.profile.params; }

  private programCostsView: ProgramCosts | null = null;

  /**
   * What programs may read of the profile: the program-side costs (GUPS's per-update work, Nibble's
   * hashing and spinning, ...), frozen. The runtime hands it to programs as `rt.costs`, so a
   * program's own charges follow `--profile` and `--costs` like the kernel's.
   */
  get programCosts(): ProgramCosts {
    return (this.programCostsView ??= programCostsOf(this.config.profile.params));
  }

  // ------------------------------------------------------------------ VmHost

  /** A block of 4 KiB * 2^order, preferring `node` (clamped to the last node). Returns its physical
   *  address, or -1 when memory is exhausted (callers turn that into ENOMEM). Contents are not zeroed. */
  allocFrame(order: number, node: number): number {
    return this.frames.alloc(order, Math.min(node, this.config.nodes - 1));
  }

  /** Return a block from allocFrame; a block that was not allocated throws FrameAllocatorError. */
  freeFrame(pa: number, order: number): void {
    this.frames.free(pa, order);
  }

  /** Zero `bytes` of physical memory at `pa` (no cycles charged: the caller charges the zeroing). */
  zeroFrame(pa: number, bytes: number): void {
    this.mem.fill(pa, bytes, 0);
  }

  /** Copy `bytes` of physical memory (no cycles charged: the caller charges the copy). */
  copyFrame(dst: number, src: number, bytes: number): void {
    this.mem.copy(dst, src, bytes);
  }

  /** A zeroed 4 KiB frame for a page table, preferring `node`; -1 when memory is exhausted. */
  allocTablePage(node: number): number {
    const pa = this.allocFrame(0, node);
    if (pa >= 0) this.mem.fill(pa, 4096, 0);
    return pa;
  }

  /** Return a page-table frame from allocTablePage. The caller has unlinked it from every table. */
  freeTablePage(pa: number): void {
    this.frames.free(pa, 0);
  }

  /** Charge modelled cycles for kernel work to the CPU executing the kernel now (k.current). */
  charge(component: string, cycles: number): void {
    this.current.charge(component, cycles);
  }

  /** charge() for a CYC_* component (mmu/cpu.ts), without the name: for paths run once per page. */
  chargeAt(component: number, cycles: number): void {
    this.current.chargeAt(component, cycles);
  }

  /**
   * TLB shootdown for a pmap's queued invalidations: INVLPG (or a whole-PCID flush for big batches)
   * on every CPU that has it loaded — locally, or by IPI with its modelled cost on both sides —
   * and a deferred flush on CPUs that keep tagged entries of it while it is not loaded. Pmaps that
   * link its tables (a process's shadows, shared-policy shadows of a named space) see the same
   * edits, so the same invalidations reach them under their own tags.
   */
  flushPmap(pmap: Pmap): void {
    if (!pmap.hasPending) return;
    this.invalidateIn(pmap, pmap);
    for (const sharer of pmap.sharers.keys()) this.invalidateIn(sharer, pmap);
    pmap.clearPending();
  }

  /** Carry out `src`'s queued invalidations for `pmap` (its CPUs, its PCID). */
  private invalidateIn(pmap: Pmap, src: Pmap): void {
    const here = this.current;
    for (const id of pmap.activeOn) {
      const cpu = this.cpus[id];
      if (src.pendingFull) {
        cpu.invpcid(1, pmap.pcid);
      } else {
        for (const va of src.pendingVa) cpu.invlpgAddr(va);
      }
      if (cpu !== here) {
        here.charge('shootdown', this.costs.shootdownInitiator);
        cpu.charge('shootdown', this.costs.shootdownRemote);
      }
    }
    if (pmap.pcid !== 0) {
      for (const id of pmap.taggedOn) if (!pmap.activeOn.has(id)) pmap.staleOn.add(id);
    }
  }

  // ------------------------------------------------------------------ address spaces

  /** Every new address space shares the kernel half (called by Vmspace for its new pmap). */
  linkKernelHalf(pm: Pmap): void {
    this.kernelHalf.linkInto(pm);
  }

  /** A new address space; `tags` chooses whether it gets its own PCID. */
  newVmspace(kind: SpaceKind, name = '', tags: TagPolicy = this.config.tagPolicy): Vmspace {
    let base = MMAP_BASE;
    if (this.config.aslr && kind === 'primary') base += this.rng.below(ASLR_RANGE / 2 ** 21) * 2 ** 21;
    const vs = new Vmspace(this, kind, this.config.paging, base, name);
    this.setTagPolicy(vs, tags);
    this.spaces.add(vs);
    return vs;
  }

  /** Give `vs` its own PCID ('tagged') or tag 0 ('flush'). */
  setTagPolicy(vs: Vmspace, tags: TagPolicy): void {
    const pm = vs.pmap;
    if (tags === 'tagged' && pm.pcid === 0) {
      const pcid = this.freePcids.pop();
      if (pcid === undefined) fail('EAGAIN', 'no free PCID');
      pm.pcid = pcid;
      // A recycled PCID may have entries anywhere: every CPU flushes it before first use.
      for (const cpu of this.cpus) pm.staleOn.add(cpu.id);
      for (const id of [...pm.activeOn]) this.loadSpace(this.cpus[id], vs, true);
    } else if (tags === 'flush' && pm.pcid !== 0) {
      this.retirePcid(pm);
      for (const id of [...pm.activeOn]) this.loadSpace(this.cpus[id], vs, true);
    }
  }

  private retirePcid(pm: Pmap): void {
    if (pm.pcid === 0) return;
    this.freePcids.unshift(pm.pcid);
    pm.pcid = 0;
    pm.taggedOn.clear();
    pm.staleOn.clear();
  }

  /** Tear an address space down: unload it from every CPU, free its pages' references and page
   *  tables, retire its PCID. The caller has moved every thread out of it first. */
  destroyVmspace(vs: Vmspace): void {
    for (let i = 0; i < this.cpus.length; i++) if (this.loaded[i] === vs) this.unloadSpace(this.cpus[i]);
    vs.destroy();
    this.retirePcid(vs.pmap);
    this.spaces.delete(vs);
  }

  /** Point `cpu`'s CR3 at `vs` (tagged spaces keep their entries unless stale there). */
  loadSpace(cpu: Cpu, vs: Vmspace, force = false): void {
    if (this.loaded[cpu.id] === vs && !force) return;
    const old = this.loaded[cpu.id];
    if (old) old.pmap.activeOn.delete(cpu.id);
    const pm = vs.pmap;
    const stale = pm.staleOn.has(cpu.id);
    const keep = pm.pcid !== 0 && !stale;
    if (stale) pm.staleOn.delete(cpu.id);
    cpu.writeCr3(pm.root, pm.pcid, keep);
    pm.activeOn.add(cpu.id);
    if (pm.pcid !== 0) pm.taggedOn.add(cpu.id);
    this.loaded[cpu.id] = vs;
  }

  /** Forget which space `cpu`'s CR3 holds (CR3 itself is left as it is: nothing may run there until
   *  the next loadSpace). */
  unloadSpace(cpu: Cpu): void {
    const old = this.loaded[cpu.id];
    if (old) old.pmap.activeOn.delete(cpu.id);
    this.loaded[cpu.id] = null;
  }

  // ------------------------------------------------------------------ processes and threads

  /**
   * A new process with the standard layout: text (r-x), heap (rw-), a grow-down stack (rw-),
   * and one thread. `body` makes it a program the scheduler runs; without one, it is driven
   * statement by statement (traces, the shell).
   */
  spawn(name: string, cred: Credentials, opts: { parent?: Process | null; body?: ThreadBody | null; affinity?: number } = {}): Process {
    const primary = this.newVmspace('primary', name);
    const p = new Process(this.nextPid++, name, { ...cred }, primary, opts.parent ?? null);
    try {
      primary.mmap({ addr: TEXT_BASE, len: TEXT_SIZE, prot: PROT_READ | PROT_EXEC, flags: MAP_FIXED | MAP_PRIVATE, object: null, offset: 0, label: 'text' });
      primary.mmap({ addr: HEAP_BASE, len: HEAP_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_FIXED | MAP_PRIVATE, object: null, offset: 0, label: 'heap' });
      primary.mmap({ addr: STACK_TOP - STACK_SIZE, len: STACK_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_FIXED | MAP_PRIVATE, object: null, offset: 0, label: 'stack', entryFlags: ENTRY_GROWS_DOWN });
    } catch (e) {
      this.destroyVmspace(primary);
      throw e;
    }
    this.processes.set(p.pid, p);
    if (p.parent) p.parent.children.add(p);
    this.newThread(p, 'main', opts.body ?? null, opts.affinity ?? -1);
    this.log('spawn', `${name}[${p.pid}] uid=${cred.uid} gid=${cred.gid}`);
    return p;
  }

  /** A new runnable thread of `p` running `body`, pinned to `affinity` (-1: placed round-robin).
   *  Returns it; ESRCH when `p` is not live, EINVAL for a CPU the machine does not have. */
  newThread(p: Process, name: string, body: ThreadBody | null, affinity = -1): Thread {
    if (!p.live) fail('ESRCH', `${p.name} is not live`);
    if (affinity >= this.cpus.length) fail('EINVAL', `no CPU ${affinity}`);
    const t = new Thread(p, name);
    t.body = body;
    t.affinity = affinity;
    t.cpu = affinity >= 0 ? affinity : this.nextCpuForThread++ % this.cpus.length;
    t.readyAt = this.current.clock;
    for (const h of this.hooks) h.threadStart?.(t);
    p.threads.push(t);
    return t;
  }

  /**
   * fork: a child with a copy-on-write copy of the primary address space, the same credentials
   * and descriptors, and one thread (running `body`, or driven by statements). SpaceJMP
   * attachments are not inherited.
   */
  fork(parent: Thread, body: ThreadBody | null = null): Process {
    const pp = parent.process;
    const primary = this.newVmspace('primary', pp.name);
    const child = new Process(this.nextPid++, pp.name, { ...pp.cred }, primary, pp);
    pp.primary.forkInto(primary);
    for (const [fd, f] of pp.fds) {
      f.refCount++;
      child.fds.set(fd, f);
    }
    this.processes.set(child.pid, child);
    pp.children.add(child);
    this.newThread(child, 'main', body, -1);
    this.log('fork', `${pp.name}[${pp.pid}] -> [${child.pid}]`);
    return child;
  }

  /** End a process: threads stop, attachments go, descriptors close, memory is freed; the parent is told. */
  exit(p: Process, status: number, killedBy: string | null = null): void {
    if (!p.live) return;
    for (const t of p.threads) {
      for (const h of this.hooks) h.threadExit?.(t);
      this.stopThread(t);
    }
    for (const h of this.hooks) h.processExit?.(p);
    for (const [fd, f] of p.fds) {
      p.fds.delete(fd);
      if (--f.refCount === 0) f.close();
    }
    this.destroyVmspace(p.primary);
    for (const h of this.hooks) h.afterExit?.(p);
    p.state = 'zombie';
    p.exitStatus = status;
    p.killedBy = killedBy;
    for (const c of p.children) {
      c.parent = null;
      if (c.state === 'zombie') this.reap(c);
    }
    p.children.clear();
    this.log(killedBy ? 'fault-killed' : 'exit', killedBy ? `${p.name}[${p.pid}] killed: ${killedBy}` : `${p.name}[${p.pid}] exited with ${status}`);
    if (p.parent && p.parent.live) this.wakeAll(p.parent.childExit);
    else this.reap(p);
  }

  private stopThread(t: Thread): void {
    if (t.waitingOn) t.waitingOn.waiters.delete(t);
    t.waitingOn = null;
    t.state = 'exited';
    if (t.cpu >= 0 && this.running[t.cpu] === t) this.running[t.cpu] = null;
    if (t.body) {
      const b = t.body;
      t.body = null;
      try { b.return(0); } catch { /* a body that refuses to stop is stopped anyway */ }
    }
  }

  /** A thread ends (not the last one: the process goes on). */
  exitThread(t: Thread, code: number): void {
    const p = t.process;
    if (p.threads.every((x) => x === t || x.state === 'exited')) {
      this.exit(p, code);
      return;
    }
    for (const h of this.hooks) h.threadExit?.(t);
    t.exitCode = code;
    this.stopThread(t);
  }

  /** Forget a zombie: its pid is free and its parent no longer lists it. The caller checked it is a zombie. */
  reap(p: Process): void {
    p.state = 'reaped';
    this.processes.delete(p.pid);
    p.parent?.children.delete(p);
  }

  /** A zombie child of `p` (or the given pid), reaped; null if none yet; ECHILD if there can be none. */
  waitChild(p: Process, pid = -1): { pid: number; status: number; killedBy: string | null } | null {
    const kids = [...p.children].filter((c) => pid === -1 || c.pid === pid);
    if (kids.length === 0) fail('ECHILD', pid === -1 ? 'no children' : `${pid} is not a child`);
    const z = kids.find((c) => c.state === 'zombie');
    if (!z) return null;
    this.reap(z);
    return { pid: z.pid, status: z.exitStatus, killedBy: z.killedBy };
  }

  /** The live process `pid`; ESRCH when there is none (or it has exited). */
  process(pid: number): Process {
    const p = this.processes.get(pid);
    if (!p || !p.live) fail('ESRCH', `no process ${pid}`);
    return p;
  }

  // ------------------------------------------------------------------ running on a CPU

  /**
   * Make `t` the thread executing on its CPU (a context switch if another was there), with its
   * address space in CR3; kernel work from now on is charged to that CPU. Returns the CPU.
   */
  enter(t: Thread): Cpu {
    if (t.state === 'exited') fail('ESRCH', `${t.describe()} has exited`);
    const cpu = this.cpus[t.cpu];
    const prev = this.running[cpu.id];
    if (prev !== t) {
      if (prev && prev.state === 'running') prev.state = 'runnable';
      if (prev && prev.process !== t.process) cpu.chargeAt(CYC_CONTEXT_SWITCH, this.costs.contextSwitch);
      this.running[cpu.id] = t;
    }
    if (t.state !== 'blocked') t.state = 'running';
    this.current = cpu;
    this.loadSpace(cpu, t.space);
    return cpu;
  }

  /** Move `t` to sleep on `ch` (the scheduler will not run it until woken). */
  block(t: Thread, ch: WaitChannel): void {
    t.state = 'blocked';
    t.waitingOn = ch;
    ch.waiters.add(t);
  }

  /** Wake every thread on `ch`; they become runnable no earlier than now plus the wake-up cost. */
  wakeAll(ch: WaitChannel): number {
    const n = ch.waiters.size;
    if (n === 0) return 0; // every send and receive wakes its channel; mostly nobody sleeps there
    const now = this.current.clock;
    for (const t of ch.waiters) {
      t.waitingOn = null;
      if (t.state === 'blocked') t.state = 'runnable';
      const remote = t.cpu !== this.current.id;
      t.readyAt = Math.max(t.readyAt, now + (remote ? this.costs.wakeup : 0));
    }
    ch.waiters.clear();
    return n;
  }

  // ------------------------------------------------------------------ faults

  private onFault(cpu: Cpu, f: Fault): boolean {
    const t = this.running[cpu.id];
    if (!t || !t.process.live) return false;
    if (f.vector === VECTOR_GP) {
      const report = `general protection fault: non-canonical address ${formatAddr(f.va)}`;
      this.lastUnresolved = { va: f.va, access: f.access, mapped: false, report, vector: VECTOR_GP };
      return this.kill(t, report);
    }
    const saved = this.current;
    this.current = cpu;
    cpu.charge('fault', this.costs.pageFaultEntry);
    // Page-aligned addresses below 2^56 are exact as numbers; the report keeps the exact bigint.
    const out = vmFault(this, t.space, Number(f.va & ~4095n), f.access);
    this.current = saved;
    if (out.ok) return true;
    const report = `segmentation fault: ${faultReport(f.va, f.access, out)} in ${t.space.describe()}`;
    this.lastUnresolved = { va: f.va, access: f.access, mapped: out.entry !== null, report, vector: f.vector };
    return this.kill(t, report);
  }

  private kill(t: Thread, report: string): boolean {
    if (this.faultsAsErrors) return false;
    const p = t.process;
    this.exit(p, 128 + 11, report);
    throw new ProcessKilled(p, report);
  }

  // ------------------------------------------------------------------ user memory from the kernel

  /**
   * The physical address of user address (lo, hi) of `t`, translated as a user access would be
   * (faulting pages in); EFAULT when it cannot be. No closure and no BigInt on the way.
   */
  private userPa(t: Thread, lo: number, hi: number, access: AccessKind): number {
    const cpu = this.enter(t);
    const saved = this.faultsAsErrors;
    this.faultsAsErrors = true;
    try {
      return cpu.translateHalves(lo, hi, access, true);
    } catch (e) {
      if (e instanceof MachineFault) fail('EFAULT', `bad user address ${formatAddr(joinBig(lo, hi))}`);
      throw e;
    } finally {
      this.faultsAsErrors = saved;
    }
  }

  /** Bytes of the chunk userChunk last found. */
  private chunkBytes = 0;

  /**
   * The physical address of the chunk of the user range at `va` (`len` bytes) that starts `done`
   * bytes in: to the end of its page, at most the rest, its length left in chunkBytes. `v` is
   * numberRange(va, len): the start as a number when the whole range is below 2^53, so the common
   * case does no BigInt arithmetic; else -1.
   */
  private userChunk(t: Thread, va: UserAddr, v: number, done: number, len: number, access: AccessKind): number {
    let n: number;
    let pa: number;
    if (v >= 0) {
      const a = v + done;
      n = Math.min(len - done, 4096 - (a % 4096));
      const lo = a >>> 0;
      pa = this.userPa(t, lo, (a - lo) / 4294967296, access);
    } else {
      const a = BigInt(va) + BigInt(done);
      n = Math.min(len - done, 4096 - Number(a % 4096n));
      const [lo, hi] = splitBig(a);
      pa = this.userPa(t, lo, hi, access);
    }
    this.chunkBytes = n; // after the translation: a fault handler may copy user memory too
    return pa;
  }

  /** `va` as a number when the whole range [va, va+len] is below 2^53 (exact as doubles), else -1. */
  private static numberRange(va: UserAddr, len: number): number {
    if (typeof va === 'number') return va >= 0 && Number.isSafeInteger(va) && va + len <= SAFE_TOP ? va : -1;
    return va >= 0n && va <= SAFE_RANGE_TOP - BigInt(len) ? Number(va) : -1;
  }

  /** Run `fn` with unresolvable faults thrown as MachineFault rather than killing the process. */
  catchingFaults<T>(fn: () => T): T {
    const saved = this.faultsAsErrors;
    this.faultsAsErrors = true;
    try {
      return fn();
    } finally {
      this.faultsAsErrors = saved;
    }
  }

  /**
   * Visit the user range [va, va+len) of `t` page by page as physical chunks, in order, as the
   * kernel's copy loops do. `fn` gets the chunk's physical address, the bytes done before it and
   * its length, and returns how many bytes it used (fewer ends the walk). The walk stops at the
   * first page that cannot be accessed: EFAULT if that is the first, otherwise the bytes done
   * (a partial read/write, as Linux returns). Work is bounded by the pages actually visited.
   */
  forEachUserChunk(t: Thread, va: UserAddr, len: number, access: AccessKind, fn: (pa: number, done: number, n: number) => number): number {
    const v = Kernel.numberRange(va, len);
    let done = 0;
    while (done < len) {
      let pa: number;
      try {
        pa = this.userChunk(t, va, v, done, len, access);
      } catch (e) {
        if (done > 0 && e instanceof SysError && e.errno === ERRNO.EFAULT) break;
        throw e;
      }
      const n = this.chunkBytes;
      const used = fn(pa, done, n);
      done += used;
      if (used < n) break;
    }
    return done;
  }

  /** Copy `len` bytes of `t`'s memory at `va` into the kernel, faulting pages in as a user access
   *  would. Returns them; EFAULT (nothing copied) when any byte is unmapped or unreadable. Callers cap `len`
   *  (pipes, messages, words): it is a host buffer. */
  copyin(t: Thread, va: UserAddr, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const v = Kernel.numberRange(va, len);
    for (let done = 0; done < len; done += this.chunkBytes) {
      const pa = this.userChunk(t, va, v, done, len, ACCESS_READ);
      this.mem.readInto(pa, out, done, this.chunkBytes);
    }
    this.charge('copy', len * this.costs.copyPerByte);
    return out;
  }

  /** Copy `data` into `t`'s memory at `va`, faulting pages in as a user write would. EFAULT when a
   *  page is unmapped or read-only; the pages before it have been written by then (as copyout(9)). */
  copyout(t: Thread, va: UserAddr, data: Uint8Array): void {
    const len = data.length;
    const v = Kernel.numberRange(va, len);
    for (let done = 0; done < len; done += this.chunkBytes) {
      const pa = this.userChunk(t, va, v, done, len, ACCESS_WRITE);
      const n = this.chunkBytes;
      this.mem.writeBytes(pa, n === len ? data : data.subarray(done, done + n));
    }
    this.charge('copy', len * this.costs.copyPerByte);
  }

  // ------------------------------------------------------------------ reports

  /** Record a kernel event (kept: the last 1000–2000) with the current CPU and its clock. */
  log(kind: KernelEvent['kind'], text: string): void {
    this.events.push({ cycles: this.current.clock, cpu: this.current.id, kind, text });
    if (this.events.length > 2000) this.events.splice(0, this.events.length - 1000);
  }

  /** Total modelled cycles across CPUs. */
  get totalCycles(): number {
    return this.cpus.reduce((s, c) => s + c.clock, 0);
  }

  /** True when `e` is a SysError (an errno raised in the kernel). */
  static isSysError(e: unknown): e is SysError { return e instanceof SysError; }
}

export { ERRNO, joinBig, ACCESS_READ, ACCESS_WRITE };
