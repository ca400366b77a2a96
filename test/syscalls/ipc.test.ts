import { describe, it, expect } from 'vitest';
import { Kernel } from '../../kernel/kernel.js';
import type { Thread, ThreadBody } from '../../kernel/proc/process.js';
import { ERRNO } from '../../kernel/errno.js';
import { HEAP_BASE } from '../../kernel/layout.js';
import { PIPE_CAPACITY } from '../../kernel/proc/ipc.js';
import { GiB } from '../../mmu/units.js';
import { syscall, isWouldBlock } from '../../syscalls/dispatch.js';
import { straceOf } from '../../syscalls/strace.js';
import { type Runtime } from '../../userland/runtime.js';
import { runProgram, runUntilDone } from '../../lab/launch.js';

const alice = { uid: 1000, gid: 1000 };

function pipeOf(k: Kernel, t: Thread): [number, number] {
  expect(syscall(k, t, 'pipe', [HEAP_BASE])).toBe(0);
  const cpu = k.enter(t);
  return [cpu.load32(HEAP_BASE), cpu.load32(HEAP_BASE + 4)];
}

describe('pipes', () => {
  it('block both ways between two processes on different CPUs and deliver every byte in order', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    const total = 3 * PIPE_CAPACITY + 1000;
    let received = -1;
    let bad = -1;
    const writer = runProgram(k, function* producer(rt: Runtime): ThreadBody {
      const [rd, wr] = rt.pipe();
      rt.fork(function* consumer(c: Runtime): ThreadBody {
        c.setAffinity(1);
        c.close(wr);
        c.compute(2_000_000); // start late: the writer fills the pipe and sleeps
        yield* c.yield();
        const buf = c.mmap(16384);
        let got = 0;
        for (;;) {
          const n = yield* c.read(rd, buf, 16384);
          if (n === 0) break;
          for (let i = 0; i < n; i++) if (c.load8(buf + i) !== (got + i) % 251 && bad < 0) bad = got + i;
          got += n;
        }
        received = got;
        return 0;
      });
      rt.close(rd);
      const src = rt.mmap(total);
      for (let i = 0; i < total; i++) rt.store8(src + i, i % 251);
      // small writes after the big one make the reader sleep on an empty pipe too
      yield* rt.write(wr, src, total - 1000);
      for (let off = total - 1000; off < total; off += 100) {
        rt.compute(500_000);
        yield* rt.yield();
        yield* rt.write(wr, src + off, 100);
      }
      rt.close(wr);
      const w = yield* rt.wait();
      return w.code;
    }, { cpu: 0, trace: true });
    const run = runUntilDone(k);
    expect(run.deadlock).toBe(false);
    expect(writer.exitStatus).toBe(0);
    expect(received).toBe(total);
    expect(bad).toBe(-1);
    const recs = straceOf(k).records;
    expect(recs.some((r) => r.name === 'write' && r.result === null)).toBe(true); // the writer slept on a full pipe
    expect(recs.some((r) => r.name === 'read' && r.result === null)).toBe(true); // the reader slept on an empty one
    expect(recs.some((r) => r.name === 'read' && r.cpu === 1)).toBe(true);
    // waking a sleeper on the other CPU and copying were charged
    expect(k.cpus.reduce((s, c) => s + (c.cyclesBy.copy ?? 0), 0)).toBeGreaterThanOrEqual(2 * total * k.costs.copyPerByte);
    expect(k.frames.usedBytes()).toBe(k.kernelHalf.bytes); // the kernel half stays for good
  });

  it('reads end of file once every writer is gone, and writing without a reader is EPIPE', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const t = k.spawn('a', alice).threads[0];
    const [rd, wr] = pipeOf(k, t);
    k.enter(t).store32(HEAP_BASE + 64, 0x01020304);
    expect(syscall(k, t, 'write', [wr, HEAP_BASE + 64, 4])).toBe(4);
    expect(syscall(k, t, 'close', [wr])).toBe(0);
    expect(syscall(k, t, 'read', [rd, HEAP_BASE + 128, 100])).toBe(4);
    expect(syscall(k, t, 'read', [rd, HEAP_BASE + 128, 100])).toBe(0);
    const [rd2, wr2] = pipeOf(k, t);
    expect(syscall(k, t, 'close', [rd2])).toBe(0);
    expect(syscall(k, t, 'write', [wr2, HEAP_BASE, 4])).toBe(-ERRNO.EPIPE);
  });

  it('a reader asleep on an empty pipe is woken by the last writer closing', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    const t = k.spawn('a', alice).threads[0];
    const [rd, wr] = pipeOf(k, t);
    const r = syscall(k, t, 'read', [rd, HEAP_BASE, 10]);
    expect(isWouldBlock(r)).toBe(true);
    if (isWouldBlock(r)) k.block(t, r.channel);
    syscall(k, t, 'close', [wr]);
    expect(t.state).toBe('runnable');
    expect(syscall(k, t, 'read', [rd, HEAP_BASE, 10], { restart: true })).toBe(0);
  });

  it('bad buffers are EFAULT and leave the pipe as it was', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const t = k.spawn('a', alice).threads[0];
    const [rd, wr] = pipeOf(k, t);
    expect(syscall(k, t, 'write', [wr, 0x5000_0000, 8])).toBe(-ERRNO.EFAULT);
    expect(isWouldBlock(syscall(k, t, 'read', [rd, HEAP_BASE, 8]))).toBe(true); // nothing went in
    k.enter(t).store32(HEAP_BASE, 0xcafe);
    expect(syscall(k, t, 'write', [wr, HEAP_BASE, 4])).toBe(4);
    expect(syscall(k, t, 'read', [rd, 0x5000_0000, 4])).toBe(-ERRNO.EFAULT);
    expect(syscall(k, t, 'read', [rd, HEAP_BASE + 16, 4])).toBe(4); // the data was not consumed
    expect(k.enter(t).load32(HEAP_BASE + 16)).toBe(0xcafe);
    expect(syscall(k, t, 'read', [wr, HEAP_BASE, 4])).toBe(-ERRNO.EBADF);
    expect(syscall(k, t, 'write', [rd, HEAP_BASE, 4])).toBe(-ERRNO.EBADF);
  });

  it('a process exiting closes its ends', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const p = k.spawn('a', alice);
    const t = p.threads[0];
    const [rd] = pipeOf(k, t);
    syscall(k, t, 'fork');
    const child = [...p.children][0];
    syscall(k, t, 'close', [1]); // the parent's write end; the child still holds one
    expect(isWouldBlock(syscall(k, t, 'read', [rd, HEAP_BASE, 4]))).toBe(true);
    k.exit(child, 0);
    expect(syscall(k, t, 'read', [rd, HEAP_BASE, 4])).toBe(0);
  });
});

describe('message queues', () => {
  it('carry whole messages in order between processes, blocking the receiver while empty', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 2 });
    const got: number[][] = [];
    const server = runProgram(k, function* server(rt: Runtime): ThreadBody {
      const q = rt.msgqCreate('jobs', { mode: 0o666, maxMessages: 2 });
      const buf = rt.malloc(256);
      for (let i = 0; i < 5; i++) {
        const n = yield* rt.msgqRecv(q, buf, 256);
        got.push([...rt.readBytes(buf, n)]);
      }
      rt.msgqDestroy(q);
      return 0;
    }, { cpu: 0, name: 'server' });
    const client = runProgram(k, function* client(rt: Runtime): ThreadBody {
      yield* rt.yield();
      const q = rt.msgqOpen('jobs');
      const buf = rt.malloc(256);
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j <= i; j++) rt.store8(buf + j, 10 * i + j);
        yield* rt.msgqSend(q, buf, i + 1);
      }
      return 0;
    }, { cpu: 1, name: 'client', cred: { uid: 1001, gid: 1001 } });
    expect(runUntilDone(k).deadlock).toBe(false);
    expect(server.exitStatus).toBe(0);
    expect(client.exitStatus).toBe(0);
    expect(got).toEqual([[0], [10, 11], [20, 21, 22], [30, 31, 32, 33], [40, 41, 42, 43, 44]]);
  });

  it('check names, sizes, buffers and permissions', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const t = k.spawn('a', alice).threads[0];
    const bob = k.spawn('bob', { uid: 1001, gid: 1001 }).threads[0];
    const q = syscall(k, t, 'msgq_create', ['q', 0o600, 4, 16]) as number;
    expect(q).toBeGreaterThan(0);
    expect(syscall(k, t, 'msgq_create', ['q'])).toBe(-ERRNO.EEXIST);
    expect(syscall(k, t, 'msgq_open', ['nope'])).toBe(-ERRNO.ENOENT);
    expect(syscall(k, bob, 'msgq_open', ['q'])).toBe(-ERRNO.EACCES);
    expect(syscall(k, bob, 'msgq_send', [q, HEAP_BASE, 4])).toBe(-ERRNO.EACCES);
    expect(syscall(k, t, 'msgq_send', [q, HEAP_BASE, 17])).toBe(-ERRNO.EINVAL);
    expect(syscall(k, t, 'msgq_send', [q, 0x5000_0000, 4])).toBe(-ERRNO.EFAULT);
    expect(isWouldBlock(syscall(k, t, 'msgq_recv', [q, HEAP_BASE, 16]))).toBe(true);
    expect(syscall(k, t, 'msgq_send', [q, HEAP_BASE, 8])).toBe(0);
    expect(syscall(k, t, 'msgq_recv', [q, HEAP_BASE, 4])).toBe(-ERRNO.E2BIG);
    expect(syscall(k, t, 'msgq_recv', [q, 0x5000_0000, 16])).toBe(-ERRNO.EFAULT);
    expect(syscall(k, t, 'msgq_recv', [q, HEAP_BASE, 16])).toBe(8); // still there after both failures
    for (let i = 0; i < 4; i++) expect(syscall(k, t, 'msgq_send', [q, HEAP_BASE, 1])).toBe(0);
    expect(isWouldBlock(syscall(k, t, 'msgq_send', [q, HEAP_BASE, 1]))).toBe(true);
    expect(syscall(k, bob, 'msgq_destroy', [q])).toBe(-ERRNO.EPERM);
    expect(syscall(k, t, 'msgq_destroy', [q])).toBe(0);
    expect(syscall(k, t, 'msgq_send', [q, HEAP_BASE, 1])).toBe(-ERRNO.EINVAL);
    expect(syscall(k, t, 'msgq_create', ['q'])).toBeGreaterThan(q);
  });
});
