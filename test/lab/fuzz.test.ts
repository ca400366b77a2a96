// The fuzzer in the test suite: a bounded run over fixed seeds with every phase (the isolation
// defects of the once known-bug phases are fixed), the regression traces the fuzzer wrote for real
// bugs, and checks that the fuzzer itself finds what it should.

import { describe, it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSeed, replay, shrink, randomMachine, DEFAULT_FUZZ } from '../../lab/fuzz/fuzz.js';
import { FuzzRng } from '../../lab/fuzz/generate.js';
import { Session } from '../../lab/fuzz/session.js';
import { ALL_PHASES, KNOWN_BUG_PHASES, type Step } from '../../lab/fuzz/program.js';
import { programToTrace, traceReproduces } from '../../lab/fuzz/trace.js';
import { parsePhases } from '../../lab/fuzz/run.js';
import { parseTraceFile, runParsedTrace } from '../../shell/commands/trace.js';
import { formatDiagnostics } from '../../syscalls/trace/index.js';
import { parseScript } from '../../syscalls/trace/parser.js';
import { TraceRunner } from '../../syscalls/trace/runner.js';
import { Kernel } from '../../kernel/kernel.js';

const CLEAN = ALL_PHASES.filter((p) => !KNOWN_BUG_PHASES.includes(p));
const regressions = fileURLToPath(new URL('./fuzz-regressions', import.meta.url));

describe('sjmp fuzz (bounded)', () => {
  const boundedPhases = new Map<string, number>();
  // 10 seeds x 5000 calls (50,000 calls, the same seeds and sizes as the first ten of
  // `sjmp fuzz --calls 1000000`), every phase; about 20-30 s of one core.
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])('seed %i: 5000 calls over random machines, every phase, no oracle failure', (seed) => {
    const r = runSeed({ ...DEFAULT_FUZZ, seed, calls: 5000, phases: ALL_PHASES, shrinkMs: 5000 });
    expect(r.calls).toBeGreaterThanOrEqual(5000);
    expect(r.accesses).toBeGreaterThan(1000);
    for (const p of ['basic', 'hostile', 'spacejmp', 'shadow-private']) expect(Object.keys(r.byPhase)).toContain(p);
    for (const [p, n] of Object.entries(r.byPhase)) boundedPhases.set(p, (boundedPhases.get(p) ?? 0) + n);
    expect(r.failures.map((f) => `${f.oracle}: ${f.message}\n${f.trace}`)).toEqual([]);
  });

  it('the bounded run made calls in every phase', () => {
    expect([...boundedPhases.keys()].sort()).toEqual([...ALL_PHASES].sort());
    for (const p of ALL_PHASES) expect(boundedPhases.get(p)).toBeGreaterThan(50);
  });

  it('is deterministic per seed', () => {
    const a = runSeed({ ...DEFAULT_FUZZ, seed: 7, calls: 600, phases: CLEAN });
    const b = runSeed({ ...DEFAULT_FUZZ, seed: 7, calls: 600, phases: CLEAN });
    expect({ ...a, wallMs: 0 }).toEqual({ ...b, wallMs: 0 });
  });

  it('catches a copy-on-write bug: the model disagrees when a fork child sees its parent\'s later store', () => {
    // A program that is fine, then the same program replayed against a kernel whose fork shares
    // the heap instead of copying it (simulated by the model expecting the opposite value).
    const machine = randomMachine(new FuzzRng(5));
    const steps: Step[] = [
      { kind: 'spawn', actor: 'p0', uid: 1000, gid: 100, phase: 'basic' },
      { kind: 'store', actor: 'p0', addr: 0x1000_0000, value: 1n, phase: 'basic' },
      { kind: 'call', actor: 'p0', name: 'fork', args: [], bind: 'p1', phase: 'basic' },
      { kind: 'store', actor: 'p0', addr: 0x1000_0000, value: 2n, phase: 'basic' },
      { kind: 'load', actor: 'p1', addr: 0x1000_0000, phase: 'basic' },
      { kind: 'load', actor: 'p0', addr: 0x1000_0000, phase: 'basic' },
    ];
    const s = replay(machine, steps, 1);
    expect(s.failures).toEqual([]);
    expect(s.predictions.get(4)).toEqual({ kind: 'value', value: 1n });
    expect(s.predictions.get(5)).toEqual({ kind: 'value', value: 2n });
    // A model that believed the child shares the parent's heap would expect 2 in the child: the
    // kernel's (correct) 1 is then a memory failure, so a kernel that shared would be caught.
    const again = new Session(machine, { invariantsEvery: 1 });
    for (let i = 0; i < 4; i++) expect(again.run(steps[i], i)).toBe(true);
    again.model.processes.get('p1')!.priv.find(0x1000_0000)!.bytes.write64(0, 2n);
    expect(again.run(steps[4], 4)).toBe(false);
    expect(again.failures[0].oracle).toBe('memory');
    expect(again.failures[0].message).toMatch(/read 0x1 but the model says 0x2/);
  });

  it('shrinks a failure and writes a trace that reproduces it', () => {
    // A progress bound so tight that fork (a page-table copy) breaks it: one failing call among
    // twenty unrelated steps and another process, shrunk to the process and its fork.
    const machine = randomMachine(new FuzzRng(11));
    const filler: Step[] = Array.from({ length: 20 }, (_, i) => ({ kind: 'call', actor: i % 2 ? 'p0' : 'p1', name: 'getpid', args: [], phase: 'basic' as const, bind: `g${i}` }));
    const steps: Step[] = [
      { kind: 'spawn', actor: 'p0', uid: 1000, gid: 100, phase: 'basic' },
      { kind: 'spawn', actor: 'p1', uid: 1002, gid: 200, groups: [100], phase: 'basic' },
      ...filler.slice(0, 10),
      { kind: 'store', actor: 'p0', addr: 0x1000_0000, value: 5n, phase: 'basic' },
      ...filler.slice(10),
      { kind: 'call', actor: 'p0', name: 'fork', args: [], bind: 'p2', phase: 'basic' },
    ];
    const s = replay(machine, steps, 0, 1000);
    expect(s.failures[0]?.oracle).toBe('progress');
    const small = shrink(machine, steps, s.failures[0], 0, 20_000, new Set(ALL_PHASES), 1000);
    expect(small.steps.map((x) => x.kind === 'call' ? x.name : x.kind)).toEqual(['spawn', 'fork']);
    const f = small.session.failures[0];
    const trace = programToTrace(small.steps, { header: ['test'], machine, predictions: small.session.predictions, failure: f, cycleBound: f.cycleBound });
    expect(trace).toMatch(/^machine paging=/m);
    expect(trace).toMatch(/^process p0 uid=1000 gid=100$/m);
    expect(trace).toMatch(/^@p0 p2 = fork\(\)/m);
    expect(trace).toMatch(/^expect cycles <= 1000$/m);
    // `expect cycles` is the trace language's (issue 13, trace work): where the parser has it the
    // trace must reproduce the failure; where it does not yet, the check says so rather than pass.
    const hasExpectCycles = parseScript('getpid()\nexpect cycles <= 1\n', { knownCalls: TraceRunner.knownCalls() }).ok;
    const rep = traceReproduces(trace);
    if (hasExpectCycles) expect(rep.reproduces).toBe(true);
    else expect(rep).toMatchObject({ reproduces: null, note: expect.stringMatching(/does not parse/) });
  });

  it('models a mapping across the segment region\'s edge in both parts, and fork copies both', () => {
    // The 10^6-call run's only failures were this model gap (seeds 19, 23, 104).
  const machine = { paging: 4 as const, memBytes: 256 * 2 ** 20, nodes: 1, cpus: 3, seed: 1713982462, tagPolicy: 'flush' as const, aslr: true };
  const steps: Step[] = [
    { kind: 'spawn', actor: 'p0', uid: 1003, gid: 1003, phase: 'basic' },
    { kind: 'call', actor: 'p0', name: 'mmap', args: [0x3ffffffff000, 0x200000000, 3, 0x1012], phase: 'hostile' },
    { kind: 'store', actor: 'p0', addr: 0x40008003dd90, value: 7n, phase: 'basic' },
    { kind: 'call', actor: 'p0', name: 'fork', args: [], bind: 'p3', phase: 'basic' },
    { kind: 'load', actor: 'p3', addr: 0x40008003dd90, phase: 'basic' },
    { kind: 'load', actor: 'p3', addr: 0x3ffffffff008, phase: 'basic' },
  ];
  const s = replay(machine, steps, 1);
  expect(s.failures).toEqual([]);
  expect(s.predictions.get(4)).toEqual({ kind: 'value', value: 7n });
  });

  it('models a segment added to a named space replacing a shadow\'s own read-only attachment of it (seed 507)', () => {
    // docs/spacejmp.md: the named space's segments come first; the attacher's own rights are fixed
    // when the segment becomes reachable through the named space, so p0's shadow becomes writable.
    const machine = { paging: 4 as const, memBytes: 128 * 2 ** 20, nodes: 1, cpus: 4, seed: 1281638860, tagPolicy: 'tagged' as const, aslr: false };
    const a = 0x400080017c18;
    const steps: Step[] = [
      { kind: 'spawn', actor: 'p0', uid: 1003, gid: 1003, phase: 'basic' },
      { kind: 'call', actor: 'p0', name: 'seg_alloc', args: ['s36', 0x400080017000, 0x1000, 0o666, 0], bind: 's3', phase: 'spacejmp' },
      { kind: 'spawn', actor: 'p1', uid: 1001, gid: 100, phase: 'basic' },
      { kind: 'call', actor: 'p1', name: 'vas_create', args: ['s0', 0o666], bind: 'v5', phase: 'spacejmp' },
      { kind: 'call', actor: 'p0', name: 'vas_attach', args: [{ ref: 'v5', fallback: 1 }], bind: 'h7', phase: 'spacejmp' },
      { kind: 'spawn', actor: 'p4', uid: 1000, gid: 100, phase: 'basic' },
      { kind: 'call', actor: 'p0', name: 'seg_attach', args: [{ ref: 'h7', fallback: 0x10001 }, { ref: 's3', fallback: 1 }, 1], phase: 'spacejmp' },
      { kind: 'call', actor: 'p0', name: 'vas_switch', args: [{ ref: 'h7', fallback: 0x10001 }, 0], phase: 'spacejmp' },
      { kind: 'store', actor: 'p0', addr: a, value: 1n, phase: 'spacejmp' },
      { kind: 'call', actor: 'p4', name: 'seg_attach', args: [{ ref: 'v5', fallback: 1 }, { ref: 's3', fallback: 1 }, -1], phase: 'spacejmp' },
      { kind: 'store', actor: 'p0', addr: a, value: 7n, phase: 'spacejmp' },
      { kind: 'load', actor: 'p0', addr: a, phase: 'spacejmp' },
      { kind: 'call', actor: 'p1', name: 'seg_detach', args: [{ ref: 'v5', fallback: 1 }, { ref: 's3', fallback: 1 }], phase: 'spacejmp' },
      { kind: 'load', actor: 'p0', addr: a, phase: 'spacejmp' },
    ];
    const s = replay(machine, steps, 1);
    expect(s.failures).toEqual([]);
    expect(s.predictions.get(8)).toEqual({ kind: 'fault' });
    expect(s.predictions.get(11)).toEqual({ kind: 'value', value: 7n });
    expect(s.predictions.get(13)).toEqual({ kind: 'fault' });
  });

  it('models a live add the attacher may not read as no mapping in his shadow (10^6-call run, seed 54)', () => {
    const machine = { paging: 5 as const, memBytes: 128 * 2 ** 20, nodes: 1, cpus: 2, seed: 895058717, tagPolicy: 'tagged' as const, aslr: false };
    const steps: Step[] = [
      { kind: 'spawn', actor: 'p0', uid: 1002, gid: 200, groups: [100], phase: 'basic' },
      { kind: 'call', actor: 'p0', name: 'vas_create', args: ['s1', 0o660], bind: 'v5', phase: 'spacejmp' },
      { kind: 'spawn', actor: 'p4', uid: 0, gid: 0, phase: 'basic' },
      { kind: 'call', actor: 'p4', name: 'seg_alloc', args: ['s34', 0x400080003000, 0x2000, 0o660, 0], bind: 's28', phase: 'spacejmp' },
      { kind: 'call', actor: 'p0', name: 'vas_attach', args: [{ ref: 'v5', fallback: 1 }], bind: 'h', phase: 'spacejmp' },
      { kind: 'call', actor: 'p0', name: 'vas_switch', args: [{ ref: 'h', fallback: 0x10001 }, 0], phase: 'spacejmp' },
      { kind: 'call', actor: 'p4', name: 'seg_attach', args: [{ ref: 'v5', fallback: 1 }, { ref: 's28', fallback: 1 }, 1], phase: 'spacejmp' },
      { kind: 'load', actor: 'p0', addr: 0x4000800046d0, phase: 'spacejmp' },
    ];
    const s = replay(machine, steps, 1);
    expect(s.failures).toEqual([]);
    expect(s.predictions.get(7)).toEqual({ kind: 'fault' });
  });

  it('a thread the kernel refuses (EBUSY: a segment lock it would need) is an outcome, written as a comment', () => {
    // 10^6-call run: 21 seeds failed with "exception" here; the harness, not the kernel, was wrong.
    const machine = { paging: 4 as const, memBytes: 2 ** 30, nodes: 1, cpus: 3, seed: 1990298645, tagPolicy: 'tagged' as const, aslr: false };
    const steps: Step[] = [
      { kind: 'spawn', actor: 'p0', uid: 0, gid: 0, phase: 'basic' },
      { kind: 'call', actor: 'p0', name: 'seg_alloc', args: ['s3', 0x4000c000a000, 0x3000, 0o606, 0], bind: 's10', phase: 'spacejmp' },
      { kind: 'call', actor: 'p0', name: 'seg_ctl', args: [{ ref: 's10', fallback: 1 }, 3, 1], phase: 'spacejmp' },
      { kind: 'call', actor: 'p0', name: 'seg_attach', args: [-1, { ref: 's10', fallback: 1 }, 3], phase: 'spacejmp' },
      { kind: 'thread', actor: 'p0.t1', phase: 'basic' },
      { kind: 'call', actor: 'p0.t1', name: 'getpid', args: [], phase: 'basic' },
      { kind: 'call', actor: 'p0', name: 'getpid', args: [], phase: 'basic' },
    ];
    const s = replay(machine, steps, 1);
    expect(s.failures).toEqual([]);
    expect(s.notCreated.get(4)).toMatch(/^EBUSY: a new thread would need segment "s3"/);
    const trace = programToTrace(steps, { header: [], machine, predictions: s.predictions, notCreated: s.notCreated, failure: { oracle: 'memory', step: -1, message: '' } });
    expect(trace).toMatch(/^# thread p0\.t1 not created: EBUSY/m);
    expect(trace).not.toMatch(/@p0\.t1/);
    expect(traceReproduces(trace)).toEqual({ reproduces: false, note: 'every step held' });
  });

  it('writes hostile doubles and ASLR into the trace, which then gives every call the fuzzer\'s result', () => {
    // 5-level paging: 2^53 is a user address, so the double 2^53 (EINVAL) and the exact integer
    // (a mapping) differ; ASLR on: mmap lands where the machine seed puts it, in the trace too.
    const machine = { paging: 5 as const, memBytes: 128 * 2 ** 20, nodes: 1, cpus: 2, seed: 4242, tagPolicy: 'flush' as const, aslr: true };
    const RW = 3, PRIV_ANON = 0x1002, FIXED = 0x10; // MAP_PRIVATE|MAP_ANON, MAP_FIXED (FreeBSD's values)
    const steps: Step[] = [
      { kind: 'spawn', actor: 'p0', uid: 1000, gid: 100, phase: 'basic' },
      { kind: 'call', actor: 'p0', name: 'mmap', args: [0, NaN, RW, PRIV_ANON], bind: 'r1', phase: 'hostile' },
      { kind: 'call', actor: 'p0', name: 'mmap', args: [0, 0.5, RW, PRIV_ANON], bind: 'r2', phase: 'hostile' },
      { kind: 'call', actor: 'p0', name: 'mmap', args: [-Infinity, 4096, RW, PRIV_ANON], bind: 'r3', phase: 'hostile' },
      { kind: 'call', actor: 'p0', name: 'mmap', args: [2 ** 53, 4096, RW, PRIV_ANON | FIXED], bind: 'r4', phase: 'hostile' },
      { kind: 'call', actor: 'p0', name: 'mmap', args: [2n ** 53n, 4096, RW, PRIV_ANON | FIXED], bind: 'r5', phase: 'hostile' },
      { kind: 'call', actor: 'p0', name: 'mmap', args: [0, 8192, RW, PRIV_ANON], bind: 'm', phase: 'basic' },
    ];
    const session = new Session(machine, { invariantsEvery: 1 });
    steps.forEach((st, i) => expect(session.run(st, i)).toBe(true));
    const m = Number(session.env.get('m'));
    expect(m).not.toBe(0x10_0000_0000); // ASLR moved the mmap base
    // Literal addresses, as a shrunk program has when the mmap that bound them was dropped.
    steps.push({ kind: 'store', actor: 'p0', addr: m + 8, value: 9n, phase: 'basic' }, { kind: 'load', actor: 'p0', addr: m + 8, phase: 'basic' });
    expect(session.run(steps[7], 7) && session.run(steps[8], 8)).toBe(true);
    const trace = programToTrace(steps, { header: ['test'], machine, predictions: session.predictions, failure: { oracle: 'memory', step: -1, message: '' } });
    expect(trace).toMatch(/^machine paging=5 .* aslr=on$/m);
    expect(trace).toMatch(/^@p0 r1 = mmap\(0, NaN, 3, 0x1002\)$/m);
    expect(trace).toMatch(/^@p0 r2 = mmap\(0, 0\.5, 3, 0x1002\)$/m);
    expect(trace).toMatch(/^@p0 r3 = mmap\(-Infinity, 0x1000, 3, 0x1002\)$/m);
    expect(trace).toMatch(/^@p0 r4 = mmap\(9007199254740992\.0, 0x1000, 3, 0x1012\)$/m);
    expect(trace).toMatch(/^@p0 r5 = mmap\(0x20000000000000, 0x1000, 3, 0x1012\)$/m);
    expect(traceReproduces(trace)).toEqual({ reproduces: false, note: 'every step held' });
    // The same calls through the trace runner: every bound result equals the fuzzer's.
    const parsed = parseScript(trace, { knownCalls: TraceRunner.knownCalls() });
    expect(parsed.errors).toEqual([]);
    const runner = new TraceRunner(new Kernel(machine));
    runner.runScript(parsed.statements, parsed.sources);
    for (const name of ['r1', 'r2', 'r3', 'r4', 'r5', 'm']) expect([name, runner.names.get(name)]).toEqual([name, session.env.get(name)]);
    expect(session.env.get('r4')).toBe(-22n);
    expect(session.env.get('r5')).toBe(2n ** 53n);
  });

  it('models narrow, unaligned and page-crossing accesses: a fault on the second page moves no byte', () => {
    const machine = randomMachine(new FuzzRng(3));
    const H = 0x1000_0000; // the heap: 1 MiB, then nothing mapped
    const end = H + 2 ** 20;
    const steps: Step[] = [
      { kind: 'spawn', actor: 'p0', uid: 1000, gid: 100, phase: 'basic' },
      { kind: 'store', actor: 'p0', addr: H + 4094, value: 0x1122334455667788n, width: 8, phase: 'basic' }, // across two heap pages
      { kind: 'load', actor: 'p0', addr: H + 4095, width: 2, phase: 'basic' },
      { kind: 'load', actor: 'p0', addr: H + 4093, width: 4, phase: 'basic' },
      { kind: 'store', actor: 'p0', addr: end - 2, value: 0xaabbccddn, width: 4, phase: 'basic' }, // second page unmapped
      { kind: 'load', actor: 'p0', addr: end - 2, width: 2, phase: 'basic' },
      { kind: 'store', actor: 'p0', addr: H + 9, value: 0x1ffn, width: 1, phase: 'basic' },
      { kind: 'load', actor: 'p0', addr: H + 8, width: 8, phase: 'basic' },
    ];
    const s = replay(machine, steps, 1);
    expect(s.failures).toEqual([]);
    expect(s.predictions.get(2)).toEqual({ kind: 'value', value: 0x6677n });
    expect(s.predictions.get(3)).toEqual({ kind: 'value', value: 0x66778800n });
    expect(s.predictions.get(4)).toEqual({ kind: 'fault' });
    expect(s.predictions.get(5)).toEqual({ kind: 'value', value: 0n });
    expect(s.predictions.get(7)).toEqual({ kind: 'value', value: 0xff00n });
    const trace = programToTrace(steps, { header: [], machine, predictions: s.predictions, failure: { oracle: 'memory', step: -1, message: '' } });
    expect(trace).toMatch(/^@p0 expect fault store32 0x100ffffe 0xaabbccdd$/m);
    expect(trace).toMatch(/^@p0 load16 0x10000fff = 0x6677$/m);
    expect(traceReproduces(trace)).toEqual({ reproduces: false, note: 'every step held' });
  });

  it('follows thread_exit: the thread\'s later steps are skipped, the last thread ends the process', () => {
    const machine = randomMachine(new FuzzRng(4));
    const steps: Step[] = [
      { kind: 'spawn', actor: 'p0', uid: 1000, gid: 100, phase: 'basic' },
      { kind: 'thread', actor: 'p0.t1', phase: 'basic' },
      { kind: 'call', actor: 'p0.t1', name: 'thread_exit', args: [3], phase: 'basic' },
      { kind: 'call', actor: 'p0.t1', name: 'getpid', args: [], bind: 'gone', phase: 'basic' },
      { kind: 'store', actor: 'p0', addr: 0x1000_0000, value: 1n, phase: 'basic' },
      { kind: 'thread', actor: 'p0.t2', phase: 'basic' },
      { kind: 'call', actor: 'p0', name: 'thread_exit', args: [4], phase: 'basic' },
      { kind: 'load', actor: 'p0.t2', addr: 0x1000_0000, phase: 'basic' },
      { kind: 'call', actor: 'p0.t2', name: 'thread_exit', args: [5], phase: 'basic' },
    ];
    const s = replay(machine, steps, 1);
    expect(s.failures).toEqual([]);
    expect(s.env.has('gone')).toBe(false);
    expect(s.predictions.get(7)).toEqual({ kind: 'value', value: 1n });
    expect(s.model.processes.get('p0')!.live).toBe(false);
    expect(s.kernelProcess('p0')!.live).toBe(false);
    const trace = programToTrace(steps, { header: [], machine, predictions: s.predictions, failure: { oracle: 'memory', step: -1, message: '' } });
    expect(trace).not.toMatch(/getpid/);
    expect(traceReproduces(trace)).toEqual({ reproduces: false, note: 'every step held' });
  });

  it('bounds seg_clone by the pages it copies, and writes a wrong-arity call as a comment (10^6-call run, seed 7)', () => {
    const machine = { paging: 4 as const, memBytes: 256 * 2 ** 20, nodes: 1, cpus: 2, seed: 7, tagPolicy: 'flush' as const, aslr: false };
    const steps: Step[] = [
      { kind: 'spawn', actor: 'p0', uid: 0, gid: 0, phase: 'basic' },
      { kind: 'call', actor: 'p0', name: 'seg_alloc', args: ['big', 0x4000_0000_0000, 16 * 2 ** 20, 0o600, 0], bind: 's1', phase: 'spacejmp' },
      { kind: 'call', actor: 'p0', name: 'seg_clone', args: [{ ref: 's1', fallback: 1 }], bind: 's2', phase: 'spacejmp' },
      { kind: 'call', actor: 'p0', name: 'vas_create', args: [], bind: 'v', phase: 'hostile' },
    ];
    const s = replay(machine, steps, 0);
    expect(s.failures).toEqual([]); // 4096 pages copied: ~3 M modelled cycles, over the 2 M base
    expect(s.env.get('v')).toBe(-22n);
    const trace = programToTrace(steps, { header: [], machine, predictions: s.predictions, failure: { oracle: 'memory', step: -1, message: '' } });
    expect(trace).toMatch(/^# @p0 vas_create\(\): 0 arguments, which a trace cannot write \(vas_create takes 2\)$/m);
    expect(traceReproduces(trace)).toEqual({ reproduces: false, note: 'every step held' });
  });

  it('parses --phases', () => {
    expect(parsePhases('clean')).toEqual(CLEAN);
    expect(parsePhases('all,-shared-pt')).toEqual(ALL_PHASES.filter((p) => p !== 'shared-pt'));
    expect(parsePhases('spacejmp')).toEqual(['basic', 'spacejmp']);
    expect(() => parsePhases('bogus')).toThrow(/unknown phase "bogus"/);
  });
});

describe('fuzzer-written regression traces', () => {
  const files = readdirSync(regressions).filter((f) => f.endsWith('.trace')).sort();
  it.each(files)('%s holds', (name) => {
    const parsed = parseTraceFile(join(regressions, name));
    if (!parsed.ok) throw new Error(formatDiagnostics(parsed.errors));
    const r = runParsedTrace(name, parsed, {});
    expect(r.transcript.filter((e) => !e.ok).map((e) => `${e.at} ${e.text} ${e.note ?? ''}`)).toEqual([]);
    expect(r.summary.expectations.failed).toBe(0);
  });
});
