// A sweep file: which program, the options every point shares, and the axes to vary. Each point is
// one deterministic run of `sjmp PROGRAM --json` with the fixed options and one value per axis;
// points are numbered in a fixed order (the first axis varies slowest), so `--point K` names the
// same run on every machine that reads the same file.

import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const SWEEP_PROGRAMS = ['gups', 'nibble', 'redis', 'sam', 'trace'] as const;
export type SweepProgram = (typeof SWEEP_PROGRAMS)[number];

export type OptionValue = string | number | boolean;

export interface SweepSpec {
  /** Shown in reports; defaults to the file's name. */
  name: string;
  program: SweepProgram;
  /** Words after the program (e.g. `bench` for `sjmp redis bench`, the trace file for trace). */
  args: string[];
  fixed: Record<string, OptionValue>;
  /** Axis name -> values, in the order given. */
  axes: [string, OptionValue[]][];
  report: SweepReportSpec;
}

/** How `sjmp sweep report` draws the records (defaults per program). */
export interface SweepReportSpec {
  /** The record field plotted (a dotted path into each result row), e.g. `modelledMups`. */
  y?: string;
  /** The axis on the x of the chart; the series are the remaining axes except `seed`. */
  x?: string;
}

export interface SweepPoint {
  index: number;
  /** Axis values of this point only. */
  values: Record<string, OptionValue>;
  /** Fixed options and axis values together: the program's options for this run. */
  options: Record<string, OptionValue>;
}

/** A mistake in a sweep file: names the file and where in it. */
export class SweepSpecError extends Error {
  constructor(file: string, where: string, what: string) {
    super(`${file}: ${where}: ${what}`);
    this.name = 'SweepSpecError';
  }
}

const OPTION_NAME = /^[a-z][a-zA-Z0-9-]*$/;

function optionValue(file: string, where: string, v: unknown): OptionValue {
  if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw new SweepSpecError(file, where, `expected a string, number or boolean, got ${JSON.stringify(v)}`);
}

/** Read and check a sweep file (JSON, or YAML for .yaml/.yml). Throws SweepSpecError. */
export function loadSweepSpec(file: string, text = readFileSync(file, 'utf8')): SweepSpec {
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(extname(file)) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new SweepSpecError(file, 'syntax', (e as Error).message.split('\n')[0]);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new SweepSpecError(file, 'top level', 'expected an object with program, fixed and axes');
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['name', 'program', 'args', 'fixed', 'axes', 'report'].includes(k)) throw new SweepSpecError(file, k, 'unknown key (known: name, program, args, fixed, axes, report)');
  }
  if (!SWEEP_PROGRAMS.includes(o.program as SweepProgram)) throw new SweepSpecError(file, 'program', `expected one of ${SWEEP_PROGRAMS.join(', ')}, got ${JSON.stringify(o.program)}`);
  const args = o.args === undefined ? [] : o.args;
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new SweepSpecError(file, 'args', 'expected a list of strings');
  const fixed: Record<string, OptionValue> = {};
  if (o.fixed !== undefined) {
    if (typeof o.fixed !== 'object' || o.fixed === null || Array.isArray(o.fixed)) throw new SweepSpecError(file, 'fixed', 'expected an object of option: value');
    for (const [k, v] of Object.entries(o.fixed)) {
      if (!OPTION_NAME.test(k)) throw new SweepSpecError(file, `fixed.${k}`, 'not an option name (like table, update-set or updateSet)');
      fixed[k] = optionValue(file, `fixed.${k}`, v);
    }
  }
  if (typeof o.axes !== 'object' || o.axes === null || Array.isArray(o.axes) || Object.keys(o.axes).length === 0) {
    throw new SweepSpecError(file, 'axes', 'expected an object of option: [values...] with at least one axis');
  }
  const axes: [string, OptionValue[]][] = [];
  for (const [k, v] of Object.entries(o.axes as Record<string, unknown>)) {
    if (!OPTION_NAME.test(k)) throw new SweepSpecError(file, `axes.${k}`, 'not an option name');
    if (k in fixed) throw new SweepSpecError(file, `axes.${k}`, 'also given in fixed: an option is either fixed or an axis');
    if (!Array.isArray(v) || v.length === 0) throw new SweepSpecError(file, `axes.${k}`, 'expected a non-empty list of values');
    const values = v.map((x, i) => optionValue(file, `axes.${k}[${i}]`, x));
    if (new Set(values.map(String)).size !== values.length) throw new SweepSpecError(file, `axes.${k}`, 'a value is listed twice');
    axes.push([k, values]);
  }
  const report: SweepReportSpec = {};
  if (o.report !== undefined) {
    const r = o.report as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) throw new SweepSpecError(file, 'report', 'expected an object with y and x');
    for (const [k, v] of Object.entries(r)) {
      if (k !== 'x' && k !== 'y') throw new SweepSpecError(file, `report.${k}`, 'unknown key (known: x, y)');
      if (typeof v !== 'string') throw new SweepSpecError(file, `report.${k}`, 'expected a string');
      report[k] = v;
    }
    if (report.x !== undefined && !axes.some(([a]) => a === report.x)) throw new SweepSpecError(file, 'report.x', `"${report.x}" is not an axis`);
  }
  const name = typeof o.name === 'string' ? o.name : file.replace(/^.*\//, '').replace(/\.(json|ya?ml)$/i, '');
  return { name, program: o.program as SweepProgram, args: args as string[], fixed, axes, report };
}

/** Every point of the grid, the first axis varying slowest. */
export function sweepPoints(spec: SweepSpec): SweepPoint[] {
  let combos: Record<string, OptionValue>[] = [{}];
  for (const [axis, values] of spec.axes) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [axis]: v })));
  return combos.map((values, index) => ({ index, values, options: { ...spec.fixed, ...values } }));
}

/** The identity of a run: program, its words, its options in sorted order, the project version. */
export function pointKey(spec: SweepSpec, p: SweepPoint, version: string): string {
  const opts = Object.keys(p.options).sort().map((k) => [k, p.options[k]]);
  return JSON.stringify({ program: spec.program, args: spec.args, options: opts, version });
}

/** The command line of a point: `PROGRAM ARGS --opt value ... --json` (camelCase -> --kebab-case). */
export function pointArgv(spec: SweepSpec, p: SweepPoint): string[] {
  const argv = [spec.program, ...spec.args];
  for (const [k, v] of Object.entries(p.options)) {
    const flag = `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (v === false) continue;
    if (v === true) argv.push(flag);
    else argv.push(flag, String(v));
  }
  argv.push('--json');
  return argv;
}
