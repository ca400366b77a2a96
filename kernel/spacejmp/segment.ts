// SpaceJMP memory segments (reference §8.1, Figure 39): a contiguous virtual range in the reserved
// region, backed by wired physical pages reserved at creation, with a name, an owner and mode
// bits like a file. Segments outlive their creator; a deleted segment lives on until unused.

import type { VmObject } from '../vm/vmObject.js';
import type { Credentials, Thread } from '../proc/process.js';
import { WaitChannel } from '../proc/process.js';

export interface Owned {
  uid: number;
  gid: number;
  mode: number;
}

/** Whether `cred` is in group `gid`: its primary group or one of its supplementary groups. */
export function inGroup(cred: Credentials, gid: number): boolean {
  return cred.gid === gid || (cred.groups?.includes(gid) ?? false);
}

/** File-style permission check: owner, group (primary or supplementary), then other bits; uid 0 passes. */
export function mayAccess(cred: Credentials, o: Owned, want: 'r' | 'w'): boolean {
  if (cred.uid === 0) return true;
  const bit = want === 'r' ? 4 : 2;
  const shift = cred.uid === o.uid ? 6 : inGroup(cred, o.gid) ? 3 : 0;
  return ((o.mode >> shift) & bit) !== 0;
}

export function modeString(mode: number): string {
  const s = (m: number) => (m & 4 ? 'r' : '-') + (m & 2 ? 'w' : '-') + (m & 1 ? 'x' : '-');
  return s(mode >> 6) + s(mode >> 3) + s(mode);
}

/**
 * A reader/writer lock taken by threads as they switch into an address space that maps a lockable
 * segment: a reader instance when mapped read-only, the writer instance when mapped writable.
 */
export class SegmentLock {
  readonly readers = new Map<Thread, number>();
  writer: Thread | null = null;
  writerDepth = 0;
  readonly channel: WaitChannel;

  constructor(name: string) {
    this.channel = new WaitChannel(`seg-lock:${name}`);
  }

  canAcquire(t: Thread, write: boolean): boolean {
    if (write) return (this.writer === null || this.writer === t) && [...this.readers.keys()].every((r) => r === t);
    return this.writer === null || this.writer === t;
  }

  acquire(t: Thread, write: boolean): void {
    if (write) {
      this.writer = t;
      this.writerDepth++;
    } else {
      this.readers.set(t, (this.readers.get(t) ?? 0) + 1);
    }
  }

  release(t: Thread, write: boolean): void {
    if (write) {
      if (this.writer !== t) throw new Error('SegmentLock: release by a non-holder');
      if (--this.writerDepth === 0) this.writer = null;
    } else {
      const n = this.readers.get(t) ?? 0;
      if (n <= 0) throw new Error('SegmentLock: reader release by a non-holder');
      if (n === 1) this.readers.delete(t); else this.readers.set(t, n - 1);
    }
  }

  get held(): boolean { return this.writer !== null || this.readers.size > 0; }

  describe(): string {
    if (this.writer) return `writer ${this.writer.describe()}`;
    if (this.readers.size) return `readers ${[...this.readers.keys()].map((t) => t.describe()).join(', ')}`;
    return 'free';
  }
}

export class Segment {
  /** Deleted: the name is gone and it is freed when the last attachment goes. */
  deleted = false;
  lockable = false;
  readonly lock: SegmentLock;
  /** Address spaces (named, shadows, primaries) that map it: it is freed after deletion when none is left. */
  readonly attachedTo = new Set<object>();
  /** Its slot in the kernel half's data pages and the numbering that gave it (kernel/kernelHalf.ts). */
  kernelSlot = -1;
  kernelSlotGen = 0;

  constructor(
    readonly sid: number,
    public name: string,
    readonly base: number,
    readonly size: number,
    public mode: number,
    readonly uid: number,
    readonly gid: number,
    readonly object: VmObject,
  ) {
    this.lock = new SegmentLock(name);
  }

  get end(): number { return this.base + this.size; }
  get pageSize(): number { return this.object.pageSize; }
}
