import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Kernel } from '../../kernel/kernel.js';
import { HEAP_BASE } from '../../kernel/layout.js';
import { GiB } from '../../mmu/units.js';
import { syscall, isWouldBlock } from '../../syscalls/dispatch.js';
import { straceOf, formatArgs, formatNumber, type StraceRecord } from '../../syscalls/strace.js';
import { SYSCALLS } from '../../syscalls/table.js';
import '../../syscalls/builtins.js';
import { MAP_ANON, MAP_PRIVATE, PROT_READ, PROT_WRITE, O_CREAT, O_RDWR } from '../../syscalls/constants.js';

describe('strace', () => {
  it('records traced processes only, with arguments, results, errnos and modelled cycles', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    const a = k.spawn('alice', { uid: 1000, gid: 1000 });
    const b = k.spawn('bob', { uid: 1001, gid: 1001 });
    const ta = a.threads[0];
    const tb = b.threads[0];
    const seen: StraceRecord[] = [];
    const off = straceOf(k).subscribe((r) => seen.push(r));
    syscall(k, ta, 'getpid'); // not yet traced
    expect(syscall(k, ta, 'trace', [0, 1])).toBe(0);
    expect(syscall(k, tb, 'trace', [a.pid, 0])).toBe(-1); // EPERM: not bob's
    syscall(k, tb, 'getpid');
    const va = syscall(k, ta, 'mmap', [0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON]) as number;
    syscall(k, ta, 'open', ['/missing', O_RDWR]);
    syscall(k, ta, 'open', ['/f', O_CREAT | O_RDWR, 0o600]);
    const lines = seen.map((r) => r.line);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^alice\[1\]\.main@cpu\d trace\(0, 1\) = 0 <357>$/);
    expect(lines[1]).toBe(`alice[1].main@cpu${ta.cpu} mmap(0x0, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANON) = 0x${va.toString(16).replace(/(?=(?:[0-9a-f]{4})+$)(?!^)/g, '_')} <${seen[1].cycles}>`);
    expect(seen[1].cycles).toBeGreaterThan(k.costs.syscall);
    expect(lines[2]).toMatch(/open\("\/missing", O_RDWR\) = -ENOENT \(\/missing\) <357>$/);
    expect(seen[2].errno).toBe('ENOENT');
    expect(lines[3]).toMatch(/open\("\/f", O_RDWR\|O_CREAT, 0600\) = 0 </);
    off();
    syscall(k, ta, 'getpid');
    expect(seen).toHaveLength(4);
    expect(straceOf(k).records).toHaveLength(5);
  });

  it('shows a blocked call once as unfinished and then as resumed', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const p = k.spawn('a', { uid: 1, gid: 1 });
    p.traced = true;
    const t = p.threads[0];
    syscall(k, t, 'pipe', [HEAP_BASE]);
    const r1 = syscall(k, t, 'read', [0, HEAP_BASE + 64, 4]);
    const r2 = syscall(k, t, 'read', [0, HEAP_BASE + 64, 4], { restart: true });
    expect(isWouldBlock(r1) && isWouldBlock(r2)).toBe(true);
    syscall(k, t, 'write', [1, HEAP_BASE, 4]);
    expect(syscall(k, t, 'read', [0, HEAP_BASE + 64, 4], { restart: true })).toBe(4);
    const lines = straceOf(k).lines().map((l) => l.replace(/^\S+ /, ''));
    expect(lines).toEqual([
      'pipe(0x1000_0000) = 0 <' + straceOf(k).records[0].cycles + '>',
      'read(0, 0x1000_0040, 4) <unfinished: read pipe#' + lines[1].match(/pipe#(\d+)/)![1] + ' 0/65536 bytes> <357>',
      expect.stringMatching(/^write\(1, 0x1000_0000, 4\) = 4 <\d+>$/),
      expect.stringMatching(/^<\.\.\. read resumed> = 4 <\d+>$/),
    ]);
  });

  it('never throws on a number that is not an integer: NaN, Infinity and 0.5 addresses fail with EINVAL and are shown as passed', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const p = k.spawn('fuzz', { uid: 0, gid: 0 });
    p.traced = true;
    const t = p.threads[0];
    for (const bad of [NaN, Infinity, -Infinity, 0.5]) {
      expect(syscall(k, t, 'munmap', [bad, 4096])).toBe(-22);
      expect(syscall(k, t, 'mmap', [0, 4096, bad, MAP_PRIVATE | MAP_ANON])).toBe(-22);
      expect(syscall(k, t, 'vas_switch', [bad])).toBeLessThan(0);
    }
    const lines = straceOf(k).lines().map((l) => l.replace(/^\S+ /, '').replace(/ <\d+>$/, ''));
    expect(lines).toContain('munmap(NaN, 4096) = -EINVAL (addr: expected an address, got NaN)');
    expect(lines).toContain('munmap(-Infinity, 4096) = -EINVAL (addr: expected an address, got -Infinity)');
    expect(lines.some((l) => l.startsWith('mmap(0x0, 4096, 0.5, MAP_PRIVATE|MAP_ANON) = -EINVAL'))).toBe(true);
    expect(lines.some((l) => l.startsWith('vas_switch(Infinity) = -E'))).toBe(true);
  });

  it('decodes flags, commands, handles and modes symbolically, with one hex style', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const p = k.spawn('alice', { uid: 0, gid: 0 });
    p.traced = true;
    const t = p.threads[0];
    const sid = syscall(k, t, 'seg_alloc', ['s', 2 ** 46, 4096, 0o644, 0]) as number;
    syscall(k, t, 'seg_ctl', [sid, 3, 1]);
    syscall(k, t, 'seg_ctl', [sid, 4, 0o600]);
    const vid = syscall(k, t, 'vas_create', ['v', 0o666]) as number;
    syscall(k, t, 'vas_ctl', [4, vid, 0o640]);
    syscall(k, t, 'vas_ctl', [3, vid, 1]);
    syscall(k, t, 'seg_attach', [-1, sid, PROT_READ]);
    const vh = syscall(k, t, 'vas_attach', [vid]) as number;
    syscall(k, t, 'vas_switch', [vh, 1]);
    syscall(k, t, 'vas_switch', [0]);
    syscall(k, t, 'open', ['/f', O_CREAT | O_RDWR, 0o644]);
    syscall(k, t, 'waitpid', [-1, 0, 1]);
    const lines = straceOf(k).lines().map((l) => l.replace(/^\S+ /, '').replace(/ <\d+>$/, ''));
    expect(lines).toEqual([
      'seg_alloc("s", 0x4000_0000_0000, 4096, 0644, 0) = 1',
      'seg_ctl(1, SEG_CTL_LOCKABLE, 1) = 0',
      'seg_ctl(1, SEG_CTL_CHMOD, 0600) = 0',
      'vas_create("v", 0666) = 1',
      'vas_ctl(VAS_CTL_CHMOD, 1, 0640) = 0',
      'vas_ctl(VAS_CTL_TAGS, 1, TAG_PCID) = 0',
      'seg_attach(CURRENT, 1, PROT_READ) = 0',
      'vas_attach(1) = 0x1_0001',
      'vas_switch(0x1_0001, VAS_NOWAIT) = 0',
      'vas_switch(PRIMARY) = 0',
      'open("/f", O_RDWR|O_CREAT, 0644) = 0',
      expect.stringMatching(/^waitpid\(-1, 0x0, WNOHANG\) = -ECHILD/),
    ]);
  });

  it('formats any argument of any call without throwing (fast-check)', () => {
    const defs = [...SYSCALLS.arities().keys()].map((n) => SYSCALLS.lookup(n)!);
    const arg = fc.oneof(
      fc.integer(), fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0.5, -0, 2 ** 64, -(2 ** 63)),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.string(), fc.boolean(), fc.constant(null), fc.constant(undefined),
    );
    fc.assert(fc.property(fc.constantFrom(...defs), fc.array(arg, { maxLength: 7 }), (def, values) => {
      const shown = formatArgs(def, values);
      expect(shown).toHaveLength(values.length);
      for (const s of shown) expect(typeof s).toBe('string');
    }), { numRuns: 2000 });
  });

  it('formatNumber: small and negative numbers in decimal, the rest in grouped hex, non-integers as they are', () => {
    expect([0, 9, 10, 0x10001, -1, -4096].map((n) => formatNumber(n))).toEqual(['0', '9', '0xa', '0x1_0001', '-1', '-4096']);
    expect(formatNumber(2n ** 64n - 1n)).toBe('0xffff_ffff_ffff_ffff');
    expect([NaN, Infinity, 0.5].map((n) => formatNumber(n))).toEqual(['NaN', 'Infinity', '0.5']);
  });
});
