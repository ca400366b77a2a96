// `sjmp sam` as a user runs it (the built dist/shell/cli.js): samtools' own options pass through,
// outputs are samtools' bytes in both designs, a pipeline in one invocation, usage errors exit 2,
// data errors exit 1 with one clear line.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/shell/cli.js');
const golden = join(root, 'test/userland/samGolden');
const dir = mkdtempSync(join(tmpdir(), 'sjmp-samcli-'));
copyFileSync(join(golden, 'toy.sam'), join(dir, 'toy.sam'));

function sjmp(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'latin1', timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const expected = (id: string): string => readFileSync(join(golden, 'expected', `${id}.out`), 'latin1');

describe('sjmp sam', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('tools print what samtools prints, in both designs (samtools options pass through)', () => {
    for (const design of ['vas', 'files']) {
      expect(sjmp('sam', 'flagstat', '-O', 'json', 'toy.sam', '--design', design).stdout).toBe(expected('toy-flagstat-json'));
      expect(sjmp('sam', 'view', '-h', 'toy.sam', '--design', design).stdout).toBe(expected('toy-view-h'));
      expect(sjmp('sam', 'sort', '-n', '-O', 'sam', 'toy.sam', '--design', design).stdout).toBe(expected('toy-sort-n'));
      expect(sjmp('sam', '--design', design, 'view', '-c', '-F', '0x904', 'toy.sam').stdout).toBe(expected('toy-count-8'));
    }
  }, 120_000);

  it('run chains steps on one machine; files writes the sorted BAM and .bai next to the input', () => {
    const v = sjmp('sam', 'run', 'toy.sam', '--', 'sort', '--', 'index', '--', 'idxstats', '--', 'view', '-c', 'chr1', '--', 'ls');
    expect(v.status).toBe(0);
    expect(v.stdout).toContain(expected('toy-idxstats') + '10\n');
    expect(v.stdout).toMatch(/toy\s+1000\s+0644\s+rec0,hdr,sort,idx/);
    expect(v.stderr).toMatch(/# samtools view -c toy chr1 {2}\[vas: modelled [\d.]+ ms/);
    const f = sjmp('sam', 'run', 'toy.sam', '--design', 'files', '--', 'sort', '--', 'index', '--', 'idxstats');
    expect(f.status).toBe(0);
    expect(f.stdout).toBe(expected('toy-idxstats'));
    expect(existsSync(join(dir, 'toy.sorted.bam')) && existsSync(join(dir, 'toy.sorted.bam.bai'))).toBe(true);
    const j = JSON.parse(sjmp('sam', 'run', 'toy.sam', '--json', '--', 'flagstat').stdout) as { steps: { argv: string[]; modelledCycles: number }[] };
    expect(j.steps.map((s) => s.argv[0])).toEqual(['import', 'flagstat']);
    expect(j.steps[1].modelledCycles).toBeGreaterThan(0);
  }, 120_000);

  it('errors: usage exits 2, bad data exits 1 with file and line', () => {
    const u = sjmp('sam', 'frobnicate');
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/^sjmp: sam: unknown subcommand "frobnicate"/);
    const n = sjmp('sam', 'flagstat', 'nosuchset');
    expect(n.status).toBe(1);
    expect(n.stderr).toMatch(/neither a data set on this machine nor a file/);
    expect(sjmp('sam', 'import', 'x').status).toBe(2);
    expect(sjmp('sam', '--help').stdout).toMatch(/^Usage: sjmp sam/);
  }, 60_000);

  it('bench: a small run as JSON, outputs identical across designs', () => {
    const r = sjmp('sam', 'bench', '--reads', '2000', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { consistent: boolean; pipelineSpeedup: number; designs: { design: string }[] };
    expect(j.consistent).toBe(true);
    expect(j.designs.map((d) => d.design)).toEqual(['files', 'vas']);
    expect(j.pipelineSpeedup).toBeGreaterThan(0);
  }, 120_000);

  it('bench: a chart that cannot be written after the run still prints the results, then fails', () => {
    const blocked = join(dir, 'blocked.svg');
    mkdirSync(blocked); // a folder where the file should go: the write fails after the run
    const r = sjmp('sam', 'bench', '--reads', '1000', '--plot', blocked);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/outputs of flagstat, idxstats, view and depth identical across designs: yes/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/could not write .*blocked\.svg/);
  }, 120_000);
});
