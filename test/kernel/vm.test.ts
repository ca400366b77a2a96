import { describe, it, expect } from 'vitest';
import { Kernel, ProcessKilled } from '../../kernel/kernel.js';
import { MAP_PRIVATE, MAP_SHARED, MAP_FIXED, MAP_EXCL, MAP_POPULATE } from '../../kernel/vm/vmspace.js';
import { PROT_READ, PROT_WRITE } from '../../kernel/vm/vmMap.js';
import { SysError, ERRNO } from '../../kernel/errno.js';
import { HEAP_BASE } from '../../kernel/layout.js';
import { GiB } from '../../mmu/units.js';

const alice = { uid: 1000, gid: 1000 };

function errnoOf(fn: () => unknown): number {
  try { fn(); } catch (e) { if (e instanceof SysError) return e.errno; throw e; }
  return 0;
}

describe('kernel vm', () => {
  it('demand-zero pages appear on first touch and hold data', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    const p = k.spawn('a', alice);
    const t = p.threads[0];
    const cpu = k.enter(t);
    expect(cpu.load32(HEAP_BASE)).toBe(0);
    cpu.store32(HEAP_BASE + 8, 0x1234);
    expect(cpu.load32(HEAP_BASE + 8)).toBe(0x1234);
    expect(cpu.pageFaults).toBeGreaterThan(0);
  });

  it('a wild access kills only the faulting process with a report', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    const a = k.spawn('a', alice);
    const b = k.spawn('b', alice);
    const cpu = k.enter(a.threads[0]);
    expect(() => cpu.store32(0x5000_0000, 1)).toThrow(ProcessKilled);
    expect(a.state).not.toBe('live');
    expect(a.killedBy).toMatch(/write at 0x5000_0000: no mapping/);
    const cb = k.enter(b.threads[0]);
    cb.store32(HEAP_BASE, 7);
    expect(cb.load32(HEAP_BASE)).toBe(7);
  });

  it('fork is copy-on-write', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    const p = k.spawn('parent', alice);
    const pt = p.threads[0];
    let cpu = k.enter(pt);
    cpu.store32(HEAP_BASE, 42);
    const c = k.fork(pt);
    const ct = c.threads[0];
    let ccpu = k.enter(ct);
    expect(ccpu.load32(HEAP_BASE)).toBe(42);
    ccpu.store32(HEAP_BASE, 99);
    cpu = k.enter(pt);
    expect(cpu.load32(HEAP_BASE)).toBe(42);
    cpu.store32(HEAP_BASE, 43);
    ccpu = k.enter(ct);
    expect(ccpu.load32(HEAP_BASE)).toBe(99);
    k.exit(c, 0);
    cpu = k.enter(pt);
    expect(cpu.load32(HEAP_BASE)).toBe(43);
    k.exit(p, 0);
    expect(k.frames.usedBytes()).toBe(k.kernelHalf.bytes); // the kernel half stays for good
  });

  it('MAP_FIXED|MAP_EXCL fails with ENOMEM on overlap and changes nothing; MAP_FIXED replaces', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const p = k.spawn('a', alice);
    const vs = p.primary;
    const before = vs.map.entries.length;
    expect(errnoOf(() => vs.mmap({ addr: HEAP_BASE, len: 4096, prot: PROT_READ, flags: MAP_FIXED | MAP_EXCL | MAP_PRIVATE, object: null, offset: 0 }))).toBe(ERRNO.ENOMEM);
    expect(vs.map.entries.length).toBe(before);
    const a = vs.mmap({ addr: HEAP_BASE, len: 4096, prot: PROT_READ, flags: MAP_FIXED | MAP_PRIVATE, object: null, offset: 0 });
    expect(a).toBe(HEAP_BASE);
    expect(vs.map.lookup(HEAP_BASE)!.prot).toBe(PROT_READ);
  });

  it('shared file mappings see one page cache; populate maps without faults', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    const f = k.tmpfs.create('/f', 1 << 20, alice);
    k.tmpfs.preload(f);
    const a = k.spawn('a', alice);
    const b = k.spawn('b', alice);
    const va = a.primary.mmap({ addr: null, len: 1 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_POPULATE, object: f.object, offset: 0 });
    const vb = b.primary.mmap({ addr: null, len: 1 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, object: f.object, offset: 0 });
    const ca = k.enter(a.threads[0]);
    const faults = ca.pageFaults;
    ca.store32(va + 4096 * 3, 77);
    expect(ca.pageFaults).toBe(faults);
    const cb = k.enter(b.threads[0]);
    expect(cb.load32(vb + 4096 * 3)).toBe(77);
  });

  it('munmap invalidates the TLB: the next access faults', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const p = k.spawn('a', alice);
    const vs = p.primary;
    const va = vs.mmap({ addr: null, len: 8192, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE, object: null, offset: 0 });
    const cpu = k.enter(p.threads[0]);
    cpu.store32(va, 5);
    vs.munmap(va, 8192);
    expect(() => cpu.load32(va)).toThrow(ProcessKilled);
  });
});

describe('copy-on-write chains', () => {
  it('collapse when the shadow becomes the only reference, keeping the data', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const p = k.spawn('parent', alice);
    const pt = p.threads[0];
    let cpu = k.enter(pt);
    for (let i = 0; i < 4; i++) cpu.store32(HEAP_BASE + i * 4096, 100 + i);
    const c = k.fork(pt);
    cpu = k.enter(pt);
    cpu.store32(HEAP_BASE, 1); // the parent's write pushes a shadow over the shared object
    const entry = p.primary.map.lookup(HEAP_BASE)!;
    expect(entry.object!.backing).not.toBeNull();
    const used = k.frames.usedBytes();
    k.exit(c, 0);
    // The child's exit leaves the backing object to the parent's shadow alone: it folds in.
    expect(entry.object!.backing).toBeNull();
    expect(k.frames.usedBytes()).toBeLessThan(used);
    cpu = k.enter(pt);
    expect(cpu.load32(HEAP_BASE)).toBe(1);
    for (let i = 1; i < 4; i++) expect(cpu.load32(HEAP_BASE + i * 4096)).toBe(100 + i);
    cpu.store32(HEAP_BASE + 4096, 7);
    expect(cpu.load32(HEAP_BASE + 4096)).toBe(7);
  });
});
