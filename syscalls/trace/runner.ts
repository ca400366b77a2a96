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
import { checkKernelInvariants } from '../../kernel/invariants.js';
import { Attachment, NamedVas } from '../../kernel/spacejmp/spacejmp.js';
import { Vmspace } from '../../kernel/vm/vmspace.js';
import { HEAP_BASE, MMAP_BASE, RESERVED_START, STACK_TOP, TEXT_BASE } from '../../kernel/layout.js';
import { syscall, isWouldBlock, lastSyscallError } from '../dispatch.js';
import { SYSCALLS, type RawArg } from '../table.js';
import { formatArgs, formatNumber } from '../strace.js';
import { CONSTANTS } from '../constants.js';
import { SPACEJMP_CONSTANTS } from '../calls/spacejmpConstants.js';
import type { Statement, Expr, Expectation, Span, CallStmt, MemStmt, ActorRef, Width } from './ast.js';
import { EvalError, evaluate, sameBits, type EvalEnv } from './evaluate.js';
import { createParseContext, parseLine, type ParseContext } from './parser.js';
import { SourceMap, formatAt } from './diagnostics.js';
import type { Diagnostic } from './ast.js';

/**
 * call, load, store: ran (ok false when its expectation failed); fault: the process was killed;
 * expect: an access under `expect fault`; probe: a probed access (never fails); blocked: a call
 * that sleeps; check: `expect cycles|errno|blocked`, `check invariants`; info: process/thread
 * creation and `show`; error: the statement could not run; panic: a JS exception escaped the kernel.
 */
export type EntryKind = 'call' | 'load' | 'store' | 'fault' | 'error' | 'info' | 'blocked' | 'expect' | 'probe' | 'check' | 'panic';

export interface TranscriptEntry {
  /** Actor label, e.g. "alice[2]" or "alice[2].t2". */
  process: string;
  /** The acting process's name and pid (for `-p NAME` filtering). */
  processName: string;
  pid: number;
  thread: string;
  /** What ran: a call's name (`vas_switch`), `load64`, `memset`, `expect`, ... (for `-e trace=`). */
  name: string;
  /** Modelled cycles since boot (sum over CPUs) when the statement started (`-t`). */
  start: number;
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
  /** Processes killed by a fault no `expect fault` asked for: each fails the script. */
  killed: number;
  /** One line per failure: `file:line:col: what was expected, what happened`. */
  failures: string[];
  /** A JS exception escaped the kernel: the run stopped at that statement. */
  panic: string | null;
  /** True when nothing failed: every expectation held, no errors, nobody killed, no panic. */
  passed: boolean;
  cyclesByProcess: Record<string, number>;
  /** User-mode counters: the programs' loads and stores and the TLB work they caused. */
  tlb: { accesses: number; l1Hits: number; l1Misses: number; stlbHits: number; walks: number; walkRefs: number; pageFaults: number; cr3Writes: number };
  /** The kernel's own references (syscall paths, vas_switch), counted apart from `tlb`. */
  kernelTlb: { accesses: number; l1Misses: number; walks: number; walkRefs: number };
  profile: string;
}

interface Actor { process: Process; thread: Thread; label: string }

interface Pending { actor: Actor; stmt: CallStmt; args: RawArg[]; text: string; at: number }

/** Where things are in every process (kernel/layout.ts), so scripts need not hard-code addresses. */
export const LAYOUT_CONSTANTS: Readonly<Record<string, number>> = {
  TEXT: TEXT_BASE, HEAP: HEAP_BASE, MMAP_BASE, STACK_TOP, SEG_BASE: RESERVED_START,
};

/** Values of uppercase names: syscall ABI constants, SpaceJMP handles and commands, the layout. */
export const TRACE_CONSTANTS: Readonly<Record<string, number>> = { ...CONSTANTS, ...SPACEJMP_CONSTANTS, ...LAYOUT_CONSTANTS };

/** A statement that cannot run: reported at its span like a parse error. */
class RunError extends EvalError {}

/** Unwinds the run after a kernel panic. */
class Halt {}

/** What the previous statement did, for `expect cycles` and `expect errno`. */
interface Last { text: string; cycles: number; call: boolean; value: bigint | null; span: Span }

export class TraceRunner {
  readonly context: ParseContext = createParseContext();
  readonly sources = new SourceMap();
  readonly names = new Map<string, bigint | string>();
  readonly actors = new Map<string, Actor>();
  readonly transcript: TranscriptEntry[] = [];
  private readonly pending: Pending[] = [];
  private readonly lines: string[] = [];
  private readonly stats = { statements: 0, passed: 0, failed: 0, faults: 0, errors: 0, killed: 0 };
  private readonly failures: string[] = [];
  private readonly cyclesByProcess: Record<string, number> = {};
  private current: Actor;
  private last: Last | null = null;
  /** Completing calls that were woken: they are not "the previous statement" of what follows. */
  private retrying = false;
  private panicked: string | null = null;
  /** The evaluator's view of this run: script names, process names as pids, the constants. */
  readonly env: EvalEnv = {
    name: (n) => this.names.get(n),
    pid: (n) => this.actors.get(n)?.process.pid,
    constant: (n) => TRACE_CONSTANTS[n],
  };

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
    try {
      this.runBlock(statements);
    } catch (e) {
      if (!(e instanceof Halt)) throw e;
    }
    this.finishPending();
    return this.summary();
  }

  /** Parse and run one interactive line. */
  runLine(text: string, line = 1): { entries: TranscriptEntry[]; errors: Diagnostic[]; incomplete: boolean } {
    const r = parseLine(text, { line, context: this.context, knownCalls: TraceRunner.knownCalls(), knownConstants: Object.keys(TRACE_CONSTANTS) });
    if (!r.ok) return { entries: [], errors: r.errors, incomplete: r.incomplete };
    this.sources.absorb(r.sources);
    const before = this.transcript.length;
    try {
      this.runBlock(r.statements, true);
    } catch (e) {
      if (!(e instanceof Halt)) throw e;
    }
    this.lines.push(text);
    return { entries: this.transcript.slice(before), errors: [], incomplete: false };
  }

  summary(): RunSummary {
    const tlb = { accesses: 0, l1Hits: 0, l1Misses: 0, stlbHits: 0, walks: 0, walkRefs: 0, pageFaults: 0, cr3Writes: 0 };
    const kernelTlb = { accesses: 0, l1Misses: 0, walks: 0, walkRefs: 0 };
    for (const cpu of this.kernel.cpus) {
      const c = cpu.counters();
      tlb.accesses += c.accesses; tlb.l1Hits += c.l1Hits; tlb.l1Misses += c.l1Misses; tlb.stlbHits += c.stlbHits;
      tlb.walks += c.walks; tlb.walkRefs += c.walkRefs; tlb.pageFaults += c.pageFaults; tlb.cr3Writes += c.cr3Writes;
      const kc = cpu.kernelCounters();
      kernelTlb.accesses += kc.accesses; kernelTlb.l1Misses += kc.l1Misses; kernelTlb.walks += kc.walks; kernelTlb.walkRefs += kc.walkRefs;
    }
    return {
      statements: this.stats.statements,
      expectations: { passed: this.stats.passed, failed: this.stats.failed },
      faults: this.stats.faults,
      errors: this.stats.errors,
      killed: this.stats.killed,
      failures: [...this.failures],
      panic: this.panicked,
      passed: this.stats.failed === 0 && this.stats.errors === 0 && this.stats.killed === 0 && this.panicked === null,
      cyclesByProcess: { ...this.cyclesByProcess },
      tlb,
      kernelTlb,
      profile: this.kernel.config.profile.name,
    };
  }

  // ------------------------------------------------------------------ statements

  private runBlock(statements: readonly Statement[], persistActor = false): void {
    const saved = this.current;
    for (const s of statements) {
      try {
        if (this.panicked) throw new RunError(s.span, `the kernel panicked earlier (${this.panicked}); nothing more runs on this machine`);
        this.runStatement(s);
        this.retryPending();
      } catch (e) {
        if (e instanceof EvalError) this.report(this.current, 'error', '', false, 0, e.span, e.message);
        else if (e instanceof Halt) throw e;
        else this.panic(s, e);
      }
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
      case 'probe': return this.memStmt(s.access, 'probe');
      case 'expectCycles': return this.expectCycles(s);
      case 'expectErrno': return this.expectErrno(s);
      case 'expectBlocked': return this.expectBlocked(s);
      case 'check': return this.checkInvariants(s);
      case 'show': return this.show(s);
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

  /** A JS exception escaped the kernel: a failed step at its line; nothing more runs. */
  private panic(s: Statement, e: unknown): never {
    const msg = e instanceof Error ? `${e.name === 'Error' ? '' : e.name + ': '}${e.message}` : String(e);
    this.panicked = `${this.where(s.span)}: ${msg}`;
    this.report(this.current, 'panic', '', false, 0, s.span, `kernel panic: ${msg}`);
    throw new Halt();
  }

  // ------------------------------------------------------------------ checks of what happened

  private previous(span: Span, what: string): Last {
    if (!this.last) throw new RunError(span, `${what} checks the previous statement, and there is none`);
    return this.last;
  }

  private expectCycles(s: Extract<Statement, { kind: 'expectCycles' }>): void {
    const last = this.previous(s.span, 'expect cycles');
    const want = this.evalNumber(s.value);
    const c = BigInt(Math.round(last.cycles));
    const op = s.op;
    const ok = op === '=' ? c === want : op === '>' ? c > want : op === '>=' ? c >= want : op === '<' ? c < want : op === '<=' ? c <= want : c !== want;
    const note = `${last.text}: expected cycles ${op} ${want}, got ${c}`;
    this.report(this.current, 'check', `expect cycles ${op} ${want}`, ok, 0, s.span, ok ? undefined : note, `${c} cycles`, true);
  }

  private expectErrno(s: Extract<Statement, { kind: 'expectErrno' }>): void {
    const last = this.previous(s.span, 'expect errno');
    if (!last.call || last.value === null) throw new RunError(s.span, `expect errno checks a call's result; the previous statement (${last.text}) is not a finished call`);
    const v = last.value;
    const got = v < 0n && v >= -4095n ? `-${errnoName(Number(-v))}` : formatNumber(v);
    const ok = s.errnos.some((n) => v === -BigInt(errnoValue(n) ?? 0));
    const want = s.errnos.length === 1 ? `-${s.errnos[0]}` : `one of (${s.errnos.map((n) => '-' + n).join(', ')})`;
    this.report(this.current, 'check', `expect errno ${s.errnos.length === 1 ? s.errnos[0] : `one of (${s.errnos.join(', ')})`}`, ok, 0, s.span,
      ok ? undefined : `${last.text}: expected ${want}, got ${got}`, got, true);
  }

  private expectBlocked(s: Extract<Statement, { kind: 'expectBlocked' }>): void {
    const a = this.resolveActor(s.actor);
    const p = this.pending.find((x) => x.actor.thread === a.thread);
    const state = p ? `blocked in ${p.stmt.name}() from ${this.where(p.stmt.span)}` : a.thread.state;
    this.report(this.current, 'check', `expect blocked ${a.label}`, p !== undefined, 0, s.span,
      p ? undefined : `expected ${a.label} to be blocked in a call, it is ${state}`, state, true);
  }

  private checkInvariants(s: Extract<Statement, { kind: 'check' }>): void {
    const problems = checkKernelInvariants(this.kernel, { maxProblems: 5 });
    const ok = problems.length === 0;
    this.report(this.current, 'check', 'check invariants', ok, 0, s.span,
      ok ? undefined : `expected the kernel invariants to hold, found: ${problems.join('; ')}`, ok ? 'hold' : `${problems.length} problem${problems.length === 1 ? '' : 's'}`, true);
  }

  private show(s: Extract<Statement, { kind: 'show' }>): void {
    const sj = this.kernel.spacejmp;
    let text: string;
    let result: string;
    if (s.what === 'frames') {
      const f = this.kernel.frames;
      const used = f.usedBytes();
      const total = f.managedBytes();
      text = 'show frames';
      result = `${used / 4096} frames in use (${used} bytes), ${f.freeBytes() / 4096} free, of ${total / 4096}`;
    } else {
      const id = this.num(s.arg!);
      if (s.target === 'vas') {
        const v = sj.vases.get(id);
        if (!v || v.deleted) throw new RunError(s.arg!.span, `no address space with vid ${id}`);
        const shadows = [...v.shadows].map((a) => `${this.labelOf(a.process)} vh ${formatNumber(a.vh)} (${a.threads.size} thread${a.threads.size === 1 ? '' : 's'} in it)`);
        text = `show refs vas ${id}`;
        result = `vas ${id} "${v.name}": ${shadows.length} attached${shadows.length ? ': ' + shadows.join(', ') : ''}; segments ${[...v.segments.keys()].join(', ') || 'none'}`;
      } else {
        const g = sj.segments.get(id);
        if (!g) throw new RunError(s.arg!.span, `no segment with sid ${id}`);
        if (s.what === 'locks') {
          const waiting = [...g.lock.channel.waiters].map((t) => t.describe());
          text = `show locks ${id}`;
          result = `segment ${id} "${g.name}"${g.lockable ? '' : ' (not lockable)'}: ${g.lock.describe()}; waiting: ${waiting.join(', ') || 'none'}`;
        } else {
          text = `show refs seg ${id}`;
          const spaces = [...g.attachedTo].map((x) => this.describeHolder(x));
          result = `segment ${id} "${g.name}": object refCount ${g.object.refCount}, mapped in ${spaces.length} space${spaces.length === 1 ? '' : 's'}${spaces.length ? ': ' + spaces.join(', ') : ''}${g.deleted ? '; deleted' : ''}`;
        }
      }
    }
    this.report(this.current, 'info', text, true, 0, s.span, undefined, result);
  }

  /** Who maps a segment: a named space, a process's attachment of one, or a primary space. */
  private describeHolder(x: unknown): string {
    if (x instanceof NamedVas) return `vas ${x.vid} "${x.name}"`;
    if (x instanceof Attachment) return `${this.labelOf(x.process)} vh ${formatNumber(x.vh)}`;
    if (x instanceof Vmspace) {
      for (const a of this.actors.values()) if (a.process.primary === x) return `${a.label} primary`;
      return x.describe();
    }
    return 'a space';
  }

  private labelOf(p: Process): string {
    for (const a of this.actors.values()) if (a.process === p) return a.label;
    return `${p.name}[${p.pid}]`;
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
        this.killed(a, text, this.kernel.totalCycles - before, s.span, e.report);
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
    const def = SYSCALLS.lookup(s.name);
    const verdict = s.expect ? this.check(s.expect, v, 64, (x) => (def?.formatResult ? def.formatResult(x) : x.toString())) : null;
    this.report(a, 'call', text, verdict === null || verdict.ok, cycles, s.span, verdict?.ok === false ? `${verdict.note}, got ${shown}` : undefined, shown, verdict !== null, v);
  }

  /** Retry calls whose threads were woken; each either completes or blocks again. */
  private retryPending(): void {
    this.retrying = true;
    try {
      this.retryWoken();
    } finally {
      this.retrying = false;
    }
  }

  private retryWoken(): void {
    let progress = true;
    while (progress) {
      progress = false;
      for (const p of [...this.pending]) {
        if (p.actor.thread.state === 'blocked' || !p.actor.process.live) continue;
        const before = this.kernel.totalCycles;
        let r;
        try {
          r = syscall(this.kernel, p.actor.thread, p.stmt.name, p.args, { restart: true });
        } catch (e) {
          if (!(e instanceof ProcessKilled)) throw e;
          this.pending.splice(this.pending.indexOf(p), 1);
          this.killed(p.actor, `${p.text} <resumed>`, this.kernel.totalCycles - before, p.stmt.span, e.report);
          progress = true;
          continue;
        }
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
      this.report(p.actor, 'blocked', p.text, !failed, 0, p.stmt.span, failed ? 'expected a result, still blocked at the end of the script' : undefined, '<still blocked>', failed);
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

  /**
   * Values compare as `width`-bit patterns (two's complement: `load64 p = -1` holds when p holds
   * all ones); `> >= < <= !=` compare as signed 64-bit integers (a load is zero-extended first).
   */
  private check(e: Expectation, v: bigint, width: Width, show: (v: bigint) => string): { ok: boolean; note: string } {
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
        return { ok: sameBits(v, want, width), note: `expected ${show(want)}` };
      }
      case 'compare': {
        const w = BigInt.asIntN(64, this.evalNumber(e.value));
        const x = BigInt.asIntN(64, v);
        const op = e.op;
        const ok = op === '>' ? x > w : op === '>=' ? x >= w : op === '<' ? x < w : op === '<=' ? x <= w : x !== w;
        return { ok, note: `expected ${op}${show(w)}` };
      }
    }
  }

  // ------------------------------------------------------------------ memory

  private expectFault(s: Extract<Statement, { kind: 'expectFault' }>): void {
    for (const m of s.body) this.memStmt(m, s);
  }

  /** A process killed by a fault nobody expected: a failure of the script, at the statement. */
  private killed(a: Actor, text: string, cycles: number, span: Span, report: string): void {
    this.stats.faults++;
    this.stats.killed++;
    this.report(a, 'fault', text, false, cycles, span, report, 'killed');
  }

  /**
   * Run a load/store/memset/memcpy. Under `expect fault` the access must fault (and the process
   * lives on); a probe records a fault or the value and never fails; otherwise a fault kills.
   */
  private memStmt(s: MemStmt, fault: Extract<Statement, { kind: 'expectFault' }> | 'probe' | null): void {
    const a = this.current;
    this.live(a, s.span);
    const k = this.kernel;
    const before = k.totalCycles;
    const text = (fault === 'probe' ? 'probe ' : '') + this.memText(s);
    let loaded: bigint | null = null;
    try {
      const run = () => { loaded = this.access(a, s); };
      if (fault) k.catchingFaults(run); else run();
    } catch (e) {
      if (e instanceof ProcessKilled) {
        this.killed(a, text, k.totalCycles - before, s.span, e.report);
        return;
      }
      if (e instanceof MachineFault && fault) {
        this.stats.faults++;
        const u = k.lastUnresolved;
        const reason = e.fault.vector === VECTOR_GP ? 'noncanonical' : u?.mapped ? 'protection' : 'unmapped';
        const access = e.fault.access === ACCESS_WRITE ? 'write' : 'read';
        if (fault === 'probe') {
          this.report(a, 'probe', text, true, k.totalCycles - before, s.span, undefined, `fault (${access}, ${reason})`);
          return;
        }
        const ok = (!fault.access || fault.access === access) && (!fault.reason || fault.reason === reason);
        const want = `expected ${['fault', fault.access, fault.reason].filter(Boolean).join(' ')}`;
        this.report(a, 'expect', text, ok, k.totalCycles - before, s.span, ok ? undefined : `${want}, got a ${access} ${reason} fault`, `fault (${access}, ${reason})`, true);
        return;
      }
      if (e instanceof RunError) throw e;
      throw e;
    }
    const l = loaded as bigint | null;
    if (fault === 'probe') {
      this.report(a, 'probe', text, true, k.totalCycles - before, s.span, undefined, l === null ? 'ok' : formatNumber(l));
      return;
    }
    if (fault) {
      this.report(a, 'expect', text, false, k.totalCycles - before, s.span, 'expected a fault, the access succeeded', 'no fault', true);
      return;
    }
    if (s.kind === 'load') {
      if (s.bind) this.names.set(s.bind.name, l!);
      const verdict = s.expect ? this.check(s.expect, l!, s.width, formatNumber) : null;
      this.report(a, 'load', text, verdict === null || verdict.ok, k.totalCycles - before, s.span, verdict?.ok === false ? `${verdict.note}, got ${formatNumber(l!)}` : undefined, formatNumber(l!), verdict !== null, l);
    } else {
      this.report(a, 'store', text, true, k.totalCycles - before, s.span);
    }
  }

  private memText(s: MemStmt): string {
    switch (s.kind) {
      case 'load': return `load${s.width} ${formatNumber(this.evalNumber(s.addr))}`;
      case 'store': return `store${s.width} ${formatNumber(this.evalNumber(s.addr))} ${formatNumber(this.evalNumber(s.value))}`;
      case 'memset': return `memset ${formatNumber(this.evalNumber(s.addr))} ${this.evalNumber(s.len)} ${formatNumber(this.evalNumber(s.byte))}`;
      case 'memcpy': return `memcpy ${formatNumber(this.evalNumber(s.dst))} ${formatNumber(this.evalNumber(s.src))} ${this.evalNumber(s.len)}`;
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
    return evaluate(e, this.env);
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

  // ------------------------------------------------------------------ transcript

  private where(span: Span): string {
    return `${span.file}:${span.line}:${span.col}`;
  }

  private report(a: Actor, kind: EntryKind, text: string, ok: boolean, cycles: number, span: Span, note?: string, result?: string, expectation = false, value: bigint | null = null): void {
    if (kind !== 'info') this.stats.statements++;
    if (kind === 'error' || kind === 'panic') this.stats.errors++;
    if (expectation) { if (ok) this.stats.passed++; else this.stats.failed++; }
    this.cyclesByProcess[a.label] = (this.cyclesByProcess[a.label] ?? 0) + cycles;
    const at = kind === 'error' || kind === 'panic' ? formatAt(span, note ?? '', this.sources) : this.where(span);
    if (!ok) this.failures.push(this.failureLine(a, kind, text, span, note ?? ''));
    if (!this.retrying && kind !== 'info' && kind !== 'check' && kind !== 'error' && kind !== 'panic') {
      this.last = { text: text || kind, cycles, call: kind === 'call', value, span };
    }
    const name = kind === 'check' || kind === 'error' || kind === 'panic' ? kind : (/^(probe )?([a-z_0-9]+)/.exec(text)?.[2] ?? kind);
    const e: TranscriptEntry = {
      process: a.label, processName: a.process.name, pid: a.process.pid, thread: a.thread.name, name,
      start: this.kernel.totalCycles - cycles, text, result, ok, cycles, kind, at, note,
    };
    this.transcript.push(e);
    this.opts.onEntry?.(e);
  }

  /** `file:line:col: what was expected, what happened` (one line, also under --quiet). */
  private failureLine(a: Actor, kind: EntryKind, text: string, span: Span, note: string): string {
    const where = this.where(span);
    if (kind === 'fault') return `${where}: ${text}: ${a.label} was killed by a fault no 'expect fault' asked for: ${note}`;
    if (kind === 'error' || kind === 'panic' || kind === 'check') return `${where}: ${note}`;
    return `${where}: ${text}: ${note}`;
  }
}

export function formatEntry(e: TranscriptEntry): string {
  if (e.kind === 'error' || e.kind === 'panic') return `${e.at}`;
  const res = e.result !== undefined ? ` = ${e.result}` : '';
  const mark = e.kind === 'info' ? '' : e.ok ? '' : '  ✗';
  const note = e.note && !e.ok ? `  (${e.note})` : e.kind === 'fault' && e.note ? `  (${e.note})` : '';
  const cycles = e.kind === 'info' || e.kind === 'check' ? '' : `  <${Math.round(e.cycles)} cycles>`;
  // A failed line says where it came from, so a transcript read alone (-o FILE) still points at it.
  const where = e.ok || e.kind === 'info' ? '' : ` at ${e.at}`;
  return `[${e.process}] ${e.text}${res}${cycles}${mark}${note}${where}`;
}
