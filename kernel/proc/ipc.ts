// IPC for the message-passing designs (GUPS MP, the Redis server): pipes and message queues.
// Data always crosses between user memory and a kernel buffer through copyin/copyout, so a bad
// user pointer is EFAULT and the copy is charged per byte. A call that cannot proceed returns a
// WouldBlock naming the channel to sleep on, having changed nothing, so it can simply be retried
// after a wake-up (by a program's generator or by a synchronous driver such as a trace).

import type { Kernel, UserAddr } from '../kernel.js';
import { WaitChannel, type Credentials, type OpenFile, type Thread } from './process.js';
import { fail } from '../errno.js';

/** "Sleep on `channel` and call again": structurally a scheduler block request. */
export class WouldBlock {
  readonly kind = 'block' as const;
  constructor(readonly channel: WaitChannel, readonly reason: string) {}
}

/** True when a call's result is the WouldBlock marker rather than a value. */
export function isWouldBlock(v: unknown): v is WouldBlock {
  return v instanceof WouldBlock;
}

// ------------------------------------------------------------------ pipes

/** Linux defaults: a 64 KiB buffer; writes up to PIPE_BUF bytes are atomic. */
export const PIPE_CAPACITY = 65536;
export const PIPE_BUF = 4096;

let nextPipeId = 1;

export class Pipe {
  readonly id = nextPipeId++;
  private readonly buf: Uint8Array;
  private head = 0;
  length = 0;
  readerOpen = true;
  writerOpen = true;
  /** Readers sleep here for data; writers for space. */
  readonly readable: WaitChannel;
  readonly writable: WaitChannel;

  constructor(readonly kernel: Kernel, readonly capacity = PIPE_CAPACITY) {
    this.buf = new Uint8Array(capacity);
    this.readable = new WaitChannel(`pipe#${this.id} data`);
    this.writable = new WaitChannel(`pipe#${this.id} space`);
  }

  /** Bytes that can be written before the pipe is full. */
  get space(): number { return this.capacity - this.length; }

  /** Copy up to `n` buffered bytes out without consuming them. */
  peek(n: number): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.length));
    const first = Math.min(out.length, this.capacity - this.head);
    out.set(this.buf.subarray(this.head, this.head + first));
    if (first < out.length) out.set(this.buf.subarray(0, out.length - first), first);
    return out;
  }

  /** Drop `n` bytes (at most `length`, usually what peek returned) from the front of the buffer. */
  consume(n: number): void {
    this.head = (this.head + n) % this.capacity;
    this.length -= n;
  }

  /** Add `data` (at most `space` bytes) to the end of the buffer. */
  append(data: Uint8Array): void {
    const tail = (this.head + this.length) % this.capacity;
    const first = Math.min(data.length, this.capacity - tail);
    this.buf.set(data.subarray(0, first), tail);
    if (first < data.length) this.buf.set(data.subarray(first), 0);
    this.length += data.length;
  }

  /** For strace and views: what the object is. */
  describe(): string {
    return `pipe#${this.id} ${this.length}/${this.capacity} bytes${this.readerOpen ? '' : ', no reader'}${this.writerOpen ? '' : ', no writer'}`;
  }
}

/** One end of a pipe; fork shares it (refCount), and the end closes when the last descriptor goes. */
export class PipeEnd implements OpenFile {
  readonly kind: 'pipe-read' | 'pipe-write';
  refCount = 1;

  constructor(readonly pipe: Pipe, readonly end: 'read' | 'write') {
    this.kind = end === 'read' ? 'pipe-read' : 'pipe-write';
  }

  close(): void {
    const p = this.pipe;
    if (this.end === 'read') {
      p.readerOpen = false;
      p.kernel.wakeAll(p.writable); // writers now get EPIPE
    } else {
      p.writerOpen = false;
      p.kernel.wakeAll(p.readable); // readers now see end of file
    }
  }

  /** For strace and views: what the object is. */
  describe(): string {
    return `${this.end} end of ${this.pipe.describe()}`;
  }
}

/** A new pipe: its read end and write end, each an open file with one reference. */
export function createPipe(k: Kernel, capacity = PIPE_CAPACITY): { read: PipeEnd; write: PipeEnd } {
  const p = new Pipe(k, capacity);
  return { read: new PipeEnd(p, 'read'), write: new PipeEnd(p, 'write') };
}

/** read(2) on a pipe: bytes read, 0 at end of file, or WouldBlock while empty with a writer. */
export function pipeRead(k: Kernel, t: Thread, end: PipeEnd, va: UserAddr, len: number): number | WouldBlock {
  const p = end.pipe;
  if (len === 0) return 0;
  if (p.length === 0) return p.writerOpen ? new WouldBlock(p.readable, `read ${p.describe()}`) : 0;
  const data = p.peek(len);
  k.copyout(t, va, data); // EFAULT leaves the data in the pipe
  p.consume(data.length);
  k.wakeAll(p.writable);
  return data.length;
}

/**
 * write(2) on a pipe: bytes written (possibly fewer than asked when more than PIPE_BUF; the
 * runtime loops), EPIPE with no reader, or WouldBlock while there is not room. Writes up to
 * PIPE_BUF bytes go in whole or not at all, so messages of that size never interleave.
 */
export function pipeWrite(k: Kernel, t: Thread, end: PipeEnd, va: UserAddr, len: number): number | WouldBlock {
  const p = end.pipe;
  if (!p.readerOpen) fail('EPIPE', `${p.describe()}`);
  if (len === 0) return 0;
  const need = len <= PIPE_BUF ? len : 1;
  if (p.space < need) return new WouldBlock(p.writable, `write ${p.describe()}`);
  const n = Math.min(len, p.space);
  const data = k.copyin(t, va, n); // EFAULT before the pipe changes
  p.append(data);
  k.wakeAll(p.readable);
  return n;
}

// ------------------------------------------------------------------ message queues

export const MSGQ_MAX_MESSAGES = 64;
export const MSGQ_MAX_SIZE = 8192;

export class MessageQueue {
  readonly messages: Uint8Array[] = [];
  removed = false;
  readonly notEmpty: WaitChannel;
  readonly notFull: WaitChannel;
  /** Totals, for views and reports. */
  sent = 0;
  received = 0;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly uid: number,
    readonly gid: number,
    readonly mode: number,
    readonly maxMessages: number,
    readonly maxSize: number,
  ) {
    this.notEmpty = new WaitChannel(`msgq#${id} messages`);
    this.notFull = new WaitChannel(`msgq#${id} space`);
  }

  /** For strace and views: what the object is. */
  describe(): string {
    return `msgq#${this.id}${this.name ? ` "${this.name}"` : ''} ${this.messages.length}/${this.maxMessages} messages`;
  }
}

/** The kernel's IPC namespace; kept beside the kernel rather than in it. */
export interface IpcState {
  readonly queues: Map<number, MessageQueue>;
  readonly byName: Map<string, MessageQueue>;
  nextId: number;
}

const states = new WeakMap<Kernel, IpcState>();

/** The kernel's message-queue registry (made on first use). */
export function ipcState(k: Kernel): IpcState {
  let s = states.get(k);
  if (!s) {
    s = { queues: new Map(), byName: new Map(), nextId: 1 };
    states.set(k, s);
  }
  return s;
}

/** Unix permission check against mode bits: `want` is 4 (read) and/or 2 (write). */
export function permits(cred: Credentials, owner: { uid: number; gid: number; mode: number }, want: number): boolean {
  if (cred.uid === 0) return true;
  const shift = cred.uid === owner.uid ? 6 : cred.gid === owner.gid ? 3 : 0;
  return ((owner.mode >> shift) & want) === want;
}

export interface MsgqOptions {
  mode?: number;
  maxMessages?: number;
  maxSize?: number;
}

/** A new queue; a name makes it findable (EEXIST if taken), '' makes it private to whoever learns the id. */
export function msgqCreate(k: Kernel, cred: Credentials, name: string, o: MsgqOptions = {}): number {
  const s = ipcState(k);
  const maxMessages = o.maxMessages ?? MSGQ_MAX_MESSAGES;
  const maxSize = o.maxSize ?? MSGQ_MAX_SIZE;
  if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > 65536) fail('EINVAL', 'queue depth must be 1..65536');
  if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > 1 << 20) fail('EINVAL', 'message size limit must be 1..1M');
  if (name && s.byName.has(name)) fail('EEXIST', `message queue "${name}"`);
  const q = new MessageQueue(s.nextId++, name, cred.uid, cred.gid, o.mode ?? 0o600, maxMessages, maxSize);
  s.queues.set(q.id, q);
  if (name) s.byName.set(name, q);
  return q.id;
}

/** Open the queue named `name` for `t`'s process. Returns its id; ENOENT when there is none, EACCES
 *  when the caller may not use it. */
export function msgqOpen(k: Kernel, cred: Credentials, name: string): number {
  const q = ipcState(k).byName.get(name);
  if (!q) fail('ENOENT', `message queue "${name}"`);
  if (!permits(cred, q, 2) && !permits(cred, q, 4)) fail('EACCES', `message queue "${name}"`);
  return q.id;
}

function queue(k: Kernel, id: number): MessageQueue {
  const q = ipcState(k).queues.get(id);
  if (!q || q.removed) fail('EINVAL', `no message queue ${id}`);
  return q;
}

/** Send `len` bytes at `va`: 0, or WouldBlock while the queue is full (SysV: EINVAL if too big). */
export function msgqSend(k: Kernel, t: Thread, id: number, va: UserAddr, len: number): number | WouldBlock {
  const q = queue(k, id);
  if (!permits(t.process.cred, q, 2)) fail('EACCES', q.describe());
  if (len > q.maxSize) fail('EINVAL', `message of ${len} bytes exceeds the queue's ${q.maxSize}`);
  if (q.messages.length >= q.maxMessages) return new WouldBlock(q.notFull, `send to ${q.describe()}`);
  q.messages.push(k.copyin(t, va, len));
  q.sent++;
  k.wakeAll(q.notEmpty);
  return 0;
}

/** Receive the oldest message into `va` (capacity `cap`): its length, or WouldBlock while empty (E2BIG if it does not fit). */
export function msgqRecv(k: Kernel, t: Thread, id: number, va: UserAddr, cap: number): number | WouldBlock {
  const q = queue(k, id);
  if (!permits(t.process.cred, q, 4)) fail('EACCES', q.describe());
  const m = q.messages[0];
  if (!m) return new WouldBlock(q.notEmpty, `receive from ${q.describe()}`);
  if (m.length > cap) fail('E2BIG', `message of ${m.length} bytes, buffer of ${cap}`);
  k.copyout(t, va, m);
  q.messages.shift();
  q.received++;
  k.wakeAll(q.notFull);
  return m.length;
}

/** Remove a queue (owner or root): its name goes, and sleepers wake to find it gone (EINVAL). */
export function msgqDestroy(k: Kernel, cred: Credentials, id: number): void {
  const s = ipcState(k);
  const q = queue(k, id);
  if (cred.uid !== 0 && cred.uid !== q.uid) fail('EPERM', `${q.describe()} belongs to uid ${q.uid}`);
  q.removed = true;
  s.queues.delete(id);
  if (q.name) s.byName.delete(q.name);
  k.wakeAll(q.notEmpty);
  k.wakeAll(q.notFull);
}
