// `npm run bench -- nibble [--quick] [--workloads ycsb,fill,frag]`: Nibble and Nibble-2 under YCSB
// (scaling and fill sweep) and the fragmentation benchmark; one JSON document on stdout, progress
// on stderr. Modelled and wall-clock throughputs are labelled apart in every row.

import { runNibbleCommand, type NibbleCommandOptions, type NibbleWorkload } from '../lab/nibble/bench.js';

export function main(argv: string[]): void {
  const opts: NibbleCommandOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') Object.assign(opts, { objects: 4000, ops: 8000, threads: [1, 4], gets: [95, 0], fills: [0.1, 0.5, 0.9], patterns: ['P2', 'P4', 'P6'] });
    else if (a === '--workloads') opts.workloads = argv[++i].split(',') as NibbleWorkload[];
    else throw new RangeError(`bench nibble: unknown argument "${a}" (use --quick, --workloads ycsb,fill,frag)`);
  }
  const t0 = performance.now();
  const res = runNibbleCommand(opts, (p) => process.stderr.write(`[${p.workload} ${p.done}/${p.total}] ${p.label}\n`));
  process.stdout.write(JSON.stringify({ bench: 'nibble', wallSeconds: (performance.now() - t0) / 1000, ...res }, null, 1) + '\n');
}
