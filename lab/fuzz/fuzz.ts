// One seed of the fuzzer: a series of generated programs, each on its own random machine, until
// the seed's call budget is spent. A program stops at its first oracle failure; the failure is
// shrunk (whole chunks of steps dropped while the same oracle still fails) and written as a trace.

import type { MachineConfig, TagPolicy } from '../../kernel/machineConfig.js';
import { MiB, GiB } from '../../mmu/units.js';
import { Session, describeStep, type Failure, type OracleName } from './session.js';
import { Generator, FuzzRng } from './generate.js';
import { KNOWN_BUG_PHASES, type Phase, type Step } from './program.js';
import { programToTrace, traceReproduces } from './trace.js';

export interface FuzzOptions {
  seed: number;
  /** System calls to make in this seed (over all its programs). */
  calls: number;
  phases: readonly Phase[];
  /** Run the kernel invariant checker every this many steps (0: only at the end of a program). */
  invariantsEvery: number;
  /** Calls per program before a fresh machine. */
  programCalls: number;
  /** Wall-clock budget for shrinking one failure (emulator wall-clock, ms). */
  shrinkMs: number;
  /** Stop the seed after this many distinct failures. */
  maxFailures: number;
  /** Called now and then with calls done so far in this seed. */
  onProgress?: (calls: number, failures: number) => void;
}

export const DEFAULT_FUZZ: Omit<FuzzOptions, 'seed' | 'calls' | 'phases'> = { invariantsEvery: 50, programCalls: 200, shrinkMs: 20_000, maxFailures: 5 };

export type MachineSpec = Partial<MachineConfig> & { paging: 4 | 5; memBytes: number; cpus: number; nodes: number; seed: number; tagPolicy: TagPolicy; aslr: boolean };

export interface FailureReport {
  seed: number;
  program: number;
  oracle: OracleName;
  message: string;
  /** Phases of the shrunk program's steps; knownBug when one of them is a known-bug phase. */
  phases: Phase[];
  knownBug: boolean;
  machine: string;
  steps: number;
  originalSteps: number;
  shrinkMs: number;
  trace: string;
  reproduces: boolean | null;
  reproduceNote: string;
}

export interface SeedResult {
  seed: number;
  calls: number;
  accesses: number;
  steps: number;
  programs: number;
  /** Calls made per phase (a call counts for the phase its step was generated in). */
  byPhase: Record<string, number>;
  /** Per call name: [returned a value, returned an errno]. */
  byCall: Record<string, [number, number]>;
  failures: FailureReport[];
  /** Emulator wall-clock. */
  wallMs: number;
}

export function randomMachine(rng: FuzzRng): MachineSpec {
  const nodes = rng.chance(0.2) ? 2 : 1;
  return {
    paging: rng.chance(0.4) ? 5 : 4,
    memBytes: rng.pick([64 * MiB, 128 * MiB, 256 * MiB, GiB]),
    cpus: 1 + rng.below(4),
    nodes,
    seed: rng.below(2 ** 31),
    tagPolicy: rng.chance(0.5) ? 'tagged' : 'flush',
    aslr: rng.chance(0.3),
  };
}

export function describeSpec(m: MachineSpec): string {
  return `${m.paging}-level paging, ${m.memBytes / MiB} MiB in ${m.nodes} node(s), ${m.cpus} CPU(s), TLB tags ${m.tagPolicy}, ASLR ${m.aslr ? 'on' : 'off'}, machine seed ${m.seed}`;
}

interface Run { session: Session; steps: Step[] }

/** Replay `steps` on a fresh machine; stops at the first failure. */
export function replay(machine: MachineSpec, steps: readonly Step[], invariantsEvery: number, progressBaseCycles?: number): Session {
  const s = new Session(machine, { invariantsEvery, progressBaseCycles });
  for (let i = 0; i < steps.length; i++) if (!s.run(steps[i], i)) return s;
  s.finish();
  return s;
}

function generate(machine: MachineSpec, seed: number, phases: ReadonlySet<Phase>, calls: number, invariantsEvery: number, byPhase: Record<string, number>): Run {
  const session = new Session(machine, { invariantsEvery });
  const gen = new Generator(seed, phases, session);
  const steps: Step[] = [];
  const maxSteps = calls * 4;
  while (session.calls < calls && steps.length < maxSteps) {
    const step = gen.next();
    steps.push(step);
    const before = session.calls;
    const ok = session.run(step, steps.length - 1);
    if (session.calls > before) byPhase[step.phase] = (byPhase[step.phase] ?? 0) + 1;
    if (!ok) return { session, steps };
  }
  session.finish();
  return { session, steps };
}

/** Drop chunks of steps (halves, quarters, ... single steps) while the same oracle still fails. */
export function shrink(machine: MachineSpec, steps: Step[], failure: Failure, invariantsEvery: number, budgetMs: number, allowed: ReadonlySet<Phase>, progressBaseCycles?: number): { steps: Step[]; session: Session } {
  const deadline = Date.now() + budgetMs;
  // The same oracle, reached only through the phases the run was allowed (so shrinking cannot
  // drift from the failure it found into a known bug of an excluded phase).
  const same = (s: Session): boolean => s.failures.length > 0 && s.failures[0].oracle === failure.oracle && [...s.phasesSeen].every((p) => allowed.has(p));
  let best = steps;
  const first = replay(machine, best, invariantsEvery, progressBaseCycles);
  // Everything after the failing step is irrelevant (unless the failure is an end-of-run check).
  const cut = (s: Session, list: Step[]): Step[] => (s.failures[0].step < list.length ? list.slice(0, s.failures[0].step + 1) : list);
  if (same(first)) best = cut(first, best);
  else return { steps, session: first };
  // With invariants checked after every step, the invariant failure shows at its cause.
  const every = failure.oracle === 'invariants' ? 1 : invariantsEvery;
  if (every !== invariantsEvery) {
    const s = replay(machine, best, every, progressBaseCycles);
    if (same(s)) best = cut(s, best);
  }
  for (let chunk = Math.max(1, Math.floor(best.length / 2)); chunk >= 1; chunk = Math.floor(chunk / 2)) {
    for (let i = best.length - chunk; i >= 0 && Date.now() < deadline; i -= chunk) {
      if (i + chunk > best.length) continue;
      const candidate = [...best.slice(0, i), ...best.slice(i + chunk)];
      const s = replay(machine, candidate, every, progressBaseCycles);
      if (same(s)) best = cut(s, candidate);
    }
    if (Date.now() >= deadline) break;
  }
  return { steps: best, session: replay(machine, best, every, progressBaseCycles) };
}

function normalize(message: string): string {
  return message.replace(/0x[0-9a-f_]+/gi, 'X').replace(/\d+/g, 'N').slice(0, 120);
}

/** Run one seed. */
export function runSeed(o: FuzzOptions): SeedResult {
  const t0 = Date.now();
  const rng = new FuzzRng(o.seed);
  const phases = new Set(o.phases);
  const byPhase: Record<string, number> = {};
  const byCall: Record<string, [number, number]> = {};
  const failures: FailureReport[] = [];
  const seen = new Set<string>();
  let calls = 0;
  let accesses = 0;
  let steps = 0;
  let programs = 0;
  while (calls < o.calls && failures.length < o.maxFailures) {
    const machine = randomMachine(rng);
    const progSeed = rng.u32();
    const budget = Math.min(o.programCalls, o.calls - calls);
    const run = generate(machine, progSeed, phases, budget, o.invariantsEvery, byPhase);
    programs++;
    calls += Math.max(1, run.session.calls);
    accesses += run.session.accesses;
    for (const [name, c] of run.session.outcomes) {
      const t = (byCall[name] ??= [0, 0]);
      t[0] += c.ok;
      t[1] += c.errno;
    }
    steps += run.steps.length;
    o.onProgress?.(calls, failures.length);
    const f = run.session.failures[0];
    if (!f) continue;
    const key = `${f.oracle}:${normalize(f.message)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const s0 = Date.now();
    const small = shrink(machine, run.steps, f, o.invariantsEvery, o.shrinkMs, phases);
    const sf = small.session.failures[0] ?? f;
    const stepPhases = [...small.session.phasesSeen];
    const header = [
      `sjmp fuzz --seed ${o.seed}: program ${programs - 1}, shrunk from ${run.steps.length} to ${small.steps.length} steps`,
      `oracle ${sf.oracle}: ${sf.message.split('\n')[0]}`,
      `machine: ${describeSpec(machine)}`,
      `phases its steps ran in: ${stepPhases.join(', ')}`,
    ];
    const trace = programToTrace(small.steps, { header, machine, predictions: small.session.predictions, notCreated: small.session.notCreated, failure: sf, cycleBound: sf.cycleBound });
    const rep = traceReproduces(trace);
    failures.push({
      seed: o.seed, program: programs - 1, oracle: sf.oracle, message: sf.message, phases: stepPhases,
      knownBug: stepPhases.some((p) => KNOWN_BUG_PHASES.includes(p)), machine: describeSpec(machine),
      steps: small.steps.length, originalSteps: run.steps.length, shrinkMs: Date.now() - s0,
      trace, reproduces: rep.reproduces, reproduceNote: rep.note,
    });
    o.onProgress?.(calls, failures.length);
  }
  return { seed: o.seed, calls, accesses, steps, programs, byPhase, byCall, failures, wallMs: Date.now() - t0 };
}

export { describeStep };
