// `sjmp sweep FILE`: a grid of deterministic runs (program x fixed options x axes) on worker
// threads, each point's --json record appended to a JSONL store as it finishes; `--resume` skips
// points already done; `--point K` runs one point (a Slurm array task); `--slurm` writes an sbatch
// job-array script instead of running; `sjmp sweep merge DIR` gathers the parts and `sjmp sweep
// report STORE` prints the table and chart (mean ± sd over seeds) and writes the SVG.

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadSweepSpec, sweepPoints, pointKey, pointArgv, SweepSpecError, type SweepSpec, type SweepPoint } from '../../lab/sweep/spec.js';
import { appendRecord, latestByKey, mergeStore, partPath, readRecords, resultsPath, type SweepRecord } from '../../lab/sweep/store.js';
import { runPool, defaultJobs, type PointOutcome } from '../../lab/sweep/pool.js';
import { slurmScript } from '../../lab/sweep/slurm.js';
import { aggregate, DEFAULT_Y, type Aggregate } from '../../lab/sweep/aggregate.js';
import { textChart, textTable, writeChart, checkOutputPath, type ChartSpec } from '../charts.js';
import { progressLine } from '../progress.js';
import { UsageError } from '../errors.js';
import { version } from '../version.js';
import { jsonEnvelope, formatJson } from '../../lab/jsonEnvelope.js';

export interface SweepOptions {
  jobs?: string;
  out?: string;
  resume?: boolean;
  point?: string;
  slurm?: boolean;
  chunk?: string;
  sbatch?: string[];
  plot?: string;
  json?: boolean;
  x?: string;
  y?: string;
}

const SPEC_COPY = 'sweep.json';

function positive(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: "${text}" is not an integer >= ${min}`);
  return n;
}

function loadSpec(file: string): SweepSpec {
  if (!existsSync(file)) throw new UsageError(`sweep: no such file: ${file}`);
  try { return loadSweepSpec(file); } catch (e) {
    if (e instanceof SweepSpecError) throw new UsageError(e.message);
    throw e;
  }
}

/** A point's outcome as a store record: ok only when it exited 0 and printed one JSON document. */
export function toRecord(spec: SweepSpec, p: SweepPoint, o: PointOutcome, ver: string): SweepRecord {
  const base = { key: pointKey(spec, p, ver), point: p.index, program: spec.program, values: p.values, options: p.options, version: ver, wallMs: Math.round(o.wallMs) };
  let doc: unknown;
  try { doc = JSON.parse(o.stdout); } catch { doc = undefined; }
  const errLine = o.stderr.trim().split('\n').filter(Boolean).pop();
  if (o.code === 0 && doc !== undefined) return { ...base, ok: true, record: doc };
  return { ...base, ok: false, ...(doc !== undefined ? { record: doc } : {}), error: errLine ?? (doc === undefined ? 'the program printed no JSON document' : `exit status ${o.code}`) };
}

const workerUrl = (): URL => new URL('../sweepWorker.js', import.meta.url);
const sjmpCommand = (): string => `${process.execPath} ${fileURLToPath(new URL('../cli.js', import.meta.url))}`;

function label(p: SweepPoint): string {
  return `point ${p.index}: ${Object.entries(p.values).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

async function runSweep(file: string, o: SweepOptions): Promise<number> {
  const spec = loadSpec(file);
  const points = sweepPoints(spec);
  const dir = resolve(o.out ?? join(dirname(file), `${basename(file).replace(/\.(json|ya?ml)$/i, '')}-results`));
  const ver = version();
  const chunk = positive('chunk', o.chunk, 1);
  if (o.slurm) {
    mkdirSync(join(dir, 'logs'), { recursive: true });
    writeFileSync(join(dir, SPEC_COPY), JSON.stringify(spec, null, 2) + '\n');
    const script = slurmScript({ file: resolve(file), dir, points: points.length, chunk, sjmp: sjmpCommand(), jobName: `sjmp-${spec.name}`, sbatch: o.sbatch ?? [] });
    writeFileSync(join(dir, 'sweep.sbatch'), script);
    process.stdout.write(`wrote ${join(dir, 'sweep.sbatch')}: ${points.length} points in ${Math.ceil(points.length / chunk)} array tasks\nsubmit: sbatch ${join(dir, 'sweep.sbatch')}\nthen:   sjmp sweep merge ${dir} && sjmp sweep report ${dir}\n`);
    return 0;
  }
  let todo = points;
  let store = resultsPath(dir);
  if (o.point !== undefined) {
    const k = positive('point', o.point, 0, 0);
    if (k >= points.length) throw new UsageError(`--point ${k}: the sweep has points 0 to ${points.length - 1}`);
    todo = [points[k]];
    store = partPath(dir, k);
  } else {
    mkdirSync(dir, { recursive: true });
    if (existsSync(store) && !o.resume) throw new UsageError(`sweep: ${store} already holds results: use --resume to finish that sweep, or --out another folder`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, SPEC_COPY), JSON.stringify(spec, null, 2) + '\n');
  if (o.resume) {
    const done = latestByKey(readRecords(store));
    todo = todo.filter((p) => !done.get(pointKey(spec, p, ver))?.ok);
  }
  const jobs = positive('jobs', o.jobs, defaultJobs());
  const byIndex = new Map(points.map((p) => [p.index, p]));
  const progress = progressLine();
  let finished = 0;
  let failed = 0;
  const skipped = points.length - todo.length - (o.point !== undefined ? points.length - 1 : 0);
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    await runPool(workerUrl(), todo.map((p) => ({ index: p.index, argv: pointArgv(spec, p) })), jobs, (outcome) => {
      const p = byIndex.get(outcome.index)!;
      const rec = toRecord(spec, p, outcome, ver);
      appendRecord(store, rec);
      finished++;
      if (!rec.ok) {
        failed++;
        progress.clear();
        process.stderr.write(`sweep: ${label(p)} failed: ${rec.error}\n`);
      }
      progress.update(finished, todo.length, `${finished}/${todo.length} points, ${failed} failed; ${label(p)}`);
    }, controller.signal);
  } finally {
    process.removeListener('SIGINT', onSignal);
    progress.clear();
  }
  if (controller.signal.aborted) {
    process.stderr.write(`sweep: interrupted after ${finished} of ${todo.length} points; run again with --resume to finish\n`);
    return 130;
  }
  const summary = { sweep: spec.name, program: spec.program, points: points.length, ran: finished, skipped, failed, store, version: ver };
  if (o.json) process.stdout.write(formatJson(jsonEnvelope('sweep', failed === 0, summary)));
  else process.stdout.write(`sweep ${spec.name}: ${finished} points run on ${Math.min(jobs, Math.max(1, todo.length))} worker thread(s), ${skipped} already done, ${failed} failed; results in ${store}\n`);
  return failed > 0 ? 1 : 0;
}

function mergeCommand(dir: string | undefined, o: SweepOptions): number {
  if (!dir) throw new UsageError('sweep merge: name the results folder (sjmp sweep merge DIR)');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`sweep merge: no such folder: ${dir}`);
  const r = mergeStore(dir);
  if (o.json) process.stdout.write(formatJson(jsonEnvelope('sweep merge', r.failed === 0, { ...r, store: resultsPath(dir) })));
  else process.stdout.write(`merged ${r.parts} part file(s): ${r.records} points (${r.ok} ok, ${r.failed} failed) in ${resultsPath(dir)}\n`);
  return r.failed > 0 ? 1 : 0;
}

/** The report of a store: the table and chart data, from the records and the sweep's own file. */
export function sweepReport(storePath: string, o: { x?: string; y?: string }): { spec: SweepSpec | null; agg: Aggregate; records: SweepRecord[] } {
  const isDir = existsSync(storePath) && statSync(storePath).isDirectory();
  const file = isDir ? resultsPath(storePath) : storePath;
  if (!existsSync(file)) throw new UsageError(`sweep report: no results at ${file}`);
  const specFile = join(isDir ? storePath : dirname(storePath), SPEC_COPY);
  const spec = existsSync(specFile) ? (JSON.parse(readFileSync(specFile, 'utf8')) as SweepSpec) : null;
  const records = [...latestByKey(readRecords(file)).values()];
  if (records.length === 0) throw new UsageError(`sweep report: ${file} holds no records`);
  const axes = spec ? spec.axes.map(([a]) => a) : Object.keys(records[0].values);
  const x = o.x ?? spec?.report.x ?? (axes.includes('windows') ? 'windows' : axes.find((a) => a !== 'seed') ?? axes[0]);
  const y = o.y ?? spec?.report.y ?? DEFAULT_Y[records[0].program] ?? 'value';
  if (!axes.includes(x)) throw new UsageError(`sweep report: --x ${x} is not an axis (axes: ${axes.join(', ')})`);
  return { spec, agg: aggregate(records, axes, x, y), records };
}

export function sweepChart(agg: Aggregate, title: string): ChartSpec {
  const cell = new Map(agg.rows.map((r) => [`${r.x}\u0000${r.series}`, r]));
  const seeds = Math.max(...agg.rows.map((r) => r.n));
  return {
    title,
    subtitle: seeds > 1 ? `mean ± one standard deviation over ${seeds} runs per point` : undefined,
    xLabel: agg.x, yLabel: agg.y, x: agg.xValues, logY: agg.rows.every((r) => r.mean > 0),
    series: agg.series.map((s) => ({
      name: s,
      values: agg.xValues.map((x) => cell.get(`${x}\u0000${s}`)?.mean ?? null),
      errors: agg.xValues.map((x) => cell.get(`${x}\u0000${s}`)?.sd ?? null),
    })),
  };
}

async function reportCommand(store: string | undefined, o: SweepOptions): Promise<number> {
  if (!store) throw new UsageError('sweep report: name the results folder or .jsonl file (sjmp sweep report DIR)');
  if (o.plot) { try { checkOutputPath('--plot', o.plot); } catch (e) { throw new UsageError((e as Error).message); } }
  const { spec, agg, records } = sweepReport(store, o);
  const failed = records.filter((r) => !r.ok);
  const title = `sweep ${spec?.name ?? store}: ${agg.y} vs ${agg.x}`;
  if (o.json) {
    process.stdout.write(formatJson(jsonEnvelope('sweep report', failed.length === 0, { sweep: spec?.name ?? null, x: agg.x, y: agg.y, rows: agg.rows, failed: failed.map((r) => ({ point: r.point, values: r.values, error: r.error })) })));
  } else {
    const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4));
    const lines = [title, ...textTable([agg.x, 'series', 'runs', `mean ${agg.y}`, 'sd'], agg.rows.map((r) => [r.x, r.series, r.n, fmt(r.mean), fmt(r.sd)])), '', ...textChart(sweepChart(agg, title))];
    if (failed.length) lines.push('', `${failed.length} point(s) failed: ${failed.map((r) => `${r.point} (${r.error})`).join('; ')}`);
    process.stdout.write(lines.join('\n') + '\n');
  }
  if (o.plot) {
    const files = await writeChart(o.plot, sweepChart(agg, title));
    if (!o.json) process.stdout.write(`chart written to ${files.join(', ')}\n`);
  }
  return 0;
}

export function addSweepCommand(program: Command): Command {
  return program.command('sweep')
    .description('a grid of runs from a JSON/YAML file on worker threads (or a Slurm job array), resumable; `sweep merge DIR`, `sweep report DIR`')
    .argument('<file|merge|report>', 'the sweep file, or merge / report')
    .argument('[dir]', 'for merge and report: the results folder (or a .jsonl file for report)')
    .option('--jobs <n>', 'worker threads (default: the number of cores)')
    .option('--out <dir>', 'results folder (default: FILE-results beside the file)')
    .option('--resume', 'skip points already in the store (finish an interrupted sweep)')
    .option('--point <k>', 'run only point K into DIR/parts/ (what a Slurm array task runs)')
    .option('--slurm', 'write an sbatch job-array script instead of running')
    .option('--chunk <n>', 'with --slurm: points per array task', '1')
    .option('--sbatch <line...>', 'with --slurm: extra #SBATCH lines, e.g. "--time=01:00:00"')
    .option('--x <axis>', 'report: the axis on x (default: windows, else the first axis)')
    .option('--y <field>', 'report: the result field plotted (default per program, e.g. modelledMups)')
    .option('--plot <file.svg>', 'report: also write the chart (with its Vega-Lite spec)')
    .option('--json', 'JSON output')
    .action(async (what: string, dir: string | undefined, o: SweepOptions) => {
      if (what === 'merge') process.exitCode = mergeCommand(dir, o);
      else if (what === 'report') process.exitCode = await reportCommand(dir, o);
      else {
        if (dir !== undefined) throw new UsageError(`sweep: unexpected argument "${dir}" (sjmp sweep FILE [options])`);
        process.exitCode = await runSweep(what, o);
      }
    });
}
