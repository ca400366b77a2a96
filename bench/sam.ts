// `npm run -s bench -- sam [--reads N] [--seed N]`: the samtools pipeline (flagstat -> sort ->
// index -> idxstats -> view region -> depth region) on one synthetic data set in both designs:
// files (every tool converts its input) and vas (import once into a named address space, tools
// attach). Ratios are within this run: modelled speedup of vas over files per tool and for the
// pipeline (profile m2), and the emulator's wall-clock against the same tools as plain JS over a
// JS array. Progress on stderr.

import { runSamBench } from '../lab/sam/pipeline.js';
import { DEFAULT_MACHINE } from '../kernel/machineConfig.js';

export function main(argv: string[]): void {
  let reads = 200_000;
  let seed = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reads') reads = Number(argv[++i]);
    else if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--quick') reads = 20_000;
    else throw new RangeError(`bench sam: unknown argument "${a}" (use --reads N, --seed N, --quick)`);
  }
  if (!Number.isInteger(reads) || reads < 1) throw new RangeError("bench sam: --reads must be a positive integer");
  const t0 = performance.now();
  let last = '';
  const r = runSamBench(DEFAULT_MACHINE, { reads, seed }, (p) => {
    if (p.label !== last && !p.label.includes('records converted')) process.stderr.write(`[sam ${p.done.toFixed(0)}/${p.total}] ${p.label}\n`);
    last = p.label;
  });
  const files = r.designs.find((d) => d.design === 'files')!;
  const vas = r.designs.find((d) => d.design === 'vas')!;
  process.stdout.write(JSON.stringify({
    bench: 'sam',
    wallSeconds: (performance.now() - t0) / 1000,
    clocks: r.clocks,
    reads: r.reads,
    inputBytes: r.inputBytes,
    region: r.region,
    baseline: 'files design (stock samtools: every tool converts its input file), same data set, same run',
    modelledSpeedupPerTool: Object.fromEntries(r.speedup.filter((s) => s.ratio !== null).map((s) => [s.stage, Number(s.ratio!.toFixed(3))])),
    modelledPipelineSpeedup: Number(r.pipelineSpeedup.toFixed(3)),
    modelledMs: { files: files.totalModelledMs, vas: vas.totalModelledMs, vasImport: vas.stages.find((s) => s.stage === 'import')!.modelledMs },
    conversionShare: { files: files.convertShare, vas: vas.convertShare },
    emulatorWallMs: { files: files.wallMs, vas: vas.wallMs, plainJs: r.plainJs.wallMs },
    emulationCostVsPlainJs: { files: files.wallMs / r.plainJs.wallMs, vas: vas.wallMs / r.plainJs.wallMs },
    outputsIdenticalAcrossDesigns: r.consistent,
    stages: r.designs,
    plainJs: r.plainJs,
  }, null, 1) + '\n');
}
