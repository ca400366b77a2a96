// `sjmp redis bench` and `sjmp redis serve`: the Redis designs measured side by side (tables, a
// terminal chart, an SVG, JSON), and a real RESP2 server on 127.0.0.1 that redis-cli and
// redis-benchmark talk to, with every connection an emulated client of the chosen design.

import { costsLine, costsReport } from '../../lab/programCosts.js';
import type { Command } from 'commander';
import type { MachineConfig } from '../../kernel/machineConfig.js';
import { runRedisBench, parseDesign, type RedisBenchReport, type RedisBenchParams } from '../../lab/redis/bench.js';
import { serveRedis, existingDataset, serveMemory, type ServeDesign } from '../../lab/redis/serve.js';
import { addImageOptions, openImageSession, type ImageOptions, type ImageSession } from './image.js';
import { buildMachine, type GlobalOptions } from '../machineOptions.js';
import { progressLine } from '../progress.js';
import { textChart, writeChart, writeChartsAfterRun, checkOutputPath, textTable, type ChartSpec } from '../charts.js';
import { jsonEnvelope, machineJson, formatJson } from '../../lab/jsonEnvelope.js';
import { UsageError } from '../errors.js';
import { parseSize, formatSize } from '../../mmu/units.js';
import { parseEngineArgs } from './engineArgs.js';
import type { EngineOutput, EngineProgress } from '../interactive/engines.js';

export interface RedisBenchCliOptions extends GlobalOptions, ImageOptions {
  design?: string;
  clients?: string;
  ratio?: string;
  keys?: string;
  valueSize?: string;
  requests?: string;
  shards?: string;
  plot?: string;
  json?: boolean;
}

export interface RedisServeCliOptions extends GlobalOptions, ImageOptions {
  port?: string;
  design?: string;
  memory?: string;
  maxBulk?: string;
  maxmemory?: string;
}

function int(name: string, text: string, min: number, max = 2 ** 31): number {
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: "${text}" is not an integer in ${min}..${max}`);
  return n;
}

/** "get:set=9:1" -> the share of GETs. */
export function parseRatio(text: string): number {
  const m = /^get:set=(\d+):(\d+)$/i.exec(text.trim());
  if (!m) throw new UsageError(`--ratio: "${text}" is not of the form get:set=G:S (e.g. get:set=9:1)`);
  const g = Number(m[1]);
  const s = Number(m[2]);
  if (g + s === 0) throw new UsageError('--ratio: G and S cannot both be 0');
  return g / (g + s);
}

export function benchParams(o: RedisBenchCliOptions): RedisBenchParams {
  const shards = int('shards', o.shards ?? '4', 1, 64);
  let designs;
  try {
    designs = (o.design ?? 'rpc,rpc6,jmp,jmp-sharded').split(',').map((d) => parseDesign(d.trim(), shards));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const clients = (o.clients ?? '1,2,4,8,16').split(',').map((c) => int('clients', c.trim(), 1, 128));
  return {
    designs,
    clients,
    ops: int('requests', o.requests ?? '300', 1, 10_000_000),
    keys: int('keys', o.keys ?? '10000', 1, 10_000_000),
    valueSize: int('value-size', o.valueSize ?? '64', 0, 1 << 20),
    getRatio: parseRatio(o.ratio ?? 'get:set=9:1'),
    seed: o.seed === undefined ? 1 : int('seed', String(o.seed), 0),
  };
}

function num(v: number | null, digits = 2): string {
  if (v === null || !Number.isFinite(v)) return '-';
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}K`;
  if (v >= 100) return v.toFixed(0);
  return v.toFixed(digits);
}

export function redisChart(r: RedisBenchReport): ChartSpec {
  const clients = [...new Set(r.results.map((x) => x.clients))].sort((a, b) => a - b);
  const designs = [...new Set(r.results.map((x) => x.design))];
  return {
    title: `Redis GET/SET (${Math.round(r.params.getRatio * 100)}% GET): modelled requests/s vs clients (${r.profile})`,
    xLabel: 'clients',
    yLabel: 'modelled requests/s',
    x: clients,
    logY: true,
    series: designs.map((d) => ({ name: d, values: clients.map((c) => r.results.find((x) => x.design === d && x.clients === c)?.modelledRps ?? null) })),
  };
}

export function formatRedisReport(r: RedisBenchReport): string[] {
  const p = r.params;
  const out: string[] = [];
  out.push(`Redis designs: ${p.keys} keys, ${p.valueSize}-byte values, ${Math.round(p.getRatio * 100)}% GET / ${Math.round((1 - p.getRatio) * 100)}% SET, ${p.ops} requests per client`);
  out.push(`machine: ${r.machine}`);
  out.push(`clocks: "modelled" = ${r.clocks.modelled}; "wall" = ${r.clocks.wall}`);
  out.push(costsLine(r.costs));
  const rows = r.results.map((x) => [
    x.design, x.clients, num(x.modelledRps), num(x.wallRps), num(x.cyclesPerRequest, 0), num(x.switchesPerRequest), num(x.blockedSwitchesPerRequest),
    num(x.tlbMissesPerRequest), num(x.syscallCyclesPerRequest, 0), x.errors.length ? `FAILED: ${x.errors[0]}` : `ok (${x.hits}/${x.gets} GET hits)`,
  ]);
  out.push('', ...textTable(['design', 'clients', 'modelled req/s', 'wall req/s', 'cycles/req', 'switches/req', 'blocked/req', 'TLB miss/req', 'syscall cyc/req', 'replies'], rows));
  const c = r.comparison;
  out.push('', `at ${c.clients} clients (modelled): jmp / rpc-1 = ${num(c.jmpOverRpc1)}x (reference §10.4: ${r.reference.jmpOverRpc1}x); jmp / rpc-6 = ${num(c.jmpOverRpc6)}x (reference: ${r.reference.jmpOverRpc6}x)`);
  out.push(`(${r.reference.note})`);
  if (new Set(r.results.map((x) => x.clients)).size > 1) out.push('', ...textChart(redisChart(r)));
  return out;
}

/** What `redis bench --image` keeps (for --help and the docs). */
export const REDIS_BENCH_IMAGE_NOTE = 'redis bench takes the machine configuration from it; every design and client count builds its own machine, so nothing a run makes persists (use redis serve --image to keep a dataset)';

export async function redisBenchCommand(o: RedisBenchCliOptions): Promise<number> {
  let params;
  try {
    params = benchParams(o);
    if (o.plot) checkOutputPath('--plot', o.plot);
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError((e as Error).message);
  }
  const session = o.image ? openImageSession(o, () => buildMachine(o)) : null;
  try {
    let machine: MachineConfig;
    try { machine = session?.kernel.config ?? buildMachine(o); } catch (e) { throw new UsageError((e as Error).message); }
    const code = await redisBench(o, params, machine);
    session?.finish(code === 0);
    return code;
  } finally {
    session?.release();
  }
}

async function redisBench(o: RedisBenchCliOptions, params: RedisBenchParams, machine: MachineConfig): Promise<number> {
  const progress = progressLine();
  const report = await runRedisBench(machine, params, (p) => progress.update(p.done, p.total, p.label));
  progress.clear();
  const { written, error: writeError } = o.plot
    ? await writeChartsAfterRun(o.plot, [{ file: o.plot, spec: redisChart(report) }])
    : { written: [], error: null };
  // The results are printed whatever happened to the chart file.
  const ok = report.results.every((x) => x.errors.length === 0);
  if (o.json) process.stdout.write(formatJson(jsonEnvelope('redis bench', ok && !writeError, { ...report, machine: machineJson(machine), machineText: report.machine, charts: written })));
  else process.stdout.write([...formatRedisReport(report), ...(written.length ? ['', `chart written to ${written.join(', ')}`] : [])].join('\n') + '\n');
  if (writeError) {
    process.stderr.write(`sjmp: ${writeError}\n`);
    return 1;
  }
  return ok ? 0 : 1;
}

/** What `redis serve --image` keeps (for --help and the docs). */
export const REDIS_IMAGE_NOTE = 'the jmp dataset (segment redis.shard0 in named spaces redis.shard0 and redis.shard0.ro) persists, so a later serve finds the keys; saved on SHUTDOWN, Ctrl-C or SIGTERM';

export async function redisServeCommand(o: RedisServeCliOptions): Promise<number> {
  const design = (o.design ?? 'jmp') as ServeDesign;
  if (design !== 'jmp' && design !== 'rpc') throw new UsageError(`--design: "${o.design}" is not jmp or rpc`);
  if (o.image !== undefined && design === 'rpc') throw new UsageError('--image keeps the dataset in a named segment, which only --design jmp has (rpc\'s dataset is private to its server process)');
  const port = int('port', o.port ?? '6379', 0, 65535);
  let bytes: number;
  let maxBulk: number;
  let maxmemory: number | undefined;
  let machine: MachineConfig;
  try {
    bytes = parseSize(o.memory ?? '64M');
    maxBulk = parseSize(o.maxBulk ?? '8M');
    maxmemory = o.maxmemory === undefined ? undefined : parseSize(o.maxmemory);
    machine = buildMachine(o);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (bytes < 2 << 20 || bytes % (2 << 20) !== 0) throw new UsageError(`--memory: ${o.memory} must be a multiple of 2M, at least 2M`);
  const base = machine;
  const session = o.image ? openImageSession(o, () => ({ ...base, memBytes: serveMemory(base, bytes) })) : null;
  try {
    let kept = false;
    if (session) {
      machine = session.kernel.config;
      const ds = existingDataset(session.kernel);
      if (ds) {
        if (o.memory !== undefined && ds.bytes !== bytes) throw new UsageError(`--memory ${o.memory} conflicts with image ${session.file}, whose dataset has ${formatSize(ds.bytes)}`);
        if (o.maxmemory !== undefined) throw new UsageError(`--maxmemory: image ${session.file} already holds a dataset, which keeps the maxmemory it was made with`);
        bytes = ds.bytes;
        kept = true;
      }
    }
    const code = await serve(machine, { design, bytes, maxBulk, maxmemory }, port, session, kept);
    session?.finish(code === 0);
    return code;
  } finally {
    session?.release();
  }
}

async function serve(machine: MachineConfig, opts: { design: ServeDesign; bytes: number; maxBulk: number; maxmemory?: number }, port: number, session: ImageSession | null, kept: boolean): Promise<number> {
  const log = (line: string): void => { process.stderr.write(`${line}\n`); };
  let srv;
  try {
    srv = await serveRedis(machine, opts, port, log, session?.kernel);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES') throw new UsageError(`redis serve: cannot listen on 127.0.0.1:${port}: ${err.code}`);
    throw e;
  }
  const where = session ? `, image ${session.file}${kept ? ' (its dataset)' : ' (a new dataset)'}${session.readOnly ? ', read-only' : ''}` : '';
  log(`sjmp redis serve: listening on 127.0.0.1:${srv.port} (design ${opts.design}, dataset ${formatSize(opts.bytes)} of emulated memory, profile ${machine.profile.name}${where}); Ctrl-C or SHUTDOWN to stop`);
  log(costsLine(costsReport(machine.profile, 'redis')));
  const onSig = (): void => { log('sjmp redis serve: interrupted, exiting'); void srv.close(); };
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  await srv.closed;
  process.off('SIGINT', onSig);
  process.off('SIGTERM', onSig);
  if (session && !session.readOnly) log(`sjmp redis serve: saving the dataset to ${session.file}`);
  return 0;
}

function addBenchOptions(cmd: Command): Command {
  return cmd
    .option('--design <list>', 'rpc, rpcN (N server processes), jmp, jmp-sharded (comma-separated)', 'rpc,rpc6,jmp,jmp-sharded')
    .option('--clients <list>', 'client counts (each client on its own CPU)', '1,2,4,8,16')
    .option('--ratio <r>', 'request mix get:set=G:S', 'get:set=9:1')
    .option('--keys <n>', 'keys preloaded and requested uniformly', '10000')
    .option('--value-size <bytes>', 'value size', '64')
    .option('--requests <n>', 'requests per client', '300')
    .option('--shards <k>', 'segments of jmp-sharded', '4')
    .option('--plot <file.svg>', 'also write the chart as an SVG file')
    .option('--json', 'everything as JSON');
}

/** The shell's `redis ...` command: the bench with the same options, output as lines. */
export async function redisEngine(args: readonly string[], onProgress: (p: EngineProgress) => void, signal: AbortSignal, machine: GlobalOptions = {}, image?: MachineConfig): Promise<EngineOutput> {
  const o = parseEngineArgs<RedisBenchCliOptions>('redis', addBenchOptions, args);
  if (o.plot) checkOutputPath('--plot', o.plot);
  const report = await runRedisBench(image ?? buildMachine(machine), benchParams(o), (p) => onProgress(p), signal);
  const written = o.plot ? await writeChart(o.plot, redisChart(report)) : [];
  return { lines: [...formatRedisReport(report), ...(written.length ? ['', `chart written to ${written.join(', ')}`] : [])] };
}

export function addRedisCommands(program: Command, addMachineOptions: (c: Command) => Command): void {
  const redis = program.command('redis').description('a Redis-style data-structure server in emulated memory: rpc (server processes) vs jmp (RedisJMP, vas_switch) — bench, or serve real redis-cli/redis-benchmark');
  const bench = addBenchOptions(redis.command('bench')
    .description('GET/SET throughput of the designs vs clients (the reference\'s §10.4)'));
  addImageOptions(bench, REDIS_BENCH_IMAGE_NOTE);
  addMachineOptions(bench);
  bench.action(async (o: RedisBenchCliOptions, cmd: Command) => { process.exitCode = await redisBenchCommand({ ...cmd.optsWithGlobals(), ...o }); });
  const serve = redis.command('serve')
    .description('a RESP2 server on 127.0.0.1: every TCP connection an emulated client (redis-cli, redis-benchmark work against it)')
    .option('--port <n>', 'TCP port (0: any free port)', '6379')
    .option('--design <d>', 'jmp (clients switch into the dataset\'s space) or rpc (a server process, IPC)', 'jmp')
    .option('--memory <size>', 'emulated memory for the dataset (default: 64M; with --image, that of the image\'s dataset)')
    .option('--max-bulk <size>', 'longest bulk string accepted (proto-max-bulk-len)', '8M')
    .option('--maxmemory <size>', 'used bytes above which writes get -OOM (default: the dataset memory less 1/16)');
  addImageOptions(serve, REDIS_IMAGE_NOTE);
  addMachineOptions(serve);
  serve.action(async (o: RedisServeCliOptions, cmd: Command) => { process.exitCode = await redisServeCommand({ ...cmd.optsWithGlobals(), ...o }); });
}
