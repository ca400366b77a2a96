// copyin/copyout walk a user range page by page. Ranges below 2^53 go through numbers (given as
// numbers or bigints), others
// (5-level paging's upper user addresses) through BigInt: both must copy exactly the bytes a user
// access sees, fail with EFAULT at a page that is not there (copyin: nothing returned; copyout:
// the pages before it written), as the oracle — the user's own loads and stores — says.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Kernel } from '../../kernel/kernel.js';
import { SysError, ERRNO } from '../../kernel/errno.js';
import { GiB } from '../../mmu/units.js';
import { ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../mmu/pageWalker.js';
import { MAP_ANON, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../syscalls/constants.js';

const PAGES = 3; // pages 0 and 1 mapped read-write, page 2 not mapped

function machine(paging: 4 | 5, base: bigint) {
  const k = new Kernel({ memBytes: GiB, cpus: 1, paging });
  const t = k.spawn('alice', { uid: 1000, gid: 1000 }).threads[0];
  const at = t.space.mmap({ addr: Number(base), len: 2 * 4096, prot: PROT_READ | PROT_WRITE, flags: MAP_FIXED | MAP_PRIVATE | MAP_ANON, object: null, offset: 0 });
  expect(BigInt(at)).toBe(base);
  const cpu = k.enter(t);
  // The oracle: a byte of user memory as the user's own access sees it, by physical address.
  const pa = (off: number, access: AccessKind) => cpu.translateBig(base + BigInt(off), access);
  return { k, t, pa };
}

describe.each([
  ['4-level, numbers', 4, 0x7000_0000n, true] as const,
  ['4-level, bigints below 2^53', 4, 0x7000_0000n, false] as const,
  ['5-level, above 2^53 (the BigInt loop)', 5, (1n << 54n) + 0x7000_0000n, false] as const,
])('copyin/copyout, %s', (_name, paging, base, asNumber) => {
  const at = (off: number) => (asNumber ? Number(base) + off : base + BigInt(off));
  it('copy exactly the user\'s bytes, EFAULT at the missing page', () => {
    const { k, t, pa } = machine(paging, base);
    for (let i = 0; i < 2 * 4096; i++) k.mem.writeBytes(pa(i, ACCESS_WRITE), Uint8Array.of((i * 7) & 0xff));
    fc.assert(fc.property(fc.integer({ min: 0, max: PAGES * 4096 - 1 }), fc.integer({ min: 1, max: 2 * 4096 }), fc.integer({ min: 0, max: 255 }), (off, len0, fillByte) => {
      const len = Math.min(len0, PAGES * 4096 - off);
      const inside = off + len <= 2 * 4096;
      // copyin
      if (inside) {
        const got = k.copyin(t, at(off), len);
        for (let i = 0; i < len; i++) expect(got[i]).toBe(k.mem.readBytes(pa(off + i, ACCESS_READ), 1)[0]);
      } else {
        expect(() => k.copyin(t, at(off), len)).toThrow(SysError);
      }
      // copyout: every byte before the missing page is written, then EFAULT
      const before = Array.from({ length: 2 * 4096 }, (_, i) => k.mem.readBytes(pa(i, ACCESS_READ), 1)[0]);
      const data = new Uint8Array(len).fill(fillByte);
      let errno = 0;
      try { k.copyout(t, at(off), data); } catch (e) { errno = (e as SysError).errno; }
      expect(errno).toBe(inside ? 0 : ERRNO.EFAULT);
      for (let i = 0; i < 2 * 4096; i++) {
        const want = i >= off && i < off + len ? fillByte : before[i];
        expect(k.mem.readBytes(pa(i, ACCESS_READ), 1)[0]).toBe(want);
      }
    }), { numRuns: 40 });
  });
});
