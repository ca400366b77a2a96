// The interactive shell's behaviour, with no Ink in it: the prompt line, history, completion,
// the transcript, the open view and its navigation, running trace statements and shell commands,
// cancelling and leaving. The app renders a session and feeds it key actions; tests drive it
// directly. Everything a user can get wrong ends as a message in the transcript, never a throw.

import { writeFileSync } from 'node:fs';
import { dirname, relative, resolve, basename } from 'node:path';
import type { Kernel } from '../../kernel/kernel.js';
import { describeMachine } from '../../kernel/machineConfig.js';
import {
  parseFile, parseLine, nodeFileLoader, formatDiagnostic, formatDiagnostics, machineSettings, createParseContext, suggest, KEYWORDS,
  type Diagnostic, type MachineSetting,
} from '../../syscalls/trace/index.js';
import { TraceRunner, TRACE_CONSTANTS, formatEntry, type TranscriptEntry } from '../../syscalls/trace/runner.js';
import { evaluateNumber } from '../../syscalls/trace/evaluate.js';
import { SYSCALLS } from '../../syscalls/table.js';
import type { GlobalOptions } from '../machineOptions.js';
import { editLine, EMPTY_LINE, type LineState, type EditAction } from './lineEditor.js';
import { History } from './history.js';
import { complete, applyCompletion, type CompletionSources } from './completion.js';
import { keyHelpLines, type Focus, type ShellAction } from './keymap.js';
import { classifyLine, checkArity, commandNames, findCommand, ALL_COMMANDS, type CommandHost, type ViewSpec, type Word } from './commands.js';
import type { Engines, EngineProgress } from './engines.js';
import { buildRunner, settingsToOptions } from './machine.js';
import { navigateView, scrollView } from './viewState.js';
import { initialPtState, walkAddress, walkPathKeys, walkCursor, ptRows, type PtState } from './views/pageTable.js';
import { resolveSpace, parseNumber } from './views/target.js';
import type { Tone } from './views/format.js';

export interface TranscriptLine {
  text: string;
  tone: Tone;
}

export interface Busy {
  label: string;
  progress: EngineProgress | null;
  cancel: (() => void) | null;
}

export interface SessionOptions {
  /** Machine options from the command line; they override `machine` lines. */
  machine?: GlobalOptions;
  /** Where history is kept; null keeps it in memory only. */
  historyFile?: string | null;
  engines?: Engines;
  /** Directory relative paths (`run`, `save`) resolve against; default the process's cwd. */
  cwd?: string;
}

const TRANSCRIPT_LIMIT = 3000;
const EDIT_ACTIONS = new Set<string>(['insert', 'backspace', 'deleteForward', 'left', 'right', 'home', 'end', 'wordLeft', 'wordRight', 'killToEnd', 'killToStart', 'killWordBack', 'yank']);
const SOURCE = '<stdin>';

export class ShellSession implements CommandHost {
  runner: TraceRunner;
  line: LineState = EMPTY_LINE;
  readonly history: History;
  readonly transcript: TranscriptLine[] = [];
  /** Lines scrolled back from the bottom of the transcript. */
  transcriptScroll = 0;
  view: ViewSpec | null = null;
  /** First visible line of a view without a cursor. */
  viewScroll = 0;
  focus: Focus = 'prompt';
  /** Lines of a statement still open (`as bob {` ...), with the line number of the first. */
  pending: string[] = [];
  private pendingLine = 0;
  /** Lines submitted so far: positions in messages are `<stdin>:N:col`. */
  lineNo = 0;
  busy: Busy | null = null;
  /** Candidates of the last ambiguous completion, shown under the prompt until the next key. */
  completions: string[] = [];
  exited = false;
  /** Bumped on every change; the app re-renders when it moves. */
  version = 0;
  /** Rows a view page holds, set by the app from the terminal size. */
  viewPage = 10;

  private readonly listeners = new Set<() => void>();
  private readonly cli: GlobalOptions;
  private readonly engines: Engines;
  private readonly cwd: string;
  private machineSettings: MachineSetting[] = [];
  /** What `save` writes: statements typed, and `include` lines for files run. */
  private readonly saved: { text: string; file?: string }[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(opts: SessionOptions = {}) {
    this.cli = opts.machine ?? {};
    this.engines = opts.engines ?? {};
    this.cwd = opts.cwd ?? process.cwd();
    this.history = opts.historyFile ? History.open(opts.historyFile) : new History();
    this.runner = buildRunner(this.cli);
    this.print(`sjmp shell: ${describeMachine(this.kernel.config)}`, 'dim');
    this.print('type help for commands, a trace statement to run it (e.g. process alice uid=1000), Tab to complete', 'dim');
  }

  get kernel(): Kernel { return this.runner.kernel; }

  // ------------------------------------------------------------------ change notification

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getVersion = (): number => this.version;

  private changed(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }

  // ------------------------------------------------------------------ output

  print(lines: string | readonly string[], tone: Tone = 'normal'): void {
    const all = typeof lines === 'string' ? lines.split('\n') : lines.flatMap((l) => l.split('\n'));
    for (const text of all) this.transcript.push({ text, tone });
    if (this.transcript.length > TRANSCRIPT_LIMIT) this.transcript.splice(0, this.transcript.length - TRANSCRIPT_LIMIT);
    this.transcriptScroll = 0;
    this.changed();
  }

  /** `<stdin>:line:col: message`, the line and a caret under the word, like a parse error. */
  fail(at: Word | null, message: string): void {
    const source = this.currentText;
    const col = at?.col ?? 1;
    const d: Diagnostic = { file: SOURCE, line: this.lineNo, col, endCol: col + (at?.text.length ?? 1), message, sourceLine: source };
    this.print(formatDiagnostic(d), 'warn');
  }

  /** The line being run, for error carets. */
  private currentText = '';

  private printEntry(e: TranscriptEntry): void {
    if (e.kind === 'error') return this.print(e.at, 'warn');
    const tone: Tone = !e.ok ? 'warn' : e.kind === 'info' ? 'dim' : e.kind === 'expect' || e.kind === 'fault' ? 'accent' : 'normal';
    this.print(formatEntry(e), tone);
  }

  // ------------------------------------------------------------------ keys

  /** Apply one key action. Returns a promise when it started work (Enter), for tests to await. */
  dispatch(a: ShellAction): Promise<void> {
    if (a.type !== 'complete' && this.completions.length) this.completions = [];
    switch (a.type) {
      case 'insert': return this.insert(a.text);
      case 'submit': return this.enter();
      case 'cancel': this.cancel(); break;
      case 'eofOrDelete':
        if (this.line.text === '' && this.pending.length === 0 && !this.busy) this.exit();
        else this.edit({ type: 'deleteForward' });
        break;
      case 'clearScreen': this.clear(); break;
      case 'historyPrev': { const h = this.history.prev(this.line.text); if (h !== undefined) this.line = editLine(this.line, { type: 'set', text: h }); break; }
      case 'historyNext': { const h = this.history.next(); if (h !== undefined) this.line = editLine(this.line, { type: 'set', text: h }); break; }
      case 'complete': this.completeWord(); break;
      case 'focusView': if (this.view) this.focus = 'view'; break;
      case 'focusPrompt': this.focus = 'prompt'; break;
      case 'transcriptUp': this.transcriptScroll = Math.min(Math.max(0, this.transcript.length - 1), this.transcriptScroll + 5); break;
      case 'transcriptDown': this.transcriptScroll = Math.max(0, this.transcriptScroll - 5); break;
      case 'viewPageUp': case 'viewPageDown':
        if (!this.view) {
          const d = a.type === 'viewPageUp' ? this.viewPage : -this.viewPage;
          this.transcriptScroll = Math.max(0, Math.min(this.transcript.length - 1, this.transcriptScroll + d));
          break;
        }
        this.moveView(a.type === 'viewPageUp' ? 'pageUp' : 'pageDown');
        break;
      case 'viewUp': this.moveView('up'); break;
      case 'viewDown': this.moveView('down'); break;
      case 'viewTop': this.moveView('top'); break;
      case 'viewBottom': this.moveView('bottom'); break;
      case 'viewExpand': this.moveView('expand'); break;
      case 'viewCollapse': this.moveView('collapse'); break;
      case 'viewToggle': this.moveView('toggle'); break;
      default: this.edit(a); break;
    }
    this.changed();
    return Promise.resolve();
  }

  private edit(a: ShellAction): void {
    if (!EDIT_ACTIONS.has(a.type)) return;
    const before = this.line.text;
    this.line = editLine(this.line, a as EditAction);
    if (this.line.text !== before) this.history.reset();
  }

  /** Typed or pasted text; pasted newlines submit the line before them. */
  private insert(text: string): Promise<void> {
    const parts = text.split(/\r\n|\r|\n/);
    let done: Promise<void> = Promise.resolve();
    parts.forEach((p, i) => {
      if (p) this.edit({ type: 'insert', text: p });
      if (i < parts.length - 1) done = this.enter();
    });
    this.changed();
    return done;
  }

  private moveView(move: Parameters<typeof navigateView>[2]): void {
    if (!this.view) return;
    const next = navigateView(this.kernel, this.view, move, this.viewPage);
    if (next) this.view = next;
    else this.viewScroll = scrollView(this.viewScroll, move, this.viewPage);
  }

  private completeWord(): void {
    const c = complete(this.line.text, this.line.cursor, this.completionSources());
    if (!c) return;
    if (c.insert.length >= c.end - c.start) {
      const r = applyCompletion(this.line.text, c);
      this.line = { ...this.line, text: r.text, cursor: r.cursor };
    }
    this.completions = c.candidates;
  }

  completionSources(): CompletionSources {
    const sj = this.kernel.spacejmp;
    const ctx = this.runner.context;
    return {
      commands: commandNames(),
      calls: this.runner.knownCalls(),
      keywords: KEYWORDS,
      names: [...new Set([...ctx.names.keys(), ...this.runner.names.keys()])],
      processes: [...ctx.processes.keys(), ...ctx.nameThreads.keys()],
      constants: Object.keys(TRACE_CONSTANTS),
      objectNames: sj ? [...[...sj.vases.values()].filter((v) => !v.deleted).map((v) => v.name), ...[...sj.segments.values()].filter((s) => !s.deleted).map((s) => s.name)] : [],
      fileCommands: ['run', 'save'],
      processCommands: ['vmmap', 'pt'],
      helpCommands: ['help'],
      listFiles: undefined,
    };
  }

  // ------------------------------------------------------------------ running lines

  /** Enter: run the line (queued behind any line still running). */
  private enter(): Promise<void> {
    const text = this.line.text;
    this.line = EMPTY_LINE;
    if (this.busy) {
      this.print(`busy with ${this.busy.label}: wait, or Ctrl-C to stop it`, 'warn');
      return Promise.resolve();
    }
    this.history.add(text, (m) => this.print(m, 'warn'));
    this.queue = this.queue.then(() => this.submit(text));
    this.changed();
    return this.queue;
  }

  /** Run one typed line: a shell command, or a trace statement (possibly continuing a block). */
  async submit(text: string): Promise<void> {
    this.lineNo++;
    this.currentText = text;
    this.print(`${this.pending.length ? '...' : 'sjmp'}> ${text}`, 'dim');
    try {
      if (this.pending.length === 0) {
        const c = classifyLine(text);
        if (c.kind === 'command') {
          const bad = checkArity(c.command, c.args, c.self);
          if (bad) this.fail(bad.at, bad.message);
          else await c.command.run(this, c.args, c.self);
          return;
        }
        if (text.trim() === '') return;
      }
      this.statement(text);
    } catch (e) {
      // An emulator bug must not take the shell down: report it in one line and go on.
      this.print(`internal error: ${e instanceof Error ? e.message : String(e)}`, 'warn');
    } finally {
      this.changed();
    }
  }

  private statement(text: string): void {
    if (this.pending.length === 0) this.pendingLine = this.lineNo;
    this.pending.push(text);
    const whole = this.pending.join('\n');
    if (/^\s*machine\b/.test(whole) && !this.runner.context.started) return this.machineLine(whole);
    const r = this.runner.runLine(whole, this.pendingLine);
    // An open `{` is reported as an error too; the block simply continues on the next line.
    if (r.incomplete) return;
    this.pending = [];
    if (r.errors.length) {
      this.print(formatDiagnostics(r.errors), 'warn');
      this.unknownWordHint(r.errors[0], whole);
      return;
    }
    for (const e of r.entries) this.printEntry(e);
    this.saved.push({ text: whole });
  }

  /** A first word that is neither a command nor a call: say which commands come close. */
  private unknownWordHint(d: Diagnostic, text: string): void {
    const first = /^\s*([A-Za-z_]\w*)/.exec(text)?.[1];
    if (!first || d.col > (text.indexOf(first) + 1) + first.length || this.runner.knownCalls().includes(first)) return;
    const near = suggest(first, commandNames());
    if (near && findCommand(near)) this.print(`(${near} is a shell command: ${findCommand(near)!.usage})`, 'dim');
  }

  /** `machine key=value ...` before anything ran: rebuild the machine with these settings. */
  private machineLine(text: string): void {
    this.pending = [];
    const r = parseLine(text, { line: this.pendingLine, context: createParseContext() });
    if (!r.ok) return this.print(formatDiagnostics(r.errors), 'warn');
    const settings = [...this.machineSettings, ...machineSettings(r.statements).values()];
    try {
      this.runner = buildRunner(this.cli, settingsToOptions(settings));
    } catch (e) {
      return this.fail(null, (e as Error).message);
    }
    this.machineSettings = settings;
    for (const s of settings) this.runner.context.machineKeys.set(s.key, s.span);
    this.saved.push({ text });
    this.print(`machine: ${describeMachine(this.kernel.config)}${Object.keys(this.cli).length ? ' (command-line options win)' : ''}`, 'dim');
  }

  private cancel(): void {
    if (this.busy?.cancel) {
      this.busy.cancel();
      this.print(`^C: stopping ${this.busy.label}`, 'warn');
      return;
    }
    if (this.pending.length) this.print('^C: block abandoned', 'dim');
    else if (this.line.text === '') this.print('^C (exit or Ctrl-D leaves the shell)', 'dim');
    this.pending = [];
    this.line = EMPTY_LINE;
    this.history.reset();
  }

  // ------------------------------------------------------------------ CommandHost

  openView(v: ViewSpec): void {
    this.view = v.kind === 'pt' && v.state.expanded.size === 0 ? { ...v, state: this.initialPt(v.words) } : v;
    this.viewScroll = 0;
  }

  private initialPt(words: string[]): PtState {
    const t = resolveSpace(this.kernel, words);
    return t.ok ? initialPtState(this.kernel, t.value.space) : { expanded: new Set(), cursor: 0, walkVa: null };
  }

  closeView(): void {
    this.view = null;
    this.focus = 'prompt';
  }

  evaluate(at: Word, text: string): bigint | null {
    const prefix = '__value = ';
    const ctx = { ...createParseContext(), names: new Map(this.runner.context.names), processes: this.runner.context.processes };
    const r = parseLine(prefix + text, { line: this.lineNo, col: at.col - prefix.length, context: ctx, knownConstants: Object.keys(TRACE_CONSTANTS) });
    const st = r.statements[0];
    if (!r.ok || st?.kind !== 'let') {
      const d = r.errors[0];
      this.fail(d ? { text: 'x'.repeat(Math.max(1, d.endCol - d.col)), col: d.col } : at, d?.message ?? `not a value: '${text}'`);
      return null;
    }
    try {
      return evaluateNumber(st.value, this.runner.env);
    } catch (e) {
      this.fail(at, (e as Error).message);
      return null;
    }
  }

  /** View arguments with bound names replaced by their values (so `pt vh` works), checked now. */
  checkSpace(args: readonly Word[]): string[] | null {
    const words = args.map((w) => {
      const v = this.runner.names.get(w.text);
      return typeof v === 'bigint' && parseNumber(w.text) === null && !this.namesObject(w.text) ? v.toString() : w.text;
    });
    const r = resolveSpace(this.kernel, words);
    if (r.ok) return words;
    this.fail(args[r.arg] ?? args[args.length - 1] ?? null, r.message);
    return null;
  }

  /** A process or named address space is called `name`: it wins over a bound name. */
  private namesObject(name: string): boolean {
    const k = this.kernel;
    return [...k.processes.values()].some((p) => p.name === name) || [...(k.spacejmp?.vases.values() ?? [])].some((v) => v.name === name && !v.deleted);
  }

  walk(va: bigint): void {
    const v = this.view;
    if (!v || v.kind !== 'pt') return;
    const t = resolveSpace(this.kernel, v.words);
    if (!t.ok) return this.fail(null, t.message);
    const w = walkAddress(this.kernel, t.value.space, va);
    const expanded = new Set(v.state.expanded);
    for (const k of walkPathKeys(w)) expanded.add(k);
    const cursor = walkCursor(ptRows(this.kernel, t.value.space, expanded), w);
    this.view = { ...v, state: { expanded, cursor, walkVa: va } };
  }

  async runFile(path: Word): Promise<void> {
    const abs = resolve(this.cwd, path.text);
    const opts = { loader: nodeFileLoader(dirname(abs)), knownCalls: TraceRunner.knownCalls(), knownConstants: Object.keys(TRACE_CONSTANTS) };
    // Machine settings in a file apply only to a machine nothing has run on yet, as typed ones do.
    const probe = parseFile(basename(abs), { ...opts, context: createParseContext() });
    const settings = [...machineSettings(probe.statements).values()];
    if (probe.ok && settings.length && !this.runner.context.started) {
      try {
        this.runner = buildRunner(this.cli, settingsToOptions([...this.machineSettings, ...settings]));
      } catch (e) {
        return this.fail(path, (e as Error).message);
      }
      this.machineSettings = [...this.machineSettings, ...settings];
      this.print(`machine: ${describeMachine(this.kernel.config)}`, 'dim');
    }
    const r = parseFile(basename(abs), { ...opts, context: this.runner.context });
    if (!r.ok) {
      const missing = r.errors[0]?.message.startsWith('cannot read');
      return missing ? this.fail(path, r.errors[0].message) : this.print(formatDiagnostics(r.errors), 'warn');
    }
    this.busy = { label: `run ${path.text}`, progress: null, cancel: null };
    this.changed();
    await new Promise((res) => setImmediate(res)); // let the screen show "running" first
    try {
      const before = this.runner.transcript.length;
      const s = this.runner.runScript(r.statements, r.sources);
      for (const e of this.runner.transcript.slice(before)) this.printEntry(e);
      this.saved.push({ text: '', file: abs });
      const tone: Tone = s.expectations.failed || s.errors ? 'warn' : 'good';
      this.print(`--- ${path.text}: ${s.statements} statements, expectations ${s.expectations.passed} passed / ${s.expectations.failed} failed, ${s.faults} faults, ${s.errors} errors`, tone);
    } finally {
      this.busy = null;
    }
  }

  save(path: Word): void {
    const abs = resolve(this.cwd, path.text);
    const body = this.saved.map((s) => (s.file ? `include ${JSON.stringify(relative(dirname(abs), s.file) || s.file)}` : s.text));
    const text = `# saved from sjmp shell\n${body.join('\n')}\n`;
    try {
      writeFileSync(abs, text);
    } catch (e) {
      return this.fail(path, `cannot write ${path.text}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    this.print(`saved ${body.length} statement${body.length === 1 ? '' : 's'} to ${path.text}`, 'good');
  }

  async runEngine(name: 'gups' | 'nibble' | 'redis', args: readonly Word[]): Promise<void> {
    const engine = this.engines[name];
    if (!engine) return this.fail(null, `${name} is not available in this build (no ${name} engine was given to the shell)`);
    const ac = new AbortController();
    this.busy = { label: name, progress: null, cancel: () => ac.abort() };
    this.changed();
    try {
      const out = await engine(args.map((a) => a.text), (p) => { if (this.busy) { this.busy.progress = p; this.changed(); } }, ac.signal);
      if (ac.signal.aborted) this.print(`${name} cancelled`, 'warn');
      else this.print(out.lines);
    } catch (e) {
      if (ac.signal.aborted) this.print(`${name} cancelled`, 'warn');
      else this.fail(args[0] ?? null, `${name}: ${(e as Error).message}`);
    } finally {
      this.busy = null;
    }
  }

  reset(): void {
    this.runner = buildRunner(this.cli);
    this.machineSettings = [];
    this.saved.length = 0;
    this.view = null;
    this.focus = 'prompt';
    this.print(`fresh machine: ${describeMachine(this.kernel.config)}`, 'dim');
  }

  clear(): void {
    this.transcript.length = 0;
    this.transcriptScroll = 0;
  }

  exit(): void {
    this.exited = true;
    this.changed();
  }

  helpText(topic: Word | null): string[] {
    if (!topic) {
      const w = Math.max(...ALL_COMMANDS.map((c) => c.usage.length));
      return [
        'shell commands:',
        ...ALL_COMMANDS.map((c) => `  ${c.usage.padEnd(w)}  ${c.summary}`),
        'anything else is a trace statement, e.g.:',
        '  process alice uid=1000 gid=100     as alice     vid = vas_create("shared", 0660) = >=0',
        'help CALL for a system call, help keys for key bindings, help trace for the statement forms',
      ];
    }
    const c = findCommand(topic.text);
    if (c) return [`${c.usage}: ${c.summary}`, ...(c.details ?? []).map((d) => `  ${d}`)];
    if (topic.text === 'keys') return keyHelpLines();
    if (topic.text === 'trace') return TRACE_HELP;
    const def = SYSCALLS.lookup(topic.text);
    if (def) return [`${def.name}(${def.args.map((a) => (a.default !== undefined ? `[${a.name}]` : a.name)).join(', ')}): ${def.doc}`];
    const near = suggest(topic.text, [...commandNames(), ...this.runner.knownCalls(), 'keys', 'trace']);
    this.fail(topic, `no help for '${topic.text}'${near ? ` (did you mean ${near}?)` : ''}`);
    return [];
  }
}

const TRACE_HELP = [
  'trace statements (docs/traces.md has the whole language):',
  '  vid = vas_create("shared", 0660) = >=0     call, bind the result, check it',
  '  base = 0x4000_0000_0000                    a script variable',
  '  store64 base 42     load64 base = 42       memory through the current thread',
  '  expect fault read unmapped load64 base     an access that must fault',
  '  process bob uid=1001 gid=100               a new process (thread main)',
  '  as bob      as bob { ... }      @bob stmt  who runs the statements',
  '  machine paging=5 cpus=4                    machine settings, before anything runs',
];
