import { spawnSync } from 'node:child_process';

// CLI tests spawn the built `sjmp`; build once so they never run a stale dist/. Type errors are
// reported by `npm run typecheck`; here they must not stop unrelated suites (tsc still emits).
export default function setup(): void {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (r.status !== 0) process.stderr.write(`globalSetup: tsc reported errors (dist/ built anyway)\n${r.stdout.slice(0, 2000)}`);
}
