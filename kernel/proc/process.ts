// Processes and threads. A process owns credentials, a file-descriptor table, its primary
// address space and (SpaceJMP) its attachments; a thread owns its register state — which address
// space it is executing in, the CPU it runs on or is pinned to — and, for programs, its body.

import type { Vmspace } from '../vm/vmspace.js';
import type { VmObject } from '../vm/vmObject.js';

export interface Credentials {
  uid: number;
  gid: number;
  /** Supplementary groups (permission checks use them like the primary group). */
  groups?: readonly number[];
}

/** What a thread's body yields to the scheduler. */
export type YieldRequest =
  | undefined
  | { kind: 'yield' }
  | { kind: 'block'; channel: WaitChannel };

export type ThreadBody = Generator<YieldRequest, number | void, unknown>;

export type ThreadState = 'runnable' | 'running' | 'blocked' | 'exited';

/** Something threads sleep on until woken (pipe data, a child's exit, a segment lock). */
export class WaitChannel {
  readonly waiters = new Set<Thread>();
  constructor(readonly name: string) {}
}

/** An open file: the fd table holds references to these. */
export interface OpenFile {
  kind: string;
  refCount: number;
  /** Release resources when the last descriptor closes. */
  close(): void;
  /** The vm object this open file holds one reference on (a tmpfs file), for the invariant checker. */
  readonly object?: VmObject;
  describe(): string;
}

let nextTid = 1;

export class Thread {
  readonly tid = nextTid++;
  state: ThreadState = 'runnable';
  /** The address space the thread executes in (its CR3); the primary unless it switched. */
  space: Vmspace;
  /** SpaceJMP handle of `space` (0 = primary). */
  vh = 0;
  /** CPU the thread is pinned to, or -1 for any. */
  affinity = -1;
  /** CPU it last ran on (or runs on). */
  cpu = -1;
  body: ThreadBody | null = null;
  /** Modelled time (cycles) before which it cannot run (set when woken). */
  readyAt = 0;
  waitingOn: WaitChannel | null = null;
  exitCode = 0;
  /** Value passed back into the body at its next resume. */
  resumeValue: unknown = undefined;

  constructor(readonly process: Process, public name: string) {
    this.space = process.primary;
  }

  /** "name[pid].thread", for logs, strace and views. */
  describe(): string {
    return `${this.process.name}[${this.process.pid}].${this.name}`;
  }
}

export type ProcessState = 'live' | 'zombie' | 'reaped';

export class Process {
  readonly threads: Thread[] = [];
  readonly fds = new Map<number, OpenFile>();
  readonly children = new Set<Process>();
  state: ProcessState = 'live';
  exitStatus = 0;
  /** Why it was killed (a fault report), if it was. */
  killedBy: string | null = null;
  /** strace-style tracing of its syscalls. */
  traced = false;
  /** Parent's wait channel for this process's exit is the parent's `childExit`. */
  readonly childExit = new WaitChannel('child-exit');
  /** Its slot in the kernel half's data pages and the numbering that gave it (kernel/kernelHalf.ts). */
  kernelSlot = -1;
  kernelSlotGen = 0;

  constructor(
    readonly pid: number,
    public name: string,
    public cred: Credentials,
    public primary: Vmspace,
    public parent: Process | null,
  ) {}

  /** True until the process exits (then it is a zombie until reaped). */
  get live(): boolean { return this.state === 'live'; }

  /** Lowest free descriptor number. */
  allocFd(file: OpenFile): number {
    let fd = 0;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, file);
    return fd;
  }
}
