/* global process */
// `npm run bench -- NAME [args]`: checks the name before building, so a typo or --help answers at
// once instead of after a full TypeScript build; then builds and runs dist/bench/run.js.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const names = Object.keys(JSON.parse(readFileSync(join(root, 'bench', 'benchmarks.json'), 'utf8')));
const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  process.stderr.write(`usage: npm run bench -- NAME [args]\nbenchmarks: ${names.join(', ')}\n`);
  process.exit(name ? 0 : 2);
}
if (!names.includes(name)) {
  process.stderr.write(`bench: unknown benchmark "${name}" (known: ${names.join(', ')})\n`);
  process.exit(2);
}
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const run = spawnSync(process.execPath, [...process.execArgv, join(root, 'dist', 'bench', 'run.js'), name, ...rest], { stdio: 'inherit' });
process.exit(run.status ?? 1);
