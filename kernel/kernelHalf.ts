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
  /** Slot numbers of kernel objects (per kernel, in order of first use). */
  private slots = new WeakMap<object, number>();
  private nextSlot = 0;

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
    this.slots = new WeakMap();
    this.nextSlot = 0;
  }

  /** The slot of a kernel object (per kernel, stable for the object's life). */
  slot(o: object): number {
    let s = this.slots.get(o);
    if (s === undefined) this.slots.set(o, (s = this.nextSlot++));
    return s;
  }

  // ------------------------------------------------------------------ references

  /**
   * One reference at byte `offset` of the kernel page at `page` (page-aligned, so exact as a
   * number: a kernel-half address with a line offset would need more than 53 bits).
   */
  private ref(cpu: Cpu, page: number, offset: number, access: AccessKind, lines = 1): void {
    if (!this.hasSpace(cpu)) return;
    cpu.kernelRef(((page >>> 0) + offset) >>> 0, Math.floor(page / TWO32), access, lines);
  }

  /** An instruction fetch on text page `page` (one per routine entered). */
  text(cpu: Cpu, page: number): void { this.ref(cpu, KTEXT + page * 4096, 0, ACCESS_EXEC); }

  private data(cpu: Cpu, page: number, line: number, access: AccessKind): void {
    this.ref(cpu, KDATA + page * 4096, (line % LINES) * 64, access);
  }

  private percpu(cpu: Cpu, page: number, line: number, access: AccessKind, lines = 1): void {
    this.ref(cpu, KPERCPU + (cpu.id * PERCPU_PAGES + page) * 4096, line * 64, access, lines);
  }

  /** A line of a proc structure (two lines each: 0 = thread/proc header, 1 = the VAS handle table and its lock). */
  procLine(cpu: Cpu, proc: object, line: 0 | 1, access: AccessKind): void {
    const s = this.slot(proc);
    this.data(cpu, DATA_PROC + (s % PROC_PAGES), Math.floor(s / PROC_PAGES) * 2 + line, access);
  }

  /** A line of an address space's vmspace+pmap structure (0 = vmspace, 1 = pmap: pm_active, pm_pml4). */
  spaceLine(cpu: Cpu, space: object, line: 0 | 1, access: AccessKind): void {
    const s = this.slot(space);
    this.data(cpu, DATA_SPACE + (s % SPACE_PAGES), Math.floor(s / SPACE_PAGES) * 2 + line, access);
  }

  /** The line holding a segment's lock word. */
  lockLine(cpu: Cpu, seg: object, access: AccessKind): void {
    const s = this.slot(seg);
    this.data(cpu, DATA_LOCK + (s % LOCK_PAGES), Math.floor(s / LOCK_PAGES), access);
  }

  /**
   * System-call entry (Xfast_syscall, then syscall2): the entry stub's text, the per-CPU
   * globaldata (curthread, the kernel stack pointer), the trapframe pushed on the kernel stack
   * (176 bytes: three lines), syscall2's text, the calling process's header, its sysent entry.
   */
  syscallEntry(cpu: Cpu, proc: object, number: number): void {
    this.text(cpu, TEXT_ENTRY);
    this.percpu(cpu, 0, 0, ACCESS_READ);
    this.percpu(cpu, 1, 61, ACCESS_WRITE, 3);
    this.text(cpu, TEXT_SYSCALL);
    this.procLine(cpu, proc, 0, ACCESS_READ);
    this.data(cpu, DATA_SYSENT, Math.floor(Math.max(0, number) / 2), ACCESS_READ);
  }

  /** System-call exit: the return path's text and the trapframe read back from the kernel stack. */
  syscallExit(cpu: Cpu): void {
    this.text(cpu, TEXT_ENTRY);
    this.percpu(cpu, 1, 61, ACCESS_READ, 3);
  }
}
