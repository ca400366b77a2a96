// `sjmp shell` piped, as a script or redis-cli user runs it (the built dist/shell/cli.js), and the
// one machine-settings adapter that `sjmp trace` and the shell share.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLineOptions, machineLineText } from '../../shell/machineOptions.js';
import { machineSettings, parseScript } from '../../syscalls/trace/index.js';
import { machineFromOptions } from '../../kernel/machineConfig.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/shell/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'sjmp-shell-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sjmp(input: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, input, encoding: 'utf8', timeout: 60_000, env: { ...process.env, XDG_CONFIG_HOME: dir } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sjmp shell with piped input', () => {
  it('prints every view as plain text and exits 1 when a statement failed', () => {
    const r = sjmp('ps\nstats\nsegments\ntlb 0\npt init\nfoo(\n', 'shell');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/── processes \(1\) ─+\n.*PID\s+NAME/);
    expect(r.stdout).toMatch(/\n\s+1\s+init\s+0\s+0\s+live/);
    expect(r.stdout).toMatch(/── stats ─+\nmodelled cycles/);
    expect(r.stdout).toMatch(/── segments ─+\nno segments yet/);
    expect(r.stdout).toMatch(/── tlb cpu 0 ─+\n/);
    expect(r.stdout).toMatch(/── pt init\[1\] primary ─+\n/);
    expect(r.stdout).toContain("<stdin>:6:1: unknown call 'foo'");
    expect(r.stdout).toContain('modelled cycles of the emulated machine: 4 CPUs, 4G in 1 node, 4-level paging, profile m2, seed 1, TLB tags: flush');
    expect(r.stdout).not.toContain('…');
  });

  it('exits 0 when everything ran, and a bad access in a script is a failure', () => {
    expect(sjmp('process p\nas p\nstore64 0x1000_0000 1\nload64 0x1000_0000 = 1\n', 'shell').status).toBe(0);
    const r = sjmp('load64 0x1000\nps\n', 'shell');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('init[1] was killed');
  });

  it('save writes the command line\'s machine options; `sjmp trace` replays it on the same machine', () => {
    const r = sjmp('process a\nsave kept.trace\n', '--cpus', '2', '--tags', 'tagged', 'shell');
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'kept.trace'), 'utf8')).toContain('machine cpus=2 pcid=on\n');
    const t = spawnSync(process.execPath, [cli, 'trace', 'kept.trace'], { cwd: dir, encoding: 'utf8' });
    expect(t.stdout).toContain('machine: 2 CPUs, 4G in 1 node, 4-level paging, profile m2, seed 1, TLB tags: tagged');
  });

  it('pcid=true in a machine line means tagged in `sjmp trace` and in the shell alike', () => {
    writeFileSync(join(dir, 'pcid.trace'), 'machine pcid=true cpus=1\nprocess a\n');
    const t = spawnSync(process.execPath, [cli, 'trace', 'pcid.trace'], { cwd: dir, encoding: 'utf8' });
    expect(t.stdout).toContain('TLB tags: tagged');
    expect(sjmp('machine pcid=true cpus=1\n', 'shell').stdout).toContain('machine: 1 CPUs, 4G in 1 node, 4-level paging, profile m2, seed 1, TLB tags: tagged');
    expect(sjmp('run pcid.trace\nstats\n', 'shell').stdout).toContain('TLB tags: tagged');
  });
});

describe('the machine-settings adapter', () => {
  const settingsOf = (line: string) => {
    const r = parseScript(line);
    expect(r.errors).toEqual([]);
    return [...machineSettings(r.statements).values()];
  };

  it('reads every spelling of a boolean the parser accepts', () => {
    for (const on of ['on', 'true', 'yes', '1']) expect(machineLineOptions(settingsOf(`machine pcid=${on} aslr=${on}`))).toEqual({ tags: 'tagged', aslr: true });
    for (const off of ['off', 'false', 'no', '0']) expect(machineLineOptions(settingsOf(`machine pcid=${off}`))).toEqual({ tags: 'flush' });
  });

  it('writes a machine line that reads back to the same machine', () => {
    const options = { paging: '5', mem: '8G', nodes: '2', cpus: '3', profile: 'm2-barrelfish', costs: 'syscall=500,walkRef=20', tlb: 'skylake,stlb=2048/16', tags: 'tagged', seed: '9', aslr: true };
    const line = machineLineText(options)!;
    const back = machineLineOptions(settingsOf(line));
    expect(machineFromOptions(back)).toEqual(machineFromOptions(options));
    expect(machineLineText({})).toBeNull();
  });
});
