// `sjmp gups` as a user meets it (issue 19): impossible sizes and bad output paths fail before
// the run with one line that says what would work; a chart that cannot be written after a run
// does not throw the results away; the checksum tells tables apart; charts carry the run's
// parameters and tell series apart without colour; progress only at a terminal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progressText } from '../../shell/progress.js';
import { textChart } from '../../shell/charts.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/shell/cli.js');

interface Run { status: number | null; stdout: string; stderr: string; ms: number }
function sjmp(...args: string[]): Run {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}
function oneLine(r: Run, pattern: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

let dir = '';
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'sjmp-gups-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const SMALL = ['--table', '64K', '--windows', '1,2', '--update-set', '16', '--updates', '4096'];

describe('sjmp gups: checked before the run', () => {
  it('a --plot in a missing folder is refused at once, before anything runs', () => {
    const r = sjmp('gups', '--plot', '/nonexistent/dir/x.svg');
    expect(r.status).toBe(2);
    oneLine(r, /--plot \/nonexistent\/dir\/x\.svg: folder .* does not exist/);
    expect(r.stdout).toBe('');
  });

  it('a table larger than the given --mem names both and what would work', () => {
    const r = sjmp('gups', '--table', '256M', '--mem', '128M');
    expect(r.status).toBe(2);
    oneLine(r, /--table 256M needs at least .* of emulated memory.*--mem 128M is too small: use --mem \S+ or more/);
  });

  it('a table the host cannot hold is refused with the largest that fits', () => {
    const r = sjmp('gups', '--table', '32G');
    if (os.totalmem() > 40 * 2 ** 30) return; // a host this large can run it
    expect(r.status).toBe(2);
    oneLine(r, /--table 32G needs about .* of this host's memory.*use --table \S+ or smaller/);
    expect(r.ms).toBeLessThan(20_000);
  });

  it('--page-size 2M on a table smaller than a page blames the table, not --windows', () => {
    const r = sjmp('gups', '--page-size', '2M');
    expect(r.status).toBe(2);
    oneLine(r, /--page-size 2M: the table \(--table 1M\) is smaller than one page; use --table 2M or larger/);
    const w = sjmp('gups', '--page-size', '2M', '--table', '4M', '--windows', '1,8');
    expect(w.status).toBe(2);
    oneLine(w, /--windows 8: a window would be 512K.*at most 2 windows work/);
  });
});

describe('sjmp gups: results are never thrown away', () => {
  it('a chart that cannot be written after the run still prints the results, then fails', () => {
    const blocked = join(dir, 'blocked.svg');
    mkdirSync(blocked); // a folder where the file should go: the write fails after the run
    const r = sjmp('gups', ...SMALL, '--design', 'vas', '--plot', blocked);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/update set 16:/);
    expect(r.stdout).toMatch(/VAS\s+2\s/);
    oneLine(r, /could not write .*blocked\.svg/);
  });
});

describe('sjmp gups: the checksum', () => {
  it('differs between table sizes given the same updates (position-sensitive)', () => {
    const sums = ['64K', '128K'].map((t) => {
      const r = sjmp('gups', '--table', t, '--windows', '1', '--update-set', '16', '--updates', '4096', '--design', 'vas', '--json');
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { results: { checksum: string }[] }).results[0].checksum;
    });
    expect(sums[0]).not.toBe(sums[1]);
  });
});

describe('JSON documents', () => {
  it('gups --json is the common envelope with the machine as structured fields', () => {
    const r = sjmp('gups', ...SMALL, '--design', 'vas', '--json', '--paging', '5');
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { version: number; command: string; ok: boolean; machine: { paging: number; memBytes: number; profile: { name: string } }; results: unknown[] };
    expect(doc).toMatchObject({ version: 1, command: 'gups', ok: true, machine: { paging: 5, profile: { name: 'm2' } } });
    expect(doc.results).toHaveLength(2);
  });

  it('nibble refuses machine options it would otherwise ignore', () => {
    const r = sjmp('nibble', '--quick', '--paging', '5');
    expect(r.status).toBe(2);
    oneLine(r, /--paging is not supported by nibble: each configuration builds its own machine/);
  });
});

describe('sjmp gups: charts', () => {
  it('writes an SVG per update set with its Vega-Lite spec; series differ by shape and dash; parameters under the title', () => {
    const svg = join(dir, 'g.svg');
    const r = sjmp('gups', ...SMALL, '--update-set', '16,64', '--plot', svg);
    expect(r.status, r.stderr).toBe(0);
    for (const f of [svg, join(dir, 'g.vl.json'), join(dir, 'g-u64.svg'), join(dir, 'g-u64.vl.json')]) expect(existsSync(f), f).toBe(true);
    const spec = JSON.parse(readFileSync(join(dir, 'g.vl.json'), 'utf8')) as { title: { subtitle: string }; layer: { encoding: Record<string, unknown> }[] };
    expect(spec.title.subtitle).toMatch(/table 64K, 4096 updates, 4K pages, profile m2, seed \d+/);
    const enc = spec.layer.map((l) => Object.keys(l.encoding)).flat();
    expect(enc).toEqual(expect.arrayContaining(['shape', 'strokeDash', 'color']));
    const text = readFileSync(svg, 'utf8');
    expect(text).toMatch(/^<svg/);
    for (const name of ['MAP', 'MP', 'VAS', 'table 64K']) expect(text).toContain(name);
    expect(r.stdout).toMatch(/chart written to .*g\.svg/);
  });

  it('the terminal chart labels y ticks, keeps markers apart and centres categories', () => {
    const lines = textChart({ title: 't', xLabel: 'windows', yLabel: 'MUPS', x: [1, 2, 64], logY: true,
      series: [{ name: 'A', values: [100, 10, 1] }, { name: 'B', values: [100, 10, 1] }, { name: 'C', values: [100, 10, 1] }] });
    const ticks = lines.filter((l) => /┤/.test(l)).map((l) => l.split('┤')[0].trim());
    expect(ticks).toEqual(['100', '10', '1.0']);
    const top = lines.find((l) => l.startsWith('   100┤'))!;
    expect(top).toMatch(/●■▲/); // three series at the same value: side by side, none hidden
    expect(lines.some((l) => /\b64\b/.test(l) && l.includes('windows'))).toBe(true);
  });
});

describe('progress', () => {
  it('shows done/total, percent and an ETA once the rate is known', () => {
    expect(progressText(0, 100, 'x', 0)).toMatch(/ 0% {2}ETA \? {2}x$/);
    expect(progressText(25, 100, 'VAS, 2 windows', 10_000)).toMatch(/ 25% {2}ETA 30s {2}VAS, 2 windows$/);
    expect(progressText(50, 100, 'y', 600_000)).toMatch(/ETA 10m00s/);
  });

  it('stays silent when stderr is piped', () => {
    const r = sjmp('gups', ...SMALL, '--design', 'vas');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it.skipIf(!existsSync('/usr/bin/script'))('draws a progress line at a terminal (under script(1))', () => {
    const cmd = `${process.execPath} ${cli} gups --table 256K --windows 1,2,4 --update-set 16 --updates 200000 >/dev/null`;
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[[#.]+\]\s+\d+%\s+ETA \S+\s+run \d\/9: (MAP|MP|VAS), \d windows?, update set 16/);
  });
});

describe('--costs: one profile for everything (issue 18)', () => {
  it('changes the program-side cost GUPS charges, and the report says so (text and JSON)', () => {
    const base = JSON.parse(sjmp('gups', ...SMALL, '--design', 'vas', '--json').stdout);
    const r = sjmp('gups', ...SMALL, '--design', 'vas', '--costs', 'gupsUpdate=40', '--json');
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.costs).toEqual({ profile: 'm2+gupsUpdate=40', overrides: { gupsUpdate: 40 }, programCosts: { gupsUpdate: 40 } });
    expect(base.costs).toEqual({ profile: 'm2', overrides: {}, programCosts: { gupsUpdate: 8 } });
    expect(doc.machine.profile.overrides).toEqual({ gupsUpdate: 40 });
    for (const [i, x] of doc.results.entries()) {
      const b = base.results[i];
      // 32 more cycles per update, nothing else changed (the same events).
      expect(x.modelledCycles - b.modelledCycles).toBe(32 * x.updates);
      expect(x.events.walks).toBe(b.events.walks);
      expect(x.modelledMups).toBeLessThan(b.modelledMups);
    }
    const text = sjmp('gups', ...SMALL, '--design', 'vas', '--costs', 'gupsUpdate=40');
    expect(text.stdout).toMatch(/^costs: profile m2 \(overrides gupsUpdate=40\); program-side cycles: gupsUpdate=40$/m);
  });

  it('an unknown parameter is a usage error with one line, for gups and nibble alike', () => {
    for (const cmd of ['gups', 'nibble']) {
      const r = sjmp(cmd, '--costs', 'gupsUpdat=3');
      expect(r.status, `${cmd}: ${r.stderr}`).toBe(2);
      oneLine(r, /unknown cost parameter "gupsUpdat"/);
      expect(r.stdout).toBe('');
    }
    const w = sjmp('gups', '--costs', 'nibblePoll=0');
    expect(w.status).toBe(2);
    oneLine(w, /nibblePoll is a wait: it must be at least 1 cycle/);
  });
});
