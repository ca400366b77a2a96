// `sjmp redis` as a user runs it (the built CLI): usage errors exit 2 with one line, a small bench
// prints its table, chart and the reference's figures, --json and --plot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisEngine } from '../../shell/commands/redis.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/shell/cli.js');

function sjmp(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir = '';
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'sjmp-redis-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('sjmp redis', () => {
  it.each([
    [['bench', '--design', 'nope'], /unknown design "nope"/],
    [['bench', '--ratio', '9:1'], /get:set=G:S/],
    [['bench', '--clients', '0'], /--clients/],
    [['bench', '--requests', 'x'], /--requests/],
    [['serve', '--image', 'x.img', '--design', 'rpc'], /only --design jmp has/],
    [['serve', '--design', 'jmp-sharded'], /--design/],
    [['serve', '--memory', '3M'], /--memory/],
  ])('bad options %j exit 2 with one line on stderr', (args, msg) => {
    const r = sjmp('redis', ...(args as string[]));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg as RegExp);
  });

  it('runs a small bench: a table with the clocks named, the reference beside it, a chart and an SVG', () => {
    const svg = join(dir, 'redis.svg');
    const r = sjmp('redis', 'bench', '--clients', '1,4', '--requests', '40', '--keys', '200', '--plot', svg);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/clocks: "modelled" = requests per modelled second .*profile m2/);
    expect(r.stdout).toMatch(/jmp \/ rpc-1 = .*reference §10\.4: 4x.*jmp \/ rpc-6 = .*reference: 1\.36x/);
    expect(r.stdout).toMatch(/modelled requests\/s \(log scale\)/);
    for (const d of ['rpc', 'rpc6', 'jmp', 'jmp-sharded']) expect(r.stdout).toMatch(new RegExp(`^${d}\\s+4\\s`, 'm'));
    expect(existsSync(svg) && readFileSync(svg, 'utf8').includes('<svg')).toBe(true);
    expect(existsSync(svg.replace(/\.svg$/, '.vl.json'))).toBe(true);
  });

  it('--json: every request answered, switches only in the jmp designs', () => {
    const r = sjmp('redis', 'bench', '--design', 'rpc,jmp', '--clients', '2', '--requests', '30', '--keys', '100', '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { version: number; command: string; ok: boolean; machine: { cpus: number; profile: { name: string } }; results: { design: string; requests: number; gets: number; hits: number; errors: string[]; switchesPerRequest: number; modelledRps: number }[] };
    expect([j.version, j.command, j.ok, j.machine.profile.name]).toEqual([1, 'redis bench', true, 'm2']);
    expect(j.results.map((x) => x.design)).toEqual(['rpc', 'jmp']);
    for (const x of j.results) {
      expect(x.requests).toBe(60);
      expect(x.errors).toEqual([]);
      expect(x.hits).toBe(x.gets); // every key was preloaded
      expect(x.modelledRps).toBeGreaterThan(0);
    }
    expect(j.results[0].switchesPerRequest).toBe(0);
    expect(j.results[1].switchesPerRequest).toBe(2);
  });
});

describe('the shell\'s redis engine', () => {
  it('runs the bench with the same options and reports progress', async () => {
    const seen: number[] = [];
    const out = await redisEngine(['--design', 'jmp', '--clients', '1', '--requests', '10', '--keys', '50'], (p) => seen.push(p.done), new AbortController().signal);
    expect(out.lines.some((l) => /^jmp\s+1\s/.test(l))).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('rejects bad options with one clear line', async () => {
    await expect(redisEngine(['--design', 'nope'], () => undefined, new AbortController().signal)).rejects.toThrow(/unknown design "nope"/);
  });
});
