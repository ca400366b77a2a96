// Regressions for the exceptions and unbounded work the syscall fuzzer's issue (13) found: each
// of these threw a JS exception across the system-call boundary or ran for minutes before.

import { describe, it, expect } from 'vitest';
import { Kernel, ProcessKilled } from '../../kernel/kernel.js';
import { ERRNO } from '../../kernel/errno.js';
import { checkKernelInvariants } from '../../kernel/invariants.js';
import { MiB, GiB } from '../../mmu/units.js';
import { syscall, KernelPanic, kernelPanics } from '../../syscalls/dispatch.js';
import { SyscallTable, defineSyscall } from '../../syscalls/table.js';
import { MAP_ANON, MAP_PRIVATE, MAP_SHARED, MAP_POPULATE, PROT_READ, PROT_WRITE, O_CREAT, O_RDWR } from '../../syscalls/constants.js';

const alice = { uid: 1000, gid: 1000 };
const RW = PROT_READ | PROT_WRITE;

function setup(memBytes = 256 * MiB) {
  const k = new Kernel({ memBytes, cpus: 2 });
  const p = k.spawn('alice', alice);
  return { k, p, t: p.threads[0] };
}

function buffer(k: Kernel, t: ReturnType<typeof setup>['t'], len: number): number {
  const va = syscall(k, t, 'mmap', [0, len, RW, MAP_PRIVATE | MAP_ANON]);
  expect(typeof va).toBe('number');
  return va as number;
}

describe('reliability regressions', () => {
  it('write(fd, buf, 2^33) writes what the buffer holds and stops at its end (no host buffer of 8 GiB)', () => {
    const { k, t } = setup();
    const fd = syscall(k, t, 'open', ['/f', O_CREAT | O_RDWR]) as number;
    const buf = buffer(k, t, 8192);
    k.enter(t).store32(buf + 4, 0x1234);
    expect(syscall(k, t, 'write', [fd, buf, 2 ** 33])).toBe(8192);
    expect(syscall(k, t, 'lseek', [fd, 0])).toBe(0);
    const back = buffer(k, t, 4096);
    expect(syscall(k, t, 'read', [fd, back, 4096])).toBe(4096);
    expect(k.enter(t).load32(back + 4)).toBe(0x1234);
    // A buffer that is not mapped at all is EFAULT, whatever the length.
    expect(syscall(k, t, 'write', [fd, 0x7000_0000, 2 ** 33])).toBe(-ERRNO.EFAULT);
    expect(checkKernelInvariants(k)).toEqual([]);
  });

  it('read after ftruncate to 2^50 reads zeros into the buffer and stops at its end', () => {
    const { k, t } = setup();
    const fd = syscall(k, t, 'open', ['/big', O_CREAT | O_RDWR]) as number;
    expect(syscall(k, t, 'ftruncate', [fd, 2 ** 50])).toBe(0);
    const buf = buffer(k, t, 8192);
    k.enter(t).store32(buf, 77);
    expect(syscall(k, t, 'read', [fd, buf, 2 ** 33])).toBe(8192);
    expect(k.enter(t).load32(buf)).toBe(0);
    expect(syscall(k, t, 'lseek', [fd, 0, 1])).toBe(8192);
    // Beyond the largest file size: EFBIG (ftruncate), EINVAL (lseek).
    expect(syscall(k, t, 'ftruncate', [fd, 2 ** 52 + 4096])).toBe(-ERRNO.EFBIG);
    expect(syscall(k, t, 'lseek', [fd, 2 ** 52 + 1])).toBe(-ERRNO.EINVAL);
    // Mapping all 2^50 bytes with MAP_POPULATE costs what is resident, not 2^38 page steps.
    const t0 = Date.now();
    const va = syscall(k, t, 'mmap', [0, 2 ** 40, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0]);
    expect(typeof va).toBe('number');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(checkKernelInvariants(k)).toEqual([]);
  });

  it('ftruncate shrinking into a page zeroes the tail, so growing again reads zeros', () => {
    const { k, t } = setup();
    const fd = syscall(k, t, 'open', ['/g', O_CREAT | O_RDWR]) as number;
    const buf = buffer(k, t, 4096);
    k.enter(t).store32(buf + 100, 0xdead);
    expect(syscall(k, t, 'write', [fd, buf, 4096])).toBe(4096);
    expect(syscall(k, t, 'ftruncate', [fd, 50])).toBe(0);
    expect(syscall(k, t, 'ftruncate', [fd, 4096])).toBe(0);
    expect(syscall(k, t, 'lseek', [fd, 0])).toBe(0);
    k.enter(t).store32(buf + 100, 1);
    expect(syscall(k, t, 'read', [fd, buf, 4096])).toBe(4096);
    expect(k.enter(t).load32(buf + 100)).toBe(0);
  });

  it('mmap(MAP_POPULATE) of 2^40 anonymous bytes on a 64 MiB machine returns at once', () => {
    const { k, t } = setup(64 * MiB);
    const t0 = Date.now();
    const before = k.totalCycles;
    const va = syscall(k, t, 'mmap', [0, 2 ** 40, RW, MAP_PRIVATE | MAP_ANON | MAP_POPULATE]);
    expect(typeof va).toBe('number');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(k.totalCycles - before).toBeLessThan(1e6);
    expect(checkKernelInvariants(k)).toEqual([]);
  });

  it('seg_alloc larger than free memory fails with ENOMEM before allocating anything', () => {
    const { k, t } = setup(64 * MiB);
    const used = k.frames.usedBytes();
    const t0 = Date.now();
    expect(syscall(k, t, 'seg_alloc', ['huge', 2 ** 46, 2 ** 45, 0o600])).toBe(-ERRNO.ENOMEM);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(k.frames.usedBytes()).toBe(used);
  });

  it('fork with no free frames is ENOMEM and changes nothing', () => {
    const { k, p, t } = setup(64 * MiB);
    const held: number[] = [];
    for (let pa = k.frames.alloc(0, 0); pa >= 0; pa = k.frames.alloc(0, 0)) held.push(pa);
    const procs = [...k.processes.keys()];
    const used = k.frames.usedBytes();
    expect(syscall(k, t, 'fork')).toBe(-ERRNO.ENOMEM);
    expect([...k.processes.keys()]).toEqual(procs);
    expect(p.children.size).toBe(0);
    expect(k.frames.usedBytes()).toBe(used);
    for (const pa of held) k.frames.free(pa, 0);
    expect(typeof syscall(k, t, 'fork')).toBe('number');
  });

  it('the invariant checker counts the reference an open descriptor holds (and a forked one once)', () => {
    const { k, t } = setup();
    const fd = syscall(k, t, 'open', ['/f', O_CREAT]) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(checkKernelInvariants(k)).toEqual([]);
    expect(syscall(k, t, 'fork')).toBeGreaterThan(0);
    expect(syscall(k, t, 'unlink', ['/f'])).toBe(0);
    expect(checkKernelInvariants(k)).toEqual([]);
    k.exit(t.process, 0);
    expect(checkKernelInvariants(k)).toEqual([]);
  });

  it('a handler that throws a non-errno exception panics: a named report, the caller killed, the machine runs on', () => {
    const { k, p, t } = setup();
    const table = new SyscallTable();
    table.register([
      defineSyscall({ name: 'broken', args: [{ name: 'n', type: 'int' }], handler: () => { throw new RangeError('Invalid typed array length: 8589934592'); } }),
      defineSyscall({ name: 'ok', args: [], handler: (_k, th) => th.process.pid }),
    ]);
    let thrown: unknown = null;
    try { syscall(k, t, 'broken', [7], { table }); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(KernelPanic);
    expect(thrown).toBeInstanceOf(ProcessKilled);
    expect((thrown as KernelPanic).report).toMatch(/^kernel panic in broken\(7\): RangeError: Invalid typed array length/);
    expect(kernelPanics(k)).toHaveLength(1);
    expect(p.live).toBe(false);
    expect(k.events.some((e) => e.kind === 'panic')).toBe(true);
    const q = k.spawn('bob', { uid: 1001, gid: 1001 });
    expect(syscall(k, q.threads[0], 'ok', [], { table })).toBe(q.pid);
    expect(new Kernel({ memBytes: GiB }).cpus.length).toBeGreaterThan(0);
  });
});
