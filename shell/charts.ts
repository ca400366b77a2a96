// Line charts for results people would rather look at than read: one in the terminal (text),
// the same one as an SVG file to keep (rendered from a Vega-Lite spec written beside it). Series
// share the x categories; y may be logarithmic. Series differ by marker shape and line style as
// well as colour, so a chart stays readable printed in grey.

import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface Series {
  name: string;
  values: (number | null)[];
  /** Optional half-widths of error bars (e.g. one standard deviation over seeds). */
  errors?: (number | null)[];
}

export interface ChartSpec {
  title: string;
  /** What the series are (the legend's title), e.g. "design". */
  seriesLabel?: string;
  /** The run's parameters (table size, updates, page size, profile, seed ...), shown under the title. */
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  x: (string | number)[];
  series: Series[];
  logY?: boolean;
}

const MARKS = ['●', '■', '▲', '◆', '○', '□'];
const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function range(spec: ChartSpec): { lo: number; hi: number; map: (v: number) => number } {
  const vals = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v) && (!spec.logY || v > 0)));
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  if (!vals.length) { lo = 0; hi = 1; }
  if (spec.logY) {
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
    if (lo === hi) hi = lo * 10;
    return { lo, hi, map: (v) => (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) };
  }
  lo = Math.min(0, lo);
  if (hi === lo) hi = lo + 1;
  return { lo, hi, map: (v) => (v - lo) / (hi - lo) };
}

function fmt(v: number): string {
  if (v >= 1000) return `${Math.round(v)}`;
  if (v >= 10) return v.toFixed(0);
  if (v >= 1) return v.toFixed(1);
  return v.toPrecision(2);
}

/**
 * A text chart `height` rows tall; each x category gets a column band with one column per series,
 * so markers never overlap. y ticks: every decade on a log scale, four even steps otherwise.
 */
export function textChart(spec: ChartSpec, height = 12, colWidth = 0): string[] {
  const band = Math.max(colWidth, spec.series.length + 3, ...spec.x.map((x) => String(x).length + 2));
  const r = range(spec);
  const rowOf = (v: number): number => height - 1 - Math.max(0, Math.min(height - 1, Math.round(r.map(v) * (height - 1))));
  const rows: string[][] = Array.from({ length: height }, () => Array(spec.x.length * band).fill(' '));
  spec.series.forEach((s, si) => {
    s.values.forEach((v, xi) => {
      if (v === null || !Number.isFinite(v) || (spec.logY && v <= 0)) return;
      const first = xi * band + Math.floor(band / 2) - Math.floor(spec.series.length / 2);
      rows[rowOf(v)][first + si] = MARKS[si % MARKS.length];
    });
  });
  const labels = new Map<number, string>();
  const tickValues: number[] = [];
  if (spec.logY) for (let v = r.lo; v <= r.hi * 1.0001; v *= 10) tickValues.push(v);
  else for (let i = 0; i <= 4; i++) tickValues.push(r.lo + (i / 4) * (r.hi - r.lo));
  for (const v of tickValues) if (!labels.has(rowOf(v))) labels.set(rowOf(v), fmt(v));
  const axisW = Math.max(7, ...[...labels.values()].map((l) => l.length + 1));
  const out = [`${spec.title}`, ...(spec.subtitle ? [spec.subtitle] : []), `${spec.yLabel}${spec.logY ? ' (log scale)' : ''}`];
  rows.forEach((row, i) => {
    const label = labels.get(i);
    out.push(`${(label ?? '').padStart(axisW - 1)}${label ? '┤' : '│'}${row.join('').trimEnd()}`);
  });
  out.push(`${' '.repeat(axisW - 1)}└${spec.x.map(() => '┬'.padStart(Math.floor(band / 2) + 1, '─').padEnd(band, '─')).join('')}`);
  out.push(`${' '.repeat(axisW)}${spec.x.map((x) => center(String(x), band)).join('')}  ${spec.xLabel}`);
  out.push(`${' '.repeat(axisW)}${spec.series.map((s, i) => `${MARKS[i % MARKS.length]} ${s.name}`).join('   ')}`);
  return out;
}

function center(text: string, width: number): string {
  const left = Math.floor(width / 2) - Math.floor(text.length / 2);
  return (' '.repeat(Math.max(0, left)) + text).padEnd(width);
}

/** Chart files: a Vega-Lite spec, kept beside the SVG it renders to so a person can restyle it. */
export function vegaLiteSpec(spec: ChartSpec): Record<string, unknown> {
  const order = spec.series.map((s) => s.name);
  const values = spec.series.flatMap((s) => s.values.flatMap((v, i) => (v === null || !Number.isFinite(v) || (spec.logY && v <= 0) ? [] : [{
    x: String(spec.x[i]), series: s.name, dash: s.name, y: v, ...(s.errors?.[i] ? { lo: v - s.errors[i]!, hi: v + s.errors[i]! } : {}),
  }])));
  const x = { field: 'x', type: 'ordinal', sort: spec.x.map(String), title: spec.xLabel, axis: { labelAngle: 0, ticks: true } };
  const y = { field: 'y', type: 'quantitative', title: spec.yLabel + (spec.logY ? ' (log scale)' : ''), scale: spec.logY ? { type: 'log' } : { zero: true }, axis: { ticks: true, grid: true } };
  // Colour, marker shape and dash pattern all tell the series apart. They share a title and a
  // domain so Vega-Lite draws one legend showing all three (a `legend: null` on any of them
  // drops the merged legend altogether, hence the dash's own field carrying the same names).
  const series = { field: 'series', type: 'nominal', sort: order, title: spec.seriesLabel ?? 'series' };
  const color = { ...series, scale: { domain: order, range: COLORS } };
  const layers: Record<string, unknown>[] = [
    { mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color, strokeDash: { field: 'dash', type: 'nominal', scale: { domain: order }, title: series.title } } },
    { mark: { type: 'point', filled: true, size: 80, opacity: 1 }, encoding: { x, y, color, shape: { ...series, scale: { domain: order } } } },
  ];
  if (spec.series.some((s) => s.errors)) {
    // A vertical rule from mean - e to mean + e where there is a spread (points with none draw nothing).
    layers.push({ mark: { type: 'rule', strokeWidth: 1.5 }, transform: [{ filter: 'isValid(datum.lo)' }], encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color } });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: spec.title, ...(spec.subtitle ? { subtitle: spec.subtitle } : {}), anchor: 'start' },
    width: 480, height: 300, background: 'white',
    data: { values },
    layer: layers,
    config: { font: 'sans-serif', legend: { orient: 'right', symbolStrokeWidth: 2 } },
  };
}

/** The chart as a standalone SVG document (rendered headless by Vega; no browser, no canvas). */
export async function svgChart(spec: ChartSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(vegaLiteSpec(spec) as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg + '\n';
}

/** The file names a chart is written to: the SVG and its Vega-Lite spec beside it. */
export function chartFiles(svgPath: string): { svg: string; spec: string } {
  return { svg: svgPath, spec: svgPath.replace(/(\.svg)?$/i, '.vl.json') };
}

/**
 * Fail before a long run, not after it: the folder of an output file must exist and be writable.
 * Throws a RangeError naming the option and the path.
 */
export function checkOutputPath(option: string, path: string): void {
  const dir = dirname(resolve(path));
  let ok = false;
  try { ok = statSync(dir).isDirectory(); } catch { /* missing */ }
  if (!ok) throw new RangeError(`${option} ${path}: folder ${dir} does not exist`);
  try { accessSync(dir, constants.W_OK); } catch { throw new RangeError(`${option} ${path}: folder ${dir} is not writable`); }
}

/**
 * Write a run's charts once the run is over. A failure does not throw: the files written so far and
 * the error line come back, so the caller prints the results anyway and then fails.
 */
export async function writeChartsAfterRun(plot: string, charts: { file: string; spec: ChartSpec }[]): Promise<{ written: string[]; error: string | null }> {
  const written: string[] = [];
  try {
    for (const c of charts) written.push(...await writeChart(c.file, c.spec));
  } catch (e) {
    return { written, error: `could not write ${plot}: ${(e as Error).message}` };
  }
  return { written, error: null };
}

/** Write the chart (SVG + Vega-Lite spec); returns the files written. */
export async function writeChart(svgPath: string, spec: ChartSpec): Promise<string[]> {
  const f = chartFiles(svgPath);
  const svg = await svgChart(spec);
  writeFileSync(f.svg, svg);
  writeFileSync(f.spec, JSON.stringify(vegaLiteSpec(spec), null, 2) + '\n');
  return [f.svg, f.spec];
}

/** A plain text table with right-aligned numeric columns. */
export function textTable(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
}
