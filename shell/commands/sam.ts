// `sjmp sam`: samtools-style tools on the emulated machine, in two designs — files (every tool
// converts its input file again, as samtools does) and vas (a data set is imported once into a
// named address space and every tool attaches it). Tool output is samtools 1.16.1's, byte for byte.
//
//   sjmp sam import NAME FILE            convert FILE into data set NAME (lasts this invocation,
//                                        or as long as the image with --image M)
//   sjmp sam TOOL [samtools args] INPUT  flagstat | view | sort | index | idxstats | depth
//   sjmp sam ls                          the data sets on the machine
//   sjmp sam run FILE -- TOOL ARGS -- TOOL ARGS ...   a pipeline in one invocation
//   sjmp sam bench --reads N             the pipeline in both designs: table, chart, --plot, --json
//
// Options of sjmp itself (anywhere after `sam`): --design files|vas, --json, --plot FILE,
// --reads N, --seed N. Everything else goes to the tool as samtools would take it.

import { costsLine } from '../../lab/programCosts.js';
import type { GlobalOptions } from '../machineOptions.js';
import { buildMachine } from '../machineOptions.js';
import { textChart, writeChartsAfterRun, checkOutputPath, textTable, type ChartSpec } from '../charts.js';
import { progressLine } from '../progress.js';
import { jsonEnvelope, machineJson, formatJson } from '../../lab/jsonEnvelope.js';
import { UsageError } from '../errors.js';
import { TOOLS } from '../../userland/sam/args.js';
import { SamSession, datasetNameFor, insertInput } from '../../lab/sam/session.js';
import { runSamBench, machineForReads, type SamBenchReport, type SamProgress } from '../../lab/sam/pipeline.js';
import type { MachineConfig } from '../../kernel/machineConfig.js';
import type { SamDesign, ToolRun } from '../../lab/sam/machine.js';
import { statSync } from 'node:fs';
import { openImageSession, type ImageOptions, type ImageSession } from './image.js';

export const SAM_HELP = `Usage: sjmp sam SUBCOMMAND [options]

samtools-style tools on the emulated machine, outputs byte-identical to samtools 1.16.1.
Designs: --design vas (default: a data set imported once into a named address space, tools
attach it) or --design files (every tool converts its input file again, as samtools does).

  sjmp sam import NAME FILE                  convert FILE (SAM or BAM) into data set NAME
  sjmp sam flagstat [-O default|tsv|json] INPUT
  sjmp sam view [-c] [-h] [-H] [-f X] [-F X] [-G X] [-q N] [--no-PG] INPUT [REGION ...]
  sjmp sam sort [-n] [-O sam|bam] [-o OUT] [--no-PG] INPUT
  sjmp sam index INPUT                       sjmp sam idxstats INPUT
  sjmp sam depth [-r REGION] INPUT, or depth INPUT REGION
  sjmp sam ls                                data sets on the machine
  sjmp sam run FILE -- TOOL ARGS -- TOOL ARGS ...   steps on one machine (input implied)
  sjmp sam bench [--reads N] [--seed N] [--plot FILE.svg] [--json]

INPUT is a file, or (vas) a data set name. A data set lasts one invocation, or, with
--image FILE, as long as that machine image: \`sjmp sam import reads r.sam --image m.img\`, then
\`sjmp sam flagstat reads --image m.img\` (the image keeps the data sets, its named address
spaces; staged copies of host files are not kept). Without an image, chain steps with \`sam run\`.
sjmp options: --design, --json, --plot, --reads, --seed, --image FILE, --read-only,
--wait-lock[=SECONDS], --image-compress, and the machine options (--mem, --profile, --costs, ...).
sam bench takes only the machine configuration from an image. See docs/sam.md.
`;

export interface SamOwnOptions extends ImageOptions {
  design: SamDesign;
  json: boolean;
  plot?: string;
  reads?: number;
  seed?: number;
}

/** Take sjmp's own options out of the argument list; the rest belongs to the tool. */
export function splitSamArgs(args: readonly string[]): { own: SamOwnOptions; rest: string[] } {
  const own: SamOwnOptions = { design: 'vas', json: false };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`sam: ${a} needs a value`);
      return v;
    };
    const int = (v: string, min: number): number => {
      const n = Number(v.replace(/_/g, ''));
      if (!Number.isInteger(n) || n < min) throw new UsageError(`sam: ${a} must be an integer >= ${min}, got "${v}"`);
      return n;
    };
    if (a === '--') { rest.push(...args.slice(i)); break; }
    if (a === '--design') {
      const v = value();
      if (v !== 'files' && v !== 'vas') throw new UsageError(`sam: --design must be files or vas, got "${v}"`);
      own.design = v;
    } else if (a === '--json') own.json = true;
    else if (a === '--plot') own.plot = value();
    else if (a === '--image') own.image = value();
    else if (a === '--read-only') own.readOnly = true;
    else if (a === '--image-compress') own.imageCompress = true;
    else if (a === '--wait-lock') own.waitLock = true;
    else if (a.startsWith('--wait-lock=')) own.waitLock = a.slice('--wait-lock='.length);
    else if (a === '--reads') own.reads = int(value(), 1);
    else if (a === '--seed') own.seed = int(value(), 0);
    else rest.push(a);
  }
  return { own, rest };
}

function ms(cycles: number, ghz: number): string {
  const v = cycles / (ghz * 1e6);
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

const progress = progressLine();

function stageProgress(p: SamProgress): void {
  progress.update(p.done, p.total, p.label);
}

function recordProgress(label: string): (n: number) => void {
  return (n) => progress.update(0, 1, `${label}: ${n} records converted`);
}

function clearProgress(): void {
  progress.clear();
}

// ------------------------------------------------------------------------------ bench

export function samChart(r: SamBenchReport): ChartSpec {
  const stages = r.speedup.filter((s) => s.files || s.vas);
  return {
    title: 'samtools pipeline: modelled ms per stage, files vs vas',
    subtitle: `${r.reads} synthetic reads (${(r.inputBytes / 2 ** 20).toFixed(1)} MiB SAM), region ${r.region}, profile ${r.profile}`,
    seriesLabel: 'design',
    xLabel: 'stage', yLabel: 'modelled ms', logY: true,
    x: stages.map((s) => s.stage),
    series: r.designs.map((d) => ({ name: d.design, values: stages.map((s) => { const x = d.stages.find((y) => y.stage === s.stage); return x ? x.modelledMs : null; }) })),
  };
}

export function formatSamBench(r: SamBenchReport): string[] {
  const out: string[] = [];
  out.push(`sam pipeline: ${r.reads} synthetic reads (${(r.inputBytes / 2 ** 20).toFixed(1)} MiB of SAM), region ${r.region}`);
  out.push(`clocks: "modelled" = ${r.clocks.modelled}; "wall" = ${r.clocks.wall}`);
  out.push(costsLine(r.costs));
  const f = r.designs.find((d) => d.design === 'files');
  const v = r.designs.find((d) => d.design === 'vas');
  const rows = r.speedup.filter((s) => s.files || s.vas).map((s) => {
    const fs = f?.stages.find((x) => x.stage === s.stage);
    const vs = v?.stages.find((x) => x.stage === s.stage);
    const conv = (x: typeof fs): string => (x ? (x.cycles ? `${((100 * x.convertCycles) / x.cycles).toFixed(0)}%` : '0%') : '-');
    return [
      s.stage, fs ? ms(fs.cycles, r.clockGHz) : '-', conv(fs), vs ? ms(vs.cycles, r.clockGHz) : '-', conv(vs),
      s.ratio ? `${s.ratio.toFixed(2)}x` : '-', fs ? fs.wallMs.toFixed(0) : '-', vs ? vs.wallMs.toFixed(0) : '-',
    ];
  });
  rows.push([
    'total', f ? ms(f.totalCycles, r.clockGHz) : '-', f ? `${(100 * f.convertShare).toFixed(0)}%` : '-',
    v ? ms(v.totalCycles, r.clockGHz) : '-', v ? `${(100 * v.convertShare).toFixed(0)}%` : '-',
    Number.isFinite(r.pipelineSpeedup) ? `${r.pipelineSpeedup.toFixed(2)}x` : '-', f ? f.wallMs.toFixed(0) : '-', v ? v.wallMs.toFixed(0) : '-',
  ]);
  out.push('', ...textTable(['stage', 'files ms', 'conv', 'vas ms', 'conv', 'speedup', 'files wall ms', 'vas wall ms'], rows));
  out.push('', `"ms" = modelled milliseconds; "conv" = share of the stage spent converting a file into records; speedup = files / vas (modelled).`);
  out.push(`vas total includes the one import; files converts the SAM in flagstat and sort, and reads the sorted BAM + .bai after.`);
  out.push(`outputs of flagstat, idxstats, view and depth identical across designs: ${r.consistent ? 'yes' : 'NO'}`);
  out.push(`plain JS over a JS array (same run): ${r.plainJs.wallMs.toFixed(0)} ms wall; emulated ${v ? 'vas' : 'files'} pipeline costs ${r.emulationCost.toFixed(0)}x that in wall-clock`);
  out.push('', ...textChart(samChart(r)));
  return out;
}

async function benchCommand(own: SamOwnOptions, machine: GlobalOptions, imageConfig?: MachineConfig): Promise<number> {
  const config = imageConfig ?? buildMachine(machine);
  if (own.plot) {
    try { checkOutputPath('--plot', own.plot); } catch (e) { throw new UsageError((e as Error).message); }
  }
  const report = runSamBench(config, { reads: own.reads ?? 200_000, seed: own.seed }, stageProgress);
  clearProgress();
  const { written, error: writeError } = own.plot
    ? await writeChartsAfterRun(own.plot, [{ file: own.plot, spec: samChart(report) }])
    : { written: [], error: null };
  // The results are printed whatever happened to the chart file.
  if (own.json) process.stdout.write(formatJson(jsonEnvelope('sam bench', report.consistent && !writeError, { machine: machineJson(config), ...report, written })));
  else process.stdout.write([...formatSamBench(report), ...(written.length ? [`chart written to ${written.join(', ')}`] : [])].join('\n') + '\n');
  if (writeError) {
    process.stderr.write(`sjmp: ${writeError}\n`);
    return 1;
  }
  return report.consistent ? 0 : 1;
}

// ------------------------------------------------------------------------------ tools

function emit(run: ToolRun): number {
  process.stdout.write(run.stdout);
  if (run.stderr) process.stderr.write(run.stderr);
  return run.code;
}

function runSummary(run: ToolRun, ghz: number): Record<string, unknown> {
  return {
    argv: run.argv, design: run.design, exit: run.code, modelledCycles: run.cycles, modelledMs: run.cycles / (ghz * 1e6),
    convertCycles: run.convertCycles, wallMs: run.wallMs, stdout: Buffer.from(run.stdout).toString('latin1'), stderr: run.stderr,
  };
}

function sizeOf(file: string): number {
  try { return statSync(file).size; } catch { return 0; }
}

export async function samCommand(args: readonly string[], machine: GlobalOptions): Promise<number> {
  const { own, rest } = splitSamArgs(args);
  const [sub, ...more] = rest;
  if (!sub) throw new UsageError('sam: give a subcommand: import, ls, run, bench, or a tool (flagstat, view, sort, index, idxstats, depth)');
  if (own.image === undefined && (own.readOnly || own.waitLock !== undefined || own.imageCompress)) throw new UsageError('sam: --read-only, --wait-lock and --image-compress go with --image FILE');
  // With --image the machine (and its data sets) comes from the image; saved back on exit 0.
  const session = own.image ? openImageSession({ ...machine, ...own }, () => machineForImage(machine, rest)) : null;
  try {
    const code = await samSubcommand(sub, more, own, machine, session);
    session?.finish(code === 0);
    return code;
  } finally {
    session?.release();
  }
}

/** A new image's machine: sized for the input file given (as a run without an image would be). */
function machineForImage(machine: GlobalOptions, rest: readonly string[]): MachineConfig {
  const config = buildMachine(machine);
  const biggest = Math.max(0, ...rest.map(sizeOf));
  return machineForReads(config, biggest);
}

/** A session on the image's machine (whose staging files are dropped before it is saved), or a fresh one. */
function samSession(config: MachineConfig, sizeHint: number, image: ImageSession | null): SamSession {
  if (!image) return new SamSession(config, sizeHint);
  const s = new SamSession(config, sizeHint, image.kernel);
  const finish = image.finish.bind(image);
  image.finish = (save: boolean) => {
    s.dropStaging();
    return finish(save);
  };
  return s;
}

async function samSubcommand(sub: string, more: string[], own: SamOwnOptions, machine: GlobalOptions, image: ImageSession | null): Promise<number> {
  if (sub === 'bench') {
    if (more.length) throw new UsageError(`sam bench: unexpected argument "${more[0]}"`);
    return benchCommand(own, machine, image?.kernel.config);
  }
  const config = image?.kernel.config ?? buildMachine(machine);
  const ghz = config.profile.params.clockGHz;
  const lasts = image ? `is kept in image ${image.file}${image.readOnly ? ' (no: --read-only)' : ''}` : 'lasts this invocation (keep it with --image FILE, or chain steps with `sjmp sam run FILE -- ...`)';
  if (sub === 'ls') {
    if (more.length) throw new UsageError(`sam ls: unexpected argument "${more[0]}"`);
    const list = image ? new SamSession(config, 0, image.kernel).machine.datasets() : [];
    if (own.json) process.stdout.write(formatJson(jsonEnvelope('sam ls', true, { datasets: list })));
    else if (list.length) process.stdout.write(textTable(['data set', 'owner', 'mode', 'segments', 'MiB'], list.map((d) => [d.name, d.owner, d.mode, d.segments.map((x) => x.name.slice(d.name.length + 1)).join(','), (d.bytes / 2 ** 20).toFixed(2)])).map((l) => l + '\n').join(''));
    else process.stdout.write(image ? `no data sets in image ${image.file}\n` : 'no data sets on this machine (a data set lasts one invocation unless kept in a machine image with --image FILE; `sjmp sam run FILE -- ls` lists them within a pipeline)\n');
    return 0;
  }
  if (sub === 'import') {
    if (more.length !== 2) throw new UsageError('usage: sjmp sam import NAME FILE');
    const [name, file] = more;
    const s = samSession(config, sizeOf(file), image);
    const r = s.importFile(name, file, recordProgress(`import ${name}`));
    clearProgress();
    if (r.code !== 0) { process.stderr.write(r.stderr); return r.code; }
    const ds = s.machine.datasets().find((d) => d.name === name)!;
    if (own.json) process.stdout.write(formatJson(jsonEnvelope('sam import', true, { machine: machineJson(config), import: runSummary(r, ghz), dataset: ds })));
    else {
      process.stdout.write(`imported ${r.records} records from ${file} into data set "${name}": ${ds.segments.length} segments, ${(ds.bytes / 2 ** 20).toFixed(2)} MiB; modelled ${ms(r.cycles, ghz)} ms (${s.machine.profile}), wall ${r.wallMs.toFixed(0)} ms\n`);
      process.stdout.write(textTable(['segment', 'base', 'bytes'], ds.segments.map((x) => [x.name, x.base, x.bytes])).map((l) => l + '\n').join(''));
      process.stdout.write(`note: the data set ${lasts}\n`);
    }
    return 0;
  }
  if (sub === 'run') return runCommand(more, own, config, image);
  if (!(TOOLS as readonly string[]).includes(sub)) throw new UsageError(`sam: unknown subcommand "${sub}" (import, ls, run, bench, ${TOOLS.join(', ')})`);
  // A single tool: the input is the first operand.
  const probe = insertInput([sub, ...more], '\0');
  const at = probe.indexOf('\0');
  const operands = probe.slice(at + 1);
  const input = operands[0];
  if (input === undefined) throw new UsageError(`sam ${sub}: no input given`);
  const argv = probe.filter((x, i) => i !== at && i !== at + 1);
  const s = samSession(config, sizeOf(input), image);
  const { run, imported } = s.tool(own.design, argv, input, recordProgress(`${sub} ${input}`));
  clearProgress();
  const written = s.copyOut();
  if (own.json) {
    process.stdout.write(formatJson(jsonEnvelope(`sam ${sub}`, run.code === 0, { machine: machineJson(config), design: own.design, import: imported && runSummary(imported, ghz), run: runSummary(run, ghz), written })));
    return run.code;
  }
  return emit(run);
}

/** `run FILE [--design d] -- TOOL ARGS -- TOOL ARGS ...`: steps on one machine, in order. */
async function runCommand(args: readonly string[], own: SamOwnOptions, config: MachineConfig, image: ImageSession | null): Promise<number> {
  const file = args[0];
  if (!file || file === '--') throw new UsageError('usage: sjmp sam run FILE -- TOOL [ARGS] [-- TOOL [ARGS] ...]');
  const steps: string[][] = [];
  // (a `--` right after FILE may already have been taken by the option parser as end-of-options)
  for (const a of args.slice(1)) {
    if (a === '--' || steps.length === 0) steps.push([]);
    if (a !== '--') steps[steps.length - 1].push(a);
  }
  if (!steps.length || steps.some((s) => s.length === 0)) throw new UsageError('sam run: each step is `-- TOOL [ARGS]`');
  const ghz = config.profile.params.clockGHz;
  const s = samSession(config, sizeOf(file), image);
  const name = datasetNameFor(file);
  const summaries: Record<string, unknown>[] = [];
  let input = file;
  if (own.design === 'vas' && s.machine.datasets().some((d) => d.name === name)) {
    // On a machine from an image the data set may be there already: it is used as it is.
    if (!own.json) process.stderr.write(`# data set ${name} is already on this machine (from image ${image?.file}): not imported again\n`);
    input = name;
  } else if (own.design === 'vas') {
    const r = s.importFile(name, file, recordProgress(`import ${name}`));
    clearProgress();
    summaries.push(runSummary(r, ghz));
    if (!own.json) process.stderr.write(`# import ${name} ${file}  [vas: modelled ${ms(r.cycles, ghz)} ms, wall ${r.wallMs.toFixed(0)} ms]\n`);
    if (r.code !== 0) { if (!own.json) process.stderr.write(r.stderr); else process.stdout.write(formatJson(jsonEnvelope('sam run', false, { machine: machineJson(config), design: own.design, steps: summaries }))); return r.code; }
    input = name;
  }
  let code = 0;
  for (const step of steps) {
    if (step[0] === 'ls') {
      const list = s.machine.datasets();
      if (own.json) summaries.push({ argv: ['ls'], datasets: list });
      else process.stdout.write(textTable(['data set', 'owner', 'mode', 'segments', 'MiB'], list.map((d) => [d.name, d.owner, d.mode, d.segments.map((x) => x.name.slice(d.name.length + 1)).join(','), (d.bytes / 2 ** 20).toFixed(2)])).map((l) => l + '\n').join(''));
      continue;
    }
    let argv = step;
    // files design: sort writes a BAM that the later steps read, as a samtools pipeline would
    let next = input;
    if (own.design === 'files' && step[0] === 'sort' && !step.includes('-o') && !step.includes('-O')) {
      next = file.replace(/(\.sam|\.bam)?$/i, '.sorted.bam');
      argv = [...step.slice(0, 1), '-o', next, ...step.slice(1)];
    }
    const { run } = s.tool(own.design, argv, input, recordProgress(step[0]));
    clearProgress();
    summaries.push(runSummary(run, ghz));
    if (own.design === 'files') s.copyOut();
    if (!own.json) {
      process.stderr.write(`# samtools ${insertInput(argv, input).join(' ')}  [${own.design}: modelled ${ms(run.cycles, ghz)} ms (conversion ${ms(run.convertCycles, ghz)}), wall ${run.wallMs.toFixed(0)} ms]\n`);
      emit(run);
    }
    input = next;
    if (run.code !== 0) { code = run.code; break; }
  }
  if (own.json) process.stdout.write(formatJson(jsonEnvelope('sam run', code === 0, { machine: machineJson(config), design: own.design, steps: summaries })));
  return code;
}
