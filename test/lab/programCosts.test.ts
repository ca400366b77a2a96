// One profile for everything: every cost a program charges is a named parameter of the profile,
// read through the runtime (rt.costs), changeable with --costs and printed in reports. Each
// program-side parameter is shown to move the modelled result the way it should; no program or
// harness charges a literal number of cycles; an unknown parameter is an error.

import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROGRAM_COST_KEYS, WAIT_COST_KEYS, PROFILE_M2, resolveProfile, programCostsOf, type ProgramCostName } from '../../mmu/costModel.js';
import { machineFromOptions } from '../../kernel/machineConfig.js';
import { Kernel } from '../../kernel/kernel.js';
import { GiB } from '../../mmu/units.js';
import { attachRuntime } from '../../lab/launch.js';
import { runGups } from '../../lab/gups/engine.js';
import { runYcsb } from '../../lab/nibble/ycsb.js';
import { runPipeline, benchRegion } from '../../lab/sam/pipeline.js';
import { synthSam } from '../../lab/sam/synth.js';
import { Dataset } from '../../userland/redis/dataset.js';
import { execute, newClient } from '../../userland/redis/commands.js';
import { Reply } from '../../userland/redis/reply.js';
import { PROGRAM_COSTS_USED, costsReport, costsLine, profileOverrides } from '../../lab/programCosts.js';
import { machineJson } from '../../lab/jsonEnvelope.js';
import type { CoreCounters } from '../../mmu/cpu.js';
import type { Runtime } from '../../userland/runtime.js';
import type { YieldRequest } from '../../syscalls/abi.js';
import { createStore } from '../../userland/nibble/host.js';
import { RtPort } from '../../userland/nibble/rtPort.js';
import type { NibbleStore } from '../../userland/nibble/store.js';
import { SMALL } from '../userland/nibbleHelpers.js';
import { runProgram, runUntilDone } from '../../lab/launch.js';

const m2 = PROFILE_M2.params;
const sumBy = (cs: CoreCounters[], component: string): number => cs.reduce((s, c) => s + (c.cyclesBy[component] ?? 0), 0);

describe('the program-side parameters', () => {
  it('are all used by some program, and each program names only real parameters', () => {
    const used = new Set(Object.values(PROGRAM_COSTS_USED).flat());
    expect([...used].sort()).toEqual([...PROGRAM_COST_KEYS].sort());
  });

  it('reach programs as a frozen view from the kernel, following --costs', () => {
    const k = new Kernel(machineFromOptions({ costs: 'gupsUpdate=13' }));
    const rt = attachRuntime(k, k.spawn('p', { uid: 1, gid: 1 }).threads[0]);
    expect(rt.costs.gupsUpdate).toBe(13);
    expect(rt.costs.nibbleHash).toBe(m2.nibbleHash);
    expect(Object.isFrozen(rt.costs)).toBe(true);
    expect('syscall' in rt.costs).toBe(false); // programs see their own costs, not the kernel's
  });

  it('an unknown parameter or a bad value is an error', () => {
    expect(() => resolveProfile('m2', 'gupsUpdat=3')).toThrow(/unknown cost parameter "gupsUpdat"/);
    expect(() => machineFromOptions({ costs: 'nibbleSpin=-1' })).toThrow();
    expect(() => machineFromOptions({ costs: 'nibbleSpin' })).toThrow(/want name=number/);
    for (const k of WAIT_COST_KEYS) expect(() => resolveProfile('m2', `${k}=0`)).toThrow(/is a wait/);
    for (const k of WAIT_COST_KEYS) expect(resolveProfile('zero').params[k]).toBe(1);
  });

  it('reports say the profile, the overrides and the program-side costs used', () => {
    const p = resolveProfile('m3', 'gupsUpdate=16,syscall=500');
    expect(profileOverrides(p)).toEqual({ gupsUpdate: 16, syscall: 500 });
    const r = costsReport(p, 'gups');
    expect(r).toEqual({ profile: 'm3+gupsUpdate=16,syscall=500', overrides: { gupsUpdate: 16, syscall: 500 }, programCosts: { gupsUpdate: 16 } });
    expect(costsLine(r)).toBe('costs: profile m3 (overrides syscall=500, gupsUpdate=16); program-side cycles: gupsUpdate=16');
    expect(costsLine(costsReport(PROFILE_M2, 'sam'))).toMatch(/^costs: profile m2 \(no overrides\); program-side cycles: samParsePerByte=16, /);
    const j = machineJson(machineFromOptions({ costs: 'redisCommand=99' }));
    expect(j.profile.overrides).toEqual({ redisCommand: 99 });
    expect(j.profile.programCosts).toEqual(programCostsOf({ ...m2, redisCommand: 99 }));
  });
});

describe('no program or harness charges a literal number of cycles', () => {
  function sources(dir: string): string[] {
    return readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
    });
  }
  it('userland/ and lab/ pass profile parameters to compute() and charge()', () => {
    const offenders: string[] = [];
    for (const file of [...sources('userland'), ...sources('lab')]) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        // compute(40), compute(keys.length * 10), charge('x', 2000), charge('x', N_CYCLES) ...
        if (/\bcompute\(\s*[\w.]*\s*\*?\s*\d/.test(line) || /\bcompute\(\s*\d/.test(line)
          || /\bcharge\('[^']*',\s*(\d|[A-Z_]+\b)/.test(line) || /\bcompute\([^)]*\b[A-Z][A-Z_]*_CYCLES/.test(line)) {
          offenders.push(`${file}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    expect(offenders).toEqual([]);
  });
});

describe('each parameter moves the modelled result the expected way', () => {
  it('gupsUpdate: exactly gupsUpdate cycles of "compute" per update, and fewer MUPS when it grows', async () => {
    const opts = { design: 'vas' as const, windows: 2, updateSet: 16, pageSize: 4096 as const, log2Table: 12, updates: 4096 };
    const runs = await Promise.all([0, 8, 24].map((g) => runGups(machineFromOptions({ costs: `gupsUpdate=${g}` }), opts)));
    expect(runs.map((r) => sumBy(r.machineCounters, 'compute'))).toEqual([0, 8 * 4096, 24 * 4096]);
    expect(runs[1].modelledCycles - runs[0].modelledCycles).toBe(8 * 4096);
    expect(runs[2].modelledMups).toBeLessThan(runs[1].modelledMups);
    expect(runs[1].verification).toEqual(runs[2].verification);
  });

  describe('Nibble (YCSB clients and compactors)', () => {
    const base = { mode: 1 as const, nodes: 1, compactorsPerNode: 1, objects: 600, valueSize: 256, ops: 400, getPct: 0, dist: 'uniform' as const, logBytesPerNode: 256 << 10, blockSize: 4096, segmentBlocks: 4, profile: 'm2', seed: 3 };
    // The component each parameter alone charges.
    const component: Partial<Record<ProgramCostName, string>> = {
      nibbleHash: 'nibble-hash', nibbleScore: 'nibble-compact', nibblePoll: 'nibble-compactor-idle', nibbleSpaceWait: 'nibble-wait', rdtsc: 'rdtsc',
    };
    const dflt = runYcsb({ ...base, threads: 4 });
    it.each(Object.entries(component))('%s: its %s cycles follow it (0, or 1 for a wait, leaves fewer; the default charges some)', (param, comp) => {
      expect(sumBy(dflt.machineCounters, comp)).toBeGreaterThan(0);
      const low = (WAIT_COST_KEYS as readonly string[]).includes(param) ? 1 : 0;
      const off = runYcsb({ ...base, threads: 4, costs: `${param}=${low}` });
      if (low === 0) expect(sumBy(off.machineCounters, comp)).toBe(0);
      else expect(sumBy(off.machineCounters, comp)).toBeLessThan(sumBy(dflt.machineCounters, comp));
    });
    it('nibbleHash: doubling it doubles the hashing cycles of a single client (same events)', () => {
      const one = runYcsb({ ...base, threads: 1, compactorsPerNode: 0 });
      const two = runYcsb({ ...base, threads: 1, compactorsPerNode: 0, costs: `nibbleHash=${2 * m2.nibbleHash}` });
      expect(sumBy(two.machineCounters, 'nibble-hash')).toBe(2 * sumBy(one.machineCounters, 'nibble-hash'));
      expect(two.modelledOpsPerSec).toBeLessThan(one.modelledOpsPerSec);
    });
    it('ycsbChoose and ycsbStartPoll: the client loop\'s "compute" cycles', () => {
      const c = (r: ReturnType<typeof runYcsb>): number => sumBy(r.machineCounters, 'compute');
      const one = runYcsb({ ...base, threads: 1, compactorsPerNode: 0 });
      const more = runYcsb({ ...base, threads: 1, compactorsPerNode: 0, costs: `ycsbChoose=${m2.ycsbChoose + 10}` });
      expect(c(more) - c(one)).toBe(10 * one.ops);
      expect(c(runYcsb({ ...base, threads: 4, costs: 'ycsbStartPoll=1' }))).toBeLessThan(c(dflt));
    });
  });

  it('nibbleSpin: writers preempted while holding bucket locks spin at its price', () => {
    // YCSB's clients yield only between operations, so they never find a lock held; here four
    // writers on two cores are preempted inside in-place updates (as in the concurrency tests).
    const spins = (spin: number): { cycles: number; spins: number } => {
      const k = new Kernel({ ...machineFromOptions({ costs: `nibbleSpin=${spin}`, seed: '4' }), memBytes: GiB, cpus: 2, nodes: 1 });
      let store: NibbleStore | null = null;
      let running = 0;
      function* main(rt: Runtime): Generator<YieldRequest, number, unknown> {
        const h = createStore(rt, 'kv', { ...SMALL, nodes: 1, cores: 2, mode: 2 }); // Nibble-2 updates in place, holding the lock
        store = h.store;
        const s = h.store;
        for (let i = 0; i < 4; i++) {
          running++;
          rt.spawnThread(function* (r: Runtime) {
            const t = s.register(new RtPort(r), { preempt: 0.5, seed: 11 + i });
            const buf = r.mmap(4096);
            for (let op = 0; op < 40; op++) yield* s.put(t, 1 + ((op + i) % 3), 0, buf, 512);
            running--;
          }, { cpu: i % 2 });
        }
        while (running > 0) yield* rt.yield();
        return 0;
      }
      runProgram(k, main, { name: 'spin' });
      expect(runUntilDone(k, { maxSteps: 2_000_000 }).deadlock).toBe(false);
      return { cycles: sumBy(k.cpus.map((c) => c.allCounters()), 'nibble-spin'), spins: (store as NibbleStore | null)!.stats.lockSpins };
    };
    const dflt = spins(m2.nibbleSpin);
    expect(dflt.spins).toBeGreaterThan(0);
    expect(dflt.cycles).toBe(dflt.spins * m2.nibbleSpin);
    const cheap = spins(1);
    expect(cheap.cycles).toBe(cheap.spins);
    expect(() => spins(0)).toThrow(/nibbleSpin is a wait: it must be at least 1 cycle/);
  });

  it.each(['samParsePerByte', 'samFormatPerByte', 'samSortCompare', 'bgzfInflatePerByte', 'bgzfDeflatePerByte'] as const)('%s: SAM tools take longer as it grows', (param) => {
    const data = synthSam({ reads: 150, seed: 2 });
    const region = benchRegion(data);
    const cycles = (v: number): number => runPipeline(machineFromOptions({ costs: `${param}=${v}` }), 'files', data, region).result.totalCycles;
    const [zero, dflt, twice] = [0, m2[param], 2 * m2[param]].map(cycles);
    expect(zero).toBeLessThan(dflt);
    expect(twice).toBeGreaterThan(dflt);
  });

  it.each(['redisCommand', 'redisHashBase', 'redisHashPerByte', 'redisKeysPerKey'] as const)('%s: Redis commands take longer as it grows', (param) => {
    const cycles = (v: number): number => {
      const k = new Kernel({ ...machineFromOptions({ costs: `${param}=${v}` }), memBytes: GiB, cpus: 1 });
      const rt = attachRuntime(k, k.spawn('redis', { uid: 1, gid: 1 }).threads[0]);
      const ds = Dataset.create(rt, rt.mmap(8 << 20), 8 << 20, () => 1e6, { cyclesPerMs: 2.5e6 });
      const client = newClient();
      const reply = new Reply();
      const enc = new TextEncoder();
      const t0 = rt.clock;
      for (const argv of [['SET', 'alpha', '1'], ['SET', 'beta', '2'], ['GET', 'alpha'], ['KEYS', '*']]) {
        reply.reset();
        execute({ ds, client, reply }, argv.map((a) => enc.encode(a)));
      }
      return rt.clock - t0;
    };
    const [zero, dflt, twice] = [0, m2[param], 2 * m2[param]].map(cycles);
    expect(zero).toBeLessThan(dflt);
    expect(twice).toBeGreaterThan(dflt);
  });
});
