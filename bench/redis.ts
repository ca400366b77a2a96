// Redis benchmark (issue 14): in one run, the designs side by side at 1..16 clients (GET/SET 9:1),
// jmp / rpc-1 and jmp / rpc-6 at the largest client count beside the reference's 4x and 1.36x
// (§10.4), a GET-only sweep point (where the reader lock lets RedisJMP clients run together), and
// the emulator's wall-clock requests/s against a plain in-process JS Map doing the same operations
// (the cost of emulation). Prints ONE JSON document on stdout; progress on stderr.
//
//   npm run -s bench -- redis             clients 1,2,4,8,16; 300 requests per client
//   npm run -s bench -- redis --quick     clients 1,4,16; 150 requests per client
// Options: --clients 1,2,4,8,16 --requests N --keys N --value-size N
//
// Two clocks, never mixed: `modelledRps` are requests per modelled second of the emulated machine
// (profile m2, 2.5 GHz); `wallRps` are requests per host second the emulator takes.

import { DEFAULT_MACHINE } from '../kernel/machineConfig.js';
import { Kernel } from '../kernel/kernel.js';
import { attachRuntime } from '../lab/launch.js';
import { runRedisBench, runRedisOne, parseDesign, type RedisBenchParams } from '../lab/redis/bench.js';
import { Dataset } from '../userland/redis/dataset.js';
import { execute, newClient } from '../userland/redis/commands.js';
import { Reply } from '../userland/redis/reply.js';
import { benchKey } from '../userland/redis/programs.js';
import { measureRate } from './timing.js';
import { GiB } from '../mmu/units.js';

interface Args { clients: number[]; requests: number; keys: number; valueSize: number }

function parseArgs(argv: string[]): Args {
  const a: Args = { clients: [1, 2, 4, 8, 16], requests: 300, keys: 10000, valueSize: 64 };
  const int = (v: string | undefined, k: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`bench redis: ${k} needs a positive integer, got "${v}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--quick') { a.clients = [1, 4, 16]; a.requests = 150; }
    else if (k === '--clients') a.clients = (argv[++i] ?? '').split(',').map((s) => int(s, k));
    else if (k === '--requests') a.requests = int(argv[++i], k);
    else if (k === '--keys') a.keys = int(argv[++i], k);
    else if (k === '--value-size') a.valueSize = int(argv[++i], k);
    else throw new RangeError(`bench redis: unknown argument "${k}" (use --quick, --clients, --requests, --keys, --value-size)`);
  }
  return a;
}

/** The same GET/SET stream as the bench clients', as byte arrays, prepared up front. */
function opStream(n: number, keys: number, valueSize: number, getRatio: number): Uint8Array[][] {
  const enc = new TextEncoder();
  const value = new Uint8Array(valueSize).fill(0x78);
  let x = 0x2545f491;
  const rand = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const get = enc.encode('GET');
  const set = enc.encode('SET');
  return Array.from({ length: n }, () => {
    const key = enc.encode(benchKey(Math.floor(rand() * keys)));
    return rand() < getRatio ? [get, key] : [set, key, value];
  });
}

/** Baseline: a JS Map from key text to value bytes doing the same GETs and SETs. */
function mapRate(ops: Uint8Array[][], keys: number, valueSize: number): number {
  const dec = new TextDecoder();
  const m = new Map<string, Uint8Array>();
  const value = new Uint8Array(valueSize).fill(0x78);
  for (let i = 0; i < keys; i++) m.set(benchKey(i), value);
  let hits = 0;
  const r = measureRate(5, 300, ops.length, () => {
    for (const op of ops) {
      const k = dec.decode(op[1]);
      if (op.length === 2) { if (m.get(k)) hits++; } else m.set(k, op[2].slice());
    }
  });
  if (hits === 0) throw new Error('bench redis: the Map baseline found nothing');
  return r.opsPerSec;
}

/** The emulated dataset alone: the same commands run through the emulated CPU, no scheduler, no IPC. */
function datasetRate(ops: Uint8Array[][], keys: number, valueSize: number): number {
  const k = new Kernel({ ...DEFAULT_MACHINE, memBytes: GiB, cpus: 1 });
  const rt = attachRuntime(k, k.spawn('redis-bench', { uid: 1, gid: 1 }).threads[0]);
  const bytes = 64 << 20;
  const ds = Dataset.create(rt, rt.mmap(bytes), bytes, () => rt.cpu.rdtsc() / 2.5e6, { cyclesPerMs: 2.5e6 });
  const client = newClient();
  const reply = new Reply();
  const enc = new TextEncoder();
  const value = new Uint8Array(valueSize).fill(0x78);
  for (let i = 0; i < keys; i++) execute({ ds, client, reply }, [enc.encode('SET'), enc.encode(benchKey(i)), value]);
  return measureRate(3, 300, ops.length, () => {
    for (const op of ops) {
      reply.reset();
      execute({ ds, client, reply }, op);
    }
  }).opsPerSec;
}

export async function main(argv: string[]): Promise<void> {
  const a = parseArgs(argv);
  const t0 = performance.now();
  const params: RedisBenchParams = {
    designs: ['rpc', 'rpc6', 'jmp', 'jmp-sharded'].map((d) => parseDesign(d, 4)),
    clients: a.clients, ops: a.requests, keys: a.keys, valueSize: a.valueSize, getRatio: 0.9, seed: 1,
  };
  const report = await runRedisBench(DEFAULT_MACHINE, params, (p) => process.stderr.write(`[${p.done}/${p.total}] ${p.label}\n`));
  const top = Math.max(...a.clients);
  process.stderr.write(`[get-only] jmp and rpc at ${top} clients\n`);
  const getOnly = { ...params, getRatio: 1 };
  const jmpGet = await runRedisOne(DEFAULT_MACHINE, parseDesign('jmp', 4), top, getOnly);
  const rpcGet = await runRedisOne(DEFAULT_MACHINE, parseDesign('rpc', 4), top, getOnly);
  process.stderr.write('[tagged] jmp with PCID-tagged spaces\n');
  const tagged = { ...DEFAULT_MACHINE, tagPolicy: 'tagged' as const };
  const jmpTagged1 = await runRedisOne(tagged, parseDesign('jmp', 4), Math.min(...a.clients), params);
  const jmpTaggedTop = await runRedisOne(tagged, parseDesign('jmp', 4), top, params);
  process.stderr.write('[baseline] JS Map vs the emulated dataset\n');
  const ops = opStream(20000, a.keys, a.valueSize, 0.9);
  const mapRps = mapRate(ops, a.keys, a.valueSize);
  const dsRps = datasetRate(ops, a.keys, a.valueSize);
  const one = (d: string, c: number) => report.results.find((r) => r.design === d && r.clients === c);
  const doc = {
    bench: 'redis',
    wallSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    clocks: report.clocks,
    machine: report.machine,
    params: report.params,
    designs: report.results.map((r) => ({
      design: r.design, clients: r.clients, modelledRps: Math.round(r.modelledRps), wallRps: Math.round(r.wallRps),
      cyclesPerRequest: Math.round(r.cyclesPerRequest), switchesPerRequest: r.switchesPerRequest, blockedSwitchesPerRequest: Number(r.blockedSwitchesPerRequest.toFixed(3)),
      tlbMissesPerRequest: Number(r.tlbMissesPerRequest.toFixed(3)), syscallCyclesPerRequest: Math.round(r.syscallCyclesPerRequest), errors: r.errors.length,
    })),
    vsReference: {
      clients: top,
      note: `${report.reference.note}; we compare at ${top} clients, each on its own CPU`,
      jmpOverRpc1: { ours: Number((report.comparison.jmpOverRpc1 ?? NaN).toFixed(3)), reference: report.reference.jmpOverRpc1 },
      jmpOverRpc6: { ours: Number((report.comparison.jmpOverRpc6 ?? NaN).toFixed(3)), reference: report.reference.jmpOverRpc6 },
      jmpShardedOverRpc1: Number(((one('jmp-sharded', top)?.modelledRps ?? NaN) / (one('rpc', top)?.modelledRps ?? NaN)).toFixed(3)),
      // The same 9:1 mix with every space tagged (switches keep TLB entries instead of flushing).
      jmpTagged: {
        oneClient: { modelledRps: Math.round(jmpTagged1.modelledRps), cyclesPerRequest: Math.round(jmpTagged1.cyclesPerRequest), tlbMissesPerRequest: Number(jmpTagged1.tlbMissesPerRequest.toFixed(3)) },
        topClients: { modelledRps: Math.round(jmpTaggedTop.modelledRps), overRpc1: Number((jmpTaggedTop.modelledRps / (one('rpc', top)?.modelledRps ?? NaN)).toFixed(3)) },
      },
      getOnly: {
        jmpModelledRps: Math.round(jmpGet.modelledRps), rpcModelledRps: Math.round(rpcGet.modelledRps),
        jmpOverRpc1: Number((jmpGet.modelledRps / rpcGet.modelledRps).toFixed(3)),
        jmpScaling: Number((jmpGet.modelledRps / (one('jmp', Math.min(...a.clients))?.modelledRps ?? NaN)).toFixed(3)),
      },
    },
    emulationCost: {
      clock: 'wall',
      jsMapRps: mapRps,
      emulatedDatasetRps: dsRps,
      datasetOverMap: Number((dsRps / mapRps).toFixed(5)),
      jmp1ClientWallRps: Math.round(one('jmp', Math.min(...a.clients))?.wallRps ?? NaN),
      rpc1ClientWallRps: Math.round(one('rpc', Math.min(...a.clients))?.wallRps ?? NaN),
      note: 'the same GET/SET stream: a JS Map<string, Uint8Array> in the host vs the commands run through the emulated CPU (dataset alone, and the whole jmp / rpc machine with one client)',
    },
  };
  process.stdout.write(JSON.stringify(doc, null, 1) + '\n');
}
