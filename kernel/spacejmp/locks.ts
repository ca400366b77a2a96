// Segment locks (reference §8.1): a thread in a space that maps a lockable segment holds its lock,
// as a reader when mapped read-only, as the writer when writable. One rule for every way a
// segment becomes reachable where a thread runs (vas_switch, seg_attach into a space with threads
// in it, a segment made lockable): check that every lock can be granted before changing anything,
// then make each affected thread's held locks exactly those of its space.

import type { Thread, WaitChannel } from '../proc/process.js';
import type { Vmspace } from '../vm/vmspace.js';
import { PROT_WRITE, ENTRY_SEGMENT } from '../vm/vmMap.js';
import type { Segment } from './segment.js';

export interface HeldLock { seg: Segment; write: boolean }
export interface LockRequest { t: Thread; seg: Segment; write: boolean }

export class LockTable {
  private readonly held = new Map<Thread, HeldLock[]>();
  private readonly cache = new WeakMap<Vmspace, { stamp: number; gen: number; locks: HeldLock[] }>();
  /** Bumped whenever a segment becomes (un)lockable: cached lock lists are stale then. */
  private gen = 0;

  /**
   * `wake` wakes a released lock's waiters; `lockOp` is told of every acquire and release (the
   * kernel charges each one's locked read-modify-write).
   */
  constructor(
    private readonly segments: ReadonlyMap<number, Segment>,
    private readonly wake: (ch: WaitChannel) => void,
    private readonly lockOp: (seg: Segment) => void = () => {},
  ) {}

  lockableChanged(): void { this.gen++; }

  /**
   * The locks a thread in `space` holds. Cached per space: recomputed only when its map changed
   * (map.timestamp) or some segment became (un)lockable, since every switch asks.
   */
  locksFor(space: Vmspace): HeldLock[] {
    const c = this.cache.get(space);
    if (c && c.stamp === space.map.timestamp && c.gen === this.gen) return c.locks;
    const out: HeldLock[] = [];
    for (const e of space.map.entries) {
      if ((e.flags & ENTRY_SEGMENT) === 0) continue;
      const seg = this.segments.get(e.segment);
      if (seg?.lockable) out.push({ seg, write: (e.prot & PROT_WRITE) !== 0 });
    }
    this.cache.set(space, { stamp: space.map.timestamp, gen: this.gen, locks: out });
    return out;
  }

  heldBy(t: Thread): readonly HeldLock[] {
    return this.held.get(t) ?? [];
  }

  /**
   * The segment whose lock blocks the requests (granted together, on top of what is held now;
   * a thread's own holdings never block it), or null when all can be granted.
   */
  conflict(reqs: readonly LockRequest[]): Segment | null {
    const state = new Map<Segment, { writer: Thread | null; readers: Set<Thread> }>();
    for (const r of reqs) {
      let s = state.get(r.seg);
      if (!s) state.set(r.seg, (s = { writer: r.seg.lock.writer, readers: new Set(r.seg.lock.readers.keys()) }));
      if (s.writer !== null && s.writer !== r.t) return r.seg;
      if (r.write) {
        for (const x of s.readers) if (x !== r.t) return r.seg;
        s.writer = r.t;
      } else {
        s.readers.add(r.t);
      }
    }
    return null;
  }

  /**
   * Make `t`'s held locks exactly those of `t.space` (or none, or `want` when the caller has
   * them at hand): release the rest, take what is missing.
   */
  reconcile(t: Thread, none = false, want: readonly HeldLock[] = none ? [] : this.locksFor(t.space)): void {
    const have = this.held.get(t);
    if (!have && want.length === 0) return; // the common case on every switch: nothing to do
    if (!have) {
      for (const w of want) { w.seg.lock.acquire(t, w.write); this.lockOp(w.seg); }
      this.held.set(t, want.map((w) => ({ seg: w.seg, write: w.write })));
      return;
    }
    const keep: HeldLock[] = [];
    for (const h of have) {
      if (want.some((w) => w.seg === h.seg && w.write === h.write)) keep.push(h);
      else {
        h.seg.lock.release(t, h.write);
        this.lockOp(h.seg);
        this.wake(h.seg.lock.channel);
      }
    }
    for (const w of want) {
      if (keep.some((h) => h.seg === w.seg && h.write === w.write)) continue;
      w.seg.lock.acquire(t, w.write);
      this.lockOp(w.seg);
      keep.push({ seg: w.seg, write: w.write });
    }
    if (keep.length) this.held.set(t, keep);
    else this.held.delete(t);
  }

  /** Problems for the invariant checker: a thread holding other locks than its space calls for. */
  check(threads: Iterable<Thread>): string[] {
    const out: string[] = [];
    for (const t of threads) {
      const want = t.state === 'exited' ? [] : this.locksFor(t.space);
      const have = this.held.get(t) ?? [];
      const same = want.length === have.length && want.every((w) => have.some((h) => h.seg === w.seg && h.write === w.write));
      if (!same) out.push(`${t.describe()} holds [${have.map(describe).join(', ')}] but its space calls for [${want.map(describe).join(', ')}]`);
    }
    for (const t of this.held.keys()) if (t.state === 'exited') out.push(`${t.describe()} exited holding segment locks`);
    return out;
  }
}

function describe(h: HeldLock): string {
  return `${h.seg.name}:${h.write ? 'w' : 'r'}`;
}
