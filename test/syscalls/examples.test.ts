// Every example a new user can run (examples/*.trace) runs clean through the trace runner, in
// process: it parses, no expectation fails, nothing errors. Two of them (alice-bob, cow-fork) are
// also compared line by line with a reviewed transcript in test/syscalls/golden/; run with
// UPDATE_GOLDEN=1 to rewrite those after a deliberate change (and review the diff).
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTraceFile, runParsedTrace, type TraceFileResult } from '../../shell/commands/trace.js';
import { formatDiagnostics } from '../../syscalls/trace/index.js';
import { formatEntry } from '../../syscalls/trace/runner.js';

const examplesDir = fileURLToPath(new URL('../../examples', import.meta.url));
const goldenDir = fileURLToPath(new URL('./golden', import.meta.url));
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.trace')).sort();
const libs = existsSync(join(examplesDir, 'lib')) ? readdirSync(join(examplesDir, 'lib')).filter((f) => f.endsWith('.trace')).sort() : [];

const results = new Map<string, TraceFileResult>();

/** Parse and run one example on a fresh machine (each at most once per test file). */
function run(name: string): TraceFileResult {
  let r = results.get(name);
  if (!r) {
    const file = join(examplesDir, name);
    const parsed = parseTraceFile(file);
    if (!parsed.ok) throw new Error(`${name} does not parse:\n${formatDiagnostics(parsed.errors)}`);
    r = runParsedTrace(`examples/${name}`, parsed, {});
    results.set(name, r);
  }
  return r;
}

function transcriptText(r: TraceFileResult): string {
  return r.transcript.map(formatEntry).join('\n') + '\n';
}

/** What each example is there to show, as text its transcript must contain. */
const SHOWS: Record<string, (string | RegExp)[]> = {
  'alice-bob.trace': ['= -ENOMEM', 'vas_switch(0x1_0001) = 0', '= 0xa_11ce', '= 0xb0b'],
  'excl-vs-switch.trace': [/MAP_FIXED\|MAP_ANON\|MAP_EXCL\) = -ENOMEM/, 'seg_attach(PRIMARY, 1) = -EEXIST', 'vas_switch(0x1_0001) = 0', '= 0x7_ab1e', '= fault (write, protection)'],
  'lockable.trace': ['= -EBUSY', '<blocked on seg-lock:counter>', 'vas_switch(0x1_0001) <resumed> = 0'],
  'permissions.trace': ['seg_find("secret") = -EACCES', 'vas_attach(1) = -EACCES', 'seg_attach(PRIMARY, 2, PROT_READ|PROT_WRITE) = -EACCES', '= fault (write, protection)', '= -EPERM'],
  'cow-fork.trace': ['fork() = 3', '[child[3]] load64 0x10_0000_0000 = 2', '[parent[2]] load64 0x10_0000_0000 = 1', '[parent[2]] load64 0x10_0000_0000 = 3'],
  'survivor.trace': ['exit(0) = 0', '[dave[6]] seg_find("journal") = 1', '[dave[6]] load64 0x4000_0000_0000 = 0x1_0001'],
  'five-level.trace': ['seg_alloc("higher", 0x40_0000_0000_0000', 'load64 0x40_0000_0000_0000 = 0xffff_ffff_ffff_fffe'],
  'checks.trace': [
    'expect cycles < 5000 = 1197 cycles', 'expect errno one of (ENOENT, EACCES) = -ENOENT', 'expect blocked bob[3] = blocked in vas_switch()',
    'show locks 1 = segment 1 "counter": writer alice[2].main; waiting: bob[3].main', 'probe load64 0x1000 = fault (read, unmapped)',
    'probe store64 0x1000_0000 2 = ok', '[bob[3]] getppid() = 1', 'thread_exit(0) = 0', 'check invariants = hold',
  ],
  'five-level-on-4.trace': ['seg_alloc("high", 0x1_0000_0000_0000, 1048576, 0660) = -EINVAL', '= fault (read, noncanonical)'],
};

describe('examples/*.trace', () => {
  it('has the examples the documentation promises', () => {
    for (const name of Object.keys(SHOWS)) expect(examples).toContain(name);
  });

  it.each(examples)('%s starts with a comment saying what it shows', (name) => {
    const first = readFileSync(join(examplesDir, name), 'utf8').split('\n')[0];
    expect(first).toMatch(/^# \S/);
  });

  it.each(examples)('%s runs with every expectation holding', (name) => {
    const r = run(name);
    const bad = r.transcript.filter((e) => !e.ok).map(formatEntry);
    expect(bad).toEqual([]);
    expect(r.summary.errors).toBe(0);
    expect(r.summary.expectations.failed).toBe(0);
    expect(r.summary.expectations.passed).toBeGreaterThan(0);
    expect(r.summary.failures).toEqual([]);
    expect(r.summary.passed).toBe(true);
  });

  it.each(examples)('%s shows what it says it shows', (name) => {
    const text = transcriptText(run(name));
    for (const want of SHOWS[name] ?? []) {
      if (typeof want === 'string') expect(text).toContain(want);
      else expect(text).toMatch(want);
    }
  });

  it.each(libs)('lib/%s parses on its own', (name) => {
    const parsed = parseTraceFile(join(examplesDir, 'lib', name));
    expect(formatDiagnostics(parsed.errors)).toBe('');
    expect(parsed.ok).toBe(true);
  });

  it('at least one example uses a shared prelude through include', () => {
    const includes = examples.filter((n) => /^\s*include\s+"/m.test(readFileSync(join(examplesDir, n), 'utf8')));
    expect(includes.length).toBeGreaterThan(0);
  });

  it('five-level.trace runs on a 5-level machine, five-level-on-4.trace on a 4-level one', () => {
    expect(run('five-level.trace').machine).toContain('5-level');
    expect(run('five-level-on-4.trace').machine).toContain('4-level');
  });

  it('the blocked switch in lockable.trace resumes after the holder switches out', () => {
    const t = run('lockable.trace').transcript.map(formatEntry);
    const blocked = t.findIndex((l) => l.startsWith('[bob[3]] vas_switch(0x1_0001) = <blocked'));
    const release = t.findIndex((l, i) => i > blocked && l.startsWith('[alice[2]] vas_switch(PRIMARY) = 0'));
    const resumed = t.findIndex((l) => l.startsWith('[bob[3]] vas_switch(0x1_0001) <resumed> = 0'));
    expect(blocked).toBeGreaterThanOrEqual(0);
    expect(release).toBeGreaterThan(blocked);
    expect(resumed).toBe(release + 1);
  });
});

describe('golden transcripts', () => {
  it.each(['alice-bob', 'cow-fork'])('%s.trace matches its golden transcript', (name) => {
    const text = transcriptText(run(`${name}.trace`));
    const golden = join(goldenDir, `${name}.txt`);
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(goldenDir, { recursive: true });
      writeFileSync(golden, text);
    }
    expect(existsSync(golden), `${golden} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });
});
