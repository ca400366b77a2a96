// `npm run bench -- NAME ARGS` as a user runs it (the built dist/bench/run.js): a bad argument is
// one line on stderr naming the bench and the exit code 2, not a stack trace; nothing on stdout.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bench = join(root, 'dist/bench/run.js');

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [bench, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('bench runner: bad arguments', () => {
  it.each([
    [['mmu', '--only', 'gups-xor64:4:3K'], /^bench mmu: unknown --only "gups-xor64:4:3K" \(one of: seq-load32:4:4K, /],
    [['mmu', '--reps', '-1'], /^bench mmu: bad argument "--reps"/],
    [['gups', '--design', 'foo'], /^bench gups: /],
    [['nibble', '--bogus'], /^bench nibble: unknown argument "--bogus"/],
    [['sam', '--reads', '0'], /^bench sam: --reads must be a positive integer/],
    [['shadow-policy', '--quick'], /^bench shadow-policy: unknown argument "--quick"/],
    [['host-memory', '--bogus'], /^bench host-memory: unknown argument "--bogus"/],
  ])('%j: one line, exit 2', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('an unknown benchmark is refused with the list of known ones', () => {
    const r = run('nope');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bench: unknown benchmark "nope" \(known: .*mmu/);
  });
});
