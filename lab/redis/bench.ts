// `sjmp redis bench`: the Redis designs side by side on fresh emulated machines — stock Redis with
// one or more server processes reached by IPC (rpc, rpcN), RedisJMP (jmp) and RedisJMP over K
// lockable segments (jmp-sharded) — as GET/SET throughput in modelled requests per second against
// the number of clients, each client on its own CPU. Setup (building the datasets, preloading the
// keys, attaching) is outside the measured phase: every client waits on a start pipe, the CPUs'
// clocks are aligned, and the phase runs from there until the last client has finished.

import { costsReport, type CostsReport } from '../programCosts.js';
import { Kernel } from '../../kernel/kernel.js';
import type { MachineConfig } from '../../kernel/machineConfig.js';
import { Scheduler } from '../../kernel/proc/scheduler.js';
import type { Process } from '../../kernel/proc/process.js';
import { runProgram } from '../launch.js';
import {
  createJmpDatasets, jmpBenchClient, rpcBenchClient, rpcServer, benchKey, emptyBenchReport,
  type BenchClientParams, type ProgramReport,
} from '../../userland/redis/programs.js';
import type { Dataset } from '../../userland/redis/dataset.js';
import { execute, newClient } from '../../userland/redis/commands.js';
import { Reply } from '../../userland/redis/reply.js';
import { hashBytes } from '../../userland/redis/mem.js';
import { MiB } from '../../mmu/units.js';
import { createPipe, giveFd, hostWrite, machineCounters, alignClocks } from './machine.js';

/** A design as named on the command line: rpc (one server), rpcN (N servers), jmp, jmp-sharded. */
export interface DesignSpec {
  label: string;
  kind: 'rpc' | 'jmp';
  /** Server processes (rpc) or shards (jmp). */
  parts: number;
}

export function parseDesign(s: string, shards: number): DesignSpec {
  if (s === 'jmp') return { label: 'jmp', kind: 'jmp', parts: 1 };
  if (s === 'jmp-sharded') return { label: `jmp-sharded`, kind: 'jmp', parts: shards };
  const m = /^rpc(\d*)$/.exec(s);
  if (m) {
    const n = m[1] === '' ? 1 : Number(m[1]);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`--design ${s}: rpcN needs 1 <= N <= 64`);
    return { label: n === 1 ? 'rpc' : `rpc${n}`, kind: 'rpc', parts: n };
  }
  throw new RangeError(`--design: unknown design "${s}" (use rpc, rpcN, jmp, jmp-sharded)`);
}

export interface RedisBenchParams {
  designs: DesignSpec[];
  clients: number[];
  /** Requests per client. */
  ops: number;
  keys: number;
  valueSize: number;
  getRatio: number;
  seed: number;
}

export interface RedisBenchResult {
  design: string;
  clients: number;
  parts: number;
  requests: number;
  /** Modelled: requests per modelled second (clock named in the report). */
  modelledRps: number;
  modelledSeconds: number;
  /** Emulator wall-clock of the measured phase. */
  wallMs: number;
  wallRps: number;
  switchesPerRequest: number;
  blockedSwitchesPerRequest: number;
  tlbMissesPerRequest: number;
  walksPerRequest: number;
  contextSwitchCyclesPerRequest: number;
  syscallCyclesPerRequest: number;
  cyclesPerRequest: number;
  gets: number;
  hits: number;
  errors: string[];
}

const NAME = 'redis';

/** Dataset bytes for `keys` keys of `valueSize` (with room to spare for the keyspace and malloc). */
export function datasetBytes(keys: number, valueSize: number, parts: number): number {
  const per = Math.ceil(keys / parts) * (valueSize + 200) * 2 + 8 * MiB;
  return Math.ceil(per / (2 * MiB)) * 2 * MiB;
}

function machineFor(base: MachineConfig, d: DesignSpec, clients: number, bytes: number): MachineConfig {
  const cpus = Math.max(base.cpus, clients + (d.kind === 'rpc' ? d.parts : 0));
  const need = Math.ceil((bytes * d.parts * 1.5 + 256 * MiB) / (2 * MiB * base.nodes)) * 2 * MiB * base.nodes;
  return { ...base, cpus, memBytes: Math.max(base.memBytes, need) };
}

/** Preload keys 0..keys-1 (those of shard `part` of `parts`) directly through the dataset. */
function preload(ds: Dataset, keys: number, valueSize: number, part: number, parts: number): void {
  const enc = new TextEncoder();
  const client = newClient();
  const reply = new Reply();
  const set = enc.encode('SET');
  const value = new Uint8Array(valueSize).fill(0x78);
  for (let i = 0; i < keys; i++) {
    const key = enc.encode(benchKey(i));
    if (parts > 1 && hashBytes(ds.m, key) % parts !== part) continue;
    reply.reset();
    execute({ ds, client, reply }, [set, key, value]);
    if (reply.buf[0] !== 0x2b) throw new Error(`redis bench: preloading ${benchKey(i)} failed: ${new TextDecoder().decode(reply.bytes())}`);
  }
}

/** Run the scheduler in slices (the host stays responsive: progress, cancel) until `done`. */
async function runSliced(k: Kernel, done: () => boolean, signal?: AbortSignal): Promise<{ deadlock: boolean }> {
  const sched = new Scheduler(k);
  for (;;) {
    const until = performance.now() + 100;
    const r = sched.run({ until: () => performance.now() > until || done() });
    if (!r.stopped || done()) return { deadlock: r.deadlock };
    await new Promise((res) => setImmediate(res));
    if (signal?.aborted) throw new Error('cancelled');
  }
}

function checkAlive(procs: Process[], what: string): void {
  for (const p of procs) if (p.killedBy) throw new Error(`redis bench ${what}: ${p.name}[${p.pid}] was killed: ${p.killedBy}`);
}

export async function runRedisOne(base: MachineConfig, d: DesignSpec, clients: number, p: RedisBenchParams, signal?: AbortSignal): Promise<RedisBenchResult> {
  const bytes = datasetBytes(p.keys, p.valueSize, d.parts);
  const config = machineFor(base, d, clients, bytes);
  const k = new Kernel(config);
  const cyclesPerMs = config.profile.params.clockGHz * 1e6;
  const reports = Array.from({ length: clients }, () => emptyBenchReport());
  const params = (id: number): BenchClientParams => ({ id, ops: p.ops, keys: p.keys, valueSize: p.valueSize, getRatio: p.getRatio, seed: p.seed });
  const go = createPipe(k);
  const procs: Process[] = [];
  const serverReport: ProgramReport = { shutdown: false, errors: [] };

  if (d.kind === 'jmp') {
    const owner = runProgram(k, {
      name: 'redis-owner',
      main: function* (rt) {
        const sets = createJmpDatasets(rt, { name: NAME, shards: d.parts, bytesPerShard: bytes, hugePages: true }, cyclesPerMs);
        sets.forEach((ds, i) => preload(ds, p.keys, p.valueSize, i, d.parts));
        yield* rt.yield();
        return 0;
      },
    }, { cpu: 0 });
    await runSliced(k, () => !owner.live, signal);
    checkAlive([owner], d.label);
    for (let c = 0; c < clients; c++) {
      let goFd = -1;
      const proc = runProgram(k, { name: `redis-client-${c}`, main: (rt) => jmpBenchClient(rt, NAME, d.parts, params(c), reports[c], goFd) }, { cpu: c });
      goFd = giveFd(proc, go.read);
      procs.push(proc);
    }
  } else {
    const reqs = Array.from({ length: d.parts }, () => createPipe(k));
    const replies = Array.from({ length: clients }, () => createPipe(k));
    for (let s = 0; s < d.parts; s++) {
      const replyFds = new Map<number, number>();
      let reqFd = -1;
      const proc = runProgram(k, {
        name: `redis-server-${s}`,
        main: (rt) => rpcServer(rt, { reqFd, replyFds, bytes, cyclesPerMs, report: serverReport, onReady: (ds) => preload(ds, p.keys, p.valueSize, s, d.parts) }),
      }, { cpu: s });
      reqFd = giveFd(proc, reqs[s].read);
      for (let c = 0; c < clients; c++) replyFds.set(c, giveFd(proc, replies[c].write));
      procs.push(proc);
    }
    for (let c = 0; c < clients; c++) {
      const fds = { req: [] as number[], reply: -1, go: -1 };
      const proc = runProgram(k, { name: `redis-client-${c}`, main: (rt) => rpcBenchClient(rt, fds.req, fds.reply, params(c), reports[c], fds.go) }, { cpu: d.parts + c });
      for (let s = 0; s < d.parts; s++) fds.req.push(giveFd(proc, reqs[s].write));
      fds.reply = giveFd(proc, replies[c].read);
      fds.go = giveFd(proc, go.read);
      procs.push(proc);
    }
  }
  // Setup: servers build and preload, clients attach; everyone ends up waiting.
  await runSliced(k, () => false, signal);
  checkAlive(procs, d.label);
  const before = machineCounters(k);
  const t0 = before.maxClock;
  alignClocks(k, t0);
  hostWrite(k, go.write, new Uint8Array(clients));
  const wall0 = performance.now();
  await runSliced(k, () => reports.every((r) => r.done), signal);
  const wallMs = performance.now() - wall0;
  checkAlive(procs, d.label);
  if (!reports.every((r) => r.done)) throw new Error(`redis bench ${d.label}: the clients did not finish (deadlock)`);
  const after = machineCounters(k);
  const requests = reports.reduce((s, r) => s + r.ops, 0);
  const end = Math.max(...reports.map((r) => r.endCycles));
  const cycles = end - t0;
  const seconds = cycles / (config.profile.params.clockGHz * 1e9);
  return {
    design: d.label, clients, parts: d.parts, requests,
    modelledRps: requests / seconds, modelledSeconds: seconds,
    wallMs, wallRps: requests / (wallMs / 1e3),
    switchesPerRequest: (after.switches - before.switches) / requests,
    blockedSwitchesPerRequest: (after.blockedSwitches - before.blockedSwitches) / requests,
    tlbMissesPerRequest: (after.tlbMisses - before.tlbMisses) / requests,
    walksPerRequest: (after.walks - before.walks) / requests,
    contextSwitchCyclesPerRequest: (after.contextSwitchCycles - before.contextSwitchCycles) / requests,
    syscallCyclesPerRequest: (after.syscallCycles - before.syscallCycles) / requests,
    cyclesPerRequest: cycles / requests,
    gets: reports.reduce((s, r) => s + r.gets, 0),
    hits: reports.reduce((s, r) => s + r.hits, 0),
    errors: [...reports.flatMap((r) => r.errors), ...serverReport.errors].slice(0, 10),
  };
}

export interface RedisBenchReport {
  machine: string;
  profile: string;
  /** The profile, its --costs overrides and the program-side costs the server charged. */
  costs: CostsReport;
  clocks: { modelled: string; wall: string };
  params: Omit<RedisBenchParams, 'designs'> & { designs: string[] };
  results: RedisBenchResult[];
  /** The reference's §10.4 figures, for comparison. */
  reference: { jmpOverRpc1: number; jmpOverRpc6: number; note: string };
  comparison: { clients: number; jmpOverRpc1: number | null; jmpOverRpc6: number | null };
}

export interface RedisProgress { done: number; total: number; label: string }

export async function runRedisBench(base: MachineConfig, p: RedisBenchParams, onProgress?: (x: RedisProgress) => void, signal?: AbortSignal): Promise<RedisBenchReport> {
  const results: RedisBenchResult[] = [];
  const total = p.designs.length * p.clients.length;
  for (const d of p.designs) {
    for (const c of p.clients) {
      onProgress?.({ done: results.length, total, label: `${d.label}, ${c} client${c === 1 ? '' : 's'}` });
      results.push(await runRedisOne(base, d, c, p, signal));
    }
  }
  onProgress?.({ done: total, total, label: 'done' });
  const at = Math.max(...p.clients);
  const rps = (label: string): number | null => results.find((r) => r.design === label && r.clients === at)?.modelledRps ?? null;
  const jmp = rps('jmp');
  const r1 = rps('rpc');
  const r6 = rps('rpc6');
  return {
    machine: `${base.cpus}+ CPUs (one per client and server), ${base.profile.name}, paging ${base.paging}-level, TLB tags ${base.tagPolicy}`,
    profile: base.profile.name,
    costs: costsReport(base.profile, 'redis'),
    clocks: {
      modelled: `requests per modelled second of the emulated machine (profile ${base.profile.name}, ${base.profile.params.clockGHz} GHz)`,
      wall: 'the emulator\'s own wall-clock time for the measured phase',
    },
    params: { ...p, designs: p.designs.map((d) => d.label) },
    results,
    reference: { jmpOverRpc1: 4, jmpOverRpc6: 1.36, note: 'reference §10.4 (M2): RedisJMP gave 4x the throughput of one Redis instance and +36 % over six instances; the client count is not stated there' },
    comparison: { clients: at, jmpOverRpc1: jmp !== null && r1 !== null ? jmp / r1 : null, jmpOverRpc6: jmp !== null && r6 !== null ? jmp / r6 : null },
  };
}
