import { execFileSync } from 'node:child_process';

// CLI tests spawn the built `sjmp`; build once so they never run a stale dist/.
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
