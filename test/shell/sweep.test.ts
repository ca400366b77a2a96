// `sjmp sweep` as a user runs it (issue 20): worker threads give the same records as each point run
// alone; a killed sweep resumes without re-running what finished; --point/merge assemble a store;
// the Slurm script is valid bash and names every point exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/shell/cli.js');
interface Run { status: number | null; stdout: string; stderr: string }
const sjmp = (...args: string[]): Run => {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

interface Rec { key: string; point: number; ok: boolean; values: Record<string, unknown>; options: Record<string, unknown>; record: unknown; error?: string }
const records = (file: string): Rec[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);

/** The deterministic part of a record: everything but the emulator's wall-clock and the raw host loop. */
function modelled(doc: unknown): unknown {
  if (Array.isArray(doc)) return doc.map(modelled);
  if (typeof doc !== 'object' || doc === null) return doc;
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !/^(wall|raw)/i.test(k)).map(([k, v]) => [k, modelled(v)]));
}

let dir = '';
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'sjmp-sweep-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const GRID = `program: gups
fixed: { table: 64K, updates: 4K, update-set: 16 }
axes:
  design: [mp, vas]
  windows: [1, 2]
  seed: [1, 2]
`;

describe('sjmp sweep', () => {
  it('--jobs 2 gives the records each point gives when run alone', () => {
    const f = join(dir, 'grid.yaml');
    writeFileSync(f, GRID);
    const r = sjmp('sweep', f, '--jobs', '2', '--out', join(dir, 'grid'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/8 points run on 2 worker thread\(s\), 0 already done, 0 failed/);
    const recs = records(join(dir, 'grid', 'results.jsonl'));
    expect(recs.map((x) => x.point).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const rec of recs.filter((x) => x.point % 3 === 0)) {
      const o = rec.options as Record<string, string | number>;
      const alone = sjmp('gups', '--table', String(o.table), '--updates', String(o.updates), '--update-set', String(o['update-set']), '--design', String(o.design), '--windows', String(o.windows), '--seed', String(o.seed), '--json');
      expect(alone.status).toBe(0);
      expect(modelled(rec.record)).toEqual(modelled(JSON.parse(alone.stdout)));
    }
    const rep = sjmp('sweep', 'report', join(dir, 'grid'), '--plot', join(dir, 'grid.svg'));
    expect(rep.status, rep.stderr).toBe(0);
    expect(rep.stdout).toMatch(/modelledMups vs windows/);
    expect(rep.stdout).toMatch(/design=vas\s+2\s/);
    expect(existsSync(join(dir, 'grid.svg')) && existsSync(join(dir, 'grid.vl.json'))).toBe(true);
    // a second run without --resume refuses to mix stores
    const again = sjmp('sweep', f, '--out', join(dir, 'grid'));
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already holds results: use --resume/);
  });

  it('a sweep killed midway finishes with --resume, without re-running finished points', async () => {
    const f = join(dir, 'kill.yaml');
    writeFileSync(f, `program: gups\nfixed: { table: 256K, updates: 64K, update-set: 16, design: map }\naxes:\n  windows: [1, 2, 4, 8]\n  seed: [1, 2, 3]\n`);
    const out = join(dir, 'kill');
    const store = join(out, 'results.jsonl');
    const child = spawn(process.execPath, [cli, 'sweep', f, '--jobs', '1', '--out', out], { cwd: root, stdio: 'ignore' });
    const t0 = Date.now();
    while (!(existsSync(store) && records(store).length >= 2) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = readFileSync(store, 'utf8');
    const done = records(store).length;
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(12);
    const r = sjmp('sweep', f, '--resume', '--jobs', '2', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${12 - done} points run .* ${done} already done`));
    const after = readFileSync(store, 'utf8');
    expect(after.startsWith(before)).toBe(true); // finished lines untouched
    const recs = records(store);
    expect(recs).toHaveLength(12);
    expect(new Set(recs.map((x) => x.key)).size).toBe(12);
  });

  it('--point K runs one point into parts/, and merge gathers them', () => {
    const f = join(dir, 'parts.json');
    writeFileSync(f, JSON.stringify({ program: 'gups', fixed: { table: '64K', updates: '2K', design: 'vas', 'update-set': 16 }, axes: { windows: [1, 2, 4] } }));
    const out = join(dir, 'parts');
    for (const k of [2, 0, 1]) expect(sjmp('sweep', f, '--point', String(k), '--out', out).status).toBe(0);
    expect(existsSync(join(out, 'parts', 'point-1.jsonl'))).toBe(true);
    const bad = sjmp('sweep', f, '--point', '3', '--out', out);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--point 3: the sweep has points 0 to 2/);
    const m = sjmp('sweep', 'merge', out);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/merged 3 part file\(s\): 3 points \(3 ok, 0 failed\)/);
    expect(records(join(out, 'results.jsonl')).map((x) => x.point)).toEqual([0, 1, 2]);
  });

  it('a failing point is recorded with its error and the others still run', () => {
    const f = join(dir, 'fail.yaml');
    writeFileSync(f, 'program: gups\nfixed: { table: 64K, updates: 2K, design: vas }\naxes:\n  windows: [1, 3, 2]\n');
    const r = sjmp('sweep', f, '--jobs', '2', '--out', join(dir, 'fail'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/point 1: windows=3 failed: .*not a power of two/);
    const recs = records(join(dir, 'fail', 'results.jsonl'));
    expect(recs.filter((x) => x.ok).map((x) => x.point).sort()).toEqual([0, 2]);
  });

  it('--slurm writes a job array that is valid bash and names every point exactly once', () => {
    const f = join(dir, 'slurm.yaml');
    writeFileSync(f, 'program: gups\naxes:\n  windows: [1, 2, 4, 8]\n  update-set: [16, 64]\n  seed: [1, 2, 3]\n');
    const out = join(dir, 'slurm');
    const r = sjmp('sweep', f, '--slurm', '--chunk', '5', '--out', out, '--sbatch', '--time=00:30:00');
    expect(r.status, r.stderr).toBe(0);
    const script = readFileSync(join(out, 'sweep.sbatch'), 'utf8');
    expect(spawnSync('bash', ['-n', join(out, 'sweep.sbatch')]).status).toBe(0);
    expect(script).toMatch(/#SBATCH --array=0-4\n/);
    expect(script).toMatch(/#SBATCH --time=00:30:00/);
    // run each array task's loop with `sjmp` replaced by echo: every point once, in order
    const cmd = script.split('\n').find((l) => l.includes(' sweep ') && l.includes('--point'))!.trim().split(' sweep ')[0];
    const dry = script.split(cmd).join('echo');
    const seen: number[] = [];
    for (let t = 0; t < 5; t++) {
      const x = spawnSync('bash', ['-c', dry], { env: { ...process.env, SLURM_ARRAY_TASK_ID: String(t) }, encoding: 'utf8' });
      expect(x.status).toBe(0);
      seen.push(...[...x.stdout.matchAll(/--point (\d+)/g)].map((m) => Number(m[1])));
    }
    expect(seen).toEqual([...Array(24).keys()]);
  });

  const hasSbatch = spawnSync('sh', ['-c', 'command -v sbatch']).status === 0;
  it.skipIf(!hasSbatch)(`submits a two-task array to Slurm and merges it${hasSbatch ? '' : ' (skipped: sbatch is not installed)'}`, () => {
    const f = join(dir, 'real.yaml');
    writeFileSync(f, 'program: gups\nfixed: { table: 64K, updates: 2K, design: vas }\naxes:\n  windows: [1, 2]\n');
    const out = join(dir, 'real');
    expect(sjmp('sweep', f, '--slurm', '--out', out).status).toBe(0);
    const sub = spawnSync('sbatch', ['--wait', join(out, 'sweep.sbatch')], { encoding: 'utf8', timeout: 170_000 });
    expect(sub.status, sub.stderr).toBe(0);
    const m = sjmp('sweep', 'merge', out);
    expect(m.stdout).toMatch(/2 points \(2 ok, 0 failed\)/);
  });
});
