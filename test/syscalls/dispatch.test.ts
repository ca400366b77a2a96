import { describe, it, expect } from 'vitest';
import { Kernel, ProcessKilled } from '../../kernel/kernel.js';
import { ERRNO } from '../../kernel/errno.js';
import { HEAP_BASE } from '../../kernel/layout.js';
import { GiB } from '../../mmu/units.js';
import { syscall, isWouldBlock, isError, lastSyscallError } from '../../syscalls/dispatch.js';
import { SYSCALLS, SyscallTable, defineSyscall, registerSyscalls } from '../../syscalls/table.js';
import { MAP_ANON, MAP_FIXED, MAP_EXCL, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, O_CREAT, O_RDWR, O_RDONLY } from '../../syscalls/constants.js';

const alice = { uid: 1000, gid: 1000 };
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANON;

function setup(cpus = 2) {
  const k = new Kernel({ memBytes: GiB, cpus });
  const p = k.spawn('alice', alice);
  return { k, p, t: p.threads[0] };
}

/** What a failed call must leave alone. */
function snapshot(k: Kernel, p: ReturnType<typeof setup>['p']) {
  return JSON.stringify({
    entries: p.primary.map.entries.map((e) => [e.start, e.end, e.prot, e.label]),
    fds: [...p.fds.keys()],
    files: [...k.tmpfs.files.keys()],
    frames: k.frames.usedBytes(),
    procs: [...k.processes.keys()],
  });
}

describe('dispatch', () => {
  it('answers simple calls and charges the syscall cost to its component', () => {
    const { k, p, t } = setup();
    const cpu = k.cpus[t.cpu];
    const before = cpu.cyclesBy.syscall ?? 0;
    expect(syscall(k, t, 'getpid')).toBe(p.pid);
    expect(syscall(k, t, 39)).toBe(p.pid); // by number
    expect(syscall(k, t, 'getuid')).toBe(1000);
    expect(cpu.cyclesBy.syscall - before).toBe(3 * k.costs.syscall);
  });

  it('maps, protects and unmaps anonymous memory, accepting bigint addresses', () => {
    const { k, p, t } = setup();
    const va = syscall(k, t, 'mmap', [0n, 8192n, BigInt(RW), BigInt(ANON)]);
    expect(typeof va).toBe('number');
    const cpu = k.enter(t);
    cpu.store32(va as number, 7);
    expect(syscall(k, t, 'mprotect', [BigInt(va as number), 4096, PROT_READ])).toBe(0);
    expect(p.primary.map.lookup(va as number)!.prot).toBe(PROT_READ);
    expect(syscall(k, t, 'munmap', [va as number, 8192])).toBe(0);
    expect(p.primary.map.lookup(va as number)).toBeNull();
  });

  it.each([
    ['unknown call', 'frobnicate', [], ERRNO.ENOSYS],
    ['missing argument', 'mmap', [0, 4096], ERRNO.EINVAL],
    ['too many arguments', 'getpid', [1], ERRNO.EINVAL],
    ['unknown protection bits', 'mmap', [0, 4096, 0x10, ANON], ERRNO.EINVAL],
    ['unknown map flags', 'mmap', [0, 4096, RW, ANON | 0x40000], ERRNO.EINVAL],
    ['zero length', 'mmap', [0, 0, RW, ANON], ERRNO.EINVAL],
    ['negative length', 'mmap', [0, -4096, RW, ANON], ERRNO.EINVAL],
    ['non-canonical address', 'mmap', [0x0000_8000_0000_0000n, 4096, RW, ANON | MAP_FIXED], ERRNO.EINVAL],
    ['unaligned fixed address', 'mmap', [HEAP_BASE + 12, 4096, RW, ANON | MAP_FIXED], ERRNO.EINVAL],
    ['MAP_EXCL over the heap', 'mmap', [HEAP_BASE, 4096, RW, ANON | MAP_FIXED | MAP_EXCL], ERRNO.ENOMEM],
    ['both SHARED and PRIVATE', 'mmap', [0, 4096, RW, MAP_SHARED | MAP_PRIVATE | MAP_ANON], ERRNO.EINVAL],
    ['file mapping without a descriptor', 'mmap', [0, 4096, RW, MAP_PRIVATE], ERRNO.EBADF],
    ['anonymous mapping with a descriptor', 'mmap', [0, 4096, RW, ANON, 5], ERRNO.EBADF],
    ['a string for a size', 'mmap', [0, '4096', RW, ANON], ERRNO.EINVAL],
    ['closing a descriptor that is not open', 'close', [3], ERRNO.EBADF],
    ['reading a descriptor that is not open', 'read', [0, HEAP_BASE, 4], ERRNO.EBADF],
    ['a kernel-half buffer', 'pipe', [0xffff_8000_0000_0000n], ERRNO.EFAULT],
    ['an unmapped buffer', 'pipe', [0x5000_0000], ERRNO.EFAULT],
    ['opening a missing file', 'open', ['/nope', O_RDONLY], ERRNO.ENOENT],
    ['a relative path', 'open', ['nope', O_CREAT | O_RDWR], ERRNO.EINVAL],
    ['a path too long', 'open', ['/' + 'x'.repeat(300), O_CREAT | O_RDWR], ERRNO.ENAMETOOLONG],
    ['waiting with no children', 'waitpid', [-1, 0, 0], ERRNO.ECHILD],
    ['a CPU the machine lacks', 'set_affinity', [9], ERRNO.EINVAL],
    ['unmapping an unaligned address', 'munmap', [HEAP_BASE + 1, 4096], ERRNO.EINVAL],
    ['mprotect of an unmapped range', 'mprotect', [0x5000_0000, 4096, PROT_READ], ERRNO.ENOMEM],
    ['tracing a process that does not exist', 'trace', [999, 1], ERRNO.ESRCH],
  ] as const)('%s is -errno and changes nothing', (_what, name, args, errno) => {
    const { k, p, t } = setup();
    const before = snapshot(k, p);
    const r = syscall(k, t, name, args as never);
    expect(r).toBe(-errno);
    expect(isError(r)).toBe(true);
    expect(snapshot(k, p)).toBe(before);
    expect(lastSyscallError(t)?.errno).toBe(errno);
  });

  it('maps a tmpfs file through its descriptor and shares its page cache', () => {
    const { k, p, t } = setup();
    const fd = syscall(k, t, 'open', ['/data', O_CREAT | O_RDWR, 0o600]) as number;
    expect(fd).toBe(0);
    expect(syscall(k, t, 'ftruncate', [fd, 8192])).toBe(0);
    const va = syscall(k, t, 'mmap', [0, 8192, RW, MAP_SHARED, fd, 0]) as number;
    expect(va).toBeGreaterThan(0);
    k.enter(t).store32(va + 4096, 0xabcd);
    // read(2) sees the same page the mapping wrote
    expect(syscall(k, t, 'lseek', [fd, 4096, 0])).toBe(4096);
    expect(syscall(k, t, 'read', [fd, HEAP_BASE, 4])).toBe(4);
    expect(k.enter(t).load32(HEAP_BASE)).toBe(0xabcd);
    // shrinking a mapped file is refused; unlinking keeps it alive for the mapping
    expect(syscall(k, t, 'ftruncate', [fd, 0])).toBe(-ERRNO.EBUSY);
    expect(syscall(k, t, 'unlink', ['/data'])).toBe(0);
    expect(syscall(k, t, 'close', [fd])).toBe(0);
    expect(k.enter(t).load32(va + 4096)).toBe(0xabcd);
    expect(syscall(k, t, 'munmap', [va, 8192])).toBe(0);
    k.exit(p, 0);
    expect(k.frames.usedBytes()).toBe(k.kernelHalf.bytes); // the kernel half stays for good
  });

  it('refuses a writable shared mapping of a read-only descriptor, and other users\' private files', () => {
    const { k, t } = setup();
    const fd = syscall(k, t, 'open', ['/ro', O_CREAT | O_RDWR, 0o600]) as number;
    syscall(k, t, 'ftruncate', [fd, 4096]);
    const ro = syscall(k, t, 'open', ['/ro', O_RDONLY]) as number;
    expect(syscall(k, t, 'mmap', [0, 4096, RW, MAP_SHARED, ro, 0])).toBe(-ERRNO.EACCES);
    const bob = k.spawn('bob', { uid: 1001, gid: 1001 }).threads[0];
    expect(syscall(k, bob, 'open', ['/ro', O_RDONLY])).toBe(-ERRNO.EACCES);
    expect(syscall(k, bob, 'unlink', ['/ro'])).toBe(-ERRNO.EACCES);
  });

  it('a synchronous driver sees WouldBlock, sleeps the thread and retries after the wake-up', () => {
    const { k, p, t } = setup();
    expect(syscall(k, t, 'fork')).toBeGreaterThan(p.pid);
    const child = [...p.children][0];
    const r = syscall(k, t, 'waitpid', [-1, 0, 0]);
    expect(isWouldBlock(r)).toBe(true);
    if (!isWouldBlock(r)) return;
    k.block(t, r.channel);
    expect(t.state).toBe('blocked');
    syscall(k, child.threads[0], 'exit', [3]);
    expect(t.state).toBe('runnable');
    const status = HEAP_BASE;
    expect(syscall(k, t, 'waitpid', [-1, status, 0], { restart: true })).toBe(child.pid);
    expect(k.enter(t).load32(status)).toBe(3 << 8);
    expect(syscall(k, t, 'waitpid', [-1, 0, 1])).toBe(-ERRNO.ECHILD);
  });

  it('lets a ProcessKilled through instead of turning it into an errno', () => {
    const table = new SyscallTable();
    table.register([defineSyscall({ name: 'touch', args: [{ name: 'va', type: 'int' }], handler: (k, t, [va]) => k.enter(t).load32(va) })]);
    const { k, t } = setup();
    expect(() => syscall(k, t, 'touch', [0x5000_0000], { table })).toThrow(ProcessKilled);
  });
});

describe('the table', () => {
  it('lets another module register calls, numbered from 1000 up, with typed arguments', () => {
    const table = new SyscallTable();
    const [def] = table.register([defineSyscall({
      name: 'double_it', args: [{ name: 'n', type: 'int' }, { name: 'by', type: 'int', default: 2 }],
      handler: (_k, _t, [n, by]) => n * by,
    })]);
    expect(def.number).toBe(1000);
    const { k, t } = setup();
    expect(syscall(k, t, 'double_it', [21n], { table })).toBe(42);
    expect(syscall(k, t, 1000, [5, 3], { table })).toBe(15);
    expect(table.arities().get('double_it')).toEqual({ minArgs: 1, maxArgs: 2 });
    expect(() => table.register([defineSyscall({ name: 'double_it', args: [], handler: () => 0 })])).toThrow(/already registered/);
    expect(() => table.register([defineSyscall({ number: 1000, name: 'other', args: [], handler: () => 0 })])).toThrow(/already double_it/);
  });

  it('holds the built-in calls with Linux numbers where Linux has them', () => {
    expect(SYSCALLS.lookup('mmap')?.number).toBe(9);
    expect(SYSCALLS.lookup(0)?.name).toBe('read');
    const arity = SYSCALLS.arities().get('mmap');
    expect(arity).toEqual({ minArgs: 4, maxArgs: 6 });
    const draft = defineSyscall({ name: 'registered_twice_ok', args: [], handler: () => 0 });
    registerSyscalls([draft]);
    expect(registerSyscalls([draft])).toEqual([]);
  });
});
