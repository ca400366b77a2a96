// The pipeline of the reference's SAMtools scenario, in both designs on the same input:
// flagstat -> sort -> index -> idxstats -> view REGION -> depth REGION. The files design runs
// each step as samtools does (SAM in, a sorted BAM and its .bai in between); the vas design
// imports once and every step attaches the data set. Outputs of the two must be identical.

import { costsReport, type CostsReport } from '../programCosts.js';
import type { MachineConfig } from '../../kernel/machineConfig.js';
import { SamMachine, type SamDesign, type ToolRun } from './machine.js';
import { synthSam, type SynthData } from './synth.js';
import { runPlainJs, type PlainJsResult } from './plainjs.js';

export const STAGES = ['import', 'flagstat', 'sort', 'index', 'idxstats', 'view', 'depth'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageResult {
  stage: Stage;
  argv: string[];
  cycles: number;
  convertCycles: number;
  modelledMs: number;
  wallMs: number;
  outputBytes: number;
  code: number;
}

export interface DesignResult {
  design: SamDesign;
  stages: StageResult[];
  totalCycles: number;
  totalModelledMs: number;
  convertCycles: number;
  /** Share of the modelled total spent converting files into records. */
  convertShare: number;
  wallMs: number;
}

export interface SamBenchReport {
  reads: number;
  inputBytes: number;
  region: string;
  profile: string;
  /** The profile, its --costs overrides and the program-side costs the tools charged. */
  costs: CostsReport;
  clockGHz: number;
  clocks: { modelled: string; wall: string };
  designs: DesignResult[];
  /** files / vas modelled time, per stage (import counted in vas's total only) and for the pipeline. */
  speedup: { stage: Stage; files: number; vas: number; ratio: number | null }[];
  pipelineSpeedup: number;
  /** Outputs of flagstat, idxstats, view and depth are byte-identical across the designs. */
  consistent: boolean;
  plainJs: PlainJsResult;
  /** Emulator wall-clock of the vas pipeline over the plain-JS pipeline's wall-clock. */
  emulationCost: number;
}

export interface SamBenchOptions {
  reads: number;
  seed?: number;
  designs?: SamDesign[];
}

export interface SamProgress {
  label: string;
  done: number;
  total: number;
}

/** A region covering 5% of chr1, a quarter of the way in. */
export function benchRegion(data: SynthData): string {
  const L = data.refs[0].length;
  const beg = Math.floor(L / 4);
  return `chr1:${beg}-${beg + Math.floor(L / 20)}`;
}

export function machineForReads(base: MachineConfig, inputBytes: number): MachineConfig {
  // input + records (files: one copy per tool; vas: one) + the sorted BAM; with room to spare
  const need = Math.ceil((inputBytes * 8 + 512 * 2 ** 20) / 2 ** 30) * 2 ** 30;
  return { ...base, memBytes: Math.max(base.memBytes, need), cpus: Math.max(1, base.cpus) };
}

function stageOf(r: ToolRun, stage: Stage, ghz: number): StageResult {
  if (r.code !== 0) throw new Error(`sam bench: ${r.design} ${r.argv.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return { stage, argv: r.argv, cycles: r.cycles, convertCycles: r.convertCycles, modelledMs: r.cycles / (ghz * 1e6), wallMs: r.wallMs, outputBytes: r.stdout.length, code: r.code };
}

/** Run the pipeline of one design on its own machine; returns stage results and the outputs. */
export function runPipeline(config: MachineConfig, design: SamDesign, data: SynthData, region: string, progress?: (p: SamProgress) => void): { result: DesignResult; outputs: Map<Stage, Uint8Array> } {
  const m = new SamMachine(machineForReads(config, data.text.length));
  const ghz = config.profile.params.clockGHz;
  m.putFile('/data/in.sam', data.text);
  const stages: StageResult[] = [];
  const outputs = new Map<Stage, Uint8Array>();
  const total = design === 'vas' ? 7 : 6;
  const step = (stage: Stage, run: () => ToolRun): void => {
    progress?.({ label: `${design}: ${stage}`, done: stages.length, total });
    const r = run();
    stages.push(stageOf(r, stage, ghz));
    outputs.set(stage, r.stdout);
  };
  const onRecords = (stage: Stage) => (n: number): void => progress?.({ label: `${design}: ${stage} (${n} records converted)`, done: stages.length + Math.min(0.99, n / data.records), total });
  if (design === 'files') {
    const IN = '/data/in.sam';
    const SORTED = '/data/sorted.bam';
    step('flagstat', () => m.tool('files', ['flagstat', IN], { progress: onRecords('flagstat') }));
    step('sort', () => m.tool('files', ['sort', '-o', SORTED, IN], { progress: onRecords('sort') }));
    step('index', () => m.tool('files', ['index', SORTED]));
    step('idxstats', () => m.tool('files', ['idxstats', SORTED]));
    step('view', () => m.tool('files', ['view', SORTED, region]));
    step('depth', () => m.tool('files', ['depth', '-r', region, SORTED]));
  } else {
    step('import', () => m.importDataset('reads', '/data/in.sam', { progress: onRecords('import') }));
    step('flagstat', () => m.tool('vas', ['flagstat', 'reads']));
    step('sort', () => m.tool('vas', ['sort', 'reads']));
    step('index', () => m.tool('vas', ['index', 'reads']));
    step('idxstats', () => m.tool('vas', ['idxstats', 'reads']));
    step('view', () => m.tool('vas', ['view', 'reads', region]));
    step('depth', () => m.tool('vas', ['depth', '-r', region, 'reads']));
  }
  progress?.({ label: `${design}: done`, done: total, total });
  const totalCycles = stages.reduce((s, x) => s + x.cycles, 0);
  const convertCycles = stages.reduce((s, x) => s + x.convertCycles, 0);
  return {
    result: {
      design, stages, totalCycles, totalModelledMs: totalCycles / (ghz * 1e6), convertCycles,
      convertShare: totalCycles ? convertCycles / totalCycles : 0, wallMs: stages.reduce((s, x) => s + x.wallMs, 0),
    },
    outputs,
  };
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return !!a && !!b && Buffer.from(a).equals(Buffer.from(b));
}

export function runSamBench(config: MachineConfig, o: SamBenchOptions, progress?: (p: SamProgress) => void): SamBenchReport {
  const data = synthSam({ reads: o.reads, seed: o.seed ?? 1 });
  const region = benchRegion(data);
  const designs = o.designs ?? ['files', 'vas'];
  const runs = designs.map((d) => runPipeline(config, d, data, region, progress));
  const plainJs = runPlainJs(data.text, region);
  const byDesign = new Map(runs.map((r) => [r.result.design, r]));
  const f = byDesign.get('files');
  const v = byDesign.get('vas');
  const consistent = !f || !v || (['flagstat', 'idxstats', 'view', 'depth'] as Stage[]).every((s) => same(f.outputs.get(s), v.outputs.get(s)));
  const speedup = STAGES.map((stage) => {
    const fc = f?.result.stages.find((x) => x.stage === stage)?.cycles ?? 0;
    const vc = v?.result.stages.find((x) => x.stage === stage)?.cycles ?? 0;
    return { stage, files: fc, vas: vc, ratio: fc && vc ? fc / vc : null };
  });
  const ghz = config.profile.params.clockGHz;
  return {
    reads: data.records, inputBytes: data.text.length, region, profile: config.profile.name, costs: costsReport(config.profile, 'sam'), clockGHz: ghz,
    clocks: { modelled: `modelled cycles of the emulated machine (profile ${config.profile.name}, ${ghz} GHz)`, wall: 'wall-clock of the emulator itself (host time)' },
    designs: runs.map((r) => r.result), speedup,
    pipelineSpeedup: f && v ? f.result.totalCycles / v.result.totalCycles : NaN,
    consistent, plainJs,
    emulationCost: v ? v.result.wallMs / plainJs.wallMs : f ? f.result.wallMs / plainJs.wallMs : NaN,
  };
}
