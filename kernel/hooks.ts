// How a kernel module (SpaceJMP) takes part in the kernel without the kernel importing it: at boot
// (kernel.ts registerBootModule) it pushes one LifecycleHooks onto kernel.hooks — lifecycle callbacks plus what it contributes to
// the invariant checker. This is the one registration mechanism; kernel.ts and invariants.ts both
// depend on this file and not on each other's internals.

import type { Process, Thread } from './proc/process.js';
import type { VmObject } from './vm/vmObject.js';

/**
 * What a module contributes to the invariant checker (kernel/invariants.ts): the objects and
 * frames it holds outside vmspaces and tmpfs, so they count as owned and referenced rather than
 * leaked, plus its own checks.
 */
export interface InvariantContributor {
  readonly name: string;
  /** Objects the module holds references on (a segment's wired object): one each, or as many as `refs`. */
  heldObjects?(): Iterable<VmObject | { object: VmObject; refs: number }>;
  /** Frames the module owns directly, outside any vm object or page table. */
  ownedFrames?(): Iterable<{ pa: number; order: number }>;
  /** The module's own invariants; each string is one problem. */
  check?(): string[];
}

/** Hooks a higher kernel module installs to take part in thread and process lifecycles. */
export interface LifecycleHooks {
  /** A new thread is about to start in its process's primary: take what it needs there, or
   *  fail (a SysError; the thread is not created). */
  threadStart?(t: Thread): void;
  /** A thread is leaving its address space for good (exit): release what it holds there. */
  threadExit?(t: Thread): void;
  /** A process is exiting: detach everything it attached. */
  processExit?(p: Process): void;
  /** The process's primary address space is gone. */
  afterExit?(p: Process): void;
  /** What the module owns, for the kernel invariant checker. */
  invariants?: InvariantContributor;
}
