// `sjmp trace FILE...`: parse every file first (a bad script runs nothing), then run each on its
// own machine and print the transcript and a summary. Exit 0 when every expectation holds, 1
// when one fails, 2 for a bad script.

import { resolve, dirname, basename } from 'node:path';
import { Kernel } from '../../kernel/kernel.js';
import { describeMachine, type MachineOptionsText } from '../../kernel/machineConfig.js';
import { machineSnapshot, type MachineSnapshot } from '../../kernel/snapshot.js';
import { parseFile, nodeFileLoader, formatDiagnostics, machineSettings, type ParseResult } from '../../syscalls/trace/index.js';
import { TraceRunner, TRACE_CONSTANTS, formatEntry, type RunSummary, type TranscriptEntry } from '../../syscalls/trace/runner.js';
import { buildMachine, machineLineOptions, type GlobalOptions } from '../machineOptions.js';
import { UsageError } from '../errors.js';
import { openImageSession, type ImageOptions } from './image.js';

export interface TraceOptions extends GlobalOptions, ImageOptions {
  json?: boolean;
  quiet?: boolean;
}

export interface TraceFileResult {
  file: string;
  machine: string;
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

export function parseTraceFile(file: string): ParseResult {
  const abs = resolve(file);
  return parseFile(basename(abs), {
    loader: nodeFileLoader(dirname(abs)),
    knownCalls: TraceRunner.knownCalls(),
    knownConstants: Object.keys(TRACE_CONSTANTS),
  });
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
  return { file, machine: describeMachine(config), transcript: runner.transcript, summary, state: machineSnapshot(kernel) };
}

export function formatSummary(r: TraceFileResult): string {
  const s = r.summary;
  const lines = [
    `--- ${r.file}: ${s.statements} statements, expectations ${s.expectations.passed} passed / ${s.expectations.failed} failed, ${s.faults} faults, ${s.errors} errors`,
    `    machine: ${r.machine}`,
    `    modelled cycles (profile ${s.profile}): ${Object.entries(s.cyclesByProcess).map(([p, c]) => `${p} ${Math.round(c)}`).join(', ')}`,
    `    TLB: ${s.tlb.accesses} accesses, L1 hits ${s.tlb.l1Hits}, STLB hits ${s.tlb.stlbHits}, page walks ${s.tlb.walks} (${s.tlb.walkRefs} refs), page faults ${s.tlb.pageFaults}, CR3 writes ${s.tlb.cr3Writes}`,
  ];
  return lines.join('\n');
}

export function traceCommand(files: string[], opts: TraceOptions): number {
  if (files.length === 0) throw new UsageError('trace: give at least one trace file');
  const parsed = files.map((f) => ({ f, r: parseTraceFile(f) }));
  const bad = parsed.filter((p) => !p.r.ok);
  if (bad.length) {
    process.stderr.write(bad.map((p) => formatDiagnostics(p.r.errors)).join('\n') + '\n');
    return 2;
  }
  // With --image every script runs, in order, on the one machine the image holds.
  const session = opts.image
    ? openImageSession(opts, () => traceMachine(parsed[0].f, parsed[0].r, opts), parsed.map(({ f, r }) => ({ file: f, given: scriptMachine(r) })))
    : null;
  const results: TraceFileResult[] = [];
  for (const { f, r } of parsed) {
    const live = opts.json || opts.quiet ? undefined : (e: TranscriptEntry) => process.stdout.write(formatEntry(e) + '\n');
    let res: TraceFileResult;
    try {
      res = runParsedTrace(f, r, opts, live, undefined, session?.kernel);
    } catch (e) {
      session?.finish(false);
      throw e;
    }
    results.push(res);
    if (!opts.json) process.stdout.write(formatSummary(res) + '\n');
  }
  if (opts.json) process.stdout.write(JSON.stringify(results.length === 1 ? results[0] : results, null, 2) + '\n');
  const failed = results.some((r) => r.summary.expectations.failed > 0 || r.summary.errors > 0);
  // Saved back only when every script ran clean: a failed run leaves the image as it was.
  session?.finish(!failed);
  return failed ? 1 : 0;
}
