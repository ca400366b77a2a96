// `sjmp gups`: HPCC RandomAccess in the MAP, MP and VAS designs over windows of one table — the
// reference's Figure 48 — as tables per update-set size, a terminal chart of modelled MUPS vs
// windows (and an SVG of it with --plot), or JSON.

import type { Command } from 'commander';
import type { MachineConfig } from '../../kernel/machineConfig.js';
import { planGups, runGupsPlan, type GupsReport, type GupsOptionsText } from '../../lab/gups/plan.js';
import { buildMachine, type GlobalOptions } from '../machineOptions.js';
import { textChart, writeChart, writeChartsAfterRun, checkOutputPath, textTable, type ChartSpec } from '../charts.js';
import { progressLine } from '../progress.js';
import { jsonEnvelope, machineJson, formatJson } from '../../lab/jsonEnvelope.js';
import { formatSize } from '../../mmu/units.js';
import { UsageError } from '../errors.js';
import { parseEngineArgs } from './engineArgs.js';
import { costsLine } from '../../lab/programCosts.js';
import type { EngineOutput, EngineProgress } from '../interactive/engines.js';
import { openImageSession, type ImageOptions } from './image.js';

/** What `gups --image` keeps (for --help and the docs). */
export const GUPS_IMAGE_NOTE = 'gups takes the machine (configuration) from it; every run builds its own machine of that configuration, so nothing a run makes persists (the table is private to the run)';

export interface GupsCliOptions extends GlobalOptions, GupsOptionsText, ImageOptions {
  plot?: string;
  json?: boolean;
}

const CHANGE_NAME = { map: 'remaps', mp: 'RPCs', vas: 'switches' } as const;

function num(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return '-';
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}K`;
  if (v >= 100) return v.toFixed(0);
  return v.toFixed(digits);
}

export function gupsChart(r: GupsReport, updateSet: number): ChartSpec {
  const windows = [...new Set(r.results.map((x) => x.windows))].sort((a, b) => a - b);
  const designs = [...new Set(r.results.map((x) => x.design))];
  return {
    title: `GUPS, update set ${updateSet}: modelled MUPS vs windows (${r.profile})`,
    subtitle: runParameters(r),
    xLabel: 'windows',
    yLabel: 'modelled MUPS',
    seriesLabel: 'design',
    x: windows,
    logY: true,
    series: designs.map((d) => ({
      name: d.toUpperCase(),
      values: windows.map((w) => r.results.find((x) => x.design === d && x.windows === w && x.updateSet === updateSet)?.modelledMups ?? null),
    })),
  };
}

/** The run's parameters in one line, for chart subtitles. */
export function runParameters(r: GupsReport): string {
  return `table ${formatSize(r.tableBytes)}, ${r.updates} updates, ${formatSize(r.pageSize)} pages, profile ${r.profile}, seed ${r.seed}, TLB tags ${r.tagPolicy}, caches ${r.caches}`;
}

/** What a first-time reader needs to read the output (printed above the tables). */
export const GUPS_EXPLAINED = [
  'How to read this: the table of 64-bit words is split into W windows, and only one window is',
  'reachable at a time; updates to other windows wait in an update set of U entries until that',
  'window is visited. MAP remaps the window (munmap + mmap), MP sends the set to the process that',
  'owns the window, VAS switches to the window\'s address space (vas_switch). Read "modelled MUPS"',
  '(millions of updates per modelled second of the emulated machine; higher is better); "wall MUPS"',
  'is the emulator\'s own speed on this host. docs/gups.md explains every column.',
];

export function formatGupsReport(r: GupsReport, explain = false): string[] {
  const out: string[] = explain ? [...GUPS_EXPLAINED, ''] : [];
  out.push(`GUPS (HPCC RandomAccess): table ${formatSize(r.tableBytes)} (${r.tableBytes / 8} words), ${r.updates} updates, ${formatSize(r.pageSize)} pages`);
  out.push(`machine: ${r.machine}`);
  out.push(costsLine(r.costs));
  out.push(`clocks: "modelled" = ${r.clocks.modelled}; "wall" = ${r.clocks.wall}`);
  out.push('counters: TLB miss/upd and walks/upd count the program\'s own (user-mode) accesses; the kernel\'s references (system calls, vas_switch) are counted apart');
  if (r.raw) out.push(`baseline (same run): raw typed-array GUPS loop over the same table size: ${num(r.raw.mups)} MUPS wall-clock`);
  const sets = [...new Set(r.results.map((x) => x.updateSet))];
  for (const u of sets) {
    out.push('', `update set ${u}:`);
    const rows = r.results.filter((x) => x.updateSet === u).map((x) => [
      x.design.toUpperCase(), x.windows, num(x.modelledMups), num(x.wallMups),
      r.raw ? `1/${num(r.raw.mups / x.wallMups, 1)}` : '-',
      `${num(x.changesPerSecond)} ${CHANGE_NAME[x.design]}`, num(x.tlbMissesPerUpdate, 3), num(x.walksPerUpdate, 3),
      x.verification.passed ? `ok (${x.verification.errors} errors)` : `FAILED (${x.verification.errors} errors)`, x.checksum,
    ]);
    out.push(...textTable(['design', 'windows', 'modelled MUPS', 'wall MUPS', 'vs raw', 'per modelled s', 'TLB miss/upd', 'walks/upd', 'verification', 'checksum'], rows));
    if (new Set(r.results.map((x) => x.windows)).size > 1) out.push('', ...textChart(gupsChart(r, u)));
  }
  return out;
}

/** The SVG files of a report: the --plot name for the first update set, -uN for the others. */
function plotFiles(plot: string, sets: number[]): string[] {
  return sets.map((u, i) => (sets.length === 1 || i === 0 ? plot : plot.replace(/(\.svg)?$/i, `-u${u}.svg`)));
}

export async function gupsCommand(o: GupsCliOptions): Promise<number> {
  let plan;
  // The image supplies the machine configuration (and is saved back, unchanged, on a clean exit).
  const session = o.image ? openImageSession(o, () => buildMachine(o)) : null;
  try {
    try {
      plan = planGups(o, session?.kernel.config ?? buildMachine(o));
      if (o.plot) checkOutputPath('--plot', o.plot);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const code = await gupsRun(o, plan);
    session?.finish(code === 0);
    return code;
  } finally {
    session?.release();
  }
}

async function gupsRun(o: GupsCliOptions, plan: ReturnType<typeof planGups>): Promise<number> {
  const progress = progressLine();
  const report = await runGupsPlan(plan, (p) => progress.update(p.done, p.total, p.label));
  progress.clear();
  const sets = [...new Set(report.results.map((x) => x.updateSet))];
  const { written, error: writeError } = o.plot
    ? await writeChartsAfterRun(o.plot, plotFiles(o.plot, sets).map((file, i) => ({ file, spec: gupsChart(report, sets[i]) })))
    : { written: [], error: null };
  // The results are printed whatever happened to the chart files: a run is never thrown away.
  const verified = report.results.every((x) => x.verification.passed);
  if (o.json) process.stdout.write(formatJson(jsonEnvelope('gups', verified && !writeError, { ...report, machine: machineJson(plan.machine), machineText: report.machine, charts: written })));
  else process.stdout.write([...formatGupsReport(report, true), ...(written.length ? ['', `chart written to ${written.join(', ')}`] : [])].join('\n') + '\n');
  if (writeError) {
    process.stderr.write(`sjmp: ${writeError}\n`);
    return 1;
  }
  return verified ? 0 : 1;
}

export function addGupsOptions(cmd: Command): Command {
  return cmd
    .option('--design <d>', 'map, mp, vas or all (comma-separated list allowed)', 'all')
    .option('--windows <list>', 'window counts (powers of two dividing the table)', '1,2,4,8')
    .option('--update-set <list>', 'update-set sizes', '16,64')
    .option('--table <size>', 'table size in bytes (a power of two), e.g. 64M, 1G', '1M')
    .option('--updates <n>', 'updates per run (default 4 x table words, as HPCC)')
    .option('--page-size <size>', '4K or 2M', '4K')
    .option('--plot <file.svg>', 'also write the chart as an SVG file (and its Vega-Lite spec as .vl.json); one file per update-set size: FILE.svg, FILE-u64.svg, ...')
    .option('--json', 'everything as JSON');
}

/** The shell's `gups ...` command: same options, output as lines. */
export async function gupsEngine(args: readonly string[], onProgress: (p: EngineProgress) => void, signal: AbortSignal, machine: GlobalOptions = {}, image?: MachineConfig): Promise<EngineOutput> {
  const o = parseEngineArgs<GupsCliOptions>('gups', addGupsOptions, args);
  const plan = planGups({ ...o, mem: image ? undefined : machine.mem }, image ?? buildMachine(machine));
  if (o.plot) checkOutputPath('--plot', o.plot);
  const report = await runGupsPlan(plan, (p) => onProgress(p), signal);
  const written: string[] = [];
  if (o.plot) {
    const sets = [...new Set(report.results.map((x) => x.updateSet))];
    const files = plotFiles(o.plot, sets);
    for (const [i, u] of sets.entries()) written.push(...await writeChart(files[i], gupsChart(report, u)));
  }
  return { lines: [...formatGupsReport(report), ...(written.length ? [`chart written to ${written.join(', ')}`] : [])] };
}
