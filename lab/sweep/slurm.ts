// `sjmp sweep FILE --slurm`: an sbatch job-array script instead of a local run. Each array task
// runs its chunk of points, one `sjmp sweep FILE --point K --out DIR` each; `sjmp sweep merge DIR`
// gathers the parts afterwards. No scheduler or queue of our own: Slurm does the spreading.

export interface SlurmOptions {
  /** The sweep file, as an absolute path (tasks may start in another directory). */
  file: string;
  /** The results directory, absolute. */
  dir: string;
  points: number;
  /** Points per array task. */
  chunk: number;
  /** How a task starts sjmp: e.g. `node /abs/dist/shell/cli.js`. */
  sjmp: string;
  jobName: string;
  /** Extra `#SBATCH` lines given by the user (time, partition, memory ...). */
  sbatch: string[];
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function slurmScript(o: SlurmOptions): string {
  const tasks = Math.ceil(o.points / o.chunk);
  return [
    '#!/bin/bash',
    `# spacejmp-emu sweep: ${o.points} points in ${tasks} array tasks of up to ${o.chunk} points.`,
    `# Submit with: sbatch ${quote(o.dir + '/sweep.sbatch')}; when every task is done:`,
    `#   ${o.sjmp} sweep merge ${quote(o.dir)} && ${o.sjmp} sweep report ${quote(o.dir)}`,
    `#SBATCH --job-name=${o.jobName.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
    `#SBATCH --array=0-${tasks - 1}`,
    `#SBATCH --output=${o.dir}/logs/task-%a.out`,
    '#SBATCH --ntasks=1',
    '#SBATCH --cpus-per-task=1',
    ...o.sbatch.map((l) => `#SBATCH ${l}`),
    'set -euo pipefail',
    `first=$(( SLURM_ARRAY_TASK_ID * ${o.chunk} ))`,
    `last=$(( first + ${o.chunk} - 1 ))`,
    `if [ "$last" -ge ${o.points} ]; then last=${o.points - 1}; fi`,
    'status=0',
    'for k in $(seq "$first" "$last"); do',
    `  ${o.sjmp} sweep ${quote(o.file)} --point "$k" --out ${quote(o.dir)} || status=1`,
    'done',
    'exit "$status"',
    '',
  ].join('\n');
}
