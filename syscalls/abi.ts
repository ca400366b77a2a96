// The ABI a program and its runtime are built against: the types, layout constants, flags and
// error values a program needs, in one place, so userland/ imports syscalls/ and never kernel/ or
// mmu/ (the lint enforces it). Everything here is either a constant of the system-call interface
// or a type; nothing here lets a program reach a kernel structure.
//
// `Machine` and `ThreadHandle` are opaque to programs: the runtime holds them to make system calls
// (syscall(machine, thread, ...)) and to learn which CPU its thread runs on (machine.enter); a
// program never reads their fields. `UserCpu` is the part of a CPU that user code executes: loads,
// stores, the batch read-modify-write, the time-stamp counter and its identity (id, node).

import type { Kernel } from '../kernel/kernel.js';
import type { Thread } from '../kernel/proc/process.js';
import { Cpu } from '../mmu/cpu.js';

export type { Credentials, ThreadBody, YieldRequest } from '../kernel/proc/process.js';
export { SysError, errnoName, errnoValue, ERRNO, type ErrnoName } from '../kernel/errno.js';
export { HEAP_BASE, HEAP_SIZE, STACK_TOP, STACK_SIZE, RESERVED_START, TEXT_BASE, MMAP_BASE } from '../kernel/layout.js';
export {
  VAS_PRIMARY, VAS_CURRENT, VAS_NOWAIT, VAS_CTL_INFO, VAS_CTL_DELETE, VAS_CTL_TAGS, VAS_CTL_CHMOD, VAS_CTL_PTPOLICY,
  SEG_CTL_INFO, SEG_CTL_DELETE, SEG_CTL_LOCKABLE, SEG_CTL_CHMOD, SEG_2M,
} from '../kernel/spacejmp/spacejmp.js';
export type { CpuCounters, CacheCounters } from '../mmu/cpu.js';
import type { CpuCounters, CacheCounters } from '../mmu/cpu.js';
/** One core's hardware counters as a PMU read gives them: with the cache counters when caches are modelled. */
export type PerfCounters = CpuCounters & { caches?: CacheCounters };
/** The program-side costs of the machine's profile (read-only; docs/cost-model.md lists them). */
export type { ProgramCosts } from '../mmu/costModel.js';

/** The machine a runtime makes system calls into (opaque to programs). */
export type Machine = Kernel;
/** The kernel's thread a runtime acts for (opaque to programs). */
export type ThreadHandle = Thread;

/** What user code executes on the CPU its thread runs on. */
export type UserCpu = Pick<Cpu,
  'load8' | 'store8' | 'load16' | 'store16' | 'load32' | 'store32' | 'load64' | 'store64' | 'xor64'
  | 'xor64Batch' | 'store64Batch' | 'load64Batch' | 'load32Batch' | 'copy64' | 'copy32' | 'load32Seq' | 'store32Seq'
  | 'hi' | 'clock' | 'rdtsc' | 'charge' | 'id' | 'node' | 'counters'>;

/** Most accesses one batch call (xor64Batch, store64Batch, load64Batch, load32Batch) takes: the CPU's Cpu.BATCH. */
export const BATCH_MAX: number = Cpu.BATCH;
/** The same limit under its first name (xor64Batch came first). */
export const XOR_BATCH_MAX: number = BATCH_MAX;

/** A CPU of the machine as a program sees its topology (sysfs-style): its number and socket. */
export interface CpuInfo { id: number; node: number }
