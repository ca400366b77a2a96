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
    expect(r.stdout).toContain('[bob[3]] vas_switch(0x1_0001) = 0');
    expect(r.stdout).toContain('[bob[3]] load64 0x4000_0000_0000 = 0x2a');
    expect(r.stdout).toMatch(/^--- .*passes\.trace: passed: \d+ statements, expectations 8 passed \/ 0 failed, 1 faults \(0 killed\), 0 errors$/m);
    expect(r.stdout).toMatch(/^ {4}modelled cycles \(profile m2\): .*alice\[2\] \d+/m);
  });

  it('a trace with a failing expectation exits 1 and marks the statement', () => {
    const p = file('fails.trace', '# one expectation that does not hold\nprocess p uid=1000 gid=100 {\n    getpid() = 12345\n    getuid() = 1000\n}\n');
    const r = sjmp('trace', p);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/getpid\(\) = 2 .*✗.*expected 12345, got 2\) at \S*fails\.trace:3:5$/m);
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
    const env = JSON.parse(r.stdout) as { runs: { file: string; machine: { paging: number }; transcript: { process: string; text: string; ok: boolean }[]; summary: { statements: number; expectations: { passed: number; failed: number } } }[] };
    const doc = env.runs[0];
    expect(doc.machine.paging).toBe(4);
    expect(doc.transcript.length).toBeGreaterThan(10);
    expect(doc.transcript.every((e) => e.ok)).toBe(true);
    expect(doc.transcript.some((e) => e.process === 'bob[3]' && e.text.startsWith('vas_switch('))).toBe(true);
    expect(doc.summary.expectations.failed).toBe(0);
    expect(doc.summary.expectations.passed).toBeGreaterThan(0);
    expect(doc.summary.statements).toBeGreaterThan(0);
    // The machine at the end, from the read-only snapshot: the script's processes, space and segment.
    const state = (JSON.parse(r.stdout) as { runs: { state: { processes: { name: string }[]; namedSpaces: { name: string; shadows: { processName: string }[] }[]; segments: { name: string; size: number }[]; counters: { profile: string } } }[] }).runs[0].state;
    expect(state.processes.map((p) => p.name)).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect(state.namedSpaces.map((v) => [v.name, v.shadows.map((a) => a.processName)])).toContainEqual(['v', ['bob']]);
    expect(state.segments).toContainEqual(expect.objectContaining({ name: 's', size: 4096 }));
    expect(state.counters.profile).toBe('m2');
  });

  it('--json with a failing expectation still prints JSON and exits 1', () => {
    const p = file('fails-json.trace', 'process p {\n    getpid() = 99\n}\n');
    const r = sjmp('trace', '--json', p);
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; runs: { summary: { expectations: { failed: number } } }[] };
    expect(doc.ok).toBe(false);
    expect(doc.runs[0].summary.expectations.failed).toBe(1);
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

describe('a script that dies fails (exit 1, file:line on stderr, also under --quiet)', () => {
  it('a process killed by an unexpected fault', () => {
    const p = file('dies.trace', 'getpid() = 1\nload64 0x1000\n');
    for (const extra of [[], ['--quiet']]) {
      const r = sjmp('trace', ...extra, p);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^\S*dies\.trace:2:1: load64 0x1000: init\[1\] was killed by a fault no 'expect fault' asked for: segmentation fault/m);
      expect(r.stdout).toMatch(/^--- \S*dies\.trace: FAILED: .*1 faults \(1 killed\)/m);
    }
  });

  it('a memset that runs out of memory', () => {
    const p = file('oom.trace', 'machine mem=64M\np = mmap(0, 1T, RW, MAP_PRIVATE|MAP_ANON) = ok\nmemset p 1T 0\n');
    const r = sjmp('trace', '--quiet', p);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/oom\.trace:3:1: memset 0x10_0000_0000 1099511627776 0: init\[1\] was killed .*out of memory/);
  });

  it('every failed expectation and error is one line with file:line:col under --quiet; several files end with one combined line', () => {
    const a = file('q1.trace', 'getpid() = 2\nx = "s"\nload64 x\n');
    const b = file('q2.trace', 'getpid() = 1\n');
    const r = sjmp('trace', '--quiet', a, b);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l !== '')).toEqual([
      expect.stringMatching(/q1\.trace:1:1: getpid\(\): expected 2, got 1$/),
      expect.stringMatching(/q1\.trace:3:8: expected a number, got a string$/),
    ]);
    const last = r.stdout.trim().split('\n').pop();
    expect(last).toBe(`=== 2 files: 1 passed, 1 failed (failed: ${a})`);
  });
});

describe('numbers: two\'s complement', () => {
  it('store64 p -1 then load64 p = -1 holds and the store echoes -1', () => {
    const p = file('minus1.trace', 'p = mmap(0, 4K, RW, MAP_PRIVATE|MAP_ANON) = ok\nstore64 p -1\nload64 p = -1\n');
    const r = sjmp('trace', p);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\] store64 0x10_0000_0000 -1 /);
    expect(r.stdout).not.toContain('-0x1');
  });
});

describe('an strace-like transcript', () => {
  const SCRIPT = `process alice uid=1000 gid=100 {
    sid = seg_alloc("s", SEG_BASE, 4K, 0644) = 1
    seg_ctl(sid, SEG_CTL_LOCKABLE, 1) = 0
    vid = vas_create("v", 0644) = 1
    vas_ctl(VAS_CTL_CHMOD, vid, 0640) = 0
    seg_attach(CURRENT, sid) = 0
    vh = vas_attach(vid) = >0
    vas_switch(vh) = 0
    mmap(0, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANON) = ok
    open("/f", O_CREAT|O_RDWR, 0644) = ok
    vas_find("nope") = -ENOENT
}
process bob uid=1001 gid=100 {
    getpid() = bob
}
`;
  it('decodes constants symbolically and prints a handle one way', () => {
    const r = sjmp('trace', file('sym.trace', SCRIPT));
    expect(r.status).toBe(0);
    for (const want of ['seg_ctl(1, SEG_CTL_LOCKABLE, 1) = 0', 'vas_ctl(VAS_CTL_CHMOD, 1, 0640) = 0', 'seg_attach(CURRENT, 1) = 0',
      'vas_attach(1) = 0x1_0001', 'vas_switch(0x1_0001) = 0', 'mmap(0x0, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANON)',
      'open("/f", O_RDWR|O_CREAT, 0644)', 'vas_create("v", 0644) = 1']) expect(r.stdout).toContain(want);
    expect(r.stdout).not.toMatch(/0x10001|65537/);
  });

  it('-e trace=vas_*,seg_* selects calls by name, -p by process', () => {
    const p = file('sel.trace', SCRIPT);
    const e = sjmp('trace', '-e', 'trace=vas_*,seg_ctl', p);
    const calls = e.stdout.split('\n').filter((l) => l.startsWith('['));
    expect(calls.length).toBe(6);
    expect(calls.every((l) => /\] (vas_|seg_ctl)/.test(l))).toBe(true);
    const byProcess = sjmp('trace', '-p', 'bob', p);
    expect(byProcess.stdout.split('\n').filter((l) => l.startsWith('['))).toEqual([
      expect.stringMatching(/^\[bob\[3\]\] process bob = pid 3 uid=1001 gid=100 cpu \d$/), expect.stringMatching(/^\[bob\[3\]\] getpid\(\) = 3 /),
    ]);
    const bad = sjmp('trace', '-e', 'signal=all', p);
    expect(bad.status).toBe(2);
    expectOneLineError(bad, /-e signal= is not supported/);
    const except = sjmp('trace', '-e', 'trace=!vas_*,seg_*,process', p);
    const rest = except.stdout.split('\n').filter((l) => l.startsWith('['));
    expect(rest.map((l) => /\] (\w+)/.exec(l)![1])).toEqual(['mmap', 'open', 'getpid']);
    const noSuch = sjmp('trace', '-p', 'bobb', p);
    expect(noSuch.status).toBe(2);
    expectOneLineError(noSuch, /-p bobb: no process of that name in the script \(did you mean bob\?\)/);
    const typo = sjmp('trace', '-e', 'trace=vas_swtch', p);
    expect(typo.status).toBe(2);
    expectOneLineError(typo, /no call or statement is called 'vas_swtch' \(did you mean vas_switch\?\)/);
  });

  it('-c prints a per-call count and modelled-cycles table instead of the transcript', () => {
    const r = sjmp('trace', '-c', file('count.trace', SCRIPT));
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/^\[/m);
    expect(r.stdout).toContain('modelled cycles (profile m2)');
    expect(r.stdout).toMatch(/^\s+% cyc\s+cycles\s+cyc\/call\s+calls\s+errors\s+syscall$/m);
    expect(r.stdout).toMatch(/^\s+[\d.]+\s+\d+\s+\d+\s+1\s+1 vas_find$/m);
    expect(r.stdout).toMatch(/^\s*100\.00\s+\d+\s+\d+\s+11\s+1 total$/m);
  });

  it('-t prefixes modelled timestamps that never go back; -o writes to a file', () => {
    const out = join(dir, 'out.txt');
    const r = sjmp('trace', '-t', '-o', out, file('ts.trace', SCRIPT));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    const lines = readFileSync(out, 'utf8').split('\n').filter((l) => /^\s*\d+ \[/.test(l));
    expect(lines.length).toBeGreaterThan(10);
    const stamps = lines.map((l) => Number(l.trim().split(' ')[0]));
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThanOrEqual(stamps[i - 1]);
    const bad = sjmp('trace', '-o', join(dir, 'no/such/dir/x.txt'), file('ts2.trace', SCRIPT));
    expect(bad.status).toBe(2);
    expectOneLineError(bad, /cannot write -o .*no such directory/);
  });

  it('a reader that stops early (| head -1) ends the run quietly, no stack trace', () => {
    const examples = ['alice-bob', 'cow-fork', 'permissions', 'lockable'].map((n) => join(root, 'examples', `${n}.trace`)).join(' ');
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${cli}" trace ${examples} | head -1`], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.split('\n')[0]).toMatch(/^\[/);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at /);
  });

  it('trace - reads the script from stdin', () => {
    const r = spawnSync(process.execPath, [cli, 'trace', '-'], { cwd: root, encoding: 'utf8', input: 'getpid() = 1\nload64 0x1000\n', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('[init[1]] getpid() = 1');
    expect(r.stderr).toMatch(/^<stdin>:2:1: load64 0x1000: init\[1\] was killed/m);
  });
});

describe('input that is not a trace script', () => {
  it('a binary file stops after a few errors', () => {
    const bytes = Buffer.alloc(64 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 256;
    const p = join(dir, 'a.out');
    writeFileSync(p, bytes);
    const r = sjmp('trace', p);
    expect(r.status).toBe(2);
    expect(r.stderr.length).toBeLessThan(2000);
    expect(r.stderr).toMatch(/this does not look like a trace script \(binary data\)/);
  });

  it('a BOM at the start of a file is accepted', () => {
    const r = sjmp('trace', file('bom.trace', '\uFEFF# saved by an editor that writes a BOM\ngetpid() = 1\n'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('sjmp trace --json: one envelope', () => {
  it('has a version, the machine as fields, and the same shape for one file or several', () => {
    const a = file('j1.trace', 'machine paging=5 cpus=2 mem=1G\ngetpid() = 1\n');
    const b = file('j2.trace', 'getpid() = 2\n');
    const one = JSON.parse(sjmp('trace', '--json', a).stdout) as Record<string, unknown>;
    const two = sjmp('trace', '--json', a, b);
    expect(two.status).toBe(1);
    const both = JSON.parse(two.stdout) as Record<string, unknown>;
    for (const doc of [one, both]) {
      expect(Object.keys(doc).sort()).toEqual(['command', 'ok', 'runs', 'summary', 'version']);
      expect(doc.version).toBe(1);
      expect(doc.command).toBe('trace');
    }
    const runs = both.runs as { file: string; ok: boolean; machine: Record<string, unknown>; summary: { failures: string[] } }[];
    expect(runs).toHaveLength(2);
    expect(runs[0].machine).toMatchObject({ paging: 5, cpus: 2, memBytes: 2 ** 30, nodes: 1, seed: 1, tagPolicy: 'flush' });
    expect((runs[0].machine.profile as { name: string }).name).toBe('m2');
    expect(runs[1].ok).toBe(false);
    expect(runs[1].summary.failures[0]).toMatch(/j2\.trace:1:1: getpid\(\): expected 2, got 1/);
    expect(both.summary).toEqual({ files: 2, passed: 1, failed: 1 });
    expect(one.ok).toBe(true);
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
