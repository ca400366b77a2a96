// The epoch table (reference §4.5): one cache line per thread, holding the core's TSC taken when the
// thread began its current operation, or 0 when it is between operations. No shared counter is ever
// incremented; compaction scans the table for the minimum to decide what it may release.
//
// The emulated cores' clocks are not synchronised the way the reference assumes of real TSCs (§4.6):
// the scheduler lets a core run ahead of another within a step. So a reclamation tag is the later of
// the compacting core's TSC and the largest epoch it sees at tagging time — the §4.6 remedy of
// allowing for the largest clock difference. Every thread active when the tag is taken then holds an
// epoch <= tag and keeps the segment until it quiesces.

import type { MemPort } from './mem.js';
import type { Shape } from './shape.js';
import { TWO32 } from './mem.js';

export function pin(s: Shape, m: MemPort, slot: number): void {
  const tsc = Math.max(1, m.rdtsc());
  m.charge('rdtsc', m.costs.rdtsc);
  const a = s.epochSlot(slot);
  m.store32(a, tsc % TWO32 | 0);
  m.store32(a + 4, Math.floor(tsc / TWO32) | 0);
}

export function quiesce(s: Shape, m: MemPort, slot: number): void {
  const a = s.epochSlot(slot);
  m.store32(a, 0);
  m.store32(a + 4, 0);
}

/** Smallest epoch of an active thread, or Infinity when every thread is quiescent. */
export function minEpoch(s: Shape, m: MemPort, threads: number): number {
  let min = Infinity;
  for (let i = 0; i < threads; i++) {
    const a = s.epochSlot(i);
    const v = (m.load32(a) >>> 0) + (m.load32(a + 4) >>> 0) * TWO32;
    if (v !== 0 && v < min) min = v;
  }
  return min;
}

/** The tag for a segment retired now (see the note at the top). */
export function reclaimTag(s: Shape, m: MemPort, threads: number): number {
  let tag = m.rdtsc();
  m.charge('rdtsc', m.costs.rdtsc);
  for (let i = 0; i < threads; i++) {
    const a = s.epochSlot(i);
    const v = (m.load32(a) >>> 0) + (m.load32(a + 4) >>> 0) * TWO32;
    if (v > tag) tag = v;
  }
  return tag;
}
