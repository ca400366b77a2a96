// `sjmp trace FILE...`: parse every file first (a bad script runs nothing), then run each on its
// own machine and print the transcript and a summary. Exit 0 when every file passes, 1 when an
// expectation fails, a statement cannot run, a process is killed by a fault nobody expected or the
// kernel panics, 2 for a bad script or usage. Every failure is also one line on stderr,
// `file:line:col: what was expected, what happened`, whatever else is shown.
//
// strace's options select and shape the transcript: -e trace=NAMES (globs), -p PROCESS, -c (a
// per-call count and modelled-cycles table instead of the transcript), -t (modelled timestamps),
// -o FILE (the transcript to a file). `-` reads the script from stdin.

import { readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { resolve, dirname, basename } from 'node:path';
import { Kernel } from '../../kernel/kernel.js';
import { describeMachine, type MachineConfig, type MachineOptionsText } from '../../kernel/machineConfig.js';
import { machineSnapshot, type MachineSnapshot } from '../../kernel/snapshot.js';
import { parseFile, parseScript, nodeFileLoader, formatDiagnostics, machineSettings, didYouMean, type ParseResult, type Statement } from '../../syscalls/trace/index.js';
import { TraceRunner, TRACE_CONSTANTS, formatEntry, type RunSummary, type TranscriptEntry } from '../../syscalls/trace/runner.js';
import { jsonEnvelope, machineJson, formatJson } from '../../lab/jsonEnvelope.js';
import { buildMachine, machineLineOptions, type GlobalOptions } from '../machineOptions.js';
import { UsageError } from '../errors.js';
import { openImageSession, type ImageOptions } from './image.js';

export interface TraceOptions extends GlobalOptions, ImageOptions {
  json?: boolean;
  quiet?: boolean;
  /** strace -e: `trace=vas_*,seg_*` (or the list alone). */
  e?: string;
  /** strace -p: process names or pids. */
  p?: string[];
  /** strace -c: the per-call summary table instead of the transcript. */
  c?: boolean;
  /** strace -t: each line starts with the modelled cycles since boot. */
  t?: boolean;
  /** strace -o: the transcript (and summaries) to this file. */
  o?: string;
}

export interface TraceFileResult {
  file: string;
  /** The machine in words, for people. */
  machine: string;
  config: MachineConfig;
  transcript: TranscriptEntry[];
  summary: RunSummary;
  /** The machine when the script ended: processes, spaces with their vm maps, named spaces,
   *  shadows, segments and every CPU's counters (kernel/snapshot.ts). */
  state: MachineSnapshot;
}

/** The script's `machine` line as option text. */
export function scriptMachine(r: ParseResult): MachineOptionsText {
  return machineLineOptions(machineSettings(r.statements).values());
}

const parseOptions = { knownCalls: TraceRunner.knownCalls(), knownConstants: Object.keys(TRACE_CONSTANTS) };

/** Parse a script file; `-` is stdin (its includes resolve against the current directory). */
export function parseTraceFile(file: string): ParseResult {
  if (file === '-') {
    let text: string;
    try {
      text = readFileSync(0, 'utf8');
    } catch (e) {
      throw new UsageError(`trace: cannot read stdin: ${(e as Error).message}`);
    }
    return parseScript(text, { file: '<stdin>', loader: nodeFileLoader(process.cwd()), ...parseOptions });
  }
  const abs = resolve(file);
  return parseFile(basename(abs), { loader: nodeFileLoader(dirname(abs)), ...parseOptions });
}

/** The machine a script asks for: defaults, its `machine` line, then the command line. */
function traceMachine(file: string, parsed: ParseResult, opts: GlobalOptions) {
  try {
    return buildMachine(opts, scriptMachine(parsed));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
}

/** Run a parsed script on a fresh machine (or on `on`, a machine loaded from an image); `machine`
 *  receives that machine (tests check its invariants). */
export function runParsedTrace(file: string, parsed: ParseResult, opts: GlobalOptions, onEntry?: (e: TranscriptEntry) => void, machine?: (k: Kernel) => void, on?: Kernel): TraceFileResult {
  const kernel = on ?? new Kernel(traceMachine(file, parsed, opts));
  const config = kernel.config;
  machine?.(kernel);
  const runner = new TraceRunner(kernel, { onEntry });
  const summary = runner.runScript(parsed.statements, parsed.sources);
  return { file, machine: describeMachine(config), config, transcript: runner.transcript, summary, state: machineSnapshot(kernel) };
}

export function formatSummary(r: TraceFileResult): string {
  const s = r.summary;
  const verdict = s.passed ? 'passed' : 'FAILED';
  const lines = [
    `--- ${r.file}: ${verdict}: ${s.statements} statements, expectations ${s.expectations.passed} passed / ${s.expectations.failed} failed, ${s.faults} faults (${s.killed} killed), ${s.errors} errors`,
  ];
  if (s.panic) lines.push(`    kernel panic at ${s.panic}; the run stopped there`);
  lines.push(
    `    machine: ${r.machine}`,
    `    modelled cycles (profile ${s.profile}): ${Object.entries(s.cyclesByProcess).map(([p, c]) => `${p} ${Math.round(c)}`).join(', ')}`,
    `    TLB (user mode): ${s.tlb.accesses} accesses, L1 hits ${s.tlb.l1Hits}, STLB hits ${s.tlb.stlbHits}, page walks ${s.tlb.walks} (${s.tlb.walkRefs} refs), page faults ${s.tlb.pageFaults}, CR3 writes ${s.tlb.cr3Writes}`,
    `    kernel's own references: ${s.kernelTlb.accesses}, L1 misses ${s.kernelTlb.l1Misses}, page walks ${s.kernelTlb.walks} (${s.kernelTlb.walkRefs} refs)`,
  );
  return lines.join('\n');
}

// ------------------------------------------------------------------ strace-style selection

/** Which transcript entries are shown: -e trace=GLOBS and -p PROCESS. */
export interface EntryFilter {
  names: RegExp[] | null;
  /** `-e trace=!NAMES`: everything except these. */
  exclude?: boolean;
  processes: string[] | null;
}

/**
 * `trace=vas_*,seg_*` (or `vas_*,seg_*`) as name patterns; `*` matches any run of characters.
 * A leading `!` (`trace=!getpid,sched_yield`) selects everything except them, as in strace.
 */
export function parseTraceExpr(expr: string): { names: RegExp[]; exclude: boolean } {
  const m = /^(?:([a-z]+)=)?(!?)(.*)$/.exec(expr)!;
  if (m[1] !== undefined && m[1] !== 'trace') throw new UsageError(`trace: -e ${m[1]}= is not supported (only -e trace=NAME,...)`);
  return { names: namePatterns(m[3]), exclude: m[2] === '!' };
}

function namePatterns(list: string): RegExp[] {
  const globs = list.split(',').map((g) => g.trim()).filter((g) => g.length > 0);
  if (globs.length === 0) throw new UsageError('trace: -e trace= needs at least one call name or pattern, e.g. -e trace=vas_*,seg_*');
  const known = selectableNames();
  return globs.map((g) => {
    if (!/^[a-z0-9_*]+$/.test(g)) throw new UsageError(`trace: -e trace: '${g}' is not a call name or pattern (letters, digits, _ and *)`);
    const re = new RegExp(`^${g.replace(/\*/g, '.*')}$`);
    // Like strace, a name that can never match is a mistake, not an empty selection.
    if (!known.some((n) => re.test(n))) {
      throw new UsageError(`trace: -e trace: no call or statement is called '${g}'${didYouMean(g, known)}`);
    }
    return re;
  });
}

/** What a transcript entry can be called: every call, and the statements that are not calls. */
function selectableNames(): string[] {
  const statements = ['load8', 'load16', 'load32', 'load64', 'store8', 'store16', 'store32', 'store64', 'memset', 'memcpy', 'process', 'thread', 'show', 'check', 'error', 'panic'];
  return [...TraceRunner.knownCalls().keys(), ...statements];
}

export function entryFilter(opts: TraceOptions): EntryFilter {
  const processes = opts.p?.flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== '') ?? [];
  const e = opts.e ? parseTraceExpr(opts.e) : null;
  return { names: e?.names ?? null, exclude: e?.exclude, processes: processes.length ? processes : null };
}

export function selected(f: EntryFilter, e: TranscriptEntry): boolean {
  if (f.names && f.names.some((re) => re.test(e.name)) === !!f.exclude) return false;
  if (f.processes && !f.processes.some((p) => p === e.processName || p === String(e.pid))) return false;
  return true;
}

/** Like strace -p with a pid that does not exist: a -p name no script declares is a usage error. */
function checkProcessNames(f: EntryFilter, scripts: readonly (readonly Statement[])[]): void {
  if (!f.processes) return;
  const names = new Set(['init']);
  const walk = (ss: readonly Statement[]): void => {
    for (const s of ss) {
      if (s.kind === 'process') names.add(s.name);
      if (s.kind === 'call' && s.name === 'fork' && s.bind) names.add(s.bind.name);
      const body = 'body' in s ? s.body : null;
      if (Array.isArray(body)) walk(body as Statement[]);
    }
  };
  for (const ss of scripts) walk(ss);
  for (const p of f.processes) {
    if (!/^\d+$/.test(p) && !names.has(p)) throw new UsageError(`trace: -p ${p}: no process of that name in the script${didYouMean(p, names)}`);
  }
}

/** strace -c: calls, errors and modelled cycles per call name, most expensive first. */
export function callTable(entries: readonly TranscriptEntry[], profile: string): string {
  const rows = new Map<string, { calls: number; errors: number; cycles: number }>();
  for (const e of entries) {
    if (e.kind !== 'call' && e.kind !== 'blocked') continue;
    const r = rows.get(e.name) ?? { calls: 0, errors: 0, cycles: 0 };
    // A blocked call and its resumption are one call; only the first line counts it.
    if (!e.text.endsWith('<resumed>')) r.calls++;
    if (e.result?.startsWith('-E')) r.errors++;
    r.cycles += e.cycles;
    rows.set(e.name, r);
  }
  const total = [...rows.values()].reduce((s, r) => s + r.cycles, 0);
  const sorted = [...rows].sort((a, b) => b[1].cycles - a[1].cycles || a[0].localeCompare(b[0]));
  const line = (pct: string, cyc: string, per: string, calls: string, errs: string, name: string): string =>
    `${pct.padStart(6)} ${cyc.padStart(12)} ${per.padStart(10)} ${calls.padStart(7)} ${errs.padStart(7)} ${name}`;
  const out = [
    `modelled cycles (profile ${profile})`,
    line('% cyc', 'cycles', 'cyc/call', 'calls', 'errors', 'syscall'),
    line('------', '------------', '----------', '-------', '-------', '----------------'),
  ];
  for (const [name, r] of sorted) {
    out.push(line(total ? ((100 * r.cycles) / total).toFixed(2) : '0.00', String(Math.round(r.cycles)), String(Math.round(r.cycles / Math.max(1, r.calls))), String(r.calls), r.errors ? String(r.errors) : '', name));
  }
  const calls = [...rows.values()].reduce((s, r) => s + r.calls, 0);
  const errors = [...rows.values()].reduce((s, r) => s + r.errors, 0);
  out.push(line('------', '------------', '----------', '-------', '-------', '----------------'));
  out.push(line('100.00', String(Math.round(total)), String(Math.round(total / Math.max(1, calls))), String(calls), errors ? String(errors) : '', 'total'));
  return out.join('\n');
}

/** One transcript line; with -t, prefixed by the modelled cycles since boot (all CPUs). */
export function formatLine(e: TranscriptEntry, timestamps: boolean): string {
  const line = formatEntry(e);
  return timestamps ? `${String(Math.round(e.start)).padStart(12)} ${line}` : line;
}

// ------------------------------------------------------------------ the command

/** Where the transcript goes: stdout, or the -o file (opened before anything runs). */
function openOutput(path: string | undefined): { write: (s: string) => void; close: () => void } {
  if (path === undefined) return { write: (s) => { process.stdout.write(s); }, close: () => {} };
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new UsageError(`trace: cannot write -o ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`);
  }
  return { write: (s) => { writeSync(fd, s); }, close: () => closeSync(fd) };
}

export function traceCommand(files: string[], opts: TraceOptions): number {
  if (files.length === 0) throw new UsageError('trace: give at least one trace file (or - for stdin)');
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('trace: stdin (-) can be given only once');
  if (opts.json && opts.c) throw new UsageError('trace: -c and --json do not go together (the JSON has every entry; count them there)');
  const filter = entryFilter(opts);
  const parsed = files.map((f) => ({ f: f === '-' ? '<stdin>' : f, r: parseTraceFile(f) }));
  const bad = parsed.filter((p) => !p.r.ok);
  if (bad.length) {
    process.stderr.write(bad.map((p) => formatDiagnostics(p.r.errors)).join('\n') + '\n');
    return 2;
  }
  checkProcessNames(filter, parsed.map((p) => p.r.statements));
  const out = openOutput(opts.o);
  // With --image every script runs, in order, on the one machine the image holds.
  const session = opts.image
    ? openImageSession(opts, () => traceMachine(parsed[0].f, parsed[0].r, opts), parsed.map(({ f, r }) => ({ file: f, given: scriptMachine(r) })))
    : null;
  const results: TraceFileResult[] = [];
  try {
    for (const { f, r } of parsed) {
      const showLive = !opts.json && !opts.quiet && !opts.c;
      const live = showLive ? (e: TranscriptEntry) => { if (selected(filter, e)) out.write(formatLine(e, !!opts.t) + '\n'); } : undefined;
      let res: TraceFileResult;
      try {
        res = runParsedTrace(f, r, opts, live, undefined, session?.kernel);
      } catch (e) {
        session?.finish(false);
        throw e;
      }
      results.push(res);
      // Failures go to stderr whatever is shown, so --quiet, -o, -c and --json still say where.
      if (res.summary.failures.length) process.stderr.write(res.summary.failures.join('\n') + '\n');
      if (opts.json) continue;
      if (opts.c) out.write(callTable(res.transcript.filter((e) => selected(filter, e)), res.summary.profile) + '\n');
      out.write(formatSummary(res) + '\n');
    }
    const failed = results.filter((r) => !r.summary.passed);
    if (opts.json) {
      out.write(formatJson(traceJson(results, filter)));
    } else if (results.length > 1) {
      const names = failed.length ? ` (failed: ${failed.map((r) => r.file).join(', ')})` : '';
      out.write(`=== ${results.length} files: ${results.length - failed.length} passed, ${failed.length} failed${names}\n`);
    }
    // Saved back only when every script passed: a failed run leaves the image as it was.
    session?.finish(failed.length === 0);
    return failed.length ? 1 : 0;
  } finally {
    out.close();
  }
}

/** The --json document (docs/json.md): one envelope whether one file ran or several. */
export function traceJson(results: readonly TraceFileResult[], filter: EntryFilter = { names: null, processes: null }): object {
  const failed = results.filter((r) => !r.summary.passed).length;
  return jsonEnvelope('trace', failed === 0, {
    summary: { files: results.length, passed: results.length - failed, failed },
    runs: results.map((r) => ({
      file: r.file,
      ok: r.summary.passed,
      machine: machineJson(r.config),
      summary: r.summary,
      transcript: r.transcript.filter((e) => selected(filter, e)),
      state: r.state,
    })),
  });
}
