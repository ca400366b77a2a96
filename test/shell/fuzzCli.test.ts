// `sjmp fuzz` as a user runs it (the built dist/shell/cli.js): a JSON summary that says which
// clock its times are, the seed taken from --seed, worker threads with --jobs, usage errors exit 2.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/shell/cli.js');

function sjmp(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('sjmp fuzz', () => {
  it('runs seeds on worker threads and prints a JSON summary', () => {
    const out = mkdtempSync(join(tmpdir(), 'fuzz-'));
    try {
      const r = sjmp('fuzz', '--calls', '400', '--seed-calls', '200', '--seed', '9', '--jobs', '2', '--phases', 'clean', '--out', out, '--json');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(s.command).toBe('fuzz');
      expect(s.ok).toBe(true);
      expect(s.clock).toBe('emulator wall-clock');
      expect(s.seeds).toEqual([9, 10]);
      expect(s.calls).toBeGreaterThanOrEqual(400);
      expect(s.jobs).toBe(2);
      expect(s.failures).toBe(0);
      expect(s.phases).toEqual(['basic', 'hostile', 'spacejmp']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('rejects unknown phases and bad numbers with one line and exit 2', () => {
    for (const args of [['--phases', 'nope'], ['--calls', '0'], ['--jobs', 'two']]) {
      const r = sjmp('fuzz', ...args);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
