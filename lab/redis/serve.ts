// `sjmp redis serve`: a RESP2 server on 127.0.0.1 in front of an emulated machine. Every TCP
// connection becomes an emulated client process of the chosen design, with two pipes for its
// connection — `netIn`, which the host fills with the bytes the peer sent (the network card's side),
// and `netOut`, which the host empties back onto the socket. Between socket events the scheduler
// runs the machine until every thread waits again. The machine's clocks follow the wall clock
// while it idles, so expire times pass as a person at redis-cli expects.

import { createServer, type Server, type Socket } from 'node:net';
import { Kernel } from '../../kernel/kernel.js';
import type { MachineConfig } from '../../kernel/machineConfig.js';
import { Scheduler } from '../../kernel/proc/scheduler.js';
import type { Process } from '../../kernel/proc/process.js';
import { runProgram } from '../launch.js';
import { createJmpDatasets, jmpNetClient, rpcNetClient, rpcServer, JmpClient, type ProgramReport } from '../../userland/redis/programs.js';
import type { InfoProvider } from '../../userland/redis/commands.js';
import { DEFAULT_MAX_BULK } from '../../userland/redis/resp.js';
import { MiB } from '../../mmu/units.js';
import { createPipe, giveFd, hostHold, hostWrite, hostRead, hostClose, machineCounters, alignClocks, type PipeEnd } from './machine.js';

export type ServeDesign = 'jmp' | 'rpc';

export interface ServeOptions {
  design: ServeDesign;
  /** Bytes of emulated memory for the dataset. */
  bytes: number;
  maxBulk?: number;
  maxmemory?: number;
}

interface Conn {
  id: number;
  proc: Process;
  netIn: PipeEnd;
  netOut: PipeEnd;
  /** Bytes from the peer not yet taken by the pipe. */
  pending: Uint8Array[];
  inClosed: boolean;
}

const NAME = 'redis';

/** Bytes of the jmp dataset already on `k` (a machine from an image), or null when there is none. */
export function existingDataset(k: Kernel): { bytes: number } | null {
  const seg = [...(k.spacejmp?.segments.values() ?? [])].find((s) => !s.deleted && s.name === `${NAME}.shard0`);
  return seg ? { bytes: seg.size } : null;
}

/** The memory a serve machine needs for a dataset of `bytes`. */
export function serveMemory(config: MachineConfig, bytes: number): number {
  return Math.max(config.memBytes, bytes * 2 + 256 * MiB);
}

/** The emulated side: the machine, the dataset's owner or server, and one client process per connection. */
export class RedisMachine {
  readonly kernel: Kernel;
  readonly report: ProgramReport = { shutdown: false, errors: [] };
  private readonly conns = new Map<number, Conn>();
  private nextId = 1;
  private readonly cyclesPerMs: number;
  private readonly wall0 = performance.now();
  private readonly cycles0: number;
  private server: Process | null = null;
  private readonly req = { read: null as PipeEnd | null, write: null as PipeEnd | null };
  private readonly replyFds = new Map<number, number>();
  private readonly maxBulk: number;
  commands = 0;

  /**
   * `kernel`: a machine to serve on (one loaded from an image). In the jmp design a dataset that
   * is already there (named space `redis.shard0`) is served as it is; otherwise one is made.
   */
  constructor(readonly config: MachineConfig, readonly opts: ServeOptions, kernel?: Kernel) {
    this.kernel = kernel ?? new Kernel({ ...config, memBytes: serveMemory(config, opts.bytes) });
    this.cyclesPerMs = config.profile.params.clockGHz * 1e6;
    this.maxBulk = opts.maxBulk ?? DEFAULT_MAX_BULK;
    const k = this.kernel;
    if (opts.design === 'jmp' && existingDataset(k)) {
      // Open it once, as every client will, so a dataset that does not open is reported now.
      const check = runProgram(k, {
        name: 'redis-check',
        main: function* (rt) {
          yield* new JmpClient(rt, 1).attach(NAME);
          return 0;
        },
      }, { cpu: 0 });
      this.run();
      if (check.killedBy) throw new Error(`redis serve: the dataset on this machine does not open: ${check.killedBy}`);
    } else if (opts.design === 'jmp') {
      const cyclesPerMs = this.cyclesPerMs;
      const owner = runProgram(k, {
        name: 'redis-owner',
        main: function* (rt) {
          createJmpDatasets(rt, { name: NAME, shards: 1, bytesPerShard: opts.bytes, hugePages: true }, cyclesPerMs, opts.maxmemory);
          yield* rt.yield();
          return 0;
        },
      }, { cpu: 0 });
      this.run();
      if (owner.killedBy) throw new Error(`redis serve: the dataset owner was killed: ${owner.killedBy}`);
    } else {
      const req = createPipe(k);
      this.req.read = req.read;
      this.req.write = req.write;
      hostHold(req.write); // the server must not see end of file when its last client goes
      let reqFd = -1;
      this.server = runProgram(k, {
        name: 'redis-server',
        main: (rt) => rpcServer(rt, { reqFd, replyFds: this.replyFds, bytes: opts.bytes, cyclesPerMs: this.cyclesPerMs, maxmemory: opts.maxmemory, maxBulk: this.maxBulk, info: this.info, report: this.report }),
      }, { cpu: 0 });
      reqFd = giveFd(this.server, req.read);
      this.run();
    }
    this.cycles0 = machineCounters(k).maxClock;
  }

  /** INFO's own sections: the server's and the emulated machine's figures. */
  readonly info: InfoProvider = () => {
    const c = machineCounters(this.kernel);
    return {
      Server: [['tcp_design', this.opts.design], ['uptime_in_seconds', Math.floor((performance.now() - this.wall0) / 1000)]],
      Clients: [['connected_clients', this.conns.size]],
      Stats: [['total_connections_received', this.nextId - 1]],
      Emulator: [
        ['design', this.opts.design], ['profile', this.config.profile.name], ['modelled_cycles', Math.round(c.maxClock)],
        ['clock', `modelled cycles of the emulated machine at ${this.config.profile.params.clockGHz} GHz`],
        ['vas_switches', c.switches], ['blocked_switches', c.blockedSwitches], ['tlb_misses', c.tlbMisses], ['page_walks', c.walks],
        ['frames_used_bytes', this.kernel.frames.usedBytes()], ['processes', this.kernel.processes.size],
      ],
    };
  };

  /** Run the machine until every thread waits (bounded: a runaway program cannot hang the host). */
  private run(): void {
    const limit = performance.now() + 10_000;
    const target = this.cycles0 === undefined ? 0 : this.cycles0 + (performance.now() - this.wall0) * this.cyclesPerMs;
    if (target > 0) alignClocks(this.kernel, target);
    new Scheduler(this.kernel).run({ until: () => performance.now() > limit });
  }

  connect(): number {
    const k = this.kernel;
    const id = this.nextId++;
    const netIn = createPipe(k);
    const netOut = createPipe(k);
    const io = { netIn: -1, netOut: -1 };
    let proc: Process;
    if (this.opts.design === 'jmp') {
      proc = runProgram(k, { name: `redis-client-${id}`, main: (rt) => jmpNetClient(rt, io, NAME, this.maxBulk, this.report, this.info) });
    } else {
      const reply = createPipe(k);
      const fds = { req: -1, reply: -1 };
      proc = runProgram(k, { name: `redis-client-${id}`, main: (rt) => rpcNetClient(rt, io, id, fds.req, fds.reply) });
      fds.req = giveFd(proc, this.req.write!);
      fds.reply = giveFd(proc, reply.read);
      this.replyFds.set(id, giveFd(this.server!, reply.write));
    }
    io.netIn = giveFd(proc, netIn.read);
    io.netOut = giveFd(proc, netOut.write);
    this.conns.set(id, { id, proc, netIn: netIn.write, netOut: netOut.read, pending: [], inClosed: false });
    return id;
  }

  /** Bytes from the peer of connection `id`. */
  input(id: number, data: Uint8Array): void {
    this.conns.get(id)?.pending.push(data);
  }

  /** The peer closed: the client sees end of file once its pending input is consumed. */
  hangup(id: number): void {
    const c = this.conns.get(id);
    if (c) c.inClosed = true;
  }

  /**
   * Move pending input into the machine, run it, and collect what each client wrote. A connection
   * whose client has exited (QUIT, protocol error, peer gone) is reported closed and forgotten.
   */
  pump(): { id: number; data: Uint8Array; closed: boolean }[] {
    const out = new Map<number, { id: number; data: Uint8Array[]; closed: boolean }>();
    for (let round = 0; round < 10_000; round++) {
      let fed = false;
      for (const c of this.conns.values()) {
        while (c.pending.length) {
          const head = c.pending[0];
          const n = hostWrite(this.kernel, c.netIn, head);
          if (n === 0) break;
          fed = true;
          if (n === head.length) c.pending.shift(); else c.pending[0] = head.subarray(n);
        }
        if (c.inClosed && c.pending.length === 0 && c.netIn.refCount > 0) hostClose(c.netIn);
      }
      this.run();
      let moved = false;
      for (const c of this.conns.values()) {
        const data = hostRead(this.kernel, c.netOut);
        const e = out.get(c.id) ?? { id: c.id, data: [], closed: false };
        if (data.length) {
          e.data.push(data);
          moved = true;
        }
        if (!c.proc.live) {
          e.closed = true;
          this.forget(c);
        }
        out.set(c.id, e);
      }
      if (!fed && !moved) break;
    }
    return [...out.values()].map((e) => ({ id: e.id, closed: e.closed, data: Buffer.concat(e.data) }));
  }

  private forget(c: Conn): void {
    // A client that was killed never said goodbye: say it for it, so the server closes its reply pipe.
    if (this.req.write && this.replyFds.has(c.id)) hostWrite(this.kernel, this.req.write, Uint8Array.of(c.id & 0xff, (c.id >>> 8) & 0xff, (c.id >>> 16) & 0xff, c.id >>> 24, 0, 0, 0, 0));
    if (c.netIn.refCount > 0) hostClose(c.netIn);
    if (c.netOut.refCount > 0) hostClose(c.netOut);
    this.conns.delete(c.id);
  }

  /** The open connections and their clients' states (for a report when something hangs). */
  describe(): string[] {
    return [...this.conns.values()].map((c) => `#${c.id} ${c.proc.name} ${c.proc.state} threads=${c.proc.threads.map((t) => `${t.state}${t.waitingOn ? `@${t.waitingOn.name}` : ''}`).join(',')} pending=${c.pending.length} inClosed=${c.inClosed}`);
  }

  /** Processes and frames in use: what a leak would grow. */
  usage(): { processes: number; frameBytes: number; connections: number; serverFds: number } {
    return { processes: this.kernel.processes.size, frameBytes: this.kernel.frames.usedBytes(), connections: this.conns.size, serverFds: this.server?.fds.size ?? 0 };
  }
}

export interface RunningServer {
  port: number;
  machine: RedisMachine;
  /** Resolves when the server has stopped (SHUTDOWN or close()). */
  closed: Promise<void>;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1:port (0 picks a free port). */
export function serveRedis(config: MachineConfig, opts: ServeOptions, port: number, log: (line: string) => void = () => undefined, kernel?: Kernel): Promise<RunningServer> {
  const machine = new RedisMachine(config, opts, kernel);
  const sockets = new Map<number, Socket>();
  let stopping = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((res) => { resolveClosed = res; });
  const stop = (): Promise<void> => {
    if (!stopping) {
      stopping = true;
      for (const s of sockets.values()) s.destroy();
      sockets.clear();
      server.close(() => resolveClosed());
    }
    return closed;
  };
  const flush = (): void => {
    for (const r of machine.pump()) {
      const s = sockets.get(r.id);
      if (!s) continue;
      if (r.data.length) s.write(r.data);
      if (r.closed) {
        sockets.delete(r.id);
        s.end();
      }
    }
    if (machine.report.shutdown) {
      log('redis serve: SHUTDOWN received, exiting');
      void stop();
    }
  };
  const server: Server = createServer((sock) => {
    if (stopping) {
      sock.destroy();
      return;
    }
    sock.setNoDelay(true);
    const id = machine.connect();
    sockets.set(id, sock);
    flush();
    sock.on('data', (d: Buffer) => {
      machine.input(id, new Uint8Array(d.buffer, d.byteOffset, d.length));
      flush();
    });
    const gone = (): void => {
      if (!sockets.has(id)) return;
      sockets.delete(id);
      machine.hangup(id);
      flush();
    };
    sock.on('end', gone);
    sock.on('close', gone);
    sock.on('error', gone);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      resolve({ port: actual, machine, closed, close: stop });
    });
  });
}
