import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import {
  parseScript, parseLine, parseFile, parseMachineSetting, machineSettings, createParseContext, lex,
  formatDiagnostic, formatAt, memoryLoader, nodeFileLoader,
  type Statement, type Expr, type CallStmt, type ParseResult, type ParseOptions, type CallArity,
} from '../../syscalls/trace/index.js';

// The syscall table the runner will pass; here only to exercise the hook.
const CALLS: Record<string, CallArity> = {
  mmap: { minArgs: 4, maxArgs: 6 }, munmap: { minArgs: 2, maxArgs: 2 }, mprotect: { minArgs: 3, maxArgs: 3 },
  fork: { minArgs: 0, maxArgs: 0 }, exit: { minArgs: 1, maxArgs: 1 }, getpid: { minArgs: 0, maxArgs: 0 },
  vas_create: { minArgs: 2, maxArgs: 2 }, vas_find: { minArgs: 1, maxArgs: 1 }, vas_attach: { minArgs: 1, maxArgs: 1 },
  vas_detach: { minArgs: 1, maxArgs: 1 }, vas_switch: { minArgs: 1, maxArgs: 1 }, vas_clone: { minArgs: 1, maxArgs: 1 },
  vas_ctl: { minArgs: 2, maxArgs: 3 }, seg_alloc: { minArgs: 4, maxArgs: 4 }, seg_find: { minArgs: 1, maxArgs: 1 },
  seg_attach: { minArgs: 2, maxArgs: 3 }, seg_detach: { minArgs: 2, maxArgs: 2 }, seg_clone: { minArgs: 1, maxArgs: 1 },
  seg_ctl: { minArgs: 2, maxArgs: 3 },
};

function ok(text: string, options: ParseOptions = {}): Statement[] {
  const r = parseScript(text, { file: 't.trace', ...options });
  if (!r.ok) throw new Error(r.errors.map(formatDiagnostic).join('\n'));
  return r.statements;
}

function one(text: string, options: ParseOptions = {}): Statement {
  const ss = ok(text, options);
  const last = ss[ss.length - 1];
  return last;
}

function errs(text: string, options: ParseOptions = {}): string[] {
  const r = parseScript(text, { file: 't.trace', ...options });
  expect(r.ok).toBe(false);
  return r.errors.map((e) => `${e.line}:${e.col}: ${e.message}`);
}

function firstErr(text: string, options: ParseOptions = {}): string {
  return errs(text, options)[0];
}

/** A compact, position-free rendering of an expression for assertions. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'number': return `${e.value}`;
    case 'float': return `${e.value}f`;
    case 'string': return JSON.stringify(e.value);
    case 'name': return e.name;
    case 'const': return e.name;
    case 'neg': return `(-${show(e.operand)})`;
    case 'binary': return `(${show(e.left)} ${e.op} ${show(e.right)})`;
  }
}

function value(text: string): Expr {
  const s = one(`x = ${text}`);
  if (s.kind !== 'let') throw new Error('not a let');
  return s.value;
}

describe('numbers', () => {
  it('reads decimal, hex with underscores, octal, binary and sizes as exact bigints', () => {
    expect(value('0.5')).toMatchObject({ kind: 'float', value: 0.5, raw: '0.5' });
    expect(value('2.0')).toMatchObject({ kind: 'float', value: 2 });
    expect(value('9007199254740993.0')).toMatchObject({ kind: 'float', value: 2 ** 53 });
    expect(value('1e-7')).toMatchObject({ kind: 'float', value: 1e-7 });
    expect(value('1_000.25E3')).toMatchObject({ kind: 'float', value: 1000250 });
    expect(value('NaN')).toMatchObject({ kind: 'float', raw: 'NaN' });
    expect(show(value('-Infinity'))).toBe('(-Infinityf)');
    expect(show(value('-0.5 * 2'))).toBe('((-0.5f) * 2)');
    expect(firstErr('x = 1.5.2')).toBe("1:6: unexpected '.' after the statement");
    expect(firstErr('machine mem=1.5')).toMatch(/^1:13: mem needs an integer \(/);
    expect(value('42')).toMatchObject({ kind: 'number', value: 42n, radix: 10 });
    expect(value('1_000_000')).toMatchObject({ value: 1000000n });
    expect(value('0x7f00_0000_0000')).toMatchObject({ value: 0x7f0000000000n, radix: 16, raw: '0x7f00_0000_0000' });
    expect(value('0660')).toMatchObject({ value: 0o660n, radix: 8 });
    expect(value('0o17')).toMatchObject({ value: 15n, radix: 8 });
    expect(value('0b101')).toMatchObject({ value: 5n, radix: 2 });
    expect(value('0')).toMatchObject({ value: 0n, radix: 10 });
    expect(value('4K')).toMatchObject({ value: 4096n });
    expect(value('2M')).toMatchObject({ value: 2n << 20n });
    expect(value('1G')).toMatchObject({ value: 1n << 30n });
    expect(value('1T')).toMatchObject({ value: 1n << 40n });
    expect(value('4KiB')).toMatchObject({ value: 4096n });
  });

  it('keeps 57-bit addresses exact (beyond 2^53)', () => {
    const v = value('0x00ff_ffff_ffff_f001');
    expect(v).toMatchObject({ value: 0xfffffffffff001n });
    expect(value('0xffff_ffff_ffff_ffff')).toMatchObject({ value: (1n << 64n) - 1n });
  });

  it('rejects malformed numbers with a message at the number', () => {
    expect(firstErr('x = 08')).toBe("1:5: bad octal number '08' (a leading 0 means octal, digits 0-7)");
    expect(firstErr('x = 12ab')).toBe("1:5: bad number '12ab'");
    expect(firstErr('x = 0x')).toBe("1:5: bad hex number '0x'");
    expect(firstErr('x = 0xg1')).toBe("1:5: bad hex number '0xg1'");
    expect(firstErr('x = 1__0')).toBe("1:5: bad number '1__0' (an underscore must sit between digits)");
    expect(firstErr('x = 10_')).toMatch(/underscore/);
    expect(firstErr('x = 010K')).toBe("1:5: a size suffix needs a decimal number, not '010K'");
    expect(firstErr('x = 0x1_0000_0000_0000_0000')).toBe("1:5: number '0x1_0000_0000_0000_0000' does not fit in 64 bits");
  });
});

describe('strings and comments', () => {
  it('decodes escapes', () => {
    expect(value('"a\\n\\t\\\\\\"\\x41\\u{1F600}\\0"')).toMatchObject({ kind: 'string', value: 'a\n\t\\"A\u{1F600}\0' });
  });

  it('reports unterminated strings, unknown escapes and curly quotes', () => {
    expect(firstErr('x = "abc')).toBe('1:5: unterminated string (missing closing ")');
    expect(firstErr('x = "a\\qb"')).toMatch(/^1:7: unknown escape '\\q' in string/);
    expect(firstErr('vas_find(\u201cshared\u201d)')).toBe("1:10: unexpected character '\u201c' (use straight double quotes \"...\")");
    expect(firstErr("vas_find('shared')")).toBe("1:10: unexpected character ''' (strings use double quotes \"...\")");
  });

  it('ignores # and // comments, but not inside strings', () => {
    const ss = ok('# a comment\n// another\nx = "#not // a comment" # trailing\ny = 1 // trailing\n');
    expect(ss).toHaveLength(2);
    expect(ss[0]).toMatchObject({ kind: 'let', value: { value: '#not // a comment' } });
  });

  it('accepts CRLF line ends and blank lines', () => {
    expect(ok('x = 1\r\n\r\ny = x\r\n')).toHaveLength(2);
  });
});

describe('expressions', () => {
  it('parses + - * | with the usual precedence and parentheses', () => {
    ok('base = 0x1000');
    expect(show(value('1 + 2 * 3'))).toBe('(1 + (2 * 3))');
    expect(show(value('(1 + 2) * 3'))).toBe('((1 + 2) * 3)');
    expect(show(value('MAP_FIXED|MAP_EXCL'))).toBe('(MAP_FIXED | MAP_EXCL)');
    expect(show(value('A | B + 1'))).toBe('(A | (B + 1))');
    expect(show(value('-4K'))).toBe('(-4096)');
    expect(show(value('1 - -1'))).toBe('(1 - (-1))');
    const s = one('base = 0x1000\nx = base + 4K - 8') as { value: Expr };
    expect(show(s.value)).toBe('((base + 4096) - 8)');
  });

  it('distinguishes names (lowercase) from constants (uppercase)', () => {
    const s = one('vid = 3\nvas_switch(vid)') as CallStmt;
    expect(s.args[0]).toMatchObject({ kind: 'name', name: 'vid' });
    expect((one('vas_switch(PRIMARY)') as CallStmt).args[0]).toMatchObject({ kind: 'const', name: 'PRIMARY' });
    expect((one('mprotect(1, 2, RWX)') as CallStmt).args[2]).toMatchObject({ kind: 'const', name: 'RWX' });
  });

  it('reports unknown names with a suggestion', () => {
    expect(firstErr('vid = 1\nvas_attach(vdi)')).toBe("2:12: unknown name 'vdi' (did you mean vid?)");
    expect(firstErr('vas_attach(nothing)')).toBe("1:12: unknown name 'nothing' (bind it first: name = ...)");
    expect(firstErr('x = x + 1')).toBe("1:5: unknown name 'x' (bind it first: name = ...)");
  });

  it('rejects strings in arithmetic and keywords as values', () => {
    expect(firstErr('x = "a" + 1')).toBe("1:5: a string cannot be used with '+'");
    expect(firstErr('x = -"a"')).toBe('1:6: a string cannot be negated');
    expect(firstErr('f(as)')).toBe("1:3: 'as' is a keyword, not a value");
    expect(firstErr('f(1 +)')).toBe("1:6: expected a value, found ')'");
    expect(firstErr('f((1)')).toBe("1:6: missing ')' to close the arguments of f");
  });

  it('checks constants against a known list when one is given', () => {
    const known = ['MAP_FIXED', 'MAP_EXCL', 'RW'];
    expect(ok('f(MAP_FIXED|MAP_EXCL, RW)', { knownConstants: known })).toHaveLength(1);
    expect(firstErr('f(MAP_FIXD)', { knownConstants: known })).toBe("1:3: unknown constant 'MAP_FIXD' (did you mean MAP_FIXED?)");
  });
});

describe('calls, bindings and expectations', () => {
  it('parses a bare call, with and without arguments', () => {
    expect(one('getpid()')).toMatchObject({ kind: 'call', name: 'getpid', args: [] });
    const s = one('vas_create("shared", 0660)') as CallStmt;
    expect(s.args.map(show)).toEqual(['"shared"', '432']);
    expect(s.bind).toBeUndefined();
    expect(s.expect).toBeUndefined();
  });

  it('binds the result: name = call(...)', () => {
    expect(one('vid = vas_create("shared", 0660)')).toMatchObject({ kind: 'call', bind: { name: 'vid' }, expect: undefined });
  });

  it('reads every expectation form', () => {
    ok('vid = 1');
    const e = (t: string) => (one(`vid = 1\n${t}`) as CallStmt).expect;
    expect(e('f() = 0')).toMatchObject({ kind: 'value', value: { value: 0n } });
    expect(e('f() = vid')).toMatchObject({ kind: 'value', value: { kind: 'name', name: 'vid' } });
    expect(e('f() = -1')).toMatchObject({ kind: 'value', value: { kind: 'neg' } });
    expect(e('f() = -EEXIST')).toMatchObject({ kind: 'errno', errno: 'EEXIST' });
    for (const op of ['>', '>=', '<', '<=', '!=']) expect(e(`f() = ${op}0`)).toMatchObject({ kind: 'compare', op, value: { value: 0n } });
    expect(e('f() = > vid + 1')).toMatchObject({ kind: 'compare', op: '>', value: { kind: 'binary' } });
    expect(e('f() = any')).toMatchObject({ kind: 'any' });
    expect(e('f() = ok')).toMatchObject({ kind: 'ok' });
  });

  it('reads binding and expectation together: vh = vas_attach(vid) = >0', () => {
    const s = one('vid = 1\nvh = vas_attach(vid) = >0') as CallStmt;
    expect(s).toMatchObject({ kind: 'call', name: 'vas_attach', bind: { name: 'vh' }, expect: { kind: 'compare', op: '>' } });
    expect(s.span).toMatchObject({ line: 2, col: 1, endLine: 2, endCol: 26 });
  });

  it('parses script variables: name = expression', () => {
    expect(one('base = 0x7f00_0000_0000')).toMatchObject({ kind: 'let', name: 'base', value: { value: 0x7f0000000000n } });
    expect(ok('a = 1\na = a + 1')).toHaveLength(2);
  });

  it('reports bad expectations and bindings', () => {
    expect(firstErr('f() = EEXIST')).toBe('1:7: an error is expected with a minus sign: = -EEXIST');
    expect(firstErr('f() = -EEXISTS')).toBe("1:8: unknown errno 'EEXISTS' (did you mean EEXIST?)");
    expect(firstErr('f() =')).toMatch(/^1:6: expected an expectation after '='/);
    expect(firstErr('f() == 0')).toMatch(/^1:6: one '=' introduces an expectation/);
    expect(firstErr('f() = "x"')).toBe('1:7: expected a number, not a string');
    expect(firstErr('VID = f()')).toMatch(/^1:1: 'VID' starts with an uppercase letter/);
    expect(firstErr('as = 1')).toBe("1:1: 'as' is a keyword and cannot be used as a name");
    expect(firstErr('x =')).toMatch(/^1:4: expected a call or a value after 'x ='/);
    expect(firstErr('f(1) 2')).toBe("1:6: unexpected '2' after the statement");
    expect(firstErr('f(1,)')).toBe("1:5: expected an argument, found ')'");
    expect(firstErr('f(1 2)')).toBe("1:5: expected ',' or ')' in the arguments of f, found '2'");
  });

  it('uses the known-calls hook for names and argument counts', () => {
    expect(firstErr('vid = vas_crate("shared", 0660)', { knownCalls: CALLS })).toBe("1:7: unknown call 'vas_crate' (did you mean vas_create?)");
    expect(firstErr('vas_create("shared")', { knownCalls: CALLS })).toBe('1:1: vas_create takes 2 arguments, got 1');
    expect(firstErr('getpid(1)', { knownCalls: CALLS })).toBe('1:1: getpid takes 0 arguments, got 1');
    expect(firstErr('mmap(1)', { knownCalls: CALLS })).toBe('1:1: mmap takes 4 to 6 arguments, got 1');
    expect(firstErr('vas_create "x"', { knownCalls: CALLS })).toMatch(/^1:12: expected '\(' after 'vas_create'/);
    expect(firstErr('vas_creat "x"', { knownCalls: CALLS })).toBe("1:1: unknown statement 'vas_creat' (did you mean vas_create?)");
    // a plain list of names works too
    expect(firstErr('fork2()', { knownCalls: ['fork', 'exit'] })).toBe("1:1: unknown call 'fork2' (did you mean fork?)");
    expect(ok('fork()', { knownCalls: new Map([['fork', { minArgs: 0, maxArgs: 0 }]]) })).toHaveLength(1);
  });

  it('suggests keywords for misspelt statements', () => {
    expect(firstErr('stor64 1 2')).toBe("1:1: unknown statement 'stor64' (did you mean store64?)");
    expect(firstErr('hello world')).toMatch(/^1:7: expected '\(' or '=' after 'hello'/);
  });

  it('allows ; as a statement separator', () => {
    expect(ok('a = 1; b = 2; f(a, b)')).toHaveLength(3);
  });
});

describe('memory statements', () => {
  it('parses stores and loads of every width', () => {
    for (const w of [8, 16, 32, 64]) {
      expect(one(`store${w} 0x1000 42`)).toMatchObject({ kind: 'store', width: w, addr: { value: 0x1000n }, value: { value: 42n } });
      expect(one(`load${w} 0x1000 = 42`)).toMatchObject({ kind: 'load', width: w, expect: { kind: 'value', value: { value: 42n } } });
    }
    expect(one('load64 0x1000')).toMatchObject({ kind: 'load', expect: undefined });
  });

  it('binds loads: v = load64 ADDR [= expectation]', () => {
    expect(one('v = load64 0x1000 = !=0')).toMatchObject({ kind: 'load', bind: { name: 'v' }, expect: { kind: 'compare', op: '!=' } });
  });

  it('parses memset and memcpy', () => {
    expect(one('memset 0x1000 4K 0xff')).toMatchObject({ kind: 'memset', addr: { value: 0x1000n }, len: { value: 4096n }, byte: { value: 255n } });
    expect(one('memcpy 0x2000 0x1000 64')).toMatchObject({ kind: 'memcpy', dst: { value: 0x2000n }, src: { value: 0x1000n }, len: { value: 64n } });
  });

  it('splits space-separated arguments: `p -1` is two, `p - 1` and `p-1` one', () => {
    ok('p = 0x1000');
    const two = one('p = 0x1000\nstore64 p -1');
    expect(two).toMatchObject({ kind: 'store', addr: { kind: 'name' }, value: { kind: 'neg' } });
    const a = one('p = 0x1000\nstore64 p - 8 5') as { addr: Expr; value: Expr };
    expect([show(a.addr), show(a.value)]).toEqual(['(p - 8)', '5']);
    const b = one('p = 0x1000\nstore64 p+8 5') as { addr: Expr };
    expect(show(b.addr)).toBe('(p + 8)');
    const c = one('p = 0x1000\nstore64 (p + 8) -5') as { addr: Expr; value: Expr };
    expect([show(c.addr), show(c.value)]).toEqual(['(p + 8)', '(-5)']);
  });

  it('reports wrong argument counts and misuse', () => {
    expect(firstErr('store64 0x1000')).toBe('1:1: store64 takes 2 arguments (store64 ADDR VALUE), got 1');
    expect(firstErr('load64 1 2')).toBe('1:10: load64 takes 1 argument (load64 ADDR), got 2');
    expect(firstErr('memset 1 2')).toBe('1:1: memset takes 3 arguments (memset ADDR LEN BYTE), got 2');
    expect(firstErr('store64 1 2 = 3')).toBe("1:13: unexpected '=' after the statement; a store has no result to check");
    expect(firstErr('x = store64 1 2')).toBe('1:5: store64 has no result to bind');
    expect(firstErr('store64 "a" 1')).toBe('1:9: store64 takes numbers, not strings');
    // A parenthesised address is just a grouped expression.
    expect(one('load64(0x1000)')).toMatchObject({ kind: 'load', addr: { value: 0x1000n } });
  });
});

describe('expect fault', () => {
  it('prefixes one access, with optional access and reason', () => {
    expect(one('expect fault store64 0x1000 1')).toMatchObject({ kind: 'expectFault', form: 'prefix', access: undefined, body: [{ kind: 'store' }] });
    expect(one('expect fault write protection store8 0x1000 1')).toMatchObject({ access: 'write', reason: 'protection' });
    expect(one('expect fault unmapped read load64 0x1000')).toMatchObject({ access: 'read', reason: 'unmapped' });
    expect(one('expect fault noncanonical load64 0x8000_0000_0000')).toMatchObject({ reason: 'noncanonical' });
    expect(one('expect fault write memcpy 1 2 3')).toMatchObject({ access: 'write' });
    expect(one('expect fault read memcpy 1 2 3')).toMatchObject({ access: 'read' });
  });

  it('wraps a block of accesses', () => {
    const s = one('expect fault write {\n  store64 0x1000 1\n  memset 0x1000 8 0\n}');
    expect(s).toMatchObject({ kind: 'expectFault', form: 'block', access: 'write', body: [{ kind: 'store' }, { kind: 'memset' }] });
    expect(s.span).toMatchObject({ line: 1, col: 1, endLine: 4, endCol: 2 });
  });

  it('reports what cannot be inside or cannot fault', () => {
    expect(firstErr('expect fault { f() }')).toBe("1:16: only loads, stores, memset and memcpy can be inside 'expect fault { }'");
    expect(firstErr('expect fault f()')).toMatch(/^1:14: only memory accesses fault/);
    expect(firstErr('expect fault write load64 1')).toBe('1:20: load64 only reads; it cannot make a write fault');
    expect(firstErr('expect fault read store64 1 2')).toBe('1:19: store64 only writes; it cannot make a read fault');
    expect(firstErr('expect fault load64 1 = 0')).toBe('1:23: a faulting load has no value to check');
    expect(firstErr('expect fault { v = load64 1 }')).toBe("1:16: only loads, stores, memset and memcpy can be inside 'expect fault { }'");
    expect(firstErr('expect fault wrte store64 1 2')).toMatch(/^1:14: unknown fault qualifier 'wrte' \(did you mean write\?\)/);
    expect(firstErr('expect fault read write load64 1')).toBe("1:19: the access is already given ('read')");
    expect(firstErr('expect load64 1')).toMatch(/^1:8: expected 'fault', 'cycles', 'errno' or 'blocked' after 'expect'/);
    expect(firstErr('expect fault')).toMatch(/^1:13: expected a load, store, memset or memcpy/);
  });
});

describe('processes and threads', () => {
  it('declares a process with credentials and runs its block', () => {
    const s = one('process alice uid=1000 gid=100 groups=100,200 cpu=1 {\n  getpid()\n}');
    expect(s).toMatchObject({
      kind: 'process', name: 'alice', uid: { value: 1000n }, gid: { value: 100n },
      groups: [{ value: 100n }, { value: 200n }], cpu: { value: 1n }, body: [{ kind: 'call' }],
    });
  });

  it('rejects an attribute the runner does not implement, with its position', () => {
    expect(firstErr('process alice uid=1000 node=0')).toMatch(/^1:24: unknown process attribute 'node'/);
  });

  it('declares without a block, then runs statements as it', () => {
    const ss = ok('process bob uid=1001\nas bob {\n  getpid()\n}\n@bob getpid()\nas bob\ngetpid()');
    expect(ss[0]).toMatchObject({ kind: 'process', name: 'bob', body: null });
    expect(ss[1]).toMatchObject({ kind: 'as', form: 'block', actor: { process: 'bob' }, body: [{ kind: 'call' }] });
    expect(ss[2]).toMatchObject({ kind: 'as', form: 'prefix', actor: { process: 'bob' }, body: [{ kind: 'call', name: 'getpid' }] });
    expect(ss[3]).toMatchObject({ kind: 'as', form: 'rest', body: null });
  });

  it('declares threads and addresses them as process.thread', () => {
    const ss = ok('process alice\nthread alice.t2 cpu=1\n@alice.t2 getpid()\nas alice.main { getpid() }\nthread alice.t3 { getpid() }');
    expect(ss[1]).toMatchObject({ kind: 'thread', actor: { process: 'alice', thread: 't2' }, cpu: { value: 1n }, body: null });
    expect(ss[2]).toMatchObject({ kind: 'as', actor: { process: 'alice', thread: 't2' } });
    expect(ss[4]).toMatchObject({ kind: 'thread', body: [{ kind: 'call' }] });
  });

  it('runs statements in a fork child named by its binding', () => {
    const ss = ok('process alice { child = fork() = >0 }\nas child {\n  exit(0)\n}\nthread child.t1');
    expect(ss[1]).toMatchObject({ kind: 'as', actor: { process: 'child' } });
  });

  it('has init from the start', () => {
    expect(one('@init getpid()')).toMatchObject({ kind: 'as', actor: { process: 'init' } });
  });

  it('reports process and thread mistakes', () => {
    expect(firstErr('as alcie { }\n')).toBe("1:4: unknown process 'alcie'");
    expect(firstErr('process alice\nas alcie')).toBe("2:4: unknown process 'alcie' (did you mean alice?)");
    expect(firstErr('process alice\nprocess alice')).toBe("2:9: process 'alice' is already declared at t.trace:1:9; use 'as alice' to run statements in it");
    expect(firstErr('process init')).toMatch(/^1:9: process 'init' is already declared \(it always exists\)/);
    expect(firstErr('process alice gdi=1')).toBe("1:15: unknown process attribute 'gdi' (did you mean gid?) (known: uid, gid, groups, cpu)");
    expect(firstErr('process alice uid=1 uid=2')).toBe("1:21: 'uid' is given twice");
    expect(firstErr('process alice uid 1')).toBe("1:19: expected '=' after 'uid' (uid=N), found '1'");
    expect(firstErr('process alice uid="x"')).toBe('1:19: expected a number, not a string');
    expect(firstErr('process Alice')).toMatch(/^1:9: 'Alice' starts with an uppercase letter/);
    expect(firstErr('process as')).toMatch(/^1:9: 'as' is a keyword/);
    expect(firstErr('x = 1\nprocess x')).toBe("2:9: 'x' is already a name (bound at t.trace:1:1)");
    expect(firstErr('process alice\nalice = 1')).toBe("2:1: 'alice' is a process name (declared at t.trace:1:9)");
    expect(firstErr('process alice\n@alice.t9 getpid()')).toMatch(/^2:8: process 'alice' has no thread 't9'/);
    expect(firstErr('process alice\nthread alice')).toBe('2:8: a thread is named with its process: thread alice.NAME');
    expect(firstErr('process alice\nthread alice.main')).toBe("2:8: process 'alice' already has a thread 'main'");
    expect(firstErr('process alice\n@alice process bob')).toBe("2:8: '@alice' runs one call, binding or memory statement, not 'process'");
    expect(firstErr('process alice\n@alice @alice f()')).toBe("2:8: only one '@' prefix per statement");
    expect(firstErr('process alice\nas alice f()')).toMatch(/^2:10: expected '\{' or the end of the line after 'as alice'/);
  });
});

describe('machine settings', () => {
  it('reads key=value settings of every kind', () => {
    const s = one('machine paging=5 mem=64G nodes=2 cpus=4 profile=m2-barrelfish seed=42 pcid=off tlb="l1_4k=64x4" cost=zero');
    expect(s.kind).toBe('machine');
    if (s.kind !== 'machine') return;
    const m = Object.fromEntries(s.settings.map((x) => [x.key, x.value]));
    expect(m).toEqual({ paging: 5n, mem: 64n << 30n, nodes: 2n, cpus: 4n, profile: 'm2-barrelfish', seed: 42n, pcid: false, tlb: 'l1_4k=64x4', cost: 'zero' });
  });

  it('allows several machine lines and includes before the first statement only', () => {
    const ss = ok('# settings\nmachine paging=5\nmachine cpus=2\nf()');
    expect(machineSettings(ss).get('cpus')).toMatchObject({ value: 2n });
    expect(firstErr('f()\nmachine paging=5')).toMatch(/^2:1: 'machine' must come before the first other statement/);
    expect(firstErr('process a {\n machine paging=5\n}')).toMatch(/^2:2: 'machine' must come before/);
  });

  it('reports bad settings', () => {
    expect(firstErr('machine paging=6')).toBe('1:16: paging must be 4 or 5, not 6');
    expect(firstErr('machine pagin=5')).toMatch(/^1:9: unknown machine setting 'pagin' \(did you mean paging\?\)/);
    expect(firstErr('machine paging=4 paging=5')).toBe("1:18: machine setting 'paging' is already given at t.trace:1:9");
    expect(firstErr('machine mem=lots')).toMatch(/^1:13: mem needs a number/);
    expect(firstErr('machine cpus=0')).toBe('1:14: cpus must be at least 1');
    expect(firstErr('machine cpus=4K')).toBe('1:14: cpus is a count, not a size');
    expect(firstErr('machine pcid=maybe')).toBe("1:14: pcid must be on or off, not 'maybe'");
    expect(firstErr('machine paging = 5')).toMatch(/^1:16: expected '=' directly after 'paging'/);
    expect(firstErr('machine')).toMatch(/^1:8: expected key=value after 'machine'/);
  });

  it('parses command-line overrides with the same rules', () => {
    expect(parseMachineSetting('paging=5')).toMatchObject({ ok: true, setting: { key: 'paging', value: 5n } });
    expect(parseMachineSetting('mem=64G')).toMatchObject({ ok: true, setting: { value: 64n << 30n } });
    expect(parseMachineSetting('paging=3')).toEqual({ ok: false, error: 'paging must be 4 or 5, not 3' });
    expect(parseMachineSetting('paging=5 cpus=2')).toMatchObject({ ok: false });
    expect(parseMachineSetting('')).toMatchObject({ ok: false });
  });
});

describe('include', () => {
  const files = {
    'dir/main.trace': 'machine paging=5\ninclude "lib/common.trace"\nvas_attach(vid)\n',
    'dir/lib/common.trace': 'include "../defs.trace"\nvid = vas_create("shared", 0660)\n',
    'dir/defs.trace': 'base = 0x1000\n',
    'cyc/a.trace': 'include "b.trace"\n',
    'cyc/b.trace': 'x = 1\ninclude "a.trace"\n',
    'bad/main.trace': 'f()\ninclude "inc.trace"\ng(zz)\n',
    'bad/inc.trace': 'x = 1\n  vas_crate()\n',
  };
  const loader = memoryLoader(files);

  it('splices included statements, resolving paths relative to the including file', () => {
    const r = parseFile('dir/main.trace', { loader });
    expect(r.errors).toEqual([]);
    expect(r.statements[1]).toMatchObject({ kind: 'include', path: 'lib/common.trace', file: 'dir/lib/common.trace' });
    const inc = r.statements[1] as { body: Statement[] };
    expect(inc.body[0]).toMatchObject({ kind: 'include', file: 'dir/defs.trace', body: [{ kind: 'let', name: 'base' }] });
    expect(inc.body[1].span).toMatchObject({ file: 'dir/lib/common.trace', line: 2, col: 1 });
    expect(r.sources.lineText('dir/defs.trace', 1)).toBe('base = 0x1000');
  });

  it('detects include cycles', () => {
    const r = parseFile('cyc/a.trace', { loader });
    expect(r.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`)).toEqual([
      'cyc/b.trace:2:9: include cycle: cyc/a.trace -> cyc/b.trace -> cyc/a.trace',
    ]);
  });

  it('reports errors in included files at their own position, all of them', () => {
    const r = parseFile('bad/main.trace', { loader, knownCalls: ['f', 'g', 'vas_create'] });
    expect(r.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`)).toEqual([
      "bad/inc.trace:2:3: unknown call 'vas_crate' (did you mean vas_create?)",
      "bad/main.trace:3:3: unknown name 'zz'",
    ].map((s) => (s.endsWith("'zz'") ? s + ' (bind it first: name = ...)' : s)));
    expect(formatDiagnostic(r.errors[0])).toBe(
      "bad/inc.trace:2:3: unknown call 'vas_crate' (did you mean vas_create?)\n      vas_crate()\n      ^~~~~~~~~",
    );
  });

  it('reports missing files, missing loaders and bad include syntax', () => {
    expect(parseFile('dir/none.trace', { loader }).errors[0]).toMatchObject({ file: 'dir/none.trace', line: 1, col: 1, message: 'cannot read dir/none.trace: no such file' });
    expect(firstErr('include "x.trace"')).toBe('1:9: include is not available here (no file loader)');
    expect(firstErr('include "x.trace"', { loader })).toBe('1:9: cannot include "x.trace": no such file');
    expect(firstErr('include x.trace', { loader })).toMatch(/^1:9: expected a quoted file name/);
    const throwing = () => { throw new Error('disk on fire'); };
    expect(firstErr('include "x"', { loader: throwing })).toBe('1:9: cannot include "x": disk on fire');
    expect(parseFile('x', { loader: throwing }).errors[0].message).toBe('cannot read x: disk on fire');
  });

  it('reads real files relative to the including file', () => {
    const r = parseFile('examples/alice-bob.trace', { loader: nodeFileLoader() });
    expect(r.errors).toEqual([]);
  });
});

describe('error reporting', () => {
  it('formats file:line:col: message, the line and a caret (tabs kept)', () => {
    const r = parseScript('vid = 1\n\tvas_attach(vdi)  # typo', { file: 'a.trace' });
    expect(formatDiagnostic(r.errors[0])).toBe("a.trace:2:13: unknown name 'vdi' (did you mean vid?)\n    \tvas_attach(vdi)  # typo\n    \t           ^~~");
  });

  it('collects every bad line, one error per statement, and keeps going', () => {
    const text = [
      'x = 08', //              1 bad number
      'y = 1', //               fine
      'f(y,', //                3 missing )
      'store64 1', //           4 arity
      'process p uid=abc {', // 5 unknown name, but the block is still read
      '  z = 1', //             names in it count
      '  g(zz)', //             7 unknown name
      '}',
      'h(z)', //                fine: z known despite the bad header
      '}', //                   10 unmatched
    ].join('\n');
    expect(errs(text)).toEqual([
      "1:5: bad octal number '08' (a leading 0 means octal, digits 0-7)",
      '3:5: missing \')\' to close the arguments of f',
      '4:1: store64 takes 2 arguments (store64 ADDR VALUE), got 1',
      "5:15: unknown name 'abc' (bind it first: name = ...)",
      "7:5: unknown name 'zz' (did you mean z?)",
      "10:1: unmatched '}'",
    ]);
  });

  it('does not cascade: a name bound by a bad statement is still known', () => {
    expect(errs('vid = vas_create(nope)\nvas_attach(vid)')).toEqual(["1:18: unknown name 'nope' (bind it first: name = ...)"]);
  });

  it('reports an unclosed block at its brace and marks the parse incomplete', () => {
    const r = parseScript('process alice {\n  getpid()\n', { file: 't.trace' });
    expect(r.errors.map((e) => `${e.line}:${e.col}: ${e.message}`)).toEqual(["1:15: unclosed '{' (no matching '}')"]);
    expect(r.incomplete).toBe(true);
    expect(parseScript('f(').incomplete).toBe(false);
  });

  it('formats runtime errors at an AST span the same way', () => {
    const r = parseScript('vid = 1\nvas_attach(vid) = 0', { file: 'r.trace' });
    const call = r.statements[1] as CallStmt;
    expect(formatAt(call.args[0].span, 'EINVAL: no such address space', r.sources)).toBe(
      'r.trace:2:12: EINVAL: no such address space\n    vas_attach(vid) = 0\n               ^~~',
    );
  });
});

describe('parseLine (the interactive shell)', () => {
  it('parses at a given position and carries names across lines', () => {
    const context = createParseContext();
    const a = parseLine('vid = vas_create("s", 0660)', { line: 7, context });
    expect(a.ok).toBe(true);
    expect(a.statements[0].span).toMatchObject({ file: '<stdin>', line: 7, col: 1 });
    const b = parseLine('vas_attach(vdi)', { line: 8, col: 3, context });
    expect(b.errors[0]).toMatchObject({ file: '<stdin>', line: 8, col: 14 });
    expect(formatDiagnostic(b.errors[0])).toBe("<stdin>:8:14: unknown name 'vdi' (did you mean vid?)\n      vas_attach(vdi)\n                 ^~~");
    expect(parseLine('vas_attach(vid)', { line: 9, context }).ok).toBe(true);
  });

  it('changes nothing when a line is bad', () => {
    const context = createParseContext();
    expect(parseLine('x = 1; f(nope)', { context }).ok).toBe(false);
    expect(context.names.has('x')).toBe(false);
    expect(parseLine('machine paging=5', { context }).ok).toBe(true);
    expect(parseLine('machine paging=4', { context }).ok).toBe(false);
    expect(parseLine('process alice', { context }).ok).toBe(true);
    expect(parseLine('as alice', { context }).ok).toBe(true);
    expect(parseLine('machine cpus=2', { context }).ok).toBe(false);
    expect(context.processes.has('alice')).toBe(true);
  });

  it('tells the shell when a block continues on the next line', () => {
    const context = createParseContext();
    expect(parseLine('process alice {', { context }).incomplete).toBe(true);
    const r = parseLine('process alice {\n  getpid()\n}', { context });
    expect(r.ok).toBe(true);
    expect(r.incomplete).toBe(false);
  });
});

describe('the Alice/Bob example', () => {
  it('parses with the syscall table and constants the runner will pass', () => {
    const text = readFileSync('examples/alice-bob.trace', 'utf8');
    expect(text.startsWith('#')).toBe(true);
    const r = parseScript(text, {
      file: 'examples/alice-bob.trace', knownCalls: CALLS,
      knownConstants: ['RW', 'PRIMARY', 'MAP_PRIVATE', 'MAP_SHARED', 'MAP_ANONYMOUS', 'MAP_FIXED', 'MAP_EXCL'],
    });
    expect(r.errors.map(formatDiagnostic)).toEqual([]);
    const procs = r.statements.filter((s) => s.kind === 'process').map((s) => (s as { name: string }).name);
    expect(procs).toEqual(['alice', 'bob']);
  });
});

describe('robustness (fast-check)', () => {
  const valid = [
    readFileSync('examples/alice-bob.trace', 'utf8'),
    'machine paging=5 mem=64G\nbase = 0x7f00_0000_0000\nprocess a uid=1 { p = mmap(base, 4K, RW, MAP_FIXED|MAP_EXCL) = base\n store64 p -1\n load64 p + 0 = 0xffff_ffff_ffff_ffff }\n',
    'process p\nthread p.t {\n expect fault write { store8 0 1\n memset 0 4K 0 }\n}\n@p.t x = load8 1 = any\n// end\n',
  ];

  function checkResult(text: string, r: ParseResult): void {
    const lines = text.split(/\r\n|\r|\n/).length;
    expect(r.ok).toBe(r.errors.length === 0);
    for (const e of r.errors) {
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.line).toBeLessThanOrEqual(lines);
      expect(e.col).toBeGreaterThanOrEqual(1);
      expect(e.endCol).toBeGreaterThan(e.col);
      expect(e.message.length).toBeGreaterThan(0);
      expect(typeof formatDiagnostic(e)).toBe('string');
    }
  }

  function parseChecked(text: string): void {
    let r: ParseResult | undefined;
    expect(() => {
      r = parseScript(text, { file: 'f.trace', knownCalls: CALLS, loader: memoryLoader({ 'other.trace': 'x = 1\n' }) });
    }).not.toThrow();
    checkResult(text, r!);
  }

  it('never throws on random text', () => {
    const alphabet = fc.constantFrom(...'abcxyz_ ASZ019()={}|+-*.@;<>!,"\\\'#/\n\r\t\u201c'.split(''),
      'process ', 'as ', 'expect fault ', 'store64 ', 'load64 ', 'machine ', 'include ', '0x', '4K', '@', '= -EEXIST', 'vas_create(');
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 80 }).map((a) => a.join('')), parseChecked), { numRuns: 1500 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 120 }), parseChecked), { numRuns: 500 });
  });

  it('never throws on mutations of valid scripts', () => {
    const edit = fc.record({
      op: fc.constantFrom('insert', 'delete', 'replace'),
      at: fc.nat(),
      ch: fc.constantFrom(...'(){}=|+-"\\#/\n x0K@.,;'.split(''), 'é', '\u0000'),
    });
    const mutated = fc.tuple(fc.constantFrom(...valid), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([src, edits]) => {
      let s = src;
      for (const e of edits) {
        const i = s.length === 0 ? 0 : e.at % (s.length + 1);
        if (e.op === 'insert') s = s.slice(0, i) + e.ch + s.slice(i);
        else if (e.op === 'delete') s = s.slice(0, i) + s.slice(i + 1);
        else s = s.slice(0, i) + e.ch + s.slice(i + 1);
      }
      return s;
    });
    fc.assert(fc.property(mutated, parseChecked), { numRuns: 1500 });
  });

  it('lexes every position inside the text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => {
      for (const t of lex(s)) {
        expect(t.col).toBeGreaterThanOrEqual(1);
        expect(t.line).toBeGreaterThanOrEqual(1);
      }
    }), { numRuns: 300 });
  });
});

describe('recovery inside a bad header', () => {
  it('still knows the process and thread in their own bodies', () => {
    expect(errs('process p uid=bad {\n  @p getpid()\n}\nthread p.t cpu=bad {\n  @p.t getpid()\n}')).toEqual([
      "1:15: unknown name 'bad' (bind it first: name = ...)",
      "4:16: unknown name 'bad' (bind it first: name = ...)",
    ]);
  });
});

describe('docs/traces.md', () => {
  it('every script example in the documentation parses', () => {
    const md = readFileSync('docs/traces.md', 'utf8');
    // Fences alternate open/close; take the untagged ones whose text is a script (starts with a comment).
    const blocks: string[] = [];
    let open: string[] | null = null;
    let tagged = false;
    for (const line of md.split('\n')) {
      if (line.startsWith('```')) {
        if (open === null) {
          open = [];
          tagged = line.length > 3;
        } else {
          if (!tagged) blocks.push(open.join('\n'));
          open = null;
        }
      } else if (open) open.push(line);
    }
    const scripts = blocks.filter((b) => b.startsWith('#'));
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    for (const b of scripts) {
      const r = parseScript(b, { file: 'docs/traces.md', knownCalls: CALLS });
      expect(r.errors.map(formatDiagnostic)).toEqual([]);
    }
  });

  it('shows the same Alice/Bob script as examples/alice-bob.trace', () => {
    const md = readFileSync('docs/traces.md', 'utf8');
    const code = readFileSync('examples/alice-bob.trace', 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    for (const line of code) expect(md).toContain(line);
  });
});

describe('hostile input', () => {
  it('reports deep nesting instead of exhausting the stack', () => {
    const braces = parseScript('as init '.repeat(1) + '{'.repeat(5000) + '}'.repeat(5000));
    expect(braces.errors.map((e) => e.message)).toContain('blocks nested deeper than 200');
    expect(braces.errors.some((e) => e.message.startsWith('internal'))).toBe(false);
    const parens = parseScript(`x = ${'('.repeat(5000)}1${')'.repeat(5000)}`);
    expect(parens.errors.map((e) => e.message)).toEqual(['expression nested deeper than 200']);
    const minus = parseScript(`x = ${'-'.repeat(5000)}1`);
    expect(minus.errors.map((e) => e.message)).toEqual(['expression nested deeper than 200']);
    const open = parseScript('{'.repeat(5000));
    expect(open.ok).toBe(false);
    expect(open.errors.some((e) => e.message.startsWith('internal'))).toBe(false);
  });
});

describe('binary input and byte-order marks', () => {
  it('a binary file stops after a few errors with "this does not look like a trace script"', () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 256;
    const r = parseScript(bytes.toString('utf8'), { file: 'a.out' });
    expect(r.ok).toBe(false);
    expect(r.errors.length).toBeLessThanOrEqual(4);
    expect(r.errors[r.errors.length - 1].message).toMatch(/^this does not look like a trace script \(binary data\)/);
    // The echoed source lines are printable and short.
    for (const e of r.errors) expect(e.sourceLine.length).toBeLessThanOrEqual(201);
  });

  it('a text script with many mistakes still reports each of them', () => {
    const r = parseScript('foo\n'.repeat(30));
    expect(r.errors).toHaveLength(30);
  });

  it('a BOM at the start of a file is not part of the script', () => {
    expect(ok('\uFEFFgetpid()')).toHaveLength(1);
    const r = parseFile('b.trace', { loader: memoryLoader({ 'b.trace': '\uFEFFinclude "c.trace"\nx = 1', 'c.trace': '\uFEFFy = 2' }) });
    expect(r.errors).toEqual([]);
    expect(errs('\uFEFFx = )')).toEqual(["1:5: expected a value, found ')'"]);
  });
});

describe('statements that check what happened', () => {
  it('parses expect cycles, expect errno, expect blocked, probe, check invariants and show', () => {
    const ss = ok([
      'process bob', 'sid = 1', 'getpid()', 'expect cycles < 500', 'expect cycles = 357',
      'expect errno ENOENT', 'expect errno one of (ENOENT, ESRCH)', 'expect blocked bob', 'expect blocked bob.main',
      'probe load64 0x1000', 'probe store8 0x1000 -1', 'check invariants',
      'show refs seg sid', 'show refs vas 2', 'show locks sid', 'show frames',
    ].join('\n'), { knownCalls: CALLS });
    expect(ss.map((s) => s.kind)).toEqual([
      'process', 'let', 'call', 'expectCycles', 'expectCycles', 'expectErrno', 'expectErrno', 'expectBlocked', 'expectBlocked',
      'probe', 'probe', 'check', 'show', 'show', 'show', 'show',
    ]);
    const e = ss[6];
    if (e.kind === 'expectErrno') expect(e.errnos).toEqual(['ENOENT', 'ESRCH']);
  });

  it('probe, check and show are words only where they start those statements', () => {
    expect(ok('probe = 1\ncheck = probe + 1\nshow = check').map((s) => s.kind)).toEqual(['let', 'let', 'let']);
  });

  it('reports what is wrong with them', () => {
    expect(firstErr('expect cycles 5')).toBe("1:15: expected a comparison after 'expect cycles' (<, <=, >, >=, =, !=), found '5'");
    expect(firstErr('expect errno -ENOENT')).toBe("1:14: write the errno names without '-': expect errno one of (ENOENT, ESRCH)");
    expect(firstErr('expect errno ENOENTT')).toBe("1:14: unknown errno 'ENOENTT' (did you mean ENOENT?)");
    expect(firstErr('expect errno one of (ENOENT ESRCH)')).toBe("1:29: expected ',' or ')' in the errno list, found 'ESRCH'");
    expect(firstErr('expect blocked carol')).toBe("1:16: unknown process 'carol'");
    expect(firstErr('probe memset 1 2 3')).toBe('1:7: probe takes a load or a store (probe load64 ADDR, probe store64 ADDR VALUE), not memset');
    expect(firstErr('probe load64 1 = 2')).toBe('1:16: a probe records what happens; it has no expectation (use load64 ADDR = V)');
    expect(firstErr('show refs 1')).toBe("1:11: expected 'seg SID' or 'vas VID' after 'show refs', found '1'");
    expect(firstErr('show locks')).toBe("1:11: expected a sid, found end of file");
    expect(firstErr('expect cycle < 1')).toBe("1:8: expected 'fault', 'cycles', 'errno' or 'blocked' after 'expect', found 'cycle' (did you mean cycles?)");
  });

  it('a process name is a value (its pid)', () => {
    const s = one('process alice\nx = alice + 1');
    expect(s.kind === 'let' && show(s.value)).toBe('(alice + 1)');
    expect(firstErr('process alice\nx = alic')).toBe("2:5: unknown name 'alic' (did you mean alice?)");
  });
});
