// The kernel half: the emulated kernel's own text, data and per-CPU pages (globaldata and kernel
// stack), mapped supervisor-only at KERNBASE in a kernel pmap, whose table just below the root is
// linked into the root of every address space — the way x86 kernels share their upper PML4
// entries. The kernel's own memory references (the syscall path, vas_switch's handle lookup and
// pmap activation) are made through the running CPU's TLB, paging-structure caches, walker and
// data caches (Cpu.kernelRef), so a flushing CR3 write really drops the kernel's non-global
// entries and the next kernel entry really refills them by walks. Whether the kernel's leaves are
// global is the profile's `kernelGlobal`.
//
// The paths are a small, fixed model of DragonFly BSD's x86-64 code: which routines run (one
// instruction-fetch reference per routine entered, on the routine's text page) and which kernel
// objects they read and write (one reference per 64-byte line). docs/cost-model.md lists them and
// where the counts come from. Objects (proc, vmspace/pmap, segment lock) are placed in the data
// pages by a per-kernel slot number, so kernel objects spread over pages as a kernel heap does and
// the placement is the same in every run.

import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../mmu/pageWalker.js';
import type { Cpu } from '../mmu/cpu.js';
import { TWO32 } from '../mmu/address.js';
import { Pmap, type PmapHost } from './vm/pmap.js';
import { softWalkVa, type TableMemory } from '../mmu/pageTableReader.js';

/** -2 GiB: where x86-64 kernels (DragonFly's KERNBASE) link their image. Exact as a number. */
export const KERNBASE = 2 ** 64 - 2 ** 31;
/** Kernel text: in the 2 MiB region after KERNBASE (the image is loaded 2 MiB up). */
export const KTEXT = KERNBASE + 2 ** 21;
export const KTEXT_PAGES = 8;
/** Kernel data (static tables and the kernel heap's objects): the next 2 MiB region. */
export const KDATA = KERNBASE + 2 * 2 ** 21;
export const KDATA_PAGES = 32;
/** Per-CPU pages (globaldata, then the kernel stack), two per CPU, in a 2 MiB region of their own. */
export const KPERCPU = KERNBASE + 32 * 2 ** 21;
const PERCPU_PAGES = 2;

/** Text pages, one per group of routines (the TLB sees pages, not routines). */
export const TEXT_ENTRY = 0; // Xfast_syscall, doreti / sysretq
export const TEXT_SYSCALL = 1; // syscall2: sysent dispatch, argument copy
export const TEXT_VAS = 2; // sys_vas_switch: handle lookup, VAS lock
export const TEXT_PMAP = 3; // pmap_activate / cpu_switch's CR3 path
export const TEXT_LOCK = 4; // lock primitives (segment rwlocks), wakeup

/** Data pages: 0 = sysent; proc structs on 1..8; vmspace+pmap on 9..24; segment locks on 25..31. */
const DATA_SYSENT = 0;
const DATA_PROC = 1;
const PROC_PAGES = 8;
const DATA_SPACE = 9;
const SPACE_PAGES = 16;
const DATA_LOCK = 25;
const LOCK_PAGES = 7;
/** Lines per page. */
const LINES = 64;

/** A kernel object the kernel half places in its data pages: its slot is kept on it (see KernelHalf.slot). */
export interface KernelObject {
  kernelSlot: number;
  kernelSlotGen: number;
}

/** Numberings of kernel slots, unique across kernels in this host process (see KernelHalf.slot). */
let nextSlotGen = 1;

/** What the kernel half needs from the kernel. */
export interface KernelHalfHost extends PmapHost {
  allocFrame(order: number, node: number): number;
}

export class KernelHalf {
  /** The kernel's own pmap: owns the kernel half's tables (never loaded in CR3 by itself). */
  readonly pmap: Pmap;
  /** Bytes of frames the kernel half holds for good (its pages and its tables). */
  get bytes(): number {
    return this.frames.reduce((n, f) => n + 4096 * 2 ** f.order, 0) + 4096 * this.pmap.tablePages;
  }

  /** Frames of the kernel's text, data and per-CPU pages, for the invariant checker. */
  readonly frames: { pa: number; order: number }[] = [];
  /** The kernel half's leaves: VA -> frame, for the invariant checker. */
  readonly leaves = new Map<number, number>();
  /**
   * Slot numbers of kernel objects (per kernel, in order of first use), kept on the objects
   * (KernelObject) and valid while their `kernelSlotGen` is this numbering's: a field read per
   * reference instead of a WeakMap lookup.
   */
  private slotGen = nextSlotGen++;
  private nextSlot = 0;
  /**
   * The kernel-half page addresses as halves (lo, hi), by text page, data page and per-CPU page,
   * as int32 (Cpu.kernelRef takes either form): small integers are passed to a call as they are,
   * where a uint32 above 2^31 is a heap number, allocated per call.
   */
  private readonly textLo = new Int32Array(KTEXT_PAGES);
  private readonly textHi = new Int32Array(KTEXT_PAGES);
  private readonly dataLo = new Int32Array(KDATA_PAGES);
  private readonly dataHi = new Int32Array(KDATA_PAGES);
  private readonly percpuLo: Int32Array;
  private readonly percpuHi: Int32Array;

  /**
   * `hasSpace(cpu)`: whether the CPU's CR3 holds a live address space. A CPU whose space was just
   * torn down (exit) has none until the next load; the kernel's references made there are not
   * modelled (a real kernel would be running on its own pmap then).
   */
  constructor(host: KernelHalfHost, levels: 4 | 5, readonly cpus: number, readonly global: boolean, nodeOfCpu: (cpu: number) => number, private readonly hasSpace: (cpu: Cpu) => boolean) {
    this.pmap = new Pmap(host, levels);
    const map = (va: number, pages: number, node: number, writable: boolean, nx: boolean): void => {
      const order = Math.ceil(Math.log2(pages));
      const pa = host.allocFrame(order, node);
      if (pa < 0) throw new RangeError('no memory for the kernel half');
      this.frames.push({ pa, order });
      for (let i = 0; i < pages; i++) {
        if (this.pmap.enter(va + i * 4096, pa + i * 4096, { writable, user: false, nx, global }) < 0) throw new RangeError('no memory for the kernel half');
        this.leaves.set(va + i * 4096, pa + i * 4096);
      }
    };
    map(KTEXT, KTEXT_PAGES, 0, false, false);
    map(KDATA, KDATA_PAGES, 0, true, true);
    for (let c = 0; c < cpus; c++) map(KPERCPU + c * PERCPU_PAGES * 4096, PERCPU_PAGES, nodeOfCpu(c), true, true);
    this.pmap.clearPending();
    const halves = (va: number, lo: Int32Array, hi: Int32Array, i: number): void => {
      lo[i] = va % TWO32; // page-aligned, so exact as a number; stored as int32 (a line offset never carries)
      hi[i] = Math.floor(va / TWO32);
    };
    for (let i = 0; i < KTEXT_PAGES; i++) halves(KTEXT + i * 4096, this.textLo, this.textHi, i);
    for (let i = 0; i < KDATA_PAGES; i++) halves(KDATA + i * 4096, this.dataLo, this.dataHi, i);
    this.percpuLo = new Int32Array(cpus * PERCPU_PAGES);
    this.percpuHi = new Int32Array(cpus * PERCPU_PAGES);
    for (let i = 0; i < cpus * PERCPU_PAGES; i++) halves(KPERCPU + i * 4096, this.percpuLo, this.percpuHi, i);
  }

  /** Link the kernel half into a new address space's root (its top-level entry for KERNBASE). */
  linkInto(pm: Pmap): void {
    const t = this.pmap.tableAt(KERNBASE, this.pmap.levels - 1);
    if (!t) throw new Error('kernel half: no table below the root');
    if (pm.linkSubtree(KERNBASE, t) !== 0) throw new Error('kernel half: the top entry for KERNBASE is taken');
  }

  /** Problems for the invariant checker: every kernel leaf present, supervisor-only, on its frame. */
  check(mem: TableMemory): string[] {
    const out: string[] = [];
    const n = this.pmap.leaves[1];
    if (n !== this.leaves.size) out.push(`the kernel half's tables hold ${n} leaves, not its ${this.leaves.size} pages`);
    for (const [va, pa] of this.leaves) {
      const w = softWalkVa(mem, this.pmap.root, this.pmap.levels, va);
      if (!w.present || w.frame !== pa) out.push(`kernel page ${va.toString(16)} is not mapped to its frame ${pa.toString(16)}`);
      else if (w.user) out.push(`kernel page ${va.toString(16)} is user-accessible`);
    }
    return out;
  }

  /**
   * Number kernel objects from 0 again, as at boot (Kernel.resetToBoot after an image is loaded:
   * the loader's processes and the restored objects took slots). Objects that already had one are
   * numbered again when next used; sharing a slot only means sharing kernel data lines.
   */
  resetSlots(): void {
    this.slotGen = nextSlotGen++;
    this.nextSlot = 0;
  }

  /** The slot of a kernel object (per kernel, stable for the object's life). */
  slot(o: KernelObject): number {
    if (o.kernelSlotGen !== this.slotGen) {
      o.kernelSlotGen = this.slotGen;
      o.kernelSlot = this.nextSlot++;
    }
    return o.kernelSlot;
  }

  // ------------------------------------------------------------------ references
  //
  // A kernel-half address is a page address plus a line offset, given as halves (lo, hi): the
  // address itself would need more than 53 bits (page addresses alone are exact as numbers). A
  // path's references are made as one run of the CPU's (beginKernelRefs .. endKernelRefs), which
  // sets the user counters aside once per path; the one-reference methods make a run of one.
  // A CPU whose CR3 holds no live space (see hasSpace) makes none, but the objects a path names
  // are numbered all the same (first use is the path, not the reference), as they always were.

  /** An instruction fetch on text page `page` (one per routine entered), in a run. */
  private textIn(cpu: Cpu, page: number): void {
    cpu.kernelRefIn(this.textLo[page], this.textHi[page], ACCESS_EXEC);
  }

  private dataIn(cpu: Cpu, page: number, line: number, access: AccessKind): void {
    cpu.kernelRefIn(this.dataLo[page] + (line % LINES) * 64, this.dataHi[page], access);
  }

  private percpuIn(cpu: Cpu, page: number, line: number, access: AccessKind, lines = 1): void {
    const i = cpu.id * PERCPU_PAGES + page;
    cpu.kernelRefIn(this.percpuLo[i] + line * 64, this.percpuHi[i], access, lines);
  }

  /** A line of a proc structure (two lines each: 0 = thread/proc header, 1 = the VAS handle table and its lock). */
  private procLineIn(cpu: Cpu, proc: KernelObject, line: 0 | 1, access: AccessKind): void {
    const s = this.slot(proc);
    this.dataIn(cpu, DATA_PROC + (s % PROC_PAGES), Math.floor(s / PROC_PAGES) * 2 + line, access);
  }

  /** A line of an address space's vmspace+pmap structure (0 = vmspace, 1 = pmap: pm_active, pm_pml4). */
  private spaceLineIn(cpu: Cpu, space: KernelObject, line: 0 | 1, access: AccessKind): void {
    const s = this.slot(space);
    this.dataIn(cpu, DATA_SPACE + (s % SPACE_PAGES), Math.floor(s / SPACE_PAGES) * 2 + line, access);
  }

  /** The line holding a segment's lock word. */
  private lockLineIn(cpu: Cpu, seg: KernelObject, access: AccessKind): void {
    const s = this.slot(seg);
    this.dataIn(cpu, DATA_LOCK + (s % LOCK_PAGES), Math.floor(s / LOCK_PAGES), access);
  }

  /** An instruction fetch on text page `page` (one per routine entered). */
  text(cpu: Cpu, page: number): void {
    if (!this.hasSpace(cpu)) return;
    cpu.beginKernelRefs();
    try { this.textIn(cpu, page); } finally { cpu.endKernelRefs(); }
  }

  /** A line of a proc structure (see procLineIn). */
  procLine(cpu: Cpu, proc: KernelObject, line: 0 | 1, access: AccessKind): void {
    this.slot(proc);
    if (!this.hasSpace(cpu)) return;
    cpu.beginKernelRefs();
    try { this.procLineIn(cpu, proc, line, access); } finally { cpu.endKernelRefs(); }
  }

  /** A line of an address space's vmspace+pmap structure (see spaceLineIn). */
  spaceLine(cpu: Cpu, space: KernelObject, line: 0 | 1, access: AccessKind): void {
    this.slot(space);
    if (!this.hasSpace(cpu)) return;
    cpu.beginKernelRefs();
    try { this.spaceLineIn(cpu, space, line, access); } finally { cpu.endKernelRefs(); }
  }

  /** The line holding a segment's lock word. */
  lockLine(cpu: Cpu, seg: KernelObject, access: AccessKind): void {
    this.slot(seg);
    if (!this.hasSpace(cpu)) return;
    cpu.beginKernelRefs();
    try { this.lockLineIn(cpu, seg, access); } finally { cpu.endKernelRefs(); }
  }

  /** sys_vas_switch's entry: its text, and the process's VAS handle table and lock (one line). */
  vasSwitchEntry(cpu: Cpu, proc: KernelObject): void {
    this.slot(proc);
    if (!this.hasSpace(cpu)) return;
    cpu.beginKernelRefs();
    try {
      this.textIn(cpu, TEXT_VAS);
      this.procLineIn(cpu, proc, 1, ACCESS_WRITE);
    } finally {
      cpu.endKernelRefs();
    }
  }

  /** pmap_activate: its text, then pm_active in the old space's pmap and in the new one's. */
  pmapActivate(cpu: Cpu, from: KernelObject, to: KernelObject): void {
    this.slot(from);
    this.slot(to);
    if (!this.hasSpace(cpu)) return;
    cpu.beginKernelRefs();
    try {
      this.textIn(cpu, TEXT_PMAP);
      this.spaceLineIn(cpu, from, 1, ACCESS_WRITE);
      this.spaceLineIn(cpu, to, 1, ACCESS_WRITE);
    } finally {
      cpu.endKernelRefs();
    }
  }

  /** A segment lock taken or released: the lock primitives' text and the lock word's line. */
  lockOp(cpu: Cpu, seg: KernelObject): void {
    this.slot(seg);
    if (!this.hasSpace(cpu)) return;
    cpu.beginKernelRefs();
    try {
      this.textIn(cpu, TEXT_LOCK);
      this.lockLineIn(cpu, seg, ACCESS_WRITE);
    } finally {
      cpu.endKernelRefs();
    }
  }

  /**
   * System-call entry (Xfast_syscall, then syscall2): the entry stub's text, the per-CPU
   * globaldata (curthread, the kernel stack pointer), the trapframe pushed on the kernel stack
   * (176 bytes: three lines), syscall2's text, the calling process's header, its sysent entry.
   */
  syscallEntry(cpu: Cpu, proc: KernelObject, number: number): void {
    this.slot(proc);
    if (!this.hasSpace(cpu)) return;
    cpu.beginKernelRefs();
    try {
      this.textIn(cpu, TEXT_ENTRY);
      this.percpuIn(cpu, 0, 0, ACCESS_READ);
      this.percpuIn(cpu, 1, 61, ACCESS_WRITE, 3);
      this.textIn(cpu, TEXT_SYSCALL);
      this.procLineIn(cpu, proc, 0, ACCESS_READ);
      this.dataIn(cpu, DATA_SYSENT, Math.floor(Math.max(0, number) / 2), ACCESS_READ);
    } finally {
      cpu.endKernelRefs();
    }
  }

  /** System-call exit: the return path's text and the trapframe read back from the kernel stack. */
  syscallExit(cpu: Cpu): void {
    if (!this.hasSpace(cpu)) return;
    cpu.beginKernelRefs();
    try {
      this.textIn(cpu, TEXT_ENTRY);
      this.percpuIn(cpu, 1, 61, ACCESS_READ, 3);
    } finally {
      cpu.endKernelRefs();
    }
  }
}
