// The fragmentation benchmark (reference §5.2, Figure 14b; the method of Rumble et al., FAST'14, as
// in the reference author's frag.c): given the same memory, allocate objects of a first size until
// allocation fails, delete 90 % of them at random, then allocate objects of a second size until
// allocation fails again. Memory used ÷ live bytes then says how much memory the allocator needs
// per byte the client holds. Nibble relocates objects (compaction) to reuse the holes; the
// non-copying segregated-fit malloc of the runtime (userland/malloc.ts) cannot.
//
// Figure 14b's size table is not in the reference's text; the patterns below follow RAMCloud's
// W2-W8 and frag.c's defaults (fixed sizes, a small change, size ranges, small-to-large).

import { Kernel } from '../../kernel/kernel.js';
import { Runtime } from '../../userland/runtime.js';
import { Arena } from '../../userland/malloc.js';
import { createStore } from '../../userland/nibble/host.js';
import { RtPort } from '../../userland/nibble/rtPort.js';
import { runSync } from '../../userland/nibble/mem.js';
import { PUT_OK } from '../../userland/nibble/store.js';
import type { NibbleConfig } from '../../userland/nibble/layout.js';
import { entryBytes } from '../../userland/nibble/log.js';
import { attachRuntime } from '../launch.js';

export interface FragPattern {
  name: string;
  first: [number, number];
  second: [number, number];
}

export const PATTERNS: FragPattern[] = [
  { name: 'P1', first: [100, 100], second: [100, 100] },
  { name: 'P2', first: [100, 100], second: [130, 130] },
  { name: 'P3', first: [100, 150], second: [200, 250] },
  { name: 'P4', first: [100, 100], second: [1000, 1000] },
  { name: 'P5', first: [1000, 2000], second: [1500, 2500] },
  { name: 'P6', first: [50, 150], second: [5000, 15000] },
];

export interface FragResult {
  pattern: string;
  sizes: string;
  allocator: 'Nibble' | 'segfit malloc' | 'segfit malloc (unbounded)';
  capacityBytes: number;
  /** Live bytes when the first allocation phase ended. */
  liveAfterFirst: number;
  objectsAfterFirst: number;
  /** Live bytes when the second allocation phase ended. */
  liveBytes: number;
  objects: number;
  /** Memory the allocator holds at the end (Nibble: blocks in segments; malloc: bytes handed out from its top). */
  usedBytes: number;
  /** usedBytes / liveBytes. */
  ratio: number;
  /** Nibble's own per-object cost: header and alignment over value bytes, for the final objects. */
  headerOverhead: number;
  compactions: number;
  bytesMoved: number;
  wallSeconds: number;
}

export interface FragOptions {
  capacityBytes: number;
  blockSize: number;
  segmentBlocks: number;
  seed: number;
  /** Stop a phase after this many objects (the emulator's time budget); 0 = until full. */
  maxObjects?: number;
  onProgress?: (done: number) => void;
}

class Rand {
  constructor(private x: number) { this.x = x | 1; }
  next(): number {
    let x = this.x;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.x = x;
    return (x >>> 0) / 4294967296;
  }
  size(r: [number, number]): number { return r[0] + Math.floor(this.next() * (r[1] - r[0] + 1)); }
}

/** Live objects on the client side: (handle, size), with O(1) random removal. */
class LiveSet {
  readonly handles: number[] = [];
  readonly sizes: number[] = [];
  bytes = 0;
  add(h: number, size: number): void { this.handles.push(h); this.sizes.push(size); this.bytes += size; }
  removeAt(i: number): [number, number] {
    const h = this.handles[i];
    const s = this.sizes[i];
    this.handles[i] = this.handles[this.handles.length - 1];
    this.sizes[i] = this.sizes[this.sizes.length - 1];
    this.handles.pop();
    this.sizes.pop();
    this.bytes -= s;
    return [h, s];
  }
  get length(): number { return this.handles.length; }
}

function machine(capacityBytes: number, seed: number): Runtime {
  const mem = Math.ceil((4 * capacityBytes + 256 * 2 ** 20) / 2 ** 21) * 2 ** 21;
  const k = new Kernel({ memBytes: mem, cpus: 1, nodes: 1, seed });
  const p = k.spawn('frag', { uid: 1000, gid: 1000 });
  return attachRuntime(k, p.threads[0]);
}

function fragConfig(o: FragOptions): NibbleConfig {
  const blocksPerNode = Math.floor(o.capacityBytes / o.blockSize);
  // Enough index for the smallest objects of any pattern (50 bytes) at the whole capacity.
  const maxKeys = o.capacityBytes / entryBytes(50);
  const tablesPerNode = 4;
  const maxBuckets = 2 ** Math.ceil(Math.log2((2 * maxKeys) / 15 / tablesPerNode));
  return {
    nodes: 1, cores: 1, blockSize: o.blockSize, segmentBlocks: o.segmentBlocks, blocksPerNode,
    reserveBlocks: Math.max(2 * o.segmentBlocks, Math.ceil(0.02 * blocksPerNode)),
    tablesPerNode, initialBuckets: Math.min(maxBuckets, 1024), maxBuckets, maxThreads: 4, mode: 1, compactBelow: 0.2, batchSegments: 3,
  };
}

function result(p: FragPattern, allocator: FragResult['allocator'], o: FragOptions, live: LiveSet, firstCount: number, firstBytes: number, used: number, extra: { headers: number; compactions: number; moved: number; wall: number }): FragResult {
  return {
    pattern: p.name,
    sizes: `${p.first.join('-')} -> ${p.second.join('-')}`,
    allocator, capacityBytes: o.capacityBytes,
    liveAfterFirst: firstBytes, objectsAfterFirst: firstCount,
    liveBytes: live.bytes, objects: live.length, usedBytes: used, ratio: used / Math.max(1, live.bytes),
    headerOverhead: extra.headers, compactions: extra.compactions, bytesMoved: extra.moved, wallSeconds: extra.wall,
  };
}

export function fragNibble(p: FragPattern, o: FragOptions): FragResult {
  const t0 = performance.now();
  const rt = machine(o.capacityBytes, o.seed);
  const h = createStore(rt, 'frag', fragConfig(o));
  const s = h.store;
  const port = new RtPort(rt);
  const t = s.register(port);
  const buf = rt.mmap(65536);
  const rnd = new Rand(o.seed);
  const live = new LiveSet();
  let key = 1;
  const cap = o.maxObjects || Infinity;
  const fill = (range: [number, number]): void => {
    for (let n = 0; n < cap; n++) {
      const size = rnd.size(range);
      rt.store32(buf, key);
      if (runSync(s.put(t, key, 0, buf, size)) !== PUT_OK) return;
      live.add(key++, size);
      if ((n & 4095) === 0) o.onProgress?.(n);
    }
  };
  fill(p.first);
  const firstCount = live.length;
  const firstBytes = live.bytes;
  while (live.length > firstCount * 0.1) {
    const [k] = live.removeAt(Math.floor(rnd.next() * live.length));
    runSync(s.del(t, k, 0));
  }
  fill(p.second);
  const u = s.usage(port);
  let headers = 0;
  for (let i = 0; i < live.length; i++) headers += entryBytes(live.sizes[i]) - live.sizes[i];
  return result(p, 'Nibble', o, live, firstCount, firstBytes, u.logBytesInUse, {
    headers: headers / Math.max(1, live.bytes), compactions: s.stats.compactions, moved: s.stats.bytesMoved, wall: (performance.now() - t0) / 1000,
  });
}

export function fragMalloc(p: FragPattern, o: FragOptions): FragResult {
  const t0 = performance.now();
  const rt = machine(o.capacityBytes, o.seed);
  const port = new RtPort(rt);
  const base = rt.mmap(o.capacityBytes);
  const arena = Arena.format(port, base, o.capacityBytes);
  const rnd = new Rand(o.seed);
  const live = new LiveSet();
  const cap = o.maxObjects || Infinity;
  const fill = (range: [number, number]): void => {
    for (let n = 0; n < cap; n++) {
      const size = rnd.size(range);
      const ptr = arena.malloc(size);
      if (ptr === 0) return;
      port.store32(ptr, n);
      live.add(ptr, size);
      if ((n & 4095) === 0) o.onProgress?.(n);
    }
  };
  fill(p.first);
  const firstCount = live.length;
  const firstBytes = live.bytes;
  while (live.length > firstCount * 0.1) arena.free(live.removeAt(Math.floor(rnd.next() * live.length))[0]);
  fill(p.second);
  return result(p, 'segfit malloc', o, live, firstCount, firstBytes, arena.stats().used, {
    headers: 0, compactions: 0, moved: 0, wall: (performance.now() - t0) / 1000,
  });
}

/**
 * The reference's own measure for non-copying allocators (RSS over live bytes, Figure 3/14): the
 * arena is not the limit; the first phase allocates `target` live bytes, 90 % are freed, and the
 * second phase allocates until the client again holds `target` bytes. Used = bytes handed out.
 */
export function fragMallocUnbounded(p: FragPattern, o: FragOptions, target: number): FragResult {
  const t0 = performance.now();
  const size = 4 * o.capacityBytes;
  const rt = machine(size, o.seed);
  const port = new RtPort(rt);
  const arena = Arena.format(port, rt.mmap(size), size);
  const rnd = new Rand(o.seed);
  const live = new LiveSet();
  const fill = (range: [number, number]): void => {
    while (live.bytes < target) {
      const n = rnd.size(range);
      const ptr = arena.malloc(n);
      if (ptr === 0) return;
      live.add(ptr, n);
    }
  };
  fill(p.first);
  const firstCount = live.length;
  const firstBytes = live.bytes;
  while (live.length > firstCount * 0.1) arena.free(live.removeAt(Math.floor(rnd.next() * live.length))[0]);
  fill(p.second);
  return result(p, 'segfit malloc (unbounded)', { ...o, capacityBytes: size }, live, firstCount, firstBytes, arena.stats().used, {
    headers: 0, compactions: 0, moved: 0, wall: (performance.now() - t0) / 1000,
  });
}
