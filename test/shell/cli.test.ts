// The built `sjmp` (dist/shell/cli.js, built by test/globalSetup.ts) as a user runs it: exit
// status 0 (success), 1 (an expectation failed), 2 (bad usage or script); errors are one clear
// line on stderr without a stack trace; --json, --quiet and machine overrides.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/shell/cli.js');
const aliceBob = join(root, 'examples/alice-bob.trace'); // for usage errors (never run)

/** A small passing trace: two processes, a segment, a named space, a switch. */
const PASSING = `# passes
machine paging=4 mem=1G cpus=2
base = 0x4000_0000_0000
process alice uid=1000 gid=100 {
    sid = seg_alloc("s", base, 4K, 0660) = >=0
    vid = vas_create("v", 0660) = >=0
    seg_attach(vid, sid) = 0
}
process bob uid=1001 gid=100 {
    vh = vas_attach(vid) = >0
    vas_switch(vh) = 0
    store64 base 42
    load64 base = 42
    vas_switch(PRIMARY) = 0
    expect fault read unmapped load64 base
}
`;

interface Run { status: number | null; stdout: string; stderr: string }

function sjmp(...args: string[]): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One line of error text, no stack trace. */
function expectOneLineError(r: Run, pattern: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

let dir = '';
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'sjmp-cli-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('sjmp --version and --help', () => {
  it('--version prints the package version and exits 0', () => {
    const r = sjmp('--version');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('--help lists the subcommands and global machine options, exit 0', () => {
    const r = sjmp('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\s+trace\b/m);
    expect(r.stdout).toContain('--paging');
    expect(r.stdout).toContain('--mem');
  });

  it('trace --help describes the trace options, exit 0', () => {
    const r = sjmp('trace', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--json');
    expect(r.stdout).toContain('--quiet');
    expect(r.stdout).toContain('--paging');
  });
});

describe('sjmp trace exit status', () => {
  it('a passing trace exits 0 with a transcript and a summary', () => {
    const r = sjmp('trace', file('passes.trace', PASSING));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('[bob[3]] vas_switch(0x10001) = 0');
    expect(r.stdout).toContain('[bob[3]] load64 0x4000_0000_0000 = 0x2a');
    expect(r.stdout).toMatch(/^--- .*passes\.trace: \d+ statements, expectations 8 passed \/ 0 failed, 1 faults, 0 errors$/m);
    expect(r.stdout).toMatch(/^ {4}modelled cycles \(profile m2\): .*alice\[2\] \d+/m);
  });

  it('a trace with a failing expectation exits 1 and marks the statement', () => {
    const p = file('fails.trace', '# one expectation that does not hold\nprocess p uid=1000 gid=100 {\n    getpid() = 12345\n    getuid() = 1000\n}\n');
    const r = sjmp('trace', p);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/getpid\(\) = 2 .*✗.*expected 12345/);
    expect(r.stdout).toContain('expectations 1 passed / 1 failed');
  });

  it('a bad script exits 2, reports file:line:col: message on stderr, and runs nothing', () => {
    const good = file('good.trace', 'process p uid=1000 gid=100 {\n    getpid() = ok\n}\n');
    const bad = file('bad.trace', '# a typo on line 4\nprocess p uid=1000 gid=100 {\n    mmap(0, 4K, RW, MAP_PRIVATE|MAP_ANONYMOUS) = >0\n    vid = vas_crate("x", 0660)\n}\n');
    const r = sjmp('trace', good, bad);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe(''); // not even good.trace ran
    expect(r.stderr).toMatch(/^\S*bad\.trace:4:11: unknown call 'vas_crate'.*vas_create/m);
    expect(r.stderr).toContain('vas_crate("x", 0660)'); // the offending text
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('a missing file is a bad script: exit 2, one line', () => {
    const r = sjmp('trace', join(dir, 'nosuch.trace'));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expectOneLineError(r, /nosuch\.trace.*no such file/);
  });
});

describe('usage errors: exit 2, one clear line on stderr, no stack trace', () => {
  it('an unknown option', () => {
    const r = sjmp('trace', '--bogus', aliceBob);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expectOneLineError(r, /unknown option '--bogus'/);
  });

  it('an unknown subcommand', () => {
    const r = sjmp('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expectOneLineError(r, /unknown command 'frobnicate'/);
  });

  it('a misspelt subcommand gets a suggestion on the same line', () => {
    const r = sjmp('tracee', aliceBob);
    expect(r.status).toBe(2);
    expectOneLineError(r, /unknown command 'tracee'.*trace/);
  });

  it('a bad --mem, before or after the subcommand', () => {
    for (const args of [['trace', '--mem', 'banana', aliceBob], ['--mem', 'banana', 'trace', aliceBob]]) {
      const r = sjmp(...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expectOneLineError(r, /--mem.*banana/);
    }
  });

  it('a bad --paging', () => {
    const r = sjmp('trace', '--paging', '6', aliceBob);
    expect(r.status).toBe(2);
    expectOneLineError(r, /--paging.*6/);
  });

  it('no trace file', () => {
    const r = sjmp('trace');
    expect(r.status).toBe(2);
    expectOneLineError(r, /files/);
  });
});

describe('sjmp trace output modes', () => {
  it('--json prints one JSON document with the transcript and the summary', () => {
    const r = sjmp('trace', '--json', file('passes-json.trace', PASSING));
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as { file: string; machine: string; transcript: { process: string; text: string; ok: boolean }[]; summary: { statements: number; expectations: { passed: number; failed: number } } };
    expect(doc.machine).toContain('4-level');
    expect(doc.transcript.length).toBeGreaterThan(10);
    expect(doc.transcript.every((e) => e.ok)).toBe(true);
    expect(doc.transcript.some((e) => e.process === 'bob[3]' && e.text.startsWith('vas_switch('))).toBe(true);
    expect(doc.summary.expectations.failed).toBe(0);
    expect(doc.summary.expectations.passed).toBeGreaterThan(0);
    expect(doc.summary.statements).toBeGreaterThan(0);
    // The machine at the end, from the read-only snapshot: the script's processes, space and segment.
    const state = (JSON.parse(r.stdout) as { state: { processes: { name: string }[]; namedSpaces: { name: string; shadows: { processName: string }[] }[]; segments: { name: string; size: number }[]; counters: { profile: string } } }).state;
    expect(state.processes.map((p) => p.name)).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect(state.namedSpaces.map((v) => [v.name, v.shadows.map((a) => a.processName)])).toContainEqual(['v', ['bob']]);
    expect(state.segments).toContainEqual(expect.objectContaining({ name: 's', size: 4096 }));
    expect(state.counters.profile).toBe('m2');
  });

  it('--json with a failing expectation still prints JSON and exits 1', () => {
    const p = file('fails-json.trace', 'process p {\n    getpid() = 99\n}\n');
    const r = sjmp('trace', '--json', p);
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout) as { summary: { expectations: { failed: number } } };
    expect(doc.summary.expectations.failed).toBe(1);
  });

  it('--quiet prints only the summary', () => {
    const r = sjmp('trace', '--quiet', file('passes-quiet.trace', PASSING));
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.length > 0);
    expect(lines[0]).toMatch(/^--- .*passes-quiet\.trace: /);
    expect(lines.slice(1).every((l) => l.startsWith('    '))).toBe(true);
    expect(r.stdout).not.toContain('[bob[3]]');
  });
});

describe('machine options on the command line override the script', () => {
  const script = () => file('paging4.trace', '# says 4-level; the command line may say otherwise\nmachine paging=4 cpus=2 mem=1G\nprocess p {\n    getpid() = ok\n}\n');

  it('the script\'s own settings apply without overrides', () => {
    const r = sjmp('trace', '--quiet', script());
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('4-level');
    expect(r.stdout).toContain('2 CPUs');
  });

  it('--paging 5 after the subcommand', () => {
    const r = sjmp('trace', '--quiet', '--paging', '5', script());
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('5-level');
    expect(r.stdout).not.toContain('4-level');
  });

  it('--paging 5 --cpus 4 before the subcommand', () => {
    const r = sjmp('--paging', '5', '--cpus', '4', 'trace', '--quiet', script());
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('5-level');
    expect(r.stdout).toContain('4 CPUs');
  });

  it('an override changes what the trace does: five-level-on-4.trace fails under --paging 5', () => {
    const r = sjmp('trace', '--quiet', '--paging', '5', join(root, 'examples/five-level-on-4.trace'));
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('5-level');
  });
});

describe('sjmp gups', () => {
  it.each([
    [['--design', 'nope'], /unknown design "nope"/],
    [['--windows', '3'], /not a power of two/],
    [['--table', '0'], /positive/],
    [['--updates', '0'], /positive/],
    [['--page-size', '8K'], /4K or 2M/],
  ])('bad options %j exit 2 with one line on stderr', (args, msg) => {
    const r = sjmp('gups', ...(args as string[]));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs a small comparison as JSON with a checksum per run', () => {
    const r = sjmp('gups', '--table', '64K', '--windows', '1,2', '--update-set', '16', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { results: { design: string; checksum: string; verification: { passed: boolean } }[]; raw: unknown; clocks: unknown };
    expect(j.results).toHaveLength(6);
    expect(new Set(j.results.map((x) => x.checksum)).size).toBe(1);
    expect(j.results.every((x) => /^[0-9a-f]{16}$/.test(x.checksum) && x.verification.passed)).toBe(true);
    expect(j.clocks).toBeTruthy();
  });
});
