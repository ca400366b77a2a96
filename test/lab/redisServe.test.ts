// `sjmp redis serve` end to end: a RESP client written here (node:net) drives the server in both
// designs — pipelining, inline commands, binary values, Redis's protocol errors, OOM, many
// connections without leaks — and, when the Debian redis-tools are installed, real redis-cli and
// redis-benchmark talk to it.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect, type Socket } from 'node:net';
import { execFile, execFileSync } from 'node:child_process';
import { serveRedis, type RunningServer, type ServeDesign } from '../../lab/redis/serve.js';
import { DEFAULT_MACHINE } from '../../kernel/machineConfig.js';
import { decodeReply, type RespValue } from '../userland/redisHelpers.js';
import { encodeRequest } from '../../userland/redis/resp.js';

/** A connection that collects everything the server sends and notices when it closes. */
class Client {
  private buf = Buffer.alloc(0);
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly sock: Socket) {
    sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    sock.on('close', () => { this.closed = true; this.wake(); });
    sock.on('error', () => undefined);
  }

  static open(port: number): Promise<Client> {
    return new Promise((res, rej) => {
      const s = connect(port, '127.0.0.1', () => res(new Client(s)));
      s.once('error', rej);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(data: string | Uint8Array): void { this.sock.write(data); }

  /** Wait until `n` complete replies are buffered (or the connection closed) and take them. */
  async replies(n: number, timeoutMs = 10_000): Promise<RespValue[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const out: RespValue[] = [];
      let at = 0;
      try {
        while (out.length < n) {
          const [v, next] = decodeReply(this.buf, at);
          out.push(v);
          at = next;
        }
        this.buf = this.buf.subarray(at);
        return out;
      } catch {
        if (this.closed) return out;
        if (Date.now() > end) throw new Error(`timed out waiting for ${n} replies (have ${this.buf.length} bytes)`);
        await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 200); });
      }
    }
  }

  async cmd(...argv: (string | Uint8Array)[]): Promise<RespValue> {
    this.send(encodeRequest(argv));
    return (await this.replies(1))[0];
  }

  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < end) await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 100); });
    return this.closed;
  }

  close(): void { this.sock.destroy(); }
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function have(tool: string): boolean {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const MACHINE = { ...DEFAULT_MACHINE, cpus: 4 };
const SKIP_NOTE = 'redis-tools (redis-cli, redis-benchmark) not installed: apt-get install redis-tools to run the real-tool tests';
if (!have('redis-cli') || !have('redis-benchmark')) console.warn(`redisServe.test.ts: ${SKIP_NOTE}`);

describe.each<ServeDesign>(['jmp', 'rpc'])('redis serve, %s design', (design) => {
  let srv: RunningServer;
  beforeAll(async () => { srv = await serveRedis(MACHINE, { design, bytes: 16 << 20, maxBulk: 1 << 20 }, 0); });
  afterAll(async () => { await srv.close(); });

  it('answers pipelined, inline and binary-safe requests in order', async () => {
    const c = await Client.open(srv.port);
    c.send('PING\r\nSET greeting "hello world"\r\n');
    c.send(Buffer.concat([Buffer.from(encodeRequest(['GET', 'greeting'])), Buffer.from(encodeRequest(['INCR', 'n'])), Buffer.from(encodeRequest(['INCR', 'n']))]));
    expect(await c.replies(5)).toEqual([{ simple: 'PONG' }, { simple: 'OK' }, 'hello world', 1, 2]);
    const bin = new Uint8Array(70_000).map((_, i) => (i * 131 + 7) & 0xff);
    expect(await c.cmd('SET', 'bin', bin)).toEqual({ simple: 'OK' });
    const got = await c.cmd('GET', 'bin');
    expect(Buffer.from(got as string, 'latin1').equals(Buffer.from(bin))).toBe(true);
    expect(await c.cmd('CLIENT', 'SETNAME', 'tester')).toEqual({ simple: 'OK' });
    expect(await c.cmd('CLIENT', 'GETNAME')).toBe('tester');
    c.send('QUIT\r\n');
    expect(await c.replies(1)).toEqual([{ simple: 'OK' }]);
    expect(await c.waitClosed()).toBe(true);
  });

  it.each([
    ['a bad bulk length', '*1\r\n$x\r\n', 'ERR Protocol error: invalid bulk length'],
    ['a negative bulk length', '*2\r\n$3\r\nGET\r\n$-5\r\n', 'ERR Protocol error: invalid bulk length'],
    ['a bad multibulk count', '*abc\r\n', 'ERR Protocol error: invalid multibulk length'],
    ['a missing $', '*1\r\n+PING\r\n', "ERR Protocol error: expected '$', got '+'"],
    ['unbalanced quotes', 'SET k "open\r\n', 'ERR Protocol error: unbalanced quotes in request'],
    ['a bulk over the limit', `*2\r\n$3\r\nSET\r\n$${(1 << 20) + 1}\r\n`, 'ERR Protocol error: invalid bulk length'],
    ['a binary flood without a newline', Buffer.alloc(70_000, 0x41), 'ERR Protocol error: too big inline request'],
  ])('replies to %s with Redis\'s protocol error and closes; others carry on', async (_what, bytes, msg) => {
    const other = await Client.open(srv.port);
    expect(await other.cmd('SET', 'survivor', 'yes')).toEqual({ simple: 'OK' });
    const c = await Client.open(srv.port);
    c.send(bytes);
    expect(await c.replies(1)).toEqual([{ err: msg }]);
    expect(await c.waitClosed()).toBe(true);
    expect(await other.cmd('GET', 'survivor')).toBe('yes');
    other.close();
  });

  it('reads malformed-but-accepted input the way Redis does: bytes after a bulk unchecked, counts <= 0 skipped', async () => {
    const c = await Client.open(srv.port);
    c.send('*1\r\n$4\r\nPINGxx*-1\r\n*0\r\n*1\r\n$4\r\nPING\r\n');
    expect(await c.replies(2)).toEqual([{ simple: 'PONG' }, { simple: 'PONG' }]);
    c.close();
  });

  it('serves 200 concurrent connections and a connect/disconnect loop without leaking', async () => {
    // The data first, so that what the dataset itself grows by (rpc's server heap faults pages in)
    // is in the baseline; after that, connections only read.
    const warm = await Client.open(srv.port);
    for (let i = 0; i < 200; i++) await warm.cmd('SET', `conn:${i}`, String(i));
    warm.close();
    await new Promise((r) => setTimeout(r, 100));
    const base = srv.machine.usage();
    const clients = await Promise.all(Array.from({ length: 200 }, () => Client.open(srv.port)));
    const replies = await Promise.all(clients.map((c, i) => c.cmd('GET', `conn:${i}`)));
    expect(replies).toEqual(clients.map((_, i) => String(i)));
    expect(srv.machine.usage().processes).toBe(base.processes + 200);
    for (const c of clients) c.close();
    for (let i = 0; i < 50; i++) {
      const c = await Client.open(srv.port);
      expect(await c.cmd('GET', `conn:${i}`)).toBe(String(i));
      c.close();
    }
    const end = Date.now() + 10_000;
    while (srv.machine.usage().connections > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const after = srv.machine.usage();
    expect(after.connections, srv.machine.describe().join('; ')).toBe(0);
    expect(after.processes).toBe(base.processes);
    expect(after.frameBytes).toBe(base.frameBytes);
  });

  it('cleans up after a client process that is killed', async () => {
    const warm = await Client.open(srv.port);
    await warm.cmd('PING');
    const base = srv.machine.usage();
    const victim = await Client.open(srv.port);
    await victim.cmd('PING');
    const p = [...srv.machine.kernel.processes.values()].filter((x) => x.name.startsWith('redis-client-')).sort((a, b) => b.pid - a.pid)[0];
    srv.machine.kernel.exit(p, 137, 'killed by the test');
    expect(await warm.cmd('PING')).toEqual({ simple: 'PONG' }); // a pump: the dead client is noticed
    expect(await victim.waitClosed()).toBe(true);
    expect(await warm.cmd('PING')).toEqual({ simple: 'PONG' });
    const after = srv.machine.usage();
    expect([after.processes, after.frameBytes, after.serverFds, after.connections]).toEqual([base.processes, base.frameBytes, base.serverFds, base.connections]);
    warm.close();
  });

  it.skipIf(!have('redis-cli'))('round-trips with the real redis-cli (incl. --raw, INFO, KEYS *)', async () => {
    const p = String(srv.port);
    expect((await run('redis-cli', ['-p', p, 'FLUSHALL'], 10_000)).stdout.trim()).toBe('OK');
    expect((await run('redis-cli', ['-p', p, 'SET', 'k', 'v 1'], 10_000)).stdout.trim()).toBe('OK');
    expect((await run('redis-cli', ['-p', p, '--no-raw', 'GET', 'k'], 10_000)).stdout.trim()).toBe('"v 1"');
    expect((await run('redis-cli', ['-p', p, '--raw', 'GET', 'k'], 10_000)).stdout).toBe('v 1\n');
    await run('redis-cli', ['-p', p, 'RPUSH', 'list', 'a', 'b'], 10_000);
    expect((await run('redis-cli', ['-p', p, '--raw', 'LRANGE', 'list', '0', '-1'], 10_000)).stdout).toBe('a\nb\n');
    expect((await run('redis-cli', ['-p', p, '--raw', 'KEYS', '*'], 10_000)).stdout.split('\n').filter(Boolean).sort()).toEqual(['k', 'list']);
    const info = (await run('redis-cli', ['-p', p, 'INFO'], 10_000)).stdout;
    expect(info).toContain('redis_version:7.0.15');
    expect(info).toContain('# Emulator');
    expect(info).toContain(`design:${design}`);
    expect(info).toContain('db0:keys=2,expires=0');
    expect((await run('redis-cli', ['-p', p, '--no-raw', 'NOSUCH', 'x'], 10_000)).stdout).toBe("(error) ERR unknown command 'NOSUCH', with args beginning with: 'x' \n");
  });

  it.skipIf(!have('redis-benchmark'))('runs the real redis-benchmark (-t set,get,lpush,lpop,incr -n 2000 -c 8 -P 4 -q)', async () => {
    const r = await run('redis-benchmark', ['-p', String(srv.port), '-t', 'set,get,lpush,lpop,incr', '-n', '2000', '-c', '8', '-P', '4', '-q'], 120_000);
    const lines = r.stdout.split(/[\r\n]/).filter((l) => /requests per second/.test(l));
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(lines.map((l) => l.split(':')[0].trim())).toEqual(['SET', 'GET', 'INCR', 'LPUSH', 'LPOP']);
  }, 150_000);

  it.skipIf(!have('redis-benchmark') || design !== 'jmp')('runs the real redis-benchmark default test list with -P 16 and -r', async () => {
    const r = await run('redis-benchmark', ['-p', String(srv.port), '-n', '200', '-c', '4', '-P', '16', '-r', '1000', '-q'], 120_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const names = r.stdout.split(/[\r\n]/).filter((l) => /requests per second/.test(l)).map((l) => l.split(':')[0].trim());
    expect(names).toEqual([
      'PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR', 'LPUSH', 'RPUSH', 'LPOP', 'RPOP', 'SADD', 'HSET', 'SPOP', 'ZADD', 'ZPOPMIN',
      'LPUSH (needed to benchmark LRANGE)', 'LRANGE_100 (first 100 elements)', 'LRANGE_300 (first 300 elements)',
      'LRANGE_500 (first 500 elements)', 'LRANGE_600 (first 600 elements)', 'MSET (10 keys)',
    ]);
  }, 150_000);
});

describe('redis serve: memory exhausted', () => {
  it('gives Redis\'s OOM error, keeps the data, and accepts writes again once memory is freed', async () => {
    const srv = await serveRedis(MACHINE, { design: 'jmp', bytes: 2 << 20, maxmemory: 256 * 1024 }, 0);
    try {
      const c = await Client.open(srv.port);
      const v = 'x'.repeat(1000);
      let i = 0;
      let r: RespValue = { simple: 'OK' };
      for (; i < 2000; i++) {
        r = await c.cmd('SET', `k${i}`, v);
        if ((r as { err?: string }).err) break;
      }
      expect(r).toEqual({ err: "OOM command not allowed when used memory > 'maxmemory'." });
      expect(await c.cmd('GET', 'k0')).toBe(v);
      expect(await c.cmd('GET', `k${i - 1}`)).toBe(v);
      expect(await c.cmd('DBSIZE')).toBe(i);
      expect(await c.cmd('LPOP', 'nolist')).toBe(null); // commands that cannot grow memory still run
      for (let j = 0; j < 50; j++) await c.cmd('DEL', `k${j}`);
      expect(await c.cmd('SET', 'again', 'fits')).toEqual({ simple: 'OK' });
      c.close();
    } finally {
      await srv.close();
    }
  });

  it('refuses a dataset too big for its memory with OOM rather than corrupting it', async () => {
    const srv = await serveRedis(MACHINE, { design: 'rpc', bytes: 2 << 20, maxBulk: 4 << 20, maxmemory: 2 << 20 }, 0);
    try {
      const c = await Client.open(srv.port);
      expect(await c.cmd('RPUSH', 'l', 'a', 'b')).toBe(2);
      const big = 'y'.repeat(3 << 20);
      expect(await c.cmd('RPUSH', 'l', 'c', big)).toEqual({ err: "OOM command not allowed when used memory > 'maxmemory'." });
      expect(await c.cmd('LRANGE', 'l', '0', '-1')).toEqual(['a', 'b']);
      c.close();
    } finally {
      await srv.close();
    }
  });
});
