// The trace-language parser (grammar in docs/traces.md). One parser serves scripts and the
// interactive shell: parseScript reads a whole file (following includes), parseLine reads one
// shell line at a known position and carries names and processes forward in a ParseContext.
//
// It never throws. Every problem becomes a Diagnostic; after an error the parser skips to the end
// of that statement (still descending into any `{ ... }` so names bound inside stay known and the
// braces stay balanced), so one run reports every bad line and nothing cascades.

import type {
  ActorRef, AsStmt, Binding, CallStmt, CompareOp, Diagnostic, ExpectFaultStmt, Expectation, Expr,
  FaultAccess, FaultReason, IncludeStmt, LetStmt, MachineSetting, MachineStmt, MachineValue, MemStmt,
  ProcessStmt, Span, Statement, ThreadStmt, Width,
} from './ast.js';
import { lex, type Token } from './lexer.js';
import { SourceMap, didYouMean } from './diagnostics.js';

// ---------------------------------------------------------------------------------------------
// Public configuration

/**
 * Resolves and reads an included file. `fromFile` is the including file ('' for the entry file);
 * relative paths resolve against it. `file` is the name used in positions and for cycle detection,
 * so return a canonical one (e.g. an absolute path).
 */
export type FileLoader = (path: string, fromFile: string) => { file: string; text: string } | { error: string };

export interface CallArity {
  minArgs: number;
  maxArgs: number;
}

/**
 * Known calls: names only, or names with arity. The parser knows no syscalls of its own; the
 * runner passes its table so typos and wrong argument counts are caught before anything runs.
 */
export type KnownCalls = Iterable<string> | ReadonlyMap<string, CallArity> | Readonly<Record<string, CallArity>>;

export interface MachineKeySpec {
  kind: 'int' | 'size' | 'word' | 'bool';
  allowed?: readonly bigint[];
  min?: bigint;
  help: string;
}

/** Keys of `machine` lines. The command line overrides the same keys (see parseMachineSetting). */
export const MACHINE_KEYS: Readonly<Record<string, MachineKeySpec>> = {
  paging: { kind: 'int', allowed: [4n, 5n], help: 'page-table levels: 4 (48-bit VA) or 5 (57-bit VA)' },
  mem: { kind: 'size', min: 1n, help: 'physical memory presented, e.g. 64G' },
  nodes: { kind: 'int', min: 1n, help: 'NUMA nodes (sockets)' },
  cpus: { kind: 'int', min: 1n, help: 'CPU cores' },
  profile: { kind: 'word', help: 'cost-model profile, e.g. m2, m2-barrelfish, m3, zero' },
  cost: { kind: 'word', help: 'cost-parameter overrides, e.g. "syscall=500,walkRef=20"' },
  tlb: { kind: 'word', help: 'TLB geometry name or spec string' },
  pcid: { kind: 'bool', help: 'tag TLB entries with PCIDs: on|off' },
  caches: { kind: 'bool', help: 'model the data caches (L1D, L2, shared LLC): on|off' },
  seed: { kind: 'int', min: 0n, help: 'seed of every pseudo-random choice' },
  aslr: { kind: 'bool', help: 'randomise each process\'s mmap base from the seed: on|off' },
};

/** Linux errno names; the runner may pass its own table instead. */
export const ERRNO_NAMES: readonly string[] = [
  'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD', 'EAGAIN',
  'EWOULDBLOCK', 'ENOMEM', 'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR',
  'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS',
  'EMLINK', 'EPIPE', 'EDOM', 'ERANGE', 'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY', 'ELOOP',
  'ENOMSG', 'EIDRM', 'ENODATA', 'ETIME', 'EOVERFLOW', 'EBADFD', 'EMSGSIZE', 'ENOTSUP', 'EOPNOTSUPP',
  'EADDRINUSE', 'EADDRNOTAVAIL', 'ETIMEDOUT', 'EALREADY', 'EINPROGRESS', 'ECANCELED', 'EOWNERDEAD',
  'ENOTRECOVERABLE', 'EHWPOISON',
];

/** Words that cannot be names. */
export const KEYWORDS: readonly string[] = [
  'machine', 'include', 'process', 'thread', 'as', 'expect', 'fault', 'any', 'ok',
  'load8', 'load16', 'load32', 'load64', 'store8', 'store16', 'store32', 'store64', 'memset', 'memcpy',
];

const MEM_KEYWORDS = new Set(['load8', 'load16', 'load32', 'load64', 'store8', 'store16', 'store32', 'store64', 'memset', 'memcpy']);
const FAULT_ACCESS: readonly FaultAccess[] = ['read', 'write'];
const FAULT_REASONS: readonly FaultReason[] = ['unmapped', 'protection', 'noncanonical'];
// Only what the runner implements: an attribute it would ignore is an error (a process has no NUMA node of its own).
const PROCESS_ATTRS = ['uid', 'gid', 'groups', 'cpu'] as const;
const KEYWORD_SET = new Set(KEYWORDS);
const COMPARE_OPS = new Set(['>', '>=', '<', '<=', '!=']);
const ERRNO_SHAPE = /^E[A-Z0-9]+$/;
const MAX_NESTING = 200;
const SHOW_WHAT = ['refs', 'locks', 'frames'] as const;
const EXPECT_WHAT = ['fault', 'cycles', 'errno', 'blocked'] as const;
/** A script with more errors than this stops being parsed (the rest would be noise). */
const MAX_ERRORS = 1000;
/** Errors kept before saying that binary input is not a trace script. */
const BINARY_ERRORS = 3;

/**
 * What earlier statements declared: bound names, processes and their threads, machine keys.
 * A shell keeps one across lines; a parse updates it only when it succeeds (a bad line changes nothing).
 */
export interface ParseContext {
  names: Map<string, Span>;
  /** Declared processes (and `init`, which exists from the start) with their thread names. */
  processes: Map<string, { span: Span | null; threads: Set<string> }>;
  /** Threads declared on processes that are names (fork children). */
  nameThreads: Map<string, Set<string>>;
  machineKeys: Map<string, Span>;
  /** A statement other than `machine`/`include` was seen, so `machine` is no longer allowed. */
  started: boolean;
}

export function createParseContext(): ParseContext {
  return {
    names: new Map(),
    processes: new Map([['init', { span: null, threads: new Set(['main']) }]]),
    nameThreads: new Map(),
    machineKeys: new Map(),
    started: false,
  };
}

function cloneContext(c: ParseContext): ParseContext {
  return {
    names: new Map(c.names),
    processes: new Map([...c.processes].map(([k, v]) => [k, { span: v.span, threads: new Set(v.threads) }])),
    nameThreads: new Map([...c.nameThreads].map(([k, v]) => [k, new Set(v)])),
    machineKeys: new Map(c.machineKeys),
    started: c.started,
  };
}

export interface ParseOptions {
  /** Name used in positions; default '<script>' (parseLine: '<stdin>'). */
  file?: string;
  /** Position of the text's first character (a shell line's number in the session). */
  line?: number;
  col?: number;
  loader?: FileLoader;
  knownCalls?: KnownCalls;
  /** When given, an uppercase constant not in the list is an error. */
  knownConstants?: Iterable<string>;
  knownErrnos?: Iterable<string>;
  machineKeys?: Readonly<Record<string, MachineKeySpec>>;
  /** Carried across calls; updated in place only when the parse succeeds. */
  context?: ParseContext;
  maxIncludeDepth?: number;
}

export interface ParseResult {
  /** True when errors is empty. Run nothing unless ok. */
  ok: boolean;
  statements: Statement[];
  errors: Diagnostic[];
  /** Every file read, for formatting runtime errors with formatAt. */
  sources: SourceMap;
  /** The text ends inside an open `{`: a shell should read another line and parse again. */
  incomplete: boolean;
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Parse a whole script; includes are resolved through options.loader. */
export function parseScript(text: string, options: ParseOptions = {}): ParseResult {
  return run(options.file ?? '<script>', text, options);
}

/** Parse one shell line (or a few, if a block is being continued) at options.line/col. */
export function parseLine(text: string, options: ParseOptions = {}): ParseResult {
  return run(options.file ?? '<stdin>', text, options, 'end of line');
}

/** Read the entry file through the loader, then parseScript it. */
export function parseFile(path: string, options: ParseOptions & { loader: FileLoader }): ParseResult {
  let loaded: { file: string; text: string } | { error: string };
  try {
    loaded = options.loader(path, '');
  } catch (e) {
    loaded = { error: errorText(e) };
  }
  if ('error' in loaded) {
    const d: Diagnostic = { file: path, line: 1, col: 1, endCol: 2, message: `cannot read ${path}: ${loaded.error}`, sourceLine: '' };
    return { ok: false, statements: [], errors: [d], sources: new SourceMap(), incomplete: false };
  }
  return run(loaded.file, loaded.text, { ...options, line: 1, col: 1 });
}

/**
 * Parse `key=value` as given on the command line (e.g. `--set paging=5`) with the rules of a
 * `machine` line, so that overrides are checked exactly like the script's own settings.
 */
export function parseMachineSetting(text: string, keys: Readonly<Record<string, MachineKeySpec>> = MACHINE_KEYS):
  { ok: true; setting: MachineSetting } | { ok: false; error: string } {
  const r = parseScript(`machine ${text}`, { file: '<command line>', col: 1 - 'machine '.length, machineKeys: keys });
  const st = r.statements[0];
  if (!r.ok || r.statements.length !== 1 || st?.kind !== 'machine' || st.settings.length !== 1) {
    const msg = r.errors[0]?.message ?? `expected one key=value, got '${text}'`;
    return { ok: false, error: msg };
  }
  return { ok: true, setting: st.settings[0] };
}

/** The effective machine settings of a parsed script (command-line overrides are applied on top by the caller). */
export function machineSettings(statements: readonly Statement[]): Map<string, MachineSetting> {
  const out = new Map<string, MachineSetting>();
  const walk = (ss: readonly Statement[]): void => {
    for (const s of ss) {
      if (s.kind === 'machine') for (const m of s.settings) out.set(m.key, m);
      else if (s.kind === 'include') walk(s.body);
    }
  };
  walk(statements);
  return out;
}

/** A byte-order mark at the start of a file is not part of the script. */
function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Binary data read as text: a NUL, or more than a few control characters and undecodable bytes
 * (U+FFFD) near the start. Such input stops after a few errors instead of hundreds.
 */
export function looksBinary(text: string): boolean {
  const sample = text.slice(0, 8192);
  if (sample.includes('\0')) return true;
  let bad = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 11) || c === 0x7f || c === 0xfffd) bad++;
  }
  return bad > Math.max(4, sample.length / 20);
}

/** `eofName`: how the end of the text reads in messages (a typed line ends, a file's end is its end). */
function run(file: string, rawText: string, options: ParseOptions, eofName = 'end of file'): ParseResult {
  const text = stripBom(rawText);
  const binary = looksBinary(text);
  const ctx = cloneContext(options.context ?? createParseContext());
  const sources = new SourceMap();
  const errors: Diagnostic[] = [];
  const firstLine = options.line ?? 1;
  const firstCol = options.col ?? 1;
  const shared: Shared = {
    ctx,
    errors,
    sources,
    incomplete: false,
    loader: options.loader,
    calls: normaliseCalls(options.knownCalls),
    constants: options.knownConstants ? new Set(options.knownConstants) : undefined,
    errnos: new Set(options.knownErrnos ?? ERRNO_NAMES),
    machineKeys: options.machineKeys ?? MACHINE_KEYS,
    maxDepth: options.maxIncludeDepth ?? 32,
    maxErrors: binary ? BINARY_ERRORS : MAX_ERRORS,
    stopMessage: binary
      ? `this does not look like a trace script (binary data); stopped after ${BINARY_ERRORS} errors`
      : `too many errors; stopped after ${MAX_ERRORS}`,
    eofName,
  };
  let statements: Statement[] = [];
  let p: Parser | undefined;
  try {
    sources.add(file, text, firstLine);
    p = new Parser(file, text, firstLine, firstCol, shared, [file], 0);
    statements = p.parseSequence('eof');
  } catch (e) {
    if (e instanceof StopParsing) return { ok: false, statements: [], errors, sources, incomplete: false };
    // A parser bug must still come out as a diagnostic with a position, never as an exception.
    errors.push({ file, line: firstLine, col: 1, endCol: 2, message: `internal parser error: ${errorText(e)}`, sourceLine: '' });
  }
  const ok = errors.length === 0;
  if (ok && options.context) Object.assign(options.context, ctx);
  return { ok, statements, errors, sources, incomplete: shared.incomplete };
}

/** A source line safe to echo under an error: control characters shown as \u{..}, at most 200 characters. */
function printableLine(line: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/[\u0000-\u0008\u000e-\u001f\u007f]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
  return clean.length > 200 ? clean.slice(0, 200) + '…' : clean;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function normaliseCalls(k: KnownCalls | undefined): Map<string, CallArity | null> | undefined {
  if (k === undefined) return undefined;
  if (k instanceof Map) return new Map([...(k as ReadonlyMap<string, CallArity>)]);
  if (typeof (k as Iterable<string>)[Symbol.iterator] === 'function') {
    return new Map([...(k as Iterable<string>)].map((n) => [n, null]));
  }
  return new Map(Object.entries(k as Record<string, CallArity>));
}

// ---------------------------------------------------------------------------------------------
// The parser proper

interface Shared {
  ctx: ParseContext;
  errors: Diagnostic[];
  sources: SourceMap;
  incomplete: boolean;
  loader: FileLoader | undefined;
  calls: Map<string, CallArity | null> | undefined;
  constants: Set<string> | undefined;
  errnos: Set<string>;
  machineKeys: Readonly<Record<string, MachineKeySpec>>;
  maxDepth: number;
  /** After this many errors parsing stops with stopMessage. */
  maxErrors: number;
  stopMessage: string;
  eofName: string;
}

/** Unwinds one statement after its error has been recorded. */
class StatementFailed {}

/** Unwinds the whole parse: too many errors (or binary input). */
class StopParsing {}

type ExprMode = 'comma' | 'space';

class Parser {
  private readonly toks: Token[];
  private i = 0;
  private prev: Token;
  private readonly lines: string[];
  /** >0 inside `expect fault { }`, where only memory accesses may appear. */
  private inFault = 0;
  private nesting = 0;
  private exprDepth = 0;

  constructor(
    private readonly file: string,
    text: string,
    private readonly firstLine: number,
    firstCol: number,
    private readonly sh: Shared,
    private readonly fileStack: readonly string[],
    private depth: number,
  ) {
    this.toks = lex(text, firstLine, firstCol);
    this.prev = this.toks[0];
    this.lines = text.split(/\r\n|\r|\n/);
    // Shift the first line so the caret lines up with the column numbering of a shell line.
    if (firstCol > 1) this.lines[0] = ' '.repeat(firstCol - 1) + this.lines[0];
    else if (firstCol < 1) this.lines[0] = this.lines[0].slice(1 - firstCol);
  }

  // -- tokens ---------------------------------------------------------------------------------

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)];
  }

  private next(): Token {
    const t = this.toks[this.i];
    if (this.i < this.toks.length - 1) this.i++;
    this.prev = t;
    return t;
  }

  private isPunct(t: Token, p: string): boolean {
    return t.kind === 'punct' && t.text === p;
  }

  private atStatementEnd(t: Token = this.peek()): boolean {
    return t.kind === 'newline' || t.kind === 'eof' || (t.kind === 'punct' && (t.text === ';' || t.text === '}'));
  }

  private describe(t: Token): string {
    switch (t.kind) {
      case 'newline': return 'end of line';
      case 'eof': return this.sh.eofName;
      case 'string': return `string ${t.text}`;
      default: return `'${t.text}'`;
    }
  }

  // -- spans and errors -----------------------------------------------------------------------

  private spanOf(t: Token): Span {
    return { file: this.file, line: t.line, col: t.col, endLine: t.line, endCol: t.endCol };
  }

  /** From a start token to the last consumed token. */
  private spanFrom(start: Token | Span): Span {
    const s = 'kind' in start ? this.spanOf(start) : start;
    const end = this.prev;
    return { file: this.file, line: s.line, col: s.col, endLine: end.line, endCol: end.endCol };
  }

  private joinSpans(a: Span, b: Span): Span {
    return { file: a.file, line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol };
  }

  private lineText(line: number): string {
    return this.lines[line - this.firstLine] ?? '';
  }

  private report(at: Token | Span, message: string): void {
    const line = at.line;
    const col = Math.max(1, at.col);
    const endCol = 'kind' in at ? at.endCol : at.endLine === at.line ? at.endCol : Number.MAX_SAFE_INTEGER;
    const errors = this.sh.errors;
    errors.push({ file: this.file, line, col, endCol: Math.max(col + 1, endCol), message, sourceLine: printableLine(this.lineText(line)) });
    if (errors.length >= this.sh.maxErrors) {
      errors.push({ file: this.file, line, col: 1, endCol: 2, message: this.sh.stopMessage, sourceLine: '' });
      throw new StopParsing();
    }
  }

  private fail(at: Token | Span, message: string): never {
    this.report(at, message);
    throw new StatementFailed();
  }

  /** Fail at t; a lexer error token explains itself. */
  private unexpected(t: Token, expected: string): never {
    if (t.kind === 'error') this.fail(t, t.message ?? `bad token '${t.text}'`);
    this.fail(t, `expected ${expected}, found ${this.describe(t)}`);
  }

  // -- sequences and recovery -----------------------------------------------------------------

  /** Statements up to '}' (not consumed) or end of file. */
  parseSequence(until: '}' | 'eof'): Statement[] {
    const out: Statement[] = [];
    while (true) {
      const t = this.peek();
      if (t.kind === 'newline' || this.isPunct(t, ';')) {
        this.next();
        continue;
      }
      if (t.kind === 'eof') return out;
      if (this.isPunct(t, '}')) {
        if (until === '}') return out;
        this.report(t, "unmatched '}'");
        this.next();
        continue;
      }
      const s = this.statementSafely();
      if (s) out.push(s);
    }
  }

  private statementSafely(): Statement | null {
    this.exprDepth = 0;
    try {
      const s = this.statement();
      const t = this.peek();
      if (!this.atStatementEnd(t)) {
        if (t.kind === 'error') this.fail(t, t.message ?? 'bad token');
        const what = s.kind === 'store' || s.kind === 'memset' || s.kind === 'memcpy'
          ? (this.isPunct(t, '=') ? `; ${s.kind === 'store' ? 'a store' : s.kind} has no result to check` : '')
          : '';
        this.fail(t, `unexpected ${this.describe(t)} after the statement${what}`);
      }
      return s;
    } catch (e) {
      if (!(e instanceof StatementFailed)) throw e;
      this.recover();
      return null;
    }
  }

  /** Skip the rest of a bad statement; a block it opens is still parsed so its braces and names count. */
  private recover(): void {
    while (true) {
      const t = this.peek();
      if (this.atStatementEnd(t)) return;
      if (this.isPunct(t, '{')) {
        this.block();
        continue;
      }
      this.next();
    }
  }

  /** `{ statements }`; the opening brace is the current token. */
  private block(): Statement[] {
    const open = this.next();
    if (this.nesting >= MAX_NESTING) {
      // Skipped without recursion: the point is to survive hostile input, not to parse it.
      this.report(open, `blocks nested deeper than ${MAX_NESTING}`);
      let depth = 1;
      while (depth > 0) {
        const t = this.peek();
        if (t.kind === 'eof') return this.unclosed(open);
        this.next();
        if (this.isPunct(t, '{')) depth++;
        else if (this.isPunct(t, '}')) depth--;
      }
      return [];
    }
    this.nesting++;
    let body: Statement[];
    try {
      body = this.parseSequence('}');
    } finally {
      this.nesting--;
    }
    if (this.isPunct(this.peek(), '}')) this.next();
    else this.unclosed(open);
    return body;
  }

  private unclosed(open: Token): [] {
    this.report(open, "unclosed '{' (no matching '}')");
    if (this.fileStack.length === 1) this.sh.incomplete = true;
    return [];
  }

  /** Guards the recursive descent of expressions against stack exhaustion. */
  private deeper(at: Token): void {
    if (++this.exprDepth > MAX_NESTING) this.fail(at, `expression nested deeper than ${MAX_NESTING}`);
  }

  // -- statements -----------------------------------------------------------------------------

  private statement(): Statement {
    const t = this.peek();
    if (this.inFault > 0 && !(t.kind === 'ident' && MEM_KEYWORDS.has(t.text))) {
      if (t.kind === 'error') this.unexpected(t, 'a statement');
      this.fail(t, "only loads, stores, memset and memcpy can be inside 'expect fault { }'");
    }
    if (this.isPunct(t, '@')) {
      this.sh.ctx.started = true;
      return this.prefixed();
    }
    if (t.kind !== 'ident') {
      this.unexpected(t, 'a statement (a call like name(...), name = ..., or a keyword)');
    }
    const after = this.peek(1);
    if (KEYWORD_SET.has(t.text) && this.isPunct(after, '=')) {
      this.fail(t, `'${t.text}' is a keyword and cannot be used as a name`);
    }
    if (t.text !== 'machine' && t.text !== 'include') this.sh.ctx.started = true;
    switch (t.text) {
      case 'machine': return this.machine();
      case 'include': return this.include();
      case 'process': return this.process();
      case 'thread': return this.thread();
      case 'as': return this.as();
      case 'expect': return this.expect();
      default:
        if (MEM_KEYWORDS.has(t.text)) return this.memStatement(undefined);
    }
    // Contextual words: `probe`, `check` and `show` start a statement only when followed by what
    // they take, so scripts may still use them as names.
    if (after.kind === 'ident') {
      if (t.text === 'probe' && MEM_KEYWORDS.has(after.text)) return this.probe();
      if (t.text === 'check' && after.text === 'invariants') return this.check();
      if (t.text === 'show' && (SHOW_WHAT as readonly string[]).includes(after.text)) return this.show();
    }
    if (this.isPunct(after, '(')) return this.call(undefined);
    if (this.isPunct(after, '=')) return this.binding();
    const kw = didYouMean(t.text, KEYWORDS);
    if (kw) this.fail(t, `unknown statement '${t.text}'${kw}`);
    if (this.sh.calls) {
      const c = didYouMean(t.text, this.sh.calls.keys());
      if (c) this.fail(t, `unknown statement '${t.text}'${c}`);
      if (this.sh.calls.has(t.text)) this.fail(after, `expected '(' after '${t.text}': calls are written ${t.text}(arg, ...)`);
    }
    this.fail(after, `expected '(' or '=' after '${t.text}' (a call is name(arg, ...), a binding is name = ...)`);
  }

  /** `@alice stmt`, `@alice.t2 stmt` */
  private prefixed(): AsStmt {
    const at = this.next();
    const actor = this.actorRef(true);
    const t = this.peek();
    if (t.kind === 'ident' && ['machine', 'include', 'process', 'thread', 'as'].includes(t.text)) {
      this.fail(t, `'@${actor.process}' runs one call, binding or memory statement, not '${t.text}'`);
    }
    if (this.isPunct(t, '@')) this.fail(t, "only one '@' prefix per statement");
    if (this.atStatementEnd(t)) this.unexpected(t, `a statement after '@${actor.process}'`);
    const body = this.statement();
    return { kind: 'as', actor, body: [body], form: 'prefix', span: this.spanFrom(at) };
  }

  /** `name = call(...)`, `name = loadN ...`, `name = expr` */
  private binding(): Statement {
    const nameTok = this.next();
    this.next(); // '='
    const name = nameTok.text;
    const nameSpan = this.spanOf(nameTok);
    if (/^[A-Z]/.test(name)) {
      this.fail(nameTok, `'${name}' starts with an uppercase letter, which marks a constant; names start with a lowercase letter`);
    }
    if (this.inFault > 0) this.fail(nameTok, 'nothing is bound when an access faults');
    const proc = this.sh.ctx.processes.get(name);
    if (proc) this.fail(nameTok, `'${name}' is a process name${proc.span ? ` (declared at ${this.where(proc.span)})` : ''}`);
    const bind: Binding = { name, span: nameSpan };
    try {
      const t = this.peek();
      const after = this.peek(1);
      if (t.kind === 'ident' && MEM_KEYWORDS.has(t.text)) {
        if (!t.text.startsWith('load')) this.fail(t, `${t.text} has no result to bind`);
        return this.memStatement(bind);
      }
      if (t.kind === 'ident' && KEYWORD_SET.has(t.text)) this.fail(t, `'${t.text}' cannot follow '${name} ='`);
      if (t.kind === 'ident' && this.isPunct(after, '(')) return this.call(bind);
      if (this.atStatementEnd(t)) this.unexpected(t, `a call or a value after '${name} ='`);
      const value = this.expr('space');
      const s: LetStmt = { kind: 'let', name, nameSpan, value, span: this.spanFrom(nameTok) };
      return s;
    } finally {
      // Bound even when the right side was bad, so later uses do not pile up "unknown name" errors.
      this.sh.ctx.names.set(name, nameSpan);
      this.sh.ctx.nameThreads.delete(name);
    }
  }

  private call(bind: Binding | undefined): CallStmt {
    const nameTok = this.next();
    const name = nameTok.text;
    const calls = this.sh.calls;
    let arity: CallArity | null = null;
    if (calls) {
      if (!calls.has(name)) this.fail(nameTok, `unknown call '${name}'${didYouMean(name, calls.keys())}`);
      arity = calls.get(name) ?? null;
    }
    this.next(); // '('
    const args: Expr[] = [];
    if (this.isPunct(this.peek(), ')')) this.next();
    else {
      while (true) {
        const a = this.peek();
        if (a.kind === 'newline' || a.kind === 'eof') this.fail(a, `missing ')' to close the arguments of ${name}`);
        if (this.isPunct(a, ',') || this.isPunct(a, ')')) this.unexpected(a, 'an argument');
        args.push(this.expr('comma'));
        const t = this.peek();
        if (this.isPunct(t, ',')) {
          this.next();
          continue;
        }
        if (this.isPunct(t, ')')) {
          this.next();
          break;
        }
        if (t.kind === 'newline' || t.kind === 'eof') this.fail(t, `missing ')' to close the arguments of ${name}`);
        this.unexpected(t, `',' or ')' in the arguments of ${name}`);
      }
    }
    if (arity && (args.length < arity.minArgs || args.length > arity.maxArgs)) {
      const want = arity.minArgs === arity.maxArgs ? `${arity.minArgs}` : `${arity.minArgs} to ${arity.maxArgs}`;
      this.fail(this.spanFrom(nameTok), `${name} takes ${want} argument${want === '1' ? '' : 's'}, got ${args.length}`);
    }
    const expect = this.optionalExpectation();
    return { kind: 'call', name, nameSpan: this.spanOf(nameTok), args, bind, expect, span: this.spanFrom(bind ? bind.span : this.spanOf(nameTok)) };
  }

  private memStatement(bind: Binding | undefined): MemStmt {
    const kw = this.next();
    const op = kw.text;
    const args: Expr[] = [];
    while (this.startsExpr(this.peek())) {
      const e = this.expr('space');
      if (e.kind === 'string') this.fail(e.span, `${op} takes numbers, not strings`);
      args.push(e);
    }
    const arity: Record<string, [number, string]> = {
      load: [1, 'ADDR'], store: [2, 'ADDR VALUE'], memset: [3, 'ADDR LEN BYTE'], memcpy: [3, 'DST SRC LEN'],
    };
    const family = op.startsWith('load') ? 'load' : op.startsWith('store') ? 'store' : op;
    const [n, shape] = arity[family];
    if (args.length !== n) {
      const t = this.peek();
      if (args.length < n && !this.atStatementEnd(t) && !this.isPunct(t, '=')) this.unexpected(t, `${op} ${shape}`);
      const at = args.length > n ? args[n].span : this.spanFrom(kw);
      this.fail(at, `${op} takes ${n} argument${n === 1 ? '' : 's'} (${op} ${shape}), got ${args.length}`);
    }
    const start = bind ? bind.span : this.spanOf(kw);
    if (family === 'load') {
      const width = Number(op.slice(4)) as Width;
      let expect: Expectation | undefined;
      if (this.isPunct(this.peek(), '=')) {
        if (this.inFault > 0) this.fail(this.peek(), 'a faulting load has no value to check');
        expect = this.optionalExpectation();
      }
      return { kind: 'load', width, addr: args[0], bind, expect, span: this.spanFrom(start) };
    }
    if (family === 'store') {
      return { kind: 'store', width: Number(op.slice(5)) as Width, addr: args[0], value: args[1], span: this.spanFrom(start) };
    }
    if (family === 'memset') return { kind: 'memset', addr: args[0], len: args[1], byte: args[2], span: this.spanFrom(start) };
    return { kind: 'memcpy', dst: args[0], src: args[1], len: args[2], span: this.spanFrom(start) };
  }

  /** `expect fault ...`, `expect cycles OP N`, `expect errno ...`, `expect blocked ACTOR`. */
  private expect(): Statement {
    const f = this.peek(1);
    const what = f.kind === 'ident' ? f.text : '';
    switch (what) {
      case 'fault': return this.expectFault();
      case 'cycles': return this.expectCycles();
      case 'errno': return this.expectErrno();
      case 'blocked': return this.expectBlocked();
      default:
        this.next();
        if (f.kind === 'error') this.unexpected(f, 'fault, cycles, errno or blocked');
        this.fail(f, `expected 'fault', 'cycles', 'errno' or 'blocked' after 'expect', found ${this.describe(f)}${f.kind === 'ident' ? didYouMean(f.text, EXPECT_WHAT) : ''}`);
    }
  }

  private expectCycles(): Statement {
    const kw = this.next();
    this.next(); // cycles
    const t = this.peek();
    if (!(t.kind === 'punct' && (COMPARE_OPS.has(t.text) || t.text === '='))) this.unexpected(t, "a comparison after 'expect cycles' (<, <=, >, >=, =, !=)");
    this.next();
    const value = this.numericExpr('space');
    return { kind: 'expectCycles', op: t.text as CompareOp | '=', value, span: this.spanFrom(kw) };
  }

  private expectErrno(): Statement {
    const kw = this.next();
    this.next(); // errno
    const errnos: string[] = [];
    const one = (): void => {
      const t = this.peek();
      if (this.isPunct(t, '-')) this.fail(t, "write the errno names without '-': expect errno one of (ENOENT, ESRCH)");
      if (t.kind !== 'ident' || !ERRNO_SHAPE.test(t.text)) this.unexpected(t, 'an errno name (ENOENT, EINVAL, ...)');
      if (!this.sh.errnos.has(t.text)) this.fail(t, `unknown errno '${t.text}'${didYouMean(t.text, this.sh.errnos)}`);
      errnos.push(this.next().text);
    };
    const t = this.peek();
    if (t.kind === 'ident' && t.text === 'one' && this.peek(1).kind === 'ident' && this.peek(1).text === 'of') {
      this.next();
      this.next();
      if (!this.isPunct(this.peek(), '(')) this.unexpected(this.peek(), "'(' after 'one of': expect errno one of (ENOENT, ESRCH)");
      this.next();
      one();
      while (this.isPunct(this.peek(), ',')) {
        this.next();
        one();
      }
      if (!this.isPunct(this.peek(), ')')) this.unexpected(this.peek(), "',' or ')' in the errno list");
      this.next();
    } else {
      one();
    }
    return { kind: 'expectErrno', errnos, span: this.spanFrom(kw) };
  }

  private expectBlocked(): Statement {
    const kw = this.next();
    this.next(); // blocked
    const actor = this.actorRef(true);
    return { kind: 'expectBlocked', actor, span: this.spanFrom(kw) };
  }

  private probe(): Statement {
    const kw = this.next();
    const t = this.peek();
    if (!t.text.startsWith('load') && !t.text.startsWith('store')) this.fail(t, `probe takes a load or a store (probe load64 ADDR, probe store64 ADDR VALUE), not ${t.text}`);
    const access = this.memStatement(undefined) as Extract<MemStmt, { kind: 'load' | 'store' }>;
    if (access.kind === 'load' && access.expect) this.fail(access.expect.span, 'a probe records what happens; it has no expectation (use load64 ADDR = V)');
    return { kind: 'probe', access, span: this.spanFrom(kw) };
  }

  private check(): Statement {
    const kw = this.next();
    this.next(); // invariants
    return { kind: 'check', what: 'invariants', span: this.spanFrom(kw) };
  }

  private show(): Statement {
    const kw = this.next();
    const what = this.next().text as (typeof SHOW_WHAT)[number];
    if (what === 'frames') return { kind: 'show', what, span: this.spanFrom(kw) };
    let target: 'seg' | 'vas' = 'seg';
    if (what === 'refs') {
      const t = this.peek();
      if (!(t.kind === 'ident' && (t.text === 'seg' || t.text === 'vas'))) this.unexpected(t, "'seg SID' or 'vas VID' after 'show refs'");
      target = this.next().text as 'seg' | 'vas';
    }
    if (this.atStatementEnd()) this.unexpected(this.peek(), what === 'refs' ? `a ${target === 'seg' ? 'sid' : 'vid'}` : 'a sid');
    const arg = this.numericExpr('space');
    return { kind: 'show', what, target, arg, span: this.spanFrom(kw) };
  }

  private expectFault(): ExpectFaultStmt {
    const kw = this.next();
    this.next(); // fault
    let access: FaultAccess | undefined;
    let reason: FaultReason | undefined;
    while (true) {
      const t = this.peek();
      if (t.kind !== 'ident' || MEM_KEYWORDS.has(t.text)) break;
      if ((FAULT_ACCESS as readonly string[]).includes(t.text)) {
        if (access) this.fail(t, `the access is already given ('${access}')`);
        access = t.text as FaultAccess;
      } else if ((FAULT_REASONS as readonly string[]).includes(t.text)) {
        if (reason) this.fail(t, `the reason is already given ('${reason}')`);
        reason = t.text as FaultReason;
      } else if (this.isPunct(this.peek(1), '(')) {
        this.fail(t, 'only memory accesses fault; a call that gets a bad address returns -EFAULT (write = -EFAULT)');
      } else {
        const dym = didYouMean(t.text, [...FAULT_ACCESS, ...FAULT_REASONS, ...MEM_KEYWORDS]);
        this.fail(t, `unknown fault qualifier '${t.text}'${dym} (known: ${[...FAULT_ACCESS, ...FAULT_REASONS].join(', ')})`);
      }
      this.next();
    }
    const t = this.peek();
    let body: MemStmt[];
    let form: 'block' | 'prefix';
    this.inFault++;
    try {
      if (this.isPunct(t, '{')) {
        form = 'block';
        body = this.block() as MemStmt[];
      } else if (t.kind === 'ident' && MEM_KEYWORDS.has(t.text)) {
        form = 'prefix';
        body = [this.memStatement(undefined)];
      } else {
        this.unexpected(t, "a load, store, memset or memcpy (or '{') after 'expect fault'");
      }
    } finally {
      this.inFault--;
    }
    if (access) {
      for (const s of body) {
        const reads = s.kind === 'load' || s.kind === 'memcpy';
        const writes = s.kind === 'store' || s.kind === 'memset' || s.kind === 'memcpy';
        if ((access === 'read' && !reads) || (access === 'write' && !writes)) {
          const op = s.kind === 'load' ? `load${s.width}` : s.kind === 'store' ? `store${s.width}` : s.kind;
          this.report(s.span, `${op} ${access === 'read' ? 'only writes' : 'only reads'}; it cannot make a ${access} fault`);
        }
      }
    }
    return { kind: 'expectFault', access, reason, body, form, span: this.spanFrom(kw) };
  }

  private process(): ProcessStmt {
    const kw = this.next();
    const nameTok = this.newName('a process name after \'process\'');
    const name = nameTok.text;
    const ctx = this.sh.ctx;
    const prior = ctx.processes.get(name);
    if (prior) {
      this.fail(nameTok, `process '${name}' is already declared${prior.span ? ` at ${this.where(prior.span)}` : ' (it always exists)'}; use 'as ${name}' to run statements in it`);
    }
    const boundAt = ctx.names.get(name);
    if (boundAt) this.fail(nameTok, `'${name}' is already a name (bound at ${this.where(boundAt)})`);
    // Declared before the attributes and the body so that, even when the header is bad, the body
    // (which recovery still parses) can refer to it without a cascade of "unknown process".
    ctx.processes.set(name, { span: this.spanOf(nameTok), threads: new Set(['main']) });
    const s: ProcessStmt = { kind: 'process', name, nameSpan: this.spanOf(nameTok), body: null, span: this.spanOf(kw) };
    const seen = new Set<string>();
    while (this.peek().kind === 'ident') {
      const keyTok = this.next();
      const key = keyTok.text;
      if (!(PROCESS_ATTRS as readonly string[]).includes(key)) {
        this.fail(keyTok, `unknown process attribute '${key}'${didYouMean(key, PROCESS_ATTRS)} (known: ${PROCESS_ATTRS.join(', ')})`);
      }
      if (seen.has(key)) this.fail(keyTok, `'${key}' is given twice`);
      seen.add(key);
      if (!this.isPunct(this.peek(), '=')) this.unexpected(this.peek(), `'=' after '${key}' (${key}=N)`);
      this.next();
      const value = this.numericExpr('space');
      if (key === 'groups') {
        const groups = [value];
        while (this.isPunct(this.peek(), ',')) {
          this.next();
          groups.push(this.numericExpr('space'));
        }
        s.groups = groups;
      } else {
        s[key as 'uid' | 'gid' | 'cpu'] = value;
      }
    }
    const t = this.peek();
    if (!this.atStatementEnd(t) && !this.isPunct(t, '{')) this.unexpected(t, "key=value (uid, gid, groups, cpu) or '{'");
    if (this.isPunct(t, '{')) s.body = this.block();
    s.span = this.spanFrom(kw);
    return s;
  }

  private thread(): ThreadStmt {
    const kw = this.next();
    const actor = this.actorRef(false);
    if (actor.thread === undefined) {
      this.fail(actor.span, `a thread is named with its process: thread ${actor.process}.NAME`);
    }
    const threads = this.threadsOf(actor.process);
    if (threads.has(actor.thread)) this.fail(actor.span, `process '${actor.process}' already has a thread '${actor.thread}'`);
    threads.add(actor.thread);
    const s: ThreadStmt = { kind: 'thread', actor: actor as ActorRef & { thread: string }, body: null, span: this.spanOf(kw) };
    while (this.peek().kind === 'ident') {
      const keyTok = this.next();
      if (keyTok.text !== 'cpu') this.fail(keyTok, `unknown thread attribute '${keyTok.text}' (known: cpu)`);
      if (s.cpu) this.fail(keyTok, "'cpu' is given twice");
      if (!this.isPunct(this.peek(), '=')) this.unexpected(this.peek(), "'=' after 'cpu' (cpu=N)");
      this.next();
      s.cpu = this.numericExpr('space');
    }
    const t = this.peek();
    if (!this.atStatementEnd(t) && !this.isPunct(t, '{')) this.unexpected(t, "cpu=N or '{'");
    if (this.isPunct(t, '{')) s.body = this.block();
    s.span = this.spanFrom(kw);
    return s;
  }

  private as(): AsStmt {
    const kw = this.next();
    const actor = this.actorRef(true);
    const t = this.peek();
    if (this.isPunct(t, '{')) {
      const body = this.block();
      return { kind: 'as', actor, body, form: 'block', span: this.spanFrom(kw) };
    }
    if (!this.atStatementEnd(t)) this.unexpected(t, `'{' or the end of the line after 'as ${actor.process}'`);
    return { kind: 'as', actor, body: null, form: 'rest', span: this.spanFrom(kw) };
  }

  private machine(): MachineStmt {
    const kw = this.next();
    const ctx = this.sh.ctx;
    if (ctx.started) this.fail(kw, "'machine' must come before the first other statement (it configures the machine the script runs on)");
    const keys = this.sh.machineKeys;
    const settings: MachineSetting[] = [];
    while (!this.atStatementEnd()) {
      const keyTok = this.next();
      if (keyTok.kind !== 'ident') this.unexpected(keyTok, 'key=value');
      const key = keyTok.text;
      const spec = keys[key];
      if (!spec) this.fail(keyTok, `unknown machine setting '${key}'${didYouMean(key, Object.keys(keys))} (known: ${Object.keys(keys).join(', ')})`);
      const before = ctx.machineKeys.get(key);
      if (before) this.fail(keyTok, `machine setting '${key}' is already given at ${this.where(before)}`);
      if (!this.isPunct(this.peek(), '=') || this.peek().spaceBefore) this.unexpected(this.peek(), `'=' directly after '${key}' (${key}=VALUE)`);
      this.next();
      const vt = this.peek();
      if (vt.spaceBefore || this.atStatementEnd(vt)) this.unexpected(vt, `a value directly after '${key}=' (${spec.help})`);
      const { value, raw } = this.machineValue(key, spec);
      ctx.machineKeys.set(key, this.spanOf(keyTok));
      settings.push({ key, value, raw, span: this.spanFrom(keyTok) });
    }
    if (settings.length === 0) this.unexpected(this.peek(), `key=value after 'machine' (keys: ${Object.keys(keys).join(', ')})`);
    return { kind: 'machine', settings, span: this.spanFrom(kw) };
  }

  private machineValue(key: string, spec: MachineKeySpec): { value: MachineValue; raw: string } {
    const t = this.next();
    if (t.kind === 'error') this.unexpected(t, 'a value');
    if (spec.kind === 'int' || spec.kind === 'size') {
      if (t.kind !== 'number') this.fail(t, `${key} needs ${t.kind === 'float' ? 'an integer' : 'a number'} (${spec.help})`);
      const v = t.value!;
      if (spec.kind === 'int' && t.radix === 10 && /[a-zA-Z]/.test(t.text)) this.fail(t, `${key} is a count, not a size`);
      if (spec.allowed && !spec.allowed.includes(v)) this.fail(t, `${key} must be ${spec.allowed.join(' or ')}, not ${t.text}`);
      if (spec.min !== undefined && v < spec.min) this.fail(t, `${key} must be at least ${spec.min}`);
      return { value: v, raw: t.text };
    }
    if (spec.kind === 'bool') {
      const on = ['on', 'true', 'yes', '1'];
      const off = ['off', 'false', 'no', '0'];
      if (on.includes(t.text)) return { value: true, raw: t.text };
      if (off.includes(t.text)) return { value: false, raw: t.text };
      this.fail(t, `${key} must be on or off, not ${this.describe(t)}`);
    }
    if (t.kind === 'string') return { value: t.str!, raw: t.text };
    if (t.kind !== 'ident' && t.kind !== 'number') this.fail(t, `${key} needs a word or a quoted string (${spec.help})`);
    // Bare words may contain '-' (profile=m2-barrelfish) as long as nothing is spaced apart.
    let raw = t.text;
    while (this.isPunct(this.peek(), '-') && !this.peek().spaceBefore && !this.peek(1).spaceBefore
      && (this.peek(1).kind === 'ident' || this.peek(1).kind === 'number')) {
      this.next();
      raw += '-' + this.next().text;
    }
    return { value: raw, raw };
  }

  private include(): IncludeStmt {
    const kw = this.next();
    const pt = this.peek();
    if (pt.kind !== 'string') this.unexpected(pt, 'a quoted file name: include "common.trace"');
    this.next();
    const path = pt.str!;
    if (!this.sh.loader) this.fail(pt, 'include is not available here (no file loader)');
    let loaded: { file: string; text: string } | { error: string };
    try {
      loaded = this.sh.loader(path, this.file);
    } catch (e) {
      loaded = { error: errorText(e) };
    }
    if ('error' in loaded) this.fail(pt, `cannot include "${path}": ${loaded.error}`);
    if (this.fileStack.includes(loaded.file)) {
      this.fail(pt, `include cycle: ${[...this.fileStack.slice(this.fileStack.indexOf(loaded.file)), loaded.file].join(' -> ')}`);
    }
    if (this.depth + 1 > this.sh.maxDepth) this.fail(pt, `includes nested deeper than ${this.sh.maxDepth}`);
    const text = stripBom(loaded.text);
    if (looksBinary(text)) this.fail(pt, `cannot include "${path}": this does not look like a trace script (binary data)`);
    this.sh.sources.add(loaded.file, text);
    const sub = new Parser(loaded.file, text, 1, 1, this.sh, [...this.fileStack, loaded.file], this.depth + 1);
    const body = sub.parseSequence('eof');
    return { kind: 'include', path, file: loaded.file, body, span: this.spanFrom(kw) };
  }

  // -- names, processes -----------------------------------------------------------------------

  private where(s: Span): string {
    return `${s.file}:${s.line}:${s.col}`;
  }

  /** A lowercase identifier that is not a keyword. */
  private newName(expected: string): Token {
    const t = this.peek();
    if (t.kind !== 'ident') this.unexpected(t, expected);
    if (KEYWORD_SET.has(t.text)) this.fail(t, `'${t.text}' is a keyword; expected ${expected}`);
    if (/^[A-Z]/.test(t.text)) this.fail(t, `'${t.text}' starts with an uppercase letter (names start lowercase)`);
    return this.next();
  }

  private threadsOf(process: string): Set<string> {
    const p = this.sh.ctx.processes.get(process);
    if (p) return p.threads;
    let s = this.sh.ctx.nameThreads.get(process);
    if (!s) {
      s = new Set(['main']);
      this.sh.ctx.nameThreads.set(process, s);
    }
    return s;
  }

  /** `proc` or `proc.thread`; the process must be declared or be a name (a fork child's pid). */
  private actorRef(threadMustExist: boolean): ActorRef {
    const pt = this.newName('a process name');
    const process = pt.text;
    const ctx = this.sh.ctx;
    if (!ctx.processes.has(process) && !ctx.names.has(process)) {
      this.fail(pt, `unknown process '${process}'${didYouMean(process, [...ctx.processes.keys(), ...ctx.names.keys()])}`);
    }
    let thread: string | undefined;
    if (this.isPunct(this.peek(), '.') && !this.peek().spaceBefore) {
      this.next();
      const tt = this.newName(`a thread name after '${process}.'`);
      thread = tt.text;
      const threads = this.threadsOf(process);
      if (threadMustExist && !threads.has(thread)) {
        this.fail(tt, `process '${process}' has no thread '${thread}'${didYouMean(thread, threads)} (declare it with 'thread ${process}.${thread}')`);
      }
    }
    return { process, thread, span: this.spanFrom(pt) };
  }

  // -- expectations ---------------------------------------------------------------------------

  private optionalExpectation(): Expectation | undefined {
    if (!this.isPunct(this.peek(), '=')) return undefined;
    const eq = this.next();
    const t = this.peek();
    if (t.kind === 'ident' && (t.text === 'any' || t.text === 'ok')) {
      this.next();
      return { kind: t.text, span: this.spanFrom(eq) };
    }
    if (t.kind === 'punct' && COMPARE_OPS.has(t.text)) {
      this.next();
      const value = this.numericExpr('space');
      return { kind: 'compare', op: t.text as CompareOp, value, span: this.spanFrom(eq) };
    }
    if (this.isPunct(t, '=')) this.fail(t, "one '=' introduces an expectation: write '= 0', '= -EEXIST' or '= >0'");
    const after = this.peek(1);
    if (this.isPunct(t, '-') && after.kind === 'ident' && ERRNO_SHAPE.test(after.text)) {
      this.next();
      this.next();
      if (!this.sh.errnos.has(after.text)) this.fail(after, `unknown errno '${after.text}'${didYouMean(after.text, this.sh.errnos)}`);
      return { kind: 'errno', errno: after.text, span: this.spanFrom(eq) };
    }
    if (t.kind === 'ident' && this.sh.errnos.has(t.text)) this.fail(t, `an error is expected with a minus sign: = -${t.text}`);
    if (this.atStatementEnd(t)) this.unexpected(t, "an expectation after '=' (a value, -ERRNO, >0, >=0, <0, !=0, ok or any)");
    const value = this.numericExpr('space');
    return { kind: 'value', value, span: this.spanFrom(eq) };
  }

  // -- expressions ----------------------------------------------------------------------------

  private startsExpr(t: Token): boolean {
    if (t.kind === 'number' || t.kind === 'float' || t.kind === 'string' || t.kind === 'error') return true;
    if (t.kind === 'ident') return true;
    return this.isPunct(t, '(') || this.isPunct(t, '-');
  }

  private numericExpr(mode: ExprMode): Expr {
    const e = this.expr(mode);
    if (e.kind === 'string') this.fail(e.span, 'expected a number, not a string');
    return e;
  }

  /**
   * `|` binds loosest, then `+ -`, then `*`, then unary `-`. In space-separated argument lists
   * (memory statements, key=value) a `-` with a space before it and none after starts a new
   * argument, so `store64 p -1` is two arguments and `p - 1` / `p-1` is one.
   */
  private expr(mode: ExprMode): Expr {
    let left = this.additive(mode);
    while (this.isPunct(this.peek(), '|')) {
      this.next();
      const right = this.additive(mode);
      left = this.binary('|', left, right);
    }
    return left;
  }

  private additive(mode: ExprMode): Expr {
    let left = this.multiplicative(mode);
    while (true) {
      const t = this.peek();
      if (!(this.isPunct(t, '+') || this.isPunct(t, '-'))) return left;
      if (mode === 'space' && t.spaceBefore && !this.peek(1).spaceBefore) return left;
      this.next();
      const right = this.multiplicative(mode);
      left = this.binary(t.text as '+' | '-', left, right);
    }
  }

  private multiplicative(mode: ExprMode): Expr {
    let left = this.unary(mode);
    while (this.isPunct(this.peek(), '*')) {
      this.next();
      const right = this.unary(mode);
      left = this.binary('*', left, right);
    }
    return left;
  }

  private binary(op: '+' | '-' | '*' | '|', left: Expr, right: Expr): Expr {
    for (const side of [left, right]) {
      if (side.kind === 'string') this.fail(side.span, `a string cannot be used with '${op}'`);
    }
    return { kind: 'binary', op, left, right, span: this.joinSpans(left.span, right.span) };
  }

  private unary(mode: ExprMode): Expr {
    const t = this.peek();
    if (this.isPunct(t, '-')) {
      this.deeper(t);
      this.next();
      const operand = this.unary(mode);
      if (operand.kind === 'string') this.fail(operand.span, "a string cannot be negated");
      return { kind: 'neg', operand, span: this.joinSpans(this.spanOf(t), operand.span) };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return { kind: 'number', value: t.value!, raw: t.text, radix: t.radix!, span: this.spanOf(t) };
      case 'float':
        this.next();
        return { kind: 'float', value: t.float!, raw: t.text, span: this.spanOf(t) };
      case 'string':
        this.next();
        return { kind: 'string', value: t.str!, span: this.spanOf(t) };
      case 'ident': {
        const name = t.text;
        if (KEYWORD_SET.has(name)) this.fail(t, `'${name}' is a keyword, not a value`);
        if (name === 'NaN' || name === 'Infinity') {
          this.next();
          return { kind: 'float', value: name === 'NaN' ? NaN : Infinity, raw: name, span: this.spanOf(t) };
        }
        if (/^[A-Z]/.test(name)) {
          const known = this.sh.constants;
          if (known && !known.has(name)) {
            const isErrno = ERRNO_SHAPE.test(name) && this.sh.errnos.has(name);
            if (!isErrno) this.fail(t, `unknown constant '${name}'${didYouMean(name, known)}`);
          }
          this.next();
          return { kind: 'const', name, span: this.spanOf(t) };
        }
        const names = this.sh.ctx.names;
        if (!names.has(name) && !this.sh.ctx.processes.has(name)) {
          const hint = didYouMean(name, [...names.keys(), ...this.sh.ctx.processes.keys()]);
          this.fail(t, `unknown name '${name}'${hint}${hint ? '' : ' (bind it first: name = ...)'}`);
        }
        this.next();
        return { kind: 'name', name, span: this.spanOf(t) };
      }
      case 'punct':
        if (t.text === '(') {
          this.deeper(t);
          this.next();
          const e = this.expr('comma');
          if (!this.isPunct(this.peek(), ')')) this.unexpected(this.peek(), "')'");
          this.next();
          return { ...e, span: this.spanFrom(t) };
        }
        break;
      default:
        break;
    }
    this.unexpected(t, 'a value');
  }
}
