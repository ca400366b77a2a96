// Address arguments given as numbers are checked as numbers (syscalls/args.ts), bigints and
// negative numbers through BigInt: both must give the answer the definition gives — canonical
// means bits 63..47 (4-level) or 63..56 (5-level) of the unsigned 64-bit value all equal; a `ptr`
// must also be below the user half's top — with the same errno, the same message, and nothing
// changed. The oracle computes that definition on the unsigned value itself.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Kernel } from '../../kernel/kernel.js';
import { ERRNO } from '../../kernel/errno.js';
import { GiB, formatAddr } from '../../mmu/units.js';
import { MAP_ANON, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../syscalls/constants.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANON;
import { syscall, lastSyscallError } from '../../syscalls/dispatch.js';

function canonical(u: bigint, paging: 4 | 5): boolean {
  const bits = paging === 5 ? 57n : 48n;
  const top = u >> (bits - 1n);
  return top === 0n || top === (1n << (65n - bits)) - 1n;
}

const EDGES = [0, 1, 4096, 4095, 2 ** 47 - 4096, 2 ** 47 - 1, 2 ** 47, 2 ** 47 + 4096, 2 ** 52, 2 ** 53 - 1, -1, -4096, -(2 ** 47), -(2 ** 47) - 4096, -(2 ** 47) + 4096, -(2 ** 53) + 1];
const address = fc.oneof(fc.constantFrom(...EDGES), fc.integer({ min: -(2 ** 31), max: 2 ** 31 }).map((x) => x * 4096), fc.maxSafeInteger(), fc.integer());

describe.each([4, 5] as const)('address arguments, %i-level paging', (paging) => {
  const k = new Kernel({ memBytes: GiB, cpus: 1, paging });
  const t = k.spawn('alice', { uid: 1000, gid: 1000 }).threads[0];
  const userTop = paging === 5 ? 1n << 56n : 1n << 47n;

  function outcome(name: string, args: (number | bigint)[]) {
    const entries = JSON.stringify(t.process.primary.map.entries.map((e) => [e.start, e.end, e.prot]));
    const r = syscall(k, t, name, args);
    const after = JSON.stringify(t.process.primary.map.entries.map((e) => [e.start, e.end, e.prot]));
    return { r, message: typeof r === 'number' && r < 0 ? lastSyscallError(t)?.message : undefined, changed: entries !== after };
  }

  it('addr (munmap): a number and the same value as a bigint give the same answer, the definition\'s', () => {
    fc.assert(fc.property(address, (v) => {
      const u = BigInt.asUintN(64, BigInt(v));
      const asNumber = outcome('munmap', [v, 4096]);
      const asBigint = outcome('munmap', [BigInt(v), 4096]);
      expect(asNumber).toEqual(asBigint);
      if (!canonical(u, paging) || u % 4096n !== 0n) expect(asNumber.r).toBe(-ERRNO.EINVAL);
      if (!canonical(u, paging)) expect(asNumber.message).toBe(`addr: non-canonical address 0x${u.toString(16)}`);
      expect(asNumber.changed).toBe(false); // nothing mapped there
    }), { numRuns: 300 });
  });

  it('ptr (pipe): a number and the same value as a bigint give the same errno and message; no descriptor appears', () => {
    fc.assert(fc.property(address, (v) => {
      const u = BigInt.asUintN(64, BigInt(v));
      const fds = t.process.fds.size;
      const asNumber = outcome('pipe', [v]);
      const asBigint = outcome('pipe', [BigInt(v)]);
      expect(asNumber).toEqual(asBigint);
      if (!canonical(u, paging)) expect(asNumber.message).toBe(`fds: non-canonical address 0x${u.toString(16)}`);
      else if (u >= userTop) expect(asNumber.message).toBe(`fds: 0x${u.toString(16)} is not a user address`);
      if (!canonical(u, paging) || u >= userTop) expect(asNumber.r).toBe(-ERRNO.EFAULT);
      // (a canonical user address that is not mapped writable is EFAULT from copyout)
      if (asNumber.r !== 0) expect(t.process.fds.size).toBe(fds);
    }), { numRuns: 300 });
  });

  it('addr (mmap MAP_FIXED at a number): maps at that address as the bigint does', () => {
    const at = syscall(k, t, 'mmap', [0, 8192, RW, ANON]) as number; // a place the kernel gives out
    expect(syscall(k, t, 'munmap', [at, 8192])).toBe(0);
    expect(syscall(k, t, 'mmap', [at, 8192, RW, ANON | MAP_FIXED])).toBe(at);
    expect(syscall(k, t, 'munmap', [BigInt(at), 8192])).toBe(0);
    expect(syscall(k, t, 'mmap', [BigInt(at), 8192, RW, ANON | MAP_FIXED])).toBe(at);
    expect(syscall(k, t, 'munmap', [at, 8192])).toBe(0);
    expect(syscall(k, t, 'mmap', [at + 12, 8192, RW, ANON | MAP_FIXED])).toBe(-ERRNO.EINVAL);
    expect(lastSyscallError(t)?.message).toBe(`address ${formatAddr(at + 12)} is not page-aligned`);
  });
});
