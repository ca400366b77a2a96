// The trace runner: executes parsed statements on an emulated machine, one actor (process and
// thread) at a time, and keeps an strace-like transcript: who ran what, the result, whether its
// expectation held, and the modelled cycles it cost. Used by `sjmp trace` and, line by line, by
// the interactive shell.

import type { Kernel } from '../../kernel/kernel.js';
import { ProcessKilled } from '../../kernel/kernel.js';
import type { Process, Thread } from '../../kernel/proc/process.js';
import { MachineFault, VECTOR_GP } from '../../mmu/cpu.js';
import { ACCESS_WRITE } from '../../mmu/pageWalker.js';
import { errnoName, errnoValue } from '../../kernel/errno.js';
import { formatAddr } from '../../mmu/units.js';
import { syscall, isWouldBlock, lastSyscallError } from '../dispatch.js';
import { SYSCALLS, type RawArg } from '../table.js';
import { formatArgs } from '../strace.js';
import { CONSTANTS } from '../constants.js';
import { SPACEJMP_CONSTANTS } from '../calls/spacejmpConstants.js';
import type { Statement, Expr, Expectation, Span, CallStmt, MemStmt, ActorRef } from './ast.js';
import { createParseContext, parseLine, type ParseContext } from './parser.js';
import { SourceMap, formatAt } from './diagnostics.js';
import type { Diagnostic } from './ast.js';

export type EntryKind = 'call' | 'load' | 'store' | 'fault' | 'error' | 'info' | 'blocked' | 'expect';

export interface TranscriptEntry {
  /** Actor label, e.g. "alice[2]" or "alice[2].t2". */
  process: string;
  thread: string;
  /** The statement as run, e.g. `vas_attach(1)`. */
  text: string;
  result?: string;
  /** False when an expectation failed or the statement could not run. */
  ok: boolean;
  /** Modelled cycles the statement cost (all CPUs). */
  cycles: number;
  kind: EntryKind;
  /** file:line:col of the statement. */
  at: string;
  /** Why it failed (expectation text, fault report, error). */
  note?: string;
}

export interface RunSummary {
  statements: number;
  expectations: { passed: number; failed: number };
  faults: number;
  errors: number;
  cyclesByProcess: Record<string, number>;
  tlb: { accesses: number; l1Hits: number; l1Misses: number; stlbHits: number; walks: number; walkRefs: number; pageFaults: number; cr3Writes: number };
  profile: string;
}

interface Actor { process: Process; thread: Thread; label: string }

interface Pending { actor: Actor; stmt: CallStmt; args: RawArg[]; text: string; at: number }

/** Values of uppercase names: syscall ABI constants, SpaceJMP handles and commands. */
export const TRACE_CONSTANTS: Readonly<Record<string, number>> = { ...CONSTANTS, ...SPACEJMP_CONSTANTS };

class RunError extends Error {
  constructor(readonly span: Span, message: string) { super(message); }
}

export class TraceRunner {
  readonly context: ParseContext = createParseContext();
  readonly sources = new SourceMap();
  readonly names = new Map<string, bigint | string>();
  readonly actors = new Map<string, Actor>();
  readonly transcript: TranscriptEntry[] = [];
  private readonly pending: Pending[] = [];
  private readonly lines: string[] = [];
  private readonly stats = { statements: 0, passed: 0, failed: 0, faults: 0, errors: 0 };
  private readonly cyclesByProcess: Record<string, number> = {};
  private current: Actor;

  constructor(readonly kernel: Kernel, readonly opts: { onEntry?: (e: TranscriptEntry) => void } = {}) {
    const init = kernel.spawn('init', { uid: 0, gid: 0 });
    this.current = this.addActor('init', init, init.threads[0]);
  }

  private addActor(name: string, p: Process, t: Thread): Actor {
    const a = { process: p, thread: t, label: `${name}[${p.pid}]${t.name === 'main' ? '' : '.' + t.name}` };
    this.actors.set(t.name === 'main' ? name : `${name}.${t.name}`, a);
    return a;
  }

  /** Who runs the next statement outside a block (`as NAME` moves it): the name scripts use for it and the actor. */
  get acting(): { name: string; process: Process; thread: Thread; label: string } {
    const a = this.current;
    const name = [...this.actors].find(([, x]) => x === a)?.[0] ?? a.label;
    return { name, process: a.process, thread: a.thread, label: a.label };
  }

  /** Syscall names and argument counts, for the parser's checks and the shell's completion. */
  static knownCalls(): Map<string, { minArgs: number; maxArgs: number }> {
    return SYSCALLS.arities();
  }

  knownCalls(): string[] {
    return [...SYSCALLS.arities().keys()];
  }

  /** Statements run so far, as text (the shell's `save`). */
  statementsText(): string[] {
    return [...this.lines];
  }

  // ------------------------------------------------------------------ entry points

  /** Run a whole parsed script. */
  runScript(statements: readonly Statement[], sources?: SourceMap): RunSummary {
    if (sources) this.sources.absorb(sources);
    this.runBlock(statements);
    this.finishPending();
    return this.summary();
  }

  /** Parse and run one interactive line. */
  runLine(text: string, line = 1): { entries: TranscriptEntry[]; errors: Diagnostic[]; incomplete: boolean } {
    const r = parseLine(text, { line, context: this.context, knownCalls: TraceRunner.knownCalls(), knownConstants: Object.keys(TRACE_CONSTANTS) });
    if (!r.ok) return { entries: [], errors: r.errors, incomplete: r.incomplete };
    this.sources.absorb(r.sources);
    const before = this.transcript.length;
    this.runBlock(r.statements, true);
    this.lines.push(text);
    return { entries: this.transcript.slice(before), errors: [], incomplete: false };
  }

  summary(): RunSummary {
    const tlb = { accesses: 0, l1Hits: 0, l1Misses: 0, stlbHits: 0, walks: 0, walkRefs: 0, pageFaults: 0, cr3Writes: 0 };
    for (const cpu of this.kernel.cpus) {
      const c = cpu.counters();
      tlb.accesses += c.accesses; tlb.l1Hits += c.l1Hits; tlb.l1Misses += c.l1Misses; tlb.stlbHits += c.stlbHits;
      tlb.walks += c.walks; tlb.walkRefs += c.walkRefs; tlb.pageFaults += c.pageFaults; tlb.cr3Writes += c.cr3Writes;
    }
    return {
      statements: this.stats.statements,
      expectations: { passed: this.stats.passed, failed: this.stats.failed },
      faults: this.stats.faults,
      errors: this.stats.errors,
      cyclesByProcess: { ...this.cyclesByProcess },
      tlb,
      profile: this.kernel.config.profile.name,
    };
  }

  // ------------------------------------------------------------------ statements

  private runBlock(statements: readonly Statement[], persistActor = false): void {
    const saved = this.current;
    for (const s of statements) {
      try {
        this.runStatement(s);
      } catch (e) {
        if (e instanceof RunError) this.report(this.current, 'error', '', false, 0, e.span, e.message);
        else throw e;
      }
      this.retryPending();
    }
    if (!persistActor) this.current = saved;
  }

  private runStatement(s: Statement): void {
    switch (s.kind) {
      case 'machine': return; // applied when the machine was built
      case 'include': this.runBlock(s.body, true); return;
      case 'let': this.names.set(s.name, this.evalExpr(s.value)); return;
      case 'process': return this.processStmt(s);
      case 'thread': return this.threadStmt(s);
      case 'as': {
        const actor = this.resolveActor(s.actor);
        if (s.body === null) { this.current = actor; return; }
        const saved = this.current;
        this.current = actor;
        try { this.runBlock(s.body, true); } finally { this.current = saved; }
        return;
      }
      case 'call': return this.callStmt(s);
      case 'expectFault': return this.expectFault(s);
      default: return this.memStmt(s, null);
    }
  }

  private processStmt(s: Extract<Statement, { kind: 'process' }>): void {
    let actor = this.actors.get(s.name);
    if (!actor) {
      const uid = s.uid ? this.num(s.uid) : 1000 + this.actors.size;
      const gid = s.gid ? this.num(s.gid) : uid;
      const cpu = s.cpu ? this.num(s.cpu) : -1;
      if (cpu >= this.kernel.cpus.length) throw new RunError(s.cpu!.span, `no CPU ${cpu} (the machine has ${this.kernel.cpus.length})`);
      const groups = (s.groups ?? []).map((g) => this.num(g));
      const p = this.kernel.spawn(s.name, { uid, gid, groups }, { parent: this.actors.get('init')!.process, affinity: cpu });
      actor = this.addActor(s.name, p, p.threads[0]);
      const gs = groups.length ? ` groups=${groups.join(',')}` : '';
      this.report(actor, 'info', `process ${s.name}`, true, 0, s.span, undefined, `pid ${p.pid} uid=${uid} gid=${gid}${gs} cpu ${p.threads[0].cpu}`);
    }
    if (s.body) {
      const saved = this.current;
      this.current = actor;
      try { this.runBlock(s.body, true); } finally { this.current = saved; }
    }
  }

  private threadStmt(s: Extract<Statement, { kind: 'thread' }>): void {
    const key = `${s.actor.process}.${s.actor.thread}`;
    let actor = this.actors.get(key);
    if (!actor) {
      const owner = this.resolveActor({ process: s.actor.process, span: s.actor.span });
      const cpu = s.cpu ? this.num(s.cpu) : -1;
      if (cpu >= this.kernel.cpus.length) throw new RunError(s.cpu!.span, `no CPU ${cpu}`);
      const t = this.kernel.newThread(owner.process, s.actor.thread, null, cpu);
      actor = this.addActor(s.actor.process, owner.process, t);
      this.report(actor, 'info', `thread ${key}`, true, 0, s.span, undefined, `tid ${t.tid} cpu ${t.cpu}`);
    }
    if (s.body) {
      const saved = this.current;
      this.current = actor;
      try { this.runBlock(s.body, true); } finally { this.current = saved; }
    }
  }

  private resolveActor(r: ActorRef): Actor {
    const key = r.thread && r.thread !== 'main' ? `${r.process}.${r.thread}` : r.process;
    const a = this.actors.get(key);
    if (!a) throw new RunError(r.span, `no process or thread '${key}'`);
    return a;
  }

  private live(a: Actor, span: Span): void {
    if (!a.process.live) throw new RunError(span, `${a.label} is not running (${a.process.killedBy ?? `exited with ${a.process.exitStatus}`})`);
    if (a.thread.state === 'exited') throw new RunError(span, `${a.label} has exited`);
    const p = this.pending.find((x) => x.actor.thread === a.thread);
    if (p) throw new RunError(span, `${a.label} is blocked in ${p.stmt.name}() from ${this.where(p.stmt.span)}`);
  }

  // ------------------------------------------------------------------ calls

  private callStmt(s: CallStmt): void {
    const a = this.current;
    this.live(a, s.span);
    const args: RawArg[] = s.args.map((e) => this.evalExpr(e));
    const text = `${s.name}(${this.showArgs(s, args)})`;
    const before = this.kernel.totalCycles;
    let r;
    try {
      r = syscall(this.kernel, a.thread, s.name, args);
    } catch (e) {
      if (e instanceof ProcessKilled) {
        this.stats.faults++;
        this.report(a, 'fault', text, false, this.kernel.totalCycles - before, s.span, e.report, 'killed');
        return;
      }
      throw e;
    }
    if (isWouldBlock(r)) {
      this.kernel.block(a.thread, r.channel);
      this.pending.push({ actor: a, stmt: s, args, text, at: before });
      this.report(a, 'blocked', text, true, this.kernel.totalCycles - before, s.span, undefined, `<blocked on ${r.reason}>`);
      return;
    }
    this.finishCall(a, s, text, r, this.kernel.totalCycles - before);
  }

  private finishCall(a: Actor, s: CallStmt, text: string, r: number | bigint, cycles: number): void {
    const v = BigInt(r);
    if (s.bind) {
      this.names.set(s.bind.name, v);
      if (s.name === 'fork' && v > 0n) {
        const child = this.kernel.processes.get(Number(v));
        if (child) this.addActor(s.bind.name, child, child.threads[0]);
      }
    }
    const shown = this.showResult(s.name, v, a.thread);
    const verdict = s.expect ? this.check(s.expect, v) : null;
    this.report(a, 'call', text, verdict === null || verdict.ok, cycles, s.span, verdict?.ok === false ? verdict.note : undefined, shown, verdict !== null);
  }

  /** Retry calls whose threads were woken; each either completes or blocks again. */
  private retryPending(): void {
    let progress = true;
    while (progress) {
      progress = false;
      for (const p of [...this.pending]) {
        if (p.actor.thread.state === 'blocked' || !p.actor.process.live) continue;
        const before = this.kernel.totalCycles;
        const r = syscall(this.kernel, p.actor.thread, p.stmt.name, p.args, { restart: true });
        if (isWouldBlock(r)) { this.kernel.block(p.actor.thread, r.channel); continue; }
        this.pending.splice(this.pending.indexOf(p), 1);
        this.finishCall(p.actor, p.stmt, `${p.text} <resumed>`, r, this.kernel.totalCycles - before);
        progress = true;
      }
    }
  }

  private finishPending(): void {
    for (const p of this.pending) {
      const failed = p.stmt.expect !== undefined;
      if (failed) this.stats.failed++;
      this.report(p.actor, 'blocked', p.text, !failed, 0, p.stmt.span, failed ? 'still blocked at the end of the script' : undefined, '<still blocked>');
    }
    this.pending.length = 0;
  }

  private showResult(name: string, v: bigint, t: Thread): string {
    if (v < 0n && v >= -4095n) {
      const err = lastSyscallError(t);
      return `-${errnoName(Number(-v))}${err?.message ? ` (${err.message})` : ''}`;
    }
    const def = SYSCALLS.lookup(name);
    return def?.formatResult ? def.formatResult(v) : v.toString();
  }

  private check(e: Expectation, v: bigint): { ok: boolean; note: string } {
    const isErr = v < 0n && v >= -4095n;
    switch (e.kind) {
      case 'any': return { ok: true, note: '' };
      case 'ok': return { ok: !isErr, note: 'expected success' };
      case 'errno': {
        const want = errnoValue(e.errno);
        if (want === undefined) throw new RunError(e.span, `unknown errno ${e.errno}`);
        return { ok: v === BigInt(-want), note: `expected -${e.errno}` };
      }
      case 'value': {
        const want = this.evalNumber(e.value);
        return { ok: v === want, note: `expected ${want}` };
      }
      case 'compare': {
        const w = this.evalNumber(e.value);
        const ok = e.op === '>' ? v > w : e.op === '>=' ? v >= w : e.op === '<' ? v < w : e.op === '<=' ? v <= w : v !== w;
        return { ok, note: `expected ${e.op}${w}` };
      }
    }
  }

  // ------------------------------------------------------------------ memory

  private expectFault(s: Extract<Statement, { kind: 'expectFault' }>): void {
    for (const m of s.body) this.memStmt(m, s);
  }

  /** Run a load/store/memset/memcpy; under `expect fault` the access must fault (and the process lives on). */
  private memStmt(s: MemStmt, fault: Extract<Statement, { kind: 'expectFault' }> | null): void {
    const a = this.current;
    this.live(a, s.span);
    const k = this.kernel;
    const before = k.totalCycles;
    const text = this.memText(s);
    let loaded: bigint | null = null;
    try {
      const run = () => { loaded = this.access(a, s); };
      if (fault) k.catchingFaults(run); else run();
    } catch (e) {
      if (e instanceof ProcessKilled) {
        this.stats.faults++;
        this.report(a, 'fault', text, false, k.totalCycles - before, s.span, e.report, 'killed');
        return;
      }
      if (e instanceof MachineFault && fault) {
        this.stats.faults++;
        const u = k.lastUnresolved;
        const reason = e.fault.vector === VECTOR_GP ? 'noncanonical' : u?.mapped ? 'protection' : 'unmapped';
        const access = e.fault.access === ACCESS_WRITE ? 'write' : 'read';
        const ok = (!fault.access || fault.access === access) && (!fault.reason || fault.reason === reason);
        const want = `expected ${['fault', fault.access, fault.reason].filter(Boolean).join(' ')}`;
        this.report(a, 'expect', text, ok, k.totalCycles - before, s.span, ok ? undefined : `${want}, got a ${access} ${reason} fault`, `fault (${access}, ${reason})`, true);
        return;
      }
      if (e instanceof RunError) throw e;
      throw e;
    }
    if (fault) {
      this.report(a, 'expect', text, false, k.totalCycles - before, s.span, 'expected a fault, the access succeeded', 'no fault', true);
      return;
    }
    const l = loaded as bigint | null;
    if (s.kind === 'load') {
      if (s.bind) this.names.set(s.bind.name, l!);
      const verdict = s.expect ? this.check(s.expect, l!) : null;
      this.report(a, 'load', text, verdict === null || verdict.ok, k.totalCycles - before, s.span, verdict?.ok === false ? `${verdict.note}, got ${this.hex(l!)}` : undefined, this.hex(l!), verdict !== null);
    } else {
      this.report(a, 'store', text, true, k.totalCycles - before, s.span);
    }
  }

  private memText(s: MemStmt): string {
    switch (s.kind) {
      case 'load': return `load${s.width} ${this.hex(this.evalNumber(s.addr))}`;
      case 'store': return `store${s.width} ${this.hex(this.evalNumber(s.addr))} ${this.hex(this.evalNumber(s.value))}`;
      case 'memset': return `memset ${this.hex(this.evalNumber(s.addr))} ${this.evalNumber(s.len)} ${this.evalNumber(s.byte)}`;
      case 'memcpy': return `memcpy ${this.hex(this.evalNumber(s.dst))} ${this.hex(this.evalNumber(s.src))} ${this.evalNumber(s.len)}`;
    }
  }

  /**
   * Perform the access through the thread's CPU — the one door into emulated memory, which splits
   * a page-crossing access as x86 does; returns the loaded value for loads.
   */
  private access(a: Actor, s: MemStmt): bigint | null {
    const cpu = this.kernel.enter(a.thread);
    const addrOf = (e: Expr): bigint => {
      const v = this.evalNumber(e);
      if (v < 0n) throw new RunError(e.span, 'negative address');
      return v;
    };
    switch (s.kind) {
      case 'load': return cpu.loadBig(addrOf(s.addr), (s.width / 8) as 1 | 2 | 4 | 8);
      case 'store': {
        const va = addrOf(s.addr);
        cpu.storeBig(va, (s.width / 8) as 1 | 2 | 4 | 8, BigInt.asUintN(s.width, this.evalNumber(s.value)));
        return null;
      }
      case 'memset': {
        const va = addrOf(s.addr);
        cpu.fillBig(va, Number(this.evalNumber(s.len)), Number(BigInt.asUintN(8, this.evalNumber(s.byte))));
        return null;
      }
      case 'memcpy': {
        const dst = addrOf(s.dst);
        const src = addrOf(s.src);
        cpu.copyBig(dst, src, Number(this.evalNumber(s.len)));
        return null;
      }
    }
  }

  // ------------------------------------------------------------------ expressions

  private evalExpr(e: Expr): bigint | string {
    switch (e.kind) {
      case 'number': return e.value;
      case 'string': return e.value;
      case 'name': {
        const v = this.names.get(e.name);
        if (v === undefined) {
          const p = this.actors.get(e.name);
          if (p) return BigInt(p.process.pid);
          throw new RunError(e.span, `'${e.name}' has no value`);
        }
        return v;
      }
      case 'const': {
        const v = TRACE_CONSTANTS[e.name];
        if (v === undefined) throw new RunError(e.span, `unknown constant ${e.name}`);
        return BigInt(v);
      }
      case 'neg': return -this.evalNumber(e.operand);
      case 'binary': {
        const l = this.evalNumber(e.left);
        const r = this.evalNumber(e.right);
        return e.op === '+' ? l + r : e.op === '-' ? l - r : e.op === '*' ? l * r : l | r;
      }
    }
  }

  private evalNumber(e: Expr): bigint {
    const v = this.evalExpr(e);
    if (typeof v === 'string') throw new RunError(e.span, 'expected a number, got a string');
    return v;
  }

  private num(e: Expr): number {
    const v = this.evalNumber(e);
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RunError(e.span, 'number out of range');
    return Number(v);
  }

  /** Arguments as strace shows them (symbolic flags, octal modes, hex addresses). */
  private showArgs(s: CallStmt, args: RawArg[]): string {
    const safe = args.map((v) => (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v));
    return formatArgs(SYSCALLS.lookup(s.name), safe).join(', ');
  }

  private hex(v: bigint): string {
    return v < 0n ? `-${formatAddr(-v)}` : v < 10n ? v.toString() : formatAddr(v);
  }

  // ------------------------------------------------------------------ transcript

  private where(span: Span): string {
    return `${span.file}:${span.line}:${span.col}`;
  }

  private report(a: Actor, kind: EntryKind, text: string, ok: boolean, cycles: number, span: Span, note?: string, result?: string, expectation = false): void {
    if (kind !== 'info') this.stats.statements++;
    if (kind === 'error') this.stats.errors++;
    if (expectation) { if (ok) this.stats.passed++; else this.stats.failed++; }
    this.cyclesByProcess[a.label] = (this.cyclesByProcess[a.label] ?? 0) + cycles;
    const at = kind === 'error' ? formatAt(span, note ?? '', this.sources) : this.where(span);
    const e: TranscriptEntry = { process: a.label, thread: a.thread.name, text, result, ok, cycles, kind, at, note };
    this.transcript.push(e);
    this.opts.onEntry?.(e);
  }
}

export function formatEntry(e: TranscriptEntry): string {
  if (e.kind === 'error') return `${e.at}`;
  const res = e.result !== undefined ? ` = ${e.result}` : '';
  const mark = e.kind === 'info' ? '' : e.ok ? '' : '  ✗';
  const note = e.note && !e.ok ? `  (${e.note})` : e.kind === 'fault' && e.note ? `  (${e.note})` : '';
  const cycles = e.kind === 'info' ? '' : `  <${Math.round(e.cycles)} cycles>`;
  return `[${e.process}] ${e.text}${res}${cycles}${mark}${note}`;
}
