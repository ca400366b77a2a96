// `sjmp nibble`: the Nibble log-structured key-value store in emulated memory — YCSB throughput
// (Nibble vs Nibble-2, threads, GET mixes, uniform/zipfian), throughput as the store fills, and
// fragmentation against a segregated-fit malloc — as tables, terminal charts, an SVG or JSON.

import { costsLine, profileOverrides } from '../../lab/programCosts.js';
import { resolveProfile } from '../../mmu/costModel.js';
import type { Command } from 'commander';
import type { MachineConfig } from '../../kernel/machineConfig.js';
import { runNibbleCommand, type NibbleCommandOptions, type NibbleResults, type Series } from '../../lab/nibble/bench.js';
import { buildMachine, type GlobalOptions } from '../machineOptions.js';
import { textChart, writeChartsAfterRun, checkOutputPath, textTable, type ChartSpec } from '../charts.js';
import { progressLine } from '../progress.js';
import { jsonEnvelope, formatJson } from '../../lab/jsonEnvelope.js';
import { UsageError } from '../errors.js';
import { parseEngineArgs } from './engineArgs.js';
import type { EngineOutput, EngineProgress } from '../interactive/engines.js';
import { openImageSession, type ImageOptions } from './image.js';

export interface NibbleCliOptions extends GlobalOptions, ImageOptions {
  workload?: string;
  modes?: string;
  threads?: string;
  gets?: string;
  dist?: string;
  objects?: string;
  valueSize?: string;
  ops?: string;
  capacity?: string;
  fills?: string;
  quick?: boolean;
  plot?: string;
  json?: boolean;
}

function ints(name: string, text: string | undefined, min = 0): number[] | undefined {
  if (text === undefined) return undefined;
  return text.split(',').map((w) => {
    const n = Number(w.trim());
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: "${w.trim()}" is not an integer >= ${min}`);
    return n;
  });
}

function words<T extends string>(name: string, text: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (text === undefined) return undefined;
  return text.split(',').map((w) => {
    const v = w.trim() as T;
    if (!allowed.includes(v)) throw new UsageError(`--${name}: "${v}" is not one of ${allowed.join(', ')}`);
    return v;
  });
}

function one(name: string, text: string | undefined, min: number): number | undefined {
  const v = ints(name, text, min);
  if (v && v.length !== 1) throw new UsageError(`--${name} takes one number`);
  return v?.[0];
}

/** Command-line text to the engine's options; a small, fast configuration with --quick. */
/** Machine options nibble does not take: each configuration builds its own machine. */
const NOT_FOR_NIBBLE = ['paging', 'mem', 'cpus', 'tlb', 'tags', 'aslr', 'caches'] as const;

export function nibbleOptions(o: NibbleCliOptions): NibbleCommandOptions {
  for (const k of NOT_FOR_NIBBLE) {
    if (o[k] !== undefined) throw new UsageError(`--${k} is not supported by nibble: each configuration builds its own machine (one core per client thread and compactor, --nodes sockets); it takes --profile, --costs, --seed and --nodes`);
  }
  const quick: NibbleCommandOptions = o.quick
    ? { objects: 2000, ops: 4000, threads: [1, 4], gets: [95, 50], dists: ['uniform'], fills: [0.3, 0.6, 0.8], capacityMiB: 8, fragCapacityMiB: 8, patterns: ['P2', 'P4', 'P6'] }
    : {};
  const fills = o.fills?.split(',').map((w) => {
    const f = Number(w.trim());
    if (!(f > 0 && f < 1)) throw new UsageError(`--fills: "${w.trim()}" is not a fraction between 0 and 1`);
    return f;
  });
  const seed = o.seed === undefined ? undefined : Number(o.seed);
  const nodes = o.nodes === undefined ? undefined : Number(o.nodes);
  if (seed !== undefined && !Number.isInteger(seed)) throw new UsageError('--seed must be an integer');
  if (nodes !== undefined && !(Number.isInteger(nodes) && nodes >= 1 && nodes <= 8)) throw new UsageError('--nodes must be 1..8');
  try { resolveProfile(o.profile ?? 'm2', o.costs ?? ''); } catch (e) { throw new UsageError((e as Error).message); }
  const out: NibbleCommandOptions = {
    ...quick,
    workloads: words('workload', o.workload, ['ycsb', 'fill', 'frag'] as const) ?? quick.workloads,
    modes: words('modes', o.modes, ['nibble', 'nibble2'] as const) ?? quick.modes,
    threads: ints('threads', o.threads, 1) ?? quick.threads,
    gets: ints('gets', o.gets, 0) ?? quick.gets,
    dists: words('dist', o.dist, ['uniform', 'zipfian'] as const) ?? quick.dists,
    objects: one('objects', o.objects, 1) ?? quick.objects,
    valueSize: one('value-size', o.valueSize, 1) ?? quick.valueSize,
    ops: one('ops', o.ops, 1) ?? quick.ops,
    capacityMiB: one('capacity', o.capacity, 1) ?? quick.capacityMiB,
    fills: fills ?? quick.fills,
    profile: o.profile,
    costs: o.costs,
    seed,
    nodes,
  };
  for (const g of out.gets ?? []) if (g > 100) throw new UsageError('--gets are percentages 0..100');
  return out;
}

function chartOf(series: Series[], prefix: string, title: string): ChartSpec | null {
  const chosen = series.filter((s) => s.name.startsWith(prefix));
  if (!chosen.length) return null;
  const xs = [...new Set(chosen.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  return {
    title, xLabel: chosen[0].x, yLabel: chosen[0].y, x: xs,
    series: chosen.map((s) => ({ name: s.name.slice(prefix.length).trim(), values: xs.map((x) => s.points.find((p) => p.x === x)?.y ?? null) })),
  };
}

export function nibbleCharts(r: NibbleResults): ChartSpec[] {
  return [
    chartOf(r.series, 'fill', `Nibble vs Nibble-2 as the store fills: modelled ops/s (${r.profile})`),
    chartOf(r.series.filter((s) => s.name.includes('uniform')), 'ycsb', `YCSB uniform: modelled ops/s vs threads (${r.profile})`),
    chartOf(r.series, 'frag', 'Fragmentation: memory used / live bytes by pattern'),
  ].filter((c): c is ChartSpec => c !== null);
}

export function formatNibbleReport(r: NibbleResults): string[] {
  const out = [`Nibble on ${r.machine}`, `clocks: "modelled" = cycles of the emulated machine, profile ${r.profile} at ${r.clockGHz} GHz; "wall" = emulator wall-clock`, costsLine(r.costs)];
  for (const [name, rows] of Object.entries(r.tables)) {
    if (!rows.length) continue;
    const header = Object.keys(rows[0]);
    out.push('', `${name}:`, ...textTable(header, rows.map((row) => header.map((h) => row[h] ?? ''))));
  }
  for (const c of nibbleCharts(r)) out.push('', ...textChart(c, 10));
  if (r.notes.length) out.push('', ...r.notes.map((n) => `note: ${n}`));
  return out;
}

/** What nibble takes of a machine (an image's): its profile with cost overrides, seed and nodes, as option text. */
function nibbleMachineOptions(c: MachineConfig): Pick<NibbleCliOptions, 'profile' | 'costs' | 'seed' | 'nodes'> {
  const overrides = Object.entries(profileOverrides(c.profile)).map(([k, v]) => `${k}=${v}`).join(',');
  return { profile: c.profile.name.split('+')[0], costs: overrides || undefined, seed: String(c.seed), nodes: String(c.nodes) };
}

/** What `nibble --image` keeps (for --help and the docs). */
export const NIBBLE_IMAGE_NOTE = 'nibble takes its profile (with cost overrides), seed and nodes from it; each configuration builds its own machine, so nothing a run makes persists (the logs are private to the run)';

export async function nibbleCommand(o: NibbleCliOptions): Promise<number> {
  nibbleOptions(o); // option errors first, before the image is touched
  // A new image gets nibble's own default of 2 sockets.
  const session = o.image ? openImageSession(o, () => buildMachine({ ...o, nodes: o.nodes ?? '2' })) : null;
  try {
    let run = o;
    if (session) {
      run = { ...o, ...nibbleMachineOptions(session.kernel.config) };
    }
    const code = await nibbleRun(run);
    session?.finish(code === 0);
    return code;
  } finally {
    session?.release();
  }
}

async function nibbleRun(o: NibbleCliOptions): Promise<number> {
  const opts = nibbleOptions(o);
  if (o.plot) {
    try { checkOutputPath('--plot', o.plot); } catch (e) { throw new UsageError((e as Error).message); }
  }
  const progress = progressLine();
  const r = runNibbleCommand(opts, (p) => progress.update(p.done, p.total, `${p.workload}: ${p.label}`));
  progress.clear();
  const plot = o.plot;
  const { written, error: writeError } = plot
    ? await writeChartsAfterRun(plot, nibbleCharts(r).map((spec, i) => ({ file: i === 0 ? plot : plot.replace(/(\.svg)?$/i, `-${i + 1}.svg`), spec })))
    : { written: [], error: null };
  // The results are printed whatever happened to the chart files.
  if (o.json) {
    // Nibble builds one machine per configuration (cores = client threads + compactors), so the
    // machine is described by the fields that are the same for all of them.
    const machine = { nodes: opts.nodes ?? 2, profile: { name: r.profile, clockGHz: r.clockGHz }, seed: opts.seed ?? 1, perConfiguration: r.machine };
    process.stdout.write(formatJson(jsonEnvelope('nibble', !writeError, { ...r, machine, charts: written })));
  }
  else process.stdout.write([...formatNibbleReport(r), ...(written.length ? [`charts written to ${written.join(', ')}`] : [])].join('\n') + '\n');
  if (writeError) {
    process.stderr.write(`sjmp: ${writeError}\n`);
    return 1;
  }
  return 0;
}

export function addNibbleOptions(cmd: Command): Command {
  return cmd
    .option('--workload <list>', 'ycsb, fill, frag (comma-separated; default all)')
    .option('--modes <list>', 'nibble, nibble2')
    .option('--threads <list>', 'client threads for YCSB, e.g. 1,2,4,8')
    .option('--gets <list>', 'GET percentages, e.g. 100,95,50,0')
    .option('--dist <list>', 'uniform, zipfian')
    .option('--objects <n>', 'objects loaded before YCSB')
    .option('--value-size <bytes>', 'value size')
    .option('--ops <n>', 'measured operations per configuration')
    .option('--capacity <MiB>', 'log capacity per socket')
    .option('--fills <list>', 'fill fractions for the fill sweep, e.g. 0.1,0.5,0.9')
    .option('--quick', 'a small configuration that runs in seconds')
    .option('--plot <file.svg>', 'also write the charts as SVG files (FILE.svg, FILE-2.svg, ...; each with its Vega-Lite spec as .vl.json)')
    .option('--json', 'everything as JSON');
}

/** The shell's `nibble ...` command. */
export async function nibbleEngine(args: readonly string[], onProgress: (p: EngineProgress) => void, signal: AbortSignal, machine: GlobalOptions = {}, image?: MachineConfig): Promise<EngineOutput> {
  // The shell's machine lends nibble only what nibble takes; its other options shape the shell's own machine.
  const lent = image ? nibbleMachineOptions(image) : { profile: machine.profile, seed: machine.seed, nodes: machine.nodes };
  const o = { ...lent, ...parseEngineArgs<NibbleCliOptions>('nibble', addNibbleOptions, args) };
  const opts = nibbleOptions(o);
  if (signal.aborted) throw new Error('cancelled');
  const r = runNibbleCommand(opts, (p) => onProgress({ done: p.done, total: p.total, label: `${p.workload}: ${p.label}` }));
  return { lines: formatNibbleReport(r) };
}
