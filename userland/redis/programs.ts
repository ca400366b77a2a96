// The Redis programs, in the three designs, over the same dataset code:
//   rpc          stock Redis: a server process owns the dataset in its private memory and runs an
//                event loop; clients write requests into its request pipe (one pipe per server,
//                many writers, each frame one atomic write) and block reading their own reply pipe.
//   jmp          RedisJMP (reference §10.4): no server thread. The dataset is a lockable segment of
//                a named address space; every client attaches once and, per command, switches in
//                (reader lock through a read-only view of the segment for commands that only read,
//                writer lock otherwise), runs the command itself and switches out.
//   jmp-sharded  the keyspace split over K such segments, one named space per shard, so clients on
//                different shards run in parallel.
// A client is either a network client (bytes from a connection arrive in its `netIn` pipe and its
// replies go to `netOut`: `sjmp redis serve`) or a benchmark client generating GET/SET requests.

import type { Runtime, Blocking } from '../runtime.js';
import { SPACEJMP_CONSTANTS } from '../../syscalls/calls/spacejmpConstants.js';
import { PROT_READ, PROT_WRITE } from '../../syscalls/constants.js';
import { Dataset } from './dataset.js';
import { execute, resolveCommand, newClient, type ClientState, type InfoProvider, type CommandSpec } from './commands.js';
import { Reply } from './reply.js';
import { parseRequest, encodeRequest, DEFAULT_MAX_BULK } from './resp.js';
import { storeBytes, loadBytes, hashBytes } from './mem.js';
import { latin1 } from './util.js';

const { PRIMARY: VAS_PRIMARY, SEG_CTL_LOCKABLE, SEG_2M } = SPACEJMP_CONSTANTS;

/** Where the jmp datasets live: the SpaceJMP segment region starts at 2^46 (docs/spacejmp.md); this
 *  is clear of what GUPS and Nibble place there. Shard k sits at JMP_BASE + k * SHARD_STRIDE. */
export const JMP_BASE = 2 ** 46 + 2 ** 42;
export const SHARD_STRIDE = 2 ** 32;
const IO_BYTES = 256 * 1024;
/** A request frame is written in one call of at most PIPE_BUF bytes, so frames from many clients never interleave. */
const FRAME_MAX = 4096;
const FRAME_HEADER = 8;
/** Reply-frame flag: the server closes this client after the reply (QUIT, protocol error, SHUTDOWN). */
export const REPLY_CLOSE = 0x80000000;

/** Host-side channel between a program and the harness (what the harness reads back). */
export interface ProgramReport {
  /** Set by SHUTDOWN. */
  shutdown: boolean;
  errors: string[];
}

function segName(name: string, shard: number): string { return `${name}.shard${shard}`; }

export interface JmpLayout {
  name: string;
  shards: number;
  bytesPerShard: number;
  hugePages: boolean;
}

/**
 * The owner's part of RedisJMP: per shard a wired segment holding a fresh dataset, made lockable,
 * in two named spaces — `NAME.shardK` maps it read-write (switching in takes the writer lock) and
 * `NAME.shardK.ro` read-only (the reader lock). Returns a view of every shard (the owner keeps the
 * segments mapped in its primary space, to preload them without a switch).
 */
export function createJmpDatasets(rt: Runtime, l: JmpLayout, cyclesPerMs: number, maxmemory?: number): Dataset[] {
  const out: Dataset[] = [];
  for (let k = 0; k < l.shards; k++) {
    const base = JMP_BASE + k * SHARD_STRIDE;
    const sid = rt.call('seg_alloc', segName(l.name, k), base, l.bytesPerShard, 0o666, l.hugePages ? SEG_2M : 0);
    rt.call('seg_attach', VAS_PRIMARY, sid);
    out.push(Dataset.create(rt, base, l.bytesPerShard, () => rt.cpu.rdtsc() / cyclesPerMs, { cyclesPerMs, maxmemory }));
    const rw = rt.call('vas_create', segName(l.name, k), 0o666);
    rt.call('seg_attach', rw, sid, PROT_READ | PROT_WRITE);
    const ro = rt.call('vas_create', `${segName(l.name, k)}.ro`, 0o666);
    rt.call('seg_attach', ro, sid, PROT_READ);
    rt.call('seg_ctl', sid, SEG_CTL_LOCKABLE, 1);
  }
  return out;
}

/** The client half of RedisJMP: attached once, then a switch in and out around every command. */
export class JmpClient {
  readonly rw: number[] = [];
  readonly ro: number[] = [];
  readonly ds: Dataset[] = [];
  switches = 0;

  constructor(readonly rt: Runtime, readonly shards: number, readonly info?: InfoProvider) {}

  /** Attach every shard's two spaces and open the datasets (a first switch in, to read their roots). */
  *attach(name: string): Blocking<void> {
    const rt = this.rt;
    for (let k = 0; k < this.shards; k++) {
      this.rw.push(rt.call('vas_attach', rt.call('vas_find', segName(name, k))));
      this.ro.push(rt.call('vas_attach', rt.call('vas_find', `${segName(name, k)}.ro`)));
      yield* rt.callBlocking('vas_switch', this.ro[k], 0);
      const base = JMP_BASE + k * SHARD_STRIDE;
      this.ds.push(Dataset.open(rt, base, Dataset.clockFor(rt, base, () => rt.cpu.rdtsc())));
      yield* rt.callBlocking('vas_switch', VAS_PRIMARY, 0);
    }
  }

  shardOf(spec: CommandSpec, argv: Uint8Array[]): number {
    if (this.shards === 1 || spec.firstKey <= 0 || spec.firstKey >= argv.length) return 0;
    return hashBytes(this.rt, argv[spec.firstKey]) % this.shards;
  }

  /**
   * Run one command with its reply appended to `reply`. A cooperative point before the switch and
   * one before switching out let every other CPU's thread that is earlier in modelled time run
   * first, so a lock held here is seen held by them for the modelled time it is held.
   */
  *call(argv: Uint8Array[], reply: Reply, client: ClientState): Blocking<void> {
    const spec = resolveCommand(argv);
    if (typeof spec === 'string' || spec.access === 'none') {
      execute({ ds: this.ds[0], client, reply, info: this.info }, argv);
      return;
    }
    const k = this.shardOf(spec, argv);
    const read = spec.access === 'read';
    yield* this.rt.yield();
    yield* this.rt.callBlocking('vas_switch', read ? this.ro[k] : this.rw[k], 0);
    const ds = this.ds[k];
    ds.readOnly = read;
    try {
      execute({ ds, client, reply, info: this.info }, argv);
    } finally {
      ds.readOnly = false;
    }
    yield* this.rt.yield();
    yield* this.rt.callBlocking('vas_switch', VAS_PRIMARY, 0);
    this.switches += 2;
  }
}

// ------------------------------------------------------------------ rpc

export interface RpcServerParams {
  reqFd: number;
  /** clientId -> this server's write end of that client's reply pipe (the harness fills it as clients come). */
  replyFds: Map<number, number>;
  bytes: number;
  cyclesPerMs: number;
  maxmemory?: number;
  maxBulk?: number;
  info?: InfoProvider;
  report: ProgramReport;
  /** Called with the dataset once it exists (the bench preloads through it). */
  onReady?: (ds: Dataset) => void;
}

/**
 * A Redis server: one thread, an event loop over its request pipe. Each read takes whatever frames
 * are there (a batch when many clients wait), runs every complete command of each client's query
 * buffer in order and answers each frame with one reply frame. It exits when every writer is gone.
 */
export function* rpcServer(rt: Runtime, p: RpcServerParams): Blocking<number> {
  const base = rt.mmap(p.bytes);
  const ds = Dataset.create(rt, base, p.bytes, () => rt.cpu.rdtsc() / p.cyclesPerMs, { cyclesPerMs: p.cyclesPerMs, maxmemory: p.maxmemory });
  p.onReady?.(ds);
  const inBuf = rt.mmap(IO_BYTES);
  const outBuf = rt.mmap(IO_BYTES);
  const clients = new Map<number, { query: ByteQueue; state: ClientState; closed: boolean }>();
  const frames = new ByteQueue();
  const reply = new Reply();
  for (;;) {
    const n = yield* rt.read(p.reqFd, inBuf, IO_BYTES);
    if (n === 0) break;
    frames.append(loadBytes(rt, inBuf, n));
    const pending = frames.view();
    let at = 0;
    while (pending.length - at >= FRAME_HEADER) {
      const id = readU32(pending, at);
      const len = readU32(pending, at + 4);
      if (pending.length - at < FRAME_HEADER + len) break;
      const payload = pending.subarray(at + FRAME_HEADER, at + FRAME_HEADER + len);
      at += FRAME_HEADER + len;
      let c = clients.get(id);
      if (!c) clients.set(id, (c = { query: new ByteQueue(), state: newClient(), closed: false }));
      const fd = p.replyFds.get(id);
      if (len === 0) { // the client is gone
        clients.delete(id);
        if (fd !== undefined) {
          rt.close(fd);
          p.replyFds.delete(id);
        }
        continue;
      }
      if (c.closed || fd === undefined) continue;
      reply.reset();
      c.query.append(payload);
      const used = runQuery(ds, c.query.view(), c.state, reply, p.maxBulk ?? DEFAULT_MAX_BULK, p.info);
      c.query.consume(used.consumed);
      let flags = 0;
      if (used.close || c.state.shutdown) {
        flags = REPLY_CLOSE;
        c.closed = true;
      }
      yield* sendFrame(rt, fd, outBuf, reply.bytes(), flags);
      if (c.state.shutdown) p.report.shutdown = true;
    }
    frames.consume(at);
    if (p.report.shutdown) break;
  }
  return 0;
}

/** Run every complete command in `query`; returns how many bytes were consumed and whether to close. */
export function runQuery(ds: Dataset, query: Uint8Array, state: ClientState, reply: Reply, maxBulk: number, info?: InfoProvider): { consumed: number; close: boolean } {
  let at = 0;
  for (;;) {
    const r = parseRequest(query, at, query.length, maxBulk);
    if (r.kind === 'incomplete') return { consumed: at, close: false };
    if (r.kind === 'error') {
      reply.error(r.message);
      return { consumed: query.length, close: true };
    }
    at = r.next;
    if (r.kind === 'empty') continue;
    execute({ ds, client: state, reply, info }, r.argv);
    if (state.close || state.shutdown) return { consumed: query.length, close: true };
  }
}

/** A query buffer (Redis's querybuf): appended at the end, consumed from the front, grown by doubling. */
class ByteQueue {
  private buf = new Uint8Array(256);
  private start = 0;
  private end = 0;

  get length(): number { return this.end - this.start; }
  view(): Uint8Array { return this.buf.subarray(this.start, this.end); }

  append(b: Uint8Array): void {
    if (this.end + b.length > this.buf.length) {
      const live = this.length;
      const cap = Math.max(this.buf.length, 2 * (live + b.length));
      const nb = cap > this.buf.length ? new Uint8Array(cap) : this.buf;
      nb.set(this.buf.subarray(this.start, this.end), 0);
      this.buf = nb;
      this.start = 0;
      this.end = live;
    }
    this.buf.set(b, this.end);
    this.end += b.length;
  }

  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
  }
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** A reply frame: length word (with the close flag) and the bytes, written from `buf`. */
function* sendFrame(rt: Runtime, fd: number, buf: number, bytes: Uint8Array, flags: number): Blocking<void> {
  for (let off = 0; off === 0 || off < bytes.length;) {
    const part = Math.min(bytes.length - off, IO_BYTES - 4);
    rt.store32(buf, (part | (off + part < bytes.length ? 0 : flags)) | 0);
    storeBytes(rt, buf + 4, bytes.subarray(off, off + part));
    yield* rt.write(fd, buf, 4 + part);
    off += part;
    if (part === 0) break;
  }
}

/** Send `payload` to a server as request frames of at most FRAME_MAX bytes, each one atomic write. */
function* sendRequest(rt: Runtime, fd: number, buf: number, id: number, payload: Uint8Array): Blocking<void> {
  let off = 0;
  do {
    const part = Math.min(payload.length - off, FRAME_MAX - FRAME_HEADER);
    rt.store32(buf, id);
    rt.store32(buf + 4, part);
    storeBytes(rt, buf + FRAME_HEADER, payload.subarray(off, off + part));
    yield* rt.write(fd, buf, FRAME_HEADER + part);
    off += part;
  } while (off < payload.length);
}

/** Read one whole reply frame: its bytes (loaded into the CPU) and whether the server closed us. */
function* readReply(rt: Runtime, fd: number, buf: number): Blocking<{ bytes: Uint8Array; close: boolean }> {
  const parts: Uint8Array[] = [];
  for (;;) {
    yield* readExactly(rt, fd, buf, 4);
    const word = rt.load32(buf) >>> 0;
    const len = word & 0x7fffffff;
    yield* readExactly(rt, fd, buf, len);
    parts.push(loadBytes(rt, buf, len));
    // A long reply comes as several frames; only the last one carries the flags, and it is the
    // one shorter than a full buffer (or flagged).
    if ((word & REPLY_CLOSE) !== 0 || len < IO_BYTES - 4) {
      const total = parts.reduce((s, p) => s + p.length, 0);
      const out = new Uint8Array(total);
      let o = 0;
      for (const p of parts) { out.set(p, o); o += p.length; }
      return { bytes: out, close: (word & REPLY_CLOSE) !== 0 };
    }
  }
}

function* readExactly(rt: Runtime, fd: number, buf: number, n: number): Blocking<void> {
  for (let got = 0; got < n;) {
    const r = yield* rt.read(fd, buf + got, n - got);
    if (r === 0) throw new Error('redis: the server closed the reply pipe');
    got += r;
  }
}

// ------------------------------------------------------------------ network clients (serve)

export interface NetIo {
  netIn: number;
  netOut: number;
}

/** A connection's client in the jmp design: it parses its own requests and runs them in the dataset's space. */
export function* jmpNetClient(rt: Runtime, io: NetIo, name: string, maxBulk: number, report: ProgramReport, info?: InfoProvider): Blocking<number> {
  const jc = new JmpClient(rt, 1, info);
  yield* jc.attach(name);
  const inBuf = rt.mmap(IO_BYTES);
  const state = newClient();
  const reply = new Reply();
  const queue = new ByteQueue();
  for (;;) {
    const n = yield* rt.read(io.netIn, inBuf, IO_BYTES);
    if (n === 0) break;
    queue.append(loadBytes(rt, inBuf, n));
    const query = queue.view();
    reply.reset();
    let at = 0;
    let close = false;
    for (;;) {
      const r = parseRequest(query, at, query.length, maxBulk);
      if (r.kind === 'incomplete') break;
      if (r.kind === 'error') {
        reply.error(r.message);
        close = true;
        break;
      }
      at = r.next;
      if (r.kind === 'empty') continue;
      yield* jc.call(r.argv, reply, state);
      if (state.close || state.shutdown) {
        close = true;
        break;
      }
    }
    queue.consume(at);
    if (reply.len > 0) {
      storeBytes(rt, inBuf, reply.bytes());
      yield* rt.write(io.netOut, inBuf, reply.len);
    }
    if (state.shutdown) report.shutdown = true;
    if (close) break;
  }
  return 0;
}

/** A connection's client in the rpc design: it relays the connection's bytes to the server and back. */
export function* rpcNetClient(rt: Runtime, io: NetIo, id: number, reqFd: number, replyFd: number): Blocking<number> {
  const buf = rt.mmap(IO_BYTES);
  const out = rt.mmap(FRAME_MAX);
  try {
    for (;;) {
      const n = yield* rt.read(io.netIn, buf, FRAME_MAX - FRAME_HEADER);
      if (n === 0) break;
      yield* sendRequest(rt, reqFd, out, id, loadBytes(rt, buf, n));
      const r = yield* readReply(rt, replyFd, buf);
      if (r.bytes.length) {
        storeBytes(rt, buf, r.bytes);
        yield* rt.write(io.netOut, buf, r.bytes.length);
      }
      if (r.close) break;
    }
  } finally {
    // Tell the server this client is gone (an empty frame), unless the server itself is gone.
    rt.store32(out, id);
    rt.store32(out + 4, 0);
    rt.raw('write', reqFd, out, FRAME_HEADER);
  }
  return 0;
}

// ------------------------------------------------------------------ benchmark clients

export interface BenchClientParams {
  id: number;
  ops: number;
  keys: number;
  valueSize: number;
  /** Share of GETs (the rest are SETs). */
  getRatio: number;
  seed: number;
}

export interface BenchClientReport {
  startCycles: number;
  endCycles: number;
  ops: number;
  gets: number;
  sets: number;
  hits: number;
  errors: string[];
  done: boolean;
}

export function emptyBenchReport(): BenchClientReport {
  return { startCycles: 0, endCycles: 0, ops: 0, gets: 0, sets: 0, hits: 0, errors: [], done: false };
}

/** The key of index i, as redis-benchmark -r writes it. */
export function benchKey(i: number): string {
  return `key:${String(i).padStart(12, '0')}`;
}

/** A deterministic request stream: GET or SET of a uniformly random key. */
class RequestStream {
  private x: number;
  private readonly value: Uint8Array;
  private readonly enc = new TextEncoder();

  constructor(private readonly p: BenchClientParams) {
    this.x = (p.seed * 0x9e3779b1 + p.id * 0x85ebca6b) | 1;
    this.value = new Uint8Array(p.valueSize).fill(0x78);
  }

  private rand(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x;
    return (x >>> 0) / 4294967296;
  }

  next(): Uint8Array[] {
    const key = this.enc.encode(benchKey(Math.floor(this.rand() * this.p.keys)));
    return this.rand() < this.p.getRatio ? [this.enc.encode('GET'), key] : [this.enc.encode('SET'), key, this.value];
  }
}

function checkBenchReply(argv: Uint8Array[], reply: Uint8Array, r: BenchClientReport): void {
  const get = argv.length === 2;
  if (get) {
    r.gets++;
    if (reply[0] === 0x24 && reply[1] !== 0x2d) r.hits++;
    else if (!(reply[0] === 0x24 && reply[1] === 0x2d)) r.errors.push(`GET ${latin1(argv[1])}: ${latin1(reply.subarray(0, 80))}`);
  } else {
    r.sets++;
    if (!(reply.length === 5 && reply[0] === 0x2b)) r.errors.push(`SET ${latin1(argv[1])}: ${latin1(reply.subarray(0, 80))}`);
  }
}

/**
 * The request and reply pass through the client's memory in both designs (stored, then read back
 * as the command or the client reads them), so the designs differ only in how a request reaches
 * the dataset.
 */
export function* jmpBenchClient(rt: Runtime, name: string, shards: number, p: BenchClientParams, r: BenchClientReport, go: number): Blocking<number> {
  const jc = new JmpClient(rt, shards);
  yield* jc.attach(name);
  const buf = rt.mmap(IO_BYTES);
  yield* rt.read(go, buf, 1);
  const stream = new RequestStream(p);
  const state = newClient();
  const reply = new Reply();
  r.startCycles = rt.cpu.rdtsc();
  for (let i = 0; i < p.ops; i++) {
    const argv = stream.next();
    const req = encodeRequest(argv);
    storeBytes(rt, buf, req);
    loadBytes(rt, buf, req.length);
    reply.reset();
    yield* jc.call(argv, reply, state);
    storeBytes(rt, buf, reply.bytes());
    checkBenchReply(argv, loadBytes(rt, buf, reply.len), r);
    r.ops++;
  }
  r.endCycles = rt.cpu.rdtsc();
  r.done = true;
  return 0;
}

export function* rpcBenchClient(rt: Runtime, reqFds: number[], replyFd: number, p: BenchClientParams, r: BenchClientReport, go: number): Blocking<number> {
  const buf = rt.mmap(IO_BYTES);
  const out = rt.mmap(FRAME_MAX);
  yield* rt.read(go, buf, 1);
  const stream = new RequestStream(p);
  r.startCycles = rt.cpu.rdtsc();
  for (let i = 0; i < p.ops; i++) {
    const argv = stream.next();
    const server = reqFds.length === 1 ? 0 : hashBytes(rt, argv[1]) % reqFds.length;
    yield* sendRequest(rt, reqFds[server], out, p.id, encodeRequest(argv));
    const rep = yield* readReply(rt, replyFd, buf);
    checkBenchReply(argv, rep.bytes, r);
    r.ops++;
  }
  r.endCycles = rt.cpu.rdtsc();
  r.done = true;
  return 0;
}
