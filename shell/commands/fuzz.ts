// `sjmp fuzz`: the system-call fuzzer (lab/fuzz). Random multi-process programs on random
// machines, checked by the oracles of docs/reliability.md; each failure is shrunk and written as
// a trace script. Exit 0 with no failures, 1 with any, 2 for bad usage.

import type { Command } from 'commander';
import { runFuzz, parsePhases, DEFAULT_RUN, type RunSummary, type Progress } from '../../lab/fuzz/run.js';
import { PHASES } from '../../lab/fuzz/program.js';
import { UsageError } from '../errors.js';
import { jsonEnvelope, formatJson } from '../../lab/jsonEnvelope.js';

export interface FuzzCliOptions {
  calls?: string;
  seed?: string;
  jobs?: string;
  phases?: string;
  seedCalls?: string;
  invariantsEvery?: string;
  out?: string;
  json?: boolean;
}

function int(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name}: "${text}" is not an integer >= ${min}`);
  return n;
}

function progressLine(p: Progress): string {
  const frac = p.total ? Math.min(1, p.calls / p.total) : 0;
  const width = 30;
  const filled = Math.round(frac * width);
  const rate = p.calls / Math.max(0.001, p.wallMs / 1000);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.calls}/${p.total} calls  ${Math.round(rate)} calls/s  failures ${p.failures}`;
}

export function formatFuzzSummary(s: RunSummary): string[] {
  const lines = [
    `fuzz: ${s.calls} calls, ${s.accesses} loads/stores, ${s.programs} programs, seeds ${s.seeds[0]}..${s.seeds[s.seeds.length - 1]}, ${s.jobs} job(s)`,
    `      ${(s.wallMs / 1000).toFixed(1)} s emulator wall-clock, ${s.callsPerSecond} calls/s; phases: ${s.phases.join(', ')}`,
    `      calls by phase: ${Object.entries(s.byPhase).map(([p, n]) => `${p} ${n}`).join(', ')}`,
    `      calls that succeeded / failed with an errno: ${Object.entries(s.byCall).sort(([a], [b]) => a.localeCompare(b)).map(([c, [ok, err]]) => `${c} ${ok}/${err}`).join(', ')}`,
    `      failures: ${s.failures} (${s.knownBugFailures} in known-bug phases, ${s.otherFailures} other)${s.failures ? `; by oracle: ${Object.entries(s.byOracle).map(([o, n]) => `${o} ${n}`).join(', ')}` : ''}`,
  ];
  for (const f of s.failureList) {
    lines.push(`  ${f.knownBug ? '[known-bug phase] ' : ''}seed ${f.seed} program ${f.program}: ${f.oracle}: ${f.message.split('\n')[0]}`);
    lines.push(`      ${f.steps} steps (from ${f.originalSteps}), phases ${f.phases.join(',')}; trace ${f.traceFile ?? '(not written)'}${f.reproduces === null ? ` (${f.reproduceNote})` : f.reproduces ? '' : ' (the trace does not reproduce it yet)'}`);
  }
  return lines;
}

export async function fuzzCommand(o: FuzzCliOptions): Promise<number> {
  let phases;
  try { phases = parsePhases(o.phases); } catch (e) { throw new UsageError((e as Error).message); }
  const calls = int('calls', o.calls, 10_000, 1);
  const jobs = int('jobs', o.jobs, 1, 1);
  const tty = process.stderr.isTTY;
  let last = 0;
  const summary = await runFuzz({
    ...DEFAULT_RUN, calls, seed: int('seed', o.seed, 1, 0), jobs, phases,
    seedCalls: int('seed-calls', o.seedCalls, DEFAULT_RUN.seedCalls, 1),
    invariantsEvery: int('invariants-every', o.invariantsEvery, DEFAULT_RUN.invariantsEvery, 0),
    outDir: o.out ?? 'fuzz-out',
    onProgress: (p) => {
      const now = Date.now();
      if (!tty || now - last < 150) return;
      last = now;
      process.stderr.write(`\r${progressLine(p)}\x1b[K`);
    },
  });
  if (tty) process.stderr.write('\r\x1b[K');
  if (o.json) process.stdout.write(formatJson(jsonEnvelope('fuzz', summary.failures === 0, { ...summary })));
  else process.stdout.write(formatFuzzSummary(summary).join('\n') + '\n');
  return summary.failures === 0 ? 0 : 1;
}

export function addFuzzOptions(cmd: Command): Command {
  return cmd
    .option('--calls <n>', 'system calls to make in all', '10000')
    .option('--seed <n>', 'first seed (seeds run S, S+1, ...; each is deterministic; default 1)')
    .option('--jobs <n>', 'seeds run at once on worker threads', '1')
    .option('--phases <list>', `phases to generate: all, clean (all but the known-bug phases), or names (a leading - removes one): ${Object.keys(PHASES).join(', ')}`, 'all')
    .option('--seed-calls <n>', 'calls per seed', String(DEFAULT_RUN.seedCalls))
    .option('--invariants-every <n>', 'run the kernel invariant checker every n steps (0: at the end of each program)', String(DEFAULT_RUN.invariantsEvery))
    .option('--out <dir>', 'where failure traces are written', 'fuzz-out')
    .option('--json', 'the summary as JSON');
}
