// Process and thread calls: identity, exit, fork, wait, threads, yielding, affinity, tracing.

import type { Kernel, UserAddr } from '../../kernel/kernel.js';
import type { Process, Thread } from '../../kernel/proc/process.js';
import { fail } from '../../kernel/errno.js';
import { WouldBlock } from '../../kernel/proc/ipc.js';
import { WNOHANG, formatWaitOptions } from '../constants.js';
import { defineSyscall, type SysResult } from '../table.js';

/** The wait status word (Linux layout): exit code in bits 8..15, or the killing signal in bits 0..6. */
export function encodeWaitStatus(p: Process): number {
  if (p.killedBy !== null && p.exitStatus > 128) return (p.exitStatus - 128) & 0x7f;
  return (p.exitStatus & 0xff) << 8;
}

function waitFor(k: Kernel, t: Thread, pid: number, status: UserAddr, options: number): SysResult {
  if ((options & ~WNOHANG) !== 0) fail('EINVAL', 'unknown wait options');
  if (pid === 0 || pid < -1) fail('EINVAL', 'process groups are not modelled: wait for -1 or a pid');
  const p = t.process;
  const kids = [...p.children].filter((c) => pid === -1 || c.pid === pid);
  if (kids.length === 0) fail('ECHILD', pid === -1 ? 'no children' : `${pid} is not a child`);
  const z = kids.find((c) => c.state === 'zombie');
  if (!z) return (options & WNOHANG) !== 0 ? 0 : new WouldBlock(p.childExit, pid === -1 ? 'a child to exit' : `child ${pid} to exit`);
  if (status !== 0 && status !== 0n) {
    const word = new Uint8Array(4);
    new DataView(word.buffer).setInt32(0, encodeWaitStatus(z), true);
    k.copyout(t, status, word); // EFAULT before the child is reaped
  }
  k.waitChild(p, z.pid);
  return z.pid;
}

function threadOf(t: Thread, tid: number): Thread {
  if (tid === 0 || tid === t.tid) return t;
  const x = t.process.threads.find((y) => y.tid === tid && y.state !== 'exited');
  if (!x) fail('ESRCH', `no thread ${tid} in ${t.process.name}[${t.process.pid}]`);
  return x;
}

export const processCalls = [
  defineSyscall({ number: 39, name: 'getpid', args: [], handler: (_k, t) => t.process.pid }),
  defineSyscall({ number: 110, name: 'getppid', args: [], handler: (_k, t) => t.process.parent?.pid ?? 0 }),
  defineSyscall({ number: 186, name: 'gettid', args: [], handler: (_k, t) => t.tid }),
  defineSyscall({ number: 102, name: 'getuid', args: [], handler: (_k, t) => t.process.cred.uid }),
  defineSyscall({ number: 104, name: 'getgid', args: [], handler: (_k, t) => t.process.cred.gid }),

  defineSyscall({
    number: 60, name: 'exit', args: [{ name: 'status', type: 'int' }],
    doc: 'end the process: threads stop, descriptors close, memory is freed, the parent is woken',
    handler: (k, t, [status]) => {
      k.exit(t.process, status & 0xff);
      return 0;
    },
  }),

  defineSyscall({
    number: 57, name: 'fork', args: [{ name: 'child', type: 'body', default: null }],
    doc: 'a child with a copy-on-write copy of the address space; a program passes the body its child runs, a driver gets a child it drives itself',
    handler: (k, t, [child]) => {
      const c = k.fork(t, null);
      c.traced = t.process.traced; // like strace -f: a traced process's children are traced
      if (child) {
        const ct = c.threads[0];
        ct.body = child(ct);
      }
      return c.pid;
    },
  }),

  defineSyscall({
    number: 61, name: 'waitpid',
    args: [{ name: 'pid', type: 'pid', default: -1 }, { name: 'status', type: 'ptr', default: 0n }, { name: 'options', type: 'flags', default: 0, format: formatWaitOptions }],
    blocking: true, doc: 'reap a child that exited (pid -1: any); blocks unless WNOHANG',
    handler: (k, t, [pid, status, options]) => waitFor(k, t, pid, status, options),
  }),

  defineSyscall({
    number: 1000, name: 'wait', args: [{ name: 'status', type: 'ptr', default: 0n }],
    blocking: true, doc: 'waitpid(-1, status, 0)',
    handler: (k, t, [status]) => waitFor(k, t, -1, status, 0),
  }),

  defineSyscall({
    number: 1001, name: 'thread_create',
    args: [{ name: 'name', type: 'string', default: '' }, { name: 'cpu', type: 'cpu', default: -1 }, { name: 'entry', type: 'body', default: null }],
    doc: 'a new thread in the caller\'s process, on `cpu` (-1: any), starting in the primary address space; returns its tid',
    handler: (k, t, [name, cpu, entry]) => {
      const p = t.process;
      const nt = k.newThread(p, name || `t${p.threads.length}`, null, cpu);
      if (entry) nt.body = entry(nt);
      return nt.tid;
    },
  }),

  defineSyscall({
    number: 1003, name: 'thread_exit', args: [{ name: 'status', type: 'int', default: 0 }],
    doc: 'end the calling thread; the last thread to go ends its process with this status',
    handler: (k, t, [status]) => {
      k.exitThread(t, status);
      return 0;
    },
  }),

  defineSyscall({ number: 24, name: 'sched_yield', args: [], handler: () => 0 }),

  defineSyscall({
    number: 203, name: 'set_affinity', args: [{ name: 'cpu', type: 'cpu' }, { name: 'tid', type: 'int', default: 0 }],
    doc: 'pin a thread (0: the caller) to a CPU, or -1 to let it run anywhere; a pinned thread moves there now',
    handler: (k, t, [cpu, tid]) => {
      const x = threadOf(t, tid);
      x.affinity = cpu;
      if (cpu >= 0 && cpu !== x.cpu) {
        if (k.running[x.cpu] === x) k.running[x.cpu] = null;
        x.cpu = cpu;
      }
      return 0;
    },
  }),

  defineSyscall({
    number: 1002, name: 'trace', args: [{ name: 'pid', type: 'pid' }, { name: 'on', type: 'bool', default: true }],
    doc: 'switch strace-style tracing of a process (0: the caller) on or off',
    handler: (k, t, [pid, on]) => {
      const p = pid === 0 ? t.process : k.process(pid);
      const me = t.process.cred;
      if (me.uid !== 0 && me.uid !== p.cred.uid) fail('EPERM', `${p.name}[${p.pid}] belongs to uid ${p.cred.uid}`);
      p.traced = on;
      return 0;
    },
  }),
];
