// The trace runner on small scripts, in process: what fails a script (a failed expectation, an
// error, a process killed by a fault nobody expected, a kernel panic) and how each failure is
// reported (`file:line:col: what was expected, what happened`), numbers as 64-bit patterns, and
// the statements for checking what happened (expect cycles/errno/blocked, probe, check
// invariants, show), layout constants, process names as pids, thread_exit.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Kernel } from '../../kernel/kernel.js';
import { HEAP_BASE, RESERVED_START, STACK_TOP, TEXT_BASE } from '../../kernel/layout.js';
import { GiB, MiB } from '../../mmu/units.js';
import { parseScript } from '../../syscalls/trace/index.js';
import { TraceRunner, TRACE_CONSTANTS, formatEntry, type RunSummary } from '../../syscalls/trace/runner.js';
import { evaluateNumber } from '../../syscalls/trace/evaluate.js';

function run(text: string, opts: { mem?: number; patch?: (k: Kernel) => void } = {}): { summary: RunSummary; lines: string[]; runner: TraceRunner } {
  const parsed = parseScript(text, { file: 't.trace', knownCalls: TraceRunner.knownCalls(), knownConstants: Object.keys(TRACE_CONSTANTS) });
  expect(parsed.errors).toEqual([]);
  const k = new Kernel({ memBytes: opts.mem ?? GiB, cpus: 2 });
  opts.patch?.(k);
  const runner = new TraceRunner(k);
  const summary = runner.runScript(parsed.statements, parsed.sources);
  return { summary, lines: runner.transcript.map(formatEntry), runner };
}

const MAP = 'p = mmap(0, 4K, RW, MAP_PRIVATE|MAP_ANON) = ok';

describe('a script that dies fails', () => {
  it('an unexpected fault kills the process and fails the script at the statement', () => {
    const { summary } = run('getpid()\nload64 0x1000\n');
    expect(summary.passed).toBe(false);
    expect(summary.killed).toBe(1);
    expect(summary.failures).toHaveLength(1);
    expect(summary.failures[0]).toMatch(/^t\.trace:2:1: load64 0x1000: init\[1\] was killed by a fault no 'expect fault' asked for: segmentation fault: read at 0x1000/);
  });

  it('a memset that runs out of memory fails the script', () => {
    const { summary } = run('p = mmap(0, 1T, RW, MAP_PRIVATE|MAP_ANON) = ok\nmemset p 1T 0\n', { mem: 16 * MiB });
    expect(summary.passed).toBe(false);
    expect(summary.killed).toBe(1);
    expect(summary.failures[0]).toMatch(/^t\.trace:2:1: memset .*out of memory/);
  });

  it('a fault inside expect fault does not fail it', () => {
    const { summary } = run('expect fault read unmapped load64 0x1000\ngetpid() = 1\n');
    expect(summary.passed).toBe(true);
    expect(summary.killed).toBe(0);
    expect(summary.failures).toEqual([]);
  });

  it('a kernel panic is a failed step at its line; the summary still comes and nothing more runs', () => {
    // A JS exception outside the system-call boundary (which turns its own into kills): spawning.
    const { summary, lines } = run('getpid() = 1\nprocess alice\ngetpid() = 1\n', {
      patch: (k) => { const spawn = k.spawn.bind(k); k.spawn = (name, ...rest) => { if (name !== 'init') throw new TypeError('boom'); return spawn(name, ...rest); }; },
    });
    expect(summary.passed).toBe(false);
    expect(summary.panic).toBe('t.trace:2:1: TypeError: boom');
    expect(summary.failures[0]).toBe('t.trace:2:1: kernel panic: TypeError: boom');
    expect(summary.failures).toHaveLength(1);
    expect(lines.join('\n')).toContain('t.trace:2:1: kernel panic: TypeError: boom');
    expect(summary.expectations.passed).toBe(1);
  });

  it('after a panic in the shell, every later line says the machine is gone', () => {
    const runner = new TraceRunner(new Kernel({ memBytes: GiB, cpus: 1 }));
    runner.kernel.spawn = () => { throw new Error('boom'); };
    const first = runner.runLine('process alice', 1);
    expect(first.entries.map((e) => e.kind)).toEqual(['panic']);
    const next = runner.runLine('getpid()', 2);
    expect(next.entries[0].kind).toBe('error');
    expect(next.entries[0].note).toMatch(/^the kernel panicked earlier \(<stdin>:1:1: boom\)/);
  });
});

describe('failures say where, what was expected and what happened', () => {
  it('a failed call expectation', () => {
    const { summary } = run('vas_find("nope") = 1\n');
    expect(summary.failures).toEqual(['t.trace:1:1: vas_find("nope"): expected 1, got -ENOENT (no address space named "nope")']);
  });

  it('a failed load expectation and a statement that cannot run', () => {
    const { summary } = run(`${MAP}\nstore64 p 7\nload64 p = 8\nx = "s"\nload64 x\n`);
    expect(summary.failures).toEqual([
      't.trace:3:1: load64 0x10_0000_0000: expected 8, got 7',
      't.trace:5:8: expected a number, got a string',
    ]);
  });
});

describe('numbers are 64-bit patterns where they are compared (two\'s complement)', () => {
  it('store64 p -1 then load64 p = -1 holds, and the store echoes -1', () => {
    const { summary, lines } = run(`${MAP}\nstore64 p -1\nload64 p = -1\nload64 p = 0xffff_ffff_ffff_ffff\nload64 p = <0\nstore8 p -2\nload8 p = -2\nload8 p = 0xfe\n`);
    expect(summary.failures).toEqual([]);
    expect(summary.expectations.passed).toBe(6);
    expect(lines[1]).toMatch(/store64 0x10_0000_0000 -1 /);
  });

  it('a value that differs in the low bits still fails', () => {
    const { summary } = run(`${MAP}\nstore64 p -1\nload64 p = -2\nload32 p = -1\nload32 p = 0xffff\n`);
    expect(summary.failures).toHaveLength(2);
    expect(summary.failures[0]).toBe('t.trace:3:1: load64 0x10_0000_0000: expected -2, got 0xffff_ffff_ffff_ffff');
  });
});

describe('statements that check what happened', () => {
  it('expect cycles compares the previous statement\'s modelled cycles', () => {
    const { summary, lines } = run('getpid()\nexpect cycles > 10\nexpect cycles < 100000\nexpect cycles = 1\n');
    expect(summary.expectations).toEqual({ passed: 2, failed: 1 });
    expect(summary.failures[0]).toMatch(/^t\.trace:4:1: getpid\(\): expected cycles = 1, got \d+$/);
    expect(lines[1]).toMatch(/^\[init\[1\]\] expect cycles > 10 = \d+ cycles$/);
  });

  it('a woken call completing in between is not the previous statement', () => {
    const { summary, lines } = run(`
process alice
process bob
as alice {
    sid = seg_alloc("c", SEG_BASE, 4K, 0666) = 1
    seg_ctl(sid, SEG_CTL_LOCKABLE, 1) = 0
    vid = vas_create("v", 0666) = 1
    seg_attach(vid, sid) = 0
    vh = vas_attach(vid) = >0
    vas_switch(vh) = 0
}
@bob bvh = vas_attach(vid) = >0
@bob vas_switch(bvh)
@alice vas_switch(PRIMARY) = 0
expect cycles > 0
`);
    expect(lines.some((l) => l.includes('<resumed>'))).toBe(true);
    // The check is about alice's switch (which wakes bob: it pays the wake-up), not bob's resumed one.
    expect(summary.failures).toEqual([]);
    const alice = lines.find((l) => l.startsWith('[alice') && l.includes('vas_switch(PRIMARY)'))!;
    const bob = lines.find((l) => l.includes('<resumed>'))!;
    const cyclesOf = (l: string): string => /<(\d+) cycles>/.exec(l)![1];
    expect(cyclesOf(alice)).not.toBe(cyclesOf(bob));
    expect(lines.find((l) => l.includes('expect cycles'))).toMatch(new RegExp(`= ${cyclesOf(alice)} cycles$`));
  });

  it('expect errno one of (...) checks the previous call', () => {
    const { summary } = run('vas_find("x")\nexpect errno one of (ENOENT, ESRCH)\nexpect errno ENOENT\nexpect errno one of (EPERM, EINVAL)\ngetpid()\nexpect errno ENOENT\n');
    expect(summary.expectations).toEqual({ passed: 2, failed: 2 });
    expect(summary.failures).toEqual([
      't.trace:4:1: vas_find("x"): expected one of (-EPERM, -EINVAL), got -ENOENT',
      't.trace:6:1: getpid(): expected -ENOENT, got 1',
    ]);
  });

  it('expect errno after a statement that is not a call is an error', () => {
    const { summary } = run(`${MAP}\nload64 p\nexpect errno ENOENT\n`);
    expect(summary.errors).toBe(1);
    expect(summary.failures[0]).toMatch(/^t\.trace:3:1: expect errno checks a call's result; the previous statement \(load64 0x10_0000_0000\)/);
  });

  it('probe records a fault or a value and kills nobody', () => {
    const { summary, lines } = run(`${MAP}\nstore64 p 5\nprobe load64 0x1000\nprobe store64 0x1000 1\nprobe load64 p\nprobe store64 p 6\nload64 p = 6\n`);
    expect(summary.passed).toBe(true);
    expect(summary.killed).toBe(0);
    expect(lines[2]).toMatch(/^\[init\[1\]\] probe load64 0x1000 = fault \(read, unmapped\)/);
    expect(lines[3]).toMatch(/^\[init\[1\]\] probe store64 0x1000 1 = fault \(write, unmapped\)/);
    expect(lines[4]).toMatch(/^\[init\[1\]\] probe load64 0x10_0000_0000 = 5 /);
    expect(lines[5]).toMatch(/^\[init\[1\]\] probe store64 0x10_0000_0000 6 = ok /);
  });

  it('expect blocked, show locks and refs, thread_exit', () => {
    const { summary, lines } = run(`
process alice uid=1000 gid=100
process bob uid=1001 gid=100
as alice {
    sid = seg_alloc("c", SEG_BASE, 4K, 0660) = >=0
    seg_ctl(sid, SEG_CTL_LOCKABLE, 1) = 0
    vid = vas_create("v", 0660) = >=0
    seg_attach(vid, sid) = 0
    vh = vas_attach(vid) = >0
    vas_switch(vh) = 0
}
as bob {
    bvh = vas_attach(vid) = >0
    vas_switch(bvh) = 0
}
expect blocked bob
show locks sid
show refs seg sid
show refs vas vid
expect blocked alice
@alice vas_switch(PRIMARY) = 0
thread alice.t2
@alice.t2 thread_exit() = 0
@alice.t2 getpid()
check invariants
show frames
`);
    expect(lines).toContain('[init[1]] show locks 1 = segment 1 "c": writer alice[2].main; waiting: bob[3].main');
    expect(lines.some((l) => /^\[init\[1\]\] show refs seg 1 = segment 1 "c": object refCount \d+, mapped in 3 spaces: vas 1 "v", alice\[2\] vh 0x1_0001, bob\[3\] vh 0x1_0001$/.test(l))).toBe(true);
    expect(lines).toContain('[init[1]] show refs vas 1 = vas 1 "v": 2 attached: alice[2] vh 0x1_0001 (1 thread in it), bob[3] vh 0x1_0001 (0 threads in it); segments 1');
    expect(lines.some((l) => /^\[init\[1\]\] show frames = \d+ frames in use/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('[bob[3]] vas_switch(0x1_0001) <resumed> = 0'))).toBe(true);
    expect(summary.failures).toEqual([
      't.trace:20:1: expected alice[2] to be blocked in a call, it is running',
      't.trace:24:11: alice[2].t2 has exited',
    ]);
    expect(lines).toContain('[init[1]] check invariants = hold');
  });

  it('check invariants reports what the checker finds', () => {
    const { summary } = run('getpid()\ncheck invariants\n', {
      patch: (k) => { k.hooks.push({ invariants: { name: 'test', check: () => ['planted problem'] } }); },
    });
    expect(summary.failures).toEqual(['t.trace:2:1: expected the kernel invariants to hold, found: test: planted problem']);
  });
});

describe('names and constants', () => {
  it('layout constants name where things are in every process', () => {
    expect(TRACE_CONSTANTS.HEAP).toBe(HEAP_BASE);
    expect(TRACE_CONSTANTS.TEXT).toBe(TEXT_BASE);
    expect(TRACE_CONSTANTS.STACK_TOP).toBe(STACK_TOP);
    expect(TRACE_CONSTANTS.SEG_BASE).toBe(RESERVED_START);
    const { summary } = run('store64 HEAP 9\nload64 HEAP = 9\nseg_alloc("s", SEG_BASE, 4K, 0600) = 1\n');
    expect(summary.failures).toEqual([]);
  });

  it('a process name is its pid', () => {
    const { summary } = run('process alice\nas alice { getpid() = alice }\n@alice getppid() = init\nx = alice + 1\n@alice getpid() = x - 1\n');
    expect(summary.failures).toEqual([]);
    expect(summary.expectations.passed).toBe(3);
  });

  it('the runner\'s evaluator (shared with the shell) resolves names, process names and constants', () => {
    const runner = new TraceRunner(new Kernel({ memBytes: GiB, cpus: 1 }));
    runner.runLine('process bob', 1);
    runner.runLine('v = 40', 2);
    const parsed = parseScript('x = bob * 100 + v + PROT_WRITE', { context: { ...runner.context, names: new Map(runner.context.names) } });
    expect(parsed.errors).toEqual([]);
    const st = parsed.statements[0];
    expect(st.kind).toBe('let');
    if (st.kind === 'let') expect(evaluateNumber(st.value, runner.env)).toBe(242n);
  });
});

describe('docs/traces.md', () => {
  const md = readFileSync('docs/traces.md', 'utf8');

  it('every script example parses with the runner\'s own calls and constants', () => {
    // Fenced blocks, also those indented inside list items, with the indentation removed.
    const blocks = md.split(/^[ \t]*```.*$/m).filter((_b, i) => i % 2 === 1)
      .map((b) => { const pad = /^\n([ \t]*)/.exec(b)?.[1] ?? ''; return b.split('\n').map((l) => l.slice(pad.length)).join('\n').trim(); })
      .filter((b) => b.startsWith('#'));
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const b of blocks) {
      const r = parseScript(b, { file: 'docs/traces.md', knownCalls: TraceRunner.knownCalls(), knownConstants: Object.keys(TRACE_CONSTANTS) });
      expect(r.errors.map((e) => `${e.line}: ${e.message}`)).toEqual([]);
    }
  });

  it('the layout constants table gives the runner\'s values', () => {
    const rows = [...md.matchAll(/^\| `([A-Z_]+)` \| `(0x[0-9a-f_]+)` \|/gm)];
    expect(rows.map((r) => r[1]).sort()).toEqual(['HEAP', 'MMAP_BASE', 'SEG_BASE', 'STACK_TOP', 'TEXT']);
    for (const [, name, value] of rows) expect(BigInt(value.replace(/_/g, ''))).toBe(BigInt(TRACE_CONSTANTS[name]));
  });
});
