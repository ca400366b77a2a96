// `npm run bench -- NAME`: runs bench/NAME.ts, which prints one JSON document on stdout.
// Benchmarks are registered explicitly so a typo is an error, not a silent no-op.

import benchmarks from './benchmarks.json' with { type: 'json' };
import { tuneJit } from '../mmu/jitTuning.js';

// The registry is bench/benchmarks.json (name -> module), read by bench/launch.mjs too, so that a
// bad name is answered before anything is built.
const BENCHES: Record<string, string> = benchmarks;

async function run(): Promise<number> {
  tuneJit();
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h') {
    process.stderr.write(`usage: npm run bench -- NAME [args]\nbenchmarks: ${Object.keys(BENCHES).join(', ')}\n`);
    return name ? 0 : 2;
  }
  const file = BENCHES[name];
  if (!file) {
    process.stderr.write(`bench: unknown benchmark "${name}" (known: ${Object.keys(BENCHES).join(', ')})\n`);
    return 2;
  }
  const mod = (await import(`./${file}`)) as { main(argv: string[]): Promise<void> | void };
  await mod.main(rest);
  return 0;
}

run().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    // A bench rejecting its arguments throws a RangeError whose message names it ("bench NAME: ..."):
    // one line and the usage exit code. Anything else is a bug and keeps its stack.
    if (err instanceof RangeError && err.message.startsWith('bench ')) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
