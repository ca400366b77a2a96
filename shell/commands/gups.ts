// `sjmp gups`: HPCC RandomAccess in the MAP, MP and VAS designs over windows of one table — the
// reference's Figure 48 — as tables per update-set size, a terminal chart of modelled MUPS vs
// windows (and an SVG of it with --plot), or JSON.

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { planGups, runGupsPlan, type GupsReport, type GupsOptionsText, type GupsProgress } from '../../lab/gups/plan.js';
import { buildMachine, type GlobalOptions } from '../machineOptions.js';
import { textChart, svgChart, textTable, type ChartSpec } from '../charts.js';
import { formatSize } from '../../mmu/units.js';
import { UsageError } from '../errors.js';
import { parseEngineArgs } from './engineArgs.js';
import type { EngineOutput, EngineProgress } from '../interactive/engines.js';

export interface GupsCliOptions extends GlobalOptions, GupsOptionsText {
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
    xLabel: 'windows',
    yLabel: 'modelled MUPS',
    x: windows,
    logY: true,
    series: designs.map((d) => ({
      name: d.toUpperCase(),
      values: windows.map((w) => r.results.find((x) => x.design === d && x.windows === w && x.updateSet === updateSet)?.modelledMups ?? null),
    })),
  };
}

export function formatGupsReport(r: GupsReport): string[] {
  const out: string[] = [];
  out.push(`GUPS (HPCC RandomAccess): table ${formatSize(r.tableBytes)} (${r.tableBytes / 8} words), ${r.updates} updates, ${formatSize(r.pageSize)} pages`);
  out.push(`machine: ${r.machine}`);
  out.push(`clocks: "modelled" = ${r.clocks.modelled}; "wall" = ${r.clocks.wall}`);
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

function progressLine(p: GupsProgress): string {
  const frac = p.total ? p.done / p.total : 0;
  const width = 30;
  const filled = Math.round(frac * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${p.label}`;
}

export async function gupsCommand(o: GupsCliOptions): Promise<number> {
  let plan;
  try {
    plan = planGups(o, buildMachine(o));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const tty = process.stderr.isTTY;
  let lastDraw = 0;
  const report = await runGupsPlan(plan, (p) => {
    const now = Date.now();
    if (!tty || now - lastDraw < 100) return;
    lastDraw = now;
    process.stderr.write(`\r${progressLine(p)}\x1b[K`);
  });
  if (tty) process.stderr.write('\r\x1b[K');
  let written: string[] = [];
  if (o.plot) {
    const sets = [...new Set(report.results.map((x) => x.updateSet))];
    const files = sets.map((u, i) => (sets.length === 1 || i === 0 ? o.plot! : o.plot!.replace(/(\.svg)?$/i, `-u${u}.svg`)));
    sets.forEach((u, i) => writeFileSync(files[i], svgChart(gupsChart(report, u))));
    written = files;
  }
  if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write([...formatGupsReport(report), ...(written.length ? [`chart written to ${written.join(', ')}`] : [])].join('\n') + '\n');
  return report.results.every((x) => x.verification.passed) ? 0 : 1;
}

export function addGupsOptions(cmd: Command): Command {
  return cmd
    .option('--design <d>', 'map, mp, vas or all (comma-separated list allowed)', 'all')
    .option('--windows <list>', 'window counts (powers of two dividing the table)', '1,2,4,8')
    .option('--update-set <list>', 'update-set sizes', '16,64')
    .option('--table <size>', 'table size in bytes (a power of two), e.g. 64M, 1G', '1M')
    .option('--updates <n>', 'updates per run (default 4 x table words, as HPCC)')
    .option('--page-size <size>', '4K or 2M', '4K')
    .option('--plot <file.svg>', 'also write the chart as an SVG file')
    .option('--json', 'everything as JSON');
}

/** The shell's `gups ...` command: same options, output as lines. */
export async function gupsEngine(args: readonly string[], onProgress: (p: EngineProgress) => void, signal: AbortSignal, machine: GlobalOptions = {}): Promise<EngineOutput> {
  const o = parseEngineArgs<GupsCliOptions>('gups', addGupsOptions, args);
  const plan = planGups(o, buildMachine(machine));
  const report = await runGupsPlan(plan, (p) => onProgress(p), signal);
  if (o.plot) writeFileSync(o.plot, svgChart(gupsChart(report, plan.updateSets[0])));
  return { lines: formatGupsReport(report) };
}
