// The shell's edge: everything that touches the machine, files or a running engine. The reducer
// asks for work (Effect); ShellEffects does it and reports back with events (print, openView,
// busy, facts ...). It is also the host shell commands run against (commands.ts), so a command's
// argument checks, file IO and evaluation happen here and never inside the reducer or a render.

import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve, basename, relative } from 'node:path';
import { Kernel } from '../../kernel/kernel.js';
import { formatSize } from '../../mmu/units.js';
import { counters, namedSpaces, processes, segments, type SpaceRef } from '../../kernel/snapshot.js';
import {
  parseFile, parseLine, nodeFileLoader, formatDiagnostic, machineSettings, createParseContext, suggest, KEYWORDS,
  type Diagnostic, type MachineSetting,
} from '../../syscalls/trace/index.js';
import { TraceRunner, TRACE_CONSTANTS, formatEntry, type TranscriptEntry } from '../../syscalls/trace/runner.js';
import { evaluateNumber } from '../../syscalls/trace/evaluate.js';
import { givenMachineOptions, machineLineOptions, type GlobalOptions } from '../machineOptions.js';
import { SessionRecord } from './sessionRecord.js';
import { saveHistoryLine } from './history.js';
import { helpFor } from './help.js';
import { classifyLine, checkArity, commandNames, findCommand, type CommandHost, type ViewSpec, type Word } from './commands.js';
import type { Engines } from './engines.js';
import { buildRunner } from './machine.js';
import { navigateView } from './viewState.js';
import { initialPtState, walkAddress, walkPathKeys, walkCursor, ptRows, type PtState } from './views/pageTable.js';
import { resolveSpace, parseNumber } from './views/target.js';
import type { Tone } from './views/format.js';
import { examine, parseExamineFormat, physicalReader, virtualReader } from './examine.js';
import { promptFor, type MachineFacts, type ShellState } from './state.js';
import type { Effect, ShellEvent } from './reducer.js';
import { mayWriteContents, type ImageStatus } from './imageStatus.js';
import { loadImageWithInfo, registryFingerprint, saveImage } from '../../lab/image/image.js';
import { checkAgainstImage, imageCall, imageSession, loadImageSession, takeImageLock, type ImageSession } from '../commands/image.js';

export interface EffectsOptions {
  /** Machine options from the command line; they override `machine` lines. */
  machine?: GlobalOptions;
  /** Where history is kept; null keeps it in memory only. */
  historyFile?: string | null;
  engines?: Engines;
  /** Directory relative paths (`run`, `save`) resolve against; default the process's cwd. */
  cwd?: string;
  /**
   * Lead messages about typed lines with `<stdin>:LINE:COL:` (piped input, where the line number
   * finds the line in the script); at a terminal the caret under the line just typed says it all.
   */
  positions?: boolean;
  /** The machine image (`sjmp shell --image FILE`): the shell runs on its machine, locked. */
  image?: ImageSession;
}

const SOURCE = '<stdin>';
/** `<stdin>:L:C: ` leading a message, or ` at <stdin>:L:C` ending a failed transcript line. */
const STDIN_POSITION = /^<stdin>:\d+:\d+: | at <stdin>:\d+:\d+$/gm;

export class ShellEffects implements CommandHost {
  runner: TraceRunner;
  /** Lines run so far: positions in messages are `<stdin>:N:col`. */
  private lineNo = 0;
  /** Line number of the first line of an open block. */
  private pendingLine = 0;
  /** The line being run, for error carets. */
  private currentText = '';
  private readonly cli: GlobalOptions;
  private readonly engines: Engines;
  private readonly cwd: string;
  private readonly historyFile: string | null;
  private readonly positions: boolean;
  /** What `save` writes. */
  private record = new SessionRecord();
  private queue: Promise<void> = Promise.resolve();
  private abort: AbortController | null = null;
  /** The image the session is tied to (its lock held), or null. */
  private image: ImageSession | null;
  /** The machine may differ from the image file (imageStatus.ts has the rule). */
  private dirty = false;
  private fingerprint = '';

  constructor(private readonly state: () => ShellState, private readonly emit: (e: ShellEvent) => void, opts: EffectsOptions = {}) {
    this.cli = opts.machine ?? {};
    this.engines = opts.engines ?? {};
    this.cwd = opts.cwd ?? process.cwd();
    this.historyFile = opts.historyFile ?? null;
    this.positions = opts.positions ?? false;
    this.image = opts.image ?? null;
    this.runner = this.image ? new TraceRunner(this.image.kernel) : buildRunner(this.cli);
    // A new image (no file yet) is unsaved until the first save.
    this.dirty = this.image !== null && !this.image.loaded;
    this.fingerprint = registryFingerprint(this.kernel);
  }

  /** The image and whether the machine has unsaved changes (for the status line). */
  imageStatus(): ImageStatus | null {
    if (!this.image) return null;
    const abs = resolve(this.cwd, this.image.file);
    const rel = relative(this.cwd, abs);
    return { file: rel && !rel.startsWith('..') ? rel : abs, dirty: this.dirty, readOnly: this.image.readOnly };
  }

  private publishImage(): void {
    this.emit({ type: 'image', image: this.imageStatus() });
  }

  /** After a line ran on `runner` from transcript entry `from`: did the persistent state change? */
  private noteChanges(runner: TraceRunner, from: number): void {
    if (runner !== this.runner) return; // the machine was replaced: the command set `dirty` itself
    const fp = registryFingerprint(this.kernel);
    if (fp !== this.fingerprint || mayWriteContents(runner.transcript.slice(from))) this.dirty = true;
    this.fingerprint = fp;
  }

  /** A new machine (load, reset, machine line): its fingerprint, and whether it differs from the image. */
  private machineReplaced(dirty: boolean): void {
    this.dirty = dirty;
    this.fingerprint = registryFingerprint(this.kernel);
    this.publishImage();
  }

  /**
   * When the shell ends: on a clean exit (`save` true) the machine is saved back to its image if
   * it has changes (or the image file does not exist yet) and is not read-only; the lock is let
   * go either way. Returns an error message when the save failed.
   */
  closeImage(save: boolean): string | null {
    const img = this.image;
    if (!img) return null;
    this.image = null;
    try {
      img.kernel = this.kernel;
      img.finish(save && (this.dirty || !existsSync(img.file)));
      return null;
    } catch (e) {
      return (e as Error).message;
    } finally {
      img.release();
    }
  }

  get kernel(): Kernel { return this.runner.kernel; }

  get view(): ViewSpec | null { return this.state().view; }

  /** Do one effect; resolves when it is done (a line waits for the lines queued before it). */
  perform(e: Effect): Promise<void> {
    switch (e.kind) {
      case 'run':
        this.queue = this.queue.then(() => this.runLine(e.text));
        return this.queue;
      case 'remember': {
        const err = this.historyFile ? saveHistoryLine(this.historyFile, e.line, e.entries) : null;
        if (err) this.print(err, 'warn');
        return Promise.resolve();
      }
      case 'stop':
        this.abort?.abort();
        return Promise.resolve();
      case 'navigate': {
        const v = this.view;
        const next = v && navigateView(this.kernel, v, e.move, this.state().viewPage);
        if (next) this.emit({ type: 'setView', view: next });
        return Promise.resolve();
      }
    }
  }

  /** What completion and the prompt need to know about the machine now. */
  facts(): MachineFacts {
    const k = this.kernel;
    const ctx = this.runner.context;
    return {
      actor: this.runner.acting.name,
      completion: {
        commands: commandNames(),
        calls: this.runner.knownCalls(),
        keywords: KEYWORDS,
        names: [...new Set([...ctx.names.keys(), ...this.runner.names.keys()])],
        processes: [...ctx.processes.keys(), ...ctx.nameThreads.keys()],
        constants: Object.keys(TRACE_CONSTANTS),
        objectNames: [...(namedSpaces(k) ?? []).map((v) => v.name), ...(segments(k) ?? []).filter((x) => !x.deleted).map((x) => x.name)],
        fileCommands: ['run', 'save', 'load'],
        processCommands: ['vmmap', 'pt'],
        helpCommands: ['help'],
      },
    };
  }

  /** The machine described, as every report names it. */
  machine(): string {
    return counters(this.kernel).machine;
  }

  // ------------------------------------------------------------------ output

  print(lines: string | readonly string[], tone: Tone = 'normal'): void {
    this.emit({ type: 'print', lines, tone });
  }

  /** A failure: counted (piped, the shell then exits 1) and shown in red. */
  private failed(lines: string | readonly string[]): void {
    this.emit({ type: 'print', lines, tone: 'warn', failed: true });
  }

  /** Messages as the shell shows them: without `<stdin>:L:C` at a terminal (the caret or the echo above says where). */
  private diagnosticText(text: string): string {
    return this.positions ? text : text.replace(STDIN_POSITION, '');
  }

  /** The message, the line and a caret under the word, like a parse error. */
  fail(at: Word | null, message: string): void {
    const col = at?.col ?? 1;
    const d: Diagnostic = { file: SOURCE, line: this.lineNo, col, endCol: col + (at?.text.length ?? 1), message, sourceLine: this.currentText };
    this.failed(this.diagnosticText(formatDiagnostic(d)));
  }

  private printEntry(e: TranscriptEntry): void {
    if (e.kind === 'error') {
      // A dead actor: one line that says what to do, not the same three lines for every statement.
      if (/^\S+ (is not running|has exited)\b/.test(e.note ?? '')) return this.failed(`${this.diagnosticText(e.at.split('\n')[0])}; ${ACTOR_HINT}`);
      return this.failed(this.diagnosticText(e.at));
    }
    const tone: Tone = !e.ok ? 'warn' : e.kind === 'info' ? 'dim' : e.kind === 'expect' || e.kind === 'fault' ? 'accent' : 'normal';
    this.emit({ type: 'print', lines: this.diagnosticText(formatEntry(e)), tone, failed: !e.ok });
  }

  // ------------------------------------------------------------------ running lines

  /** Run one line: a shell command, or a trace statement (possibly continuing a block). */
  private async runLine(text: string): Promise<void> {
    this.lineNo++;
    this.currentText = text;
    const runner = this.runner;
    const from = runner.transcript.length;
    const s = this.state();
    this.print(`${promptFor(s.pending, s.facts.actor)}${text}`, 'dim');
    try {
      if (s.pending.length === 0) {
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
      this.failed(`internal error: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.noteChanges(runner, from);
      this.emit({ type: 'facts', facts: this.facts() });
      this.publishImage();
    }
  }

  private statement(text: string): void {
    const before = this.state().pending;
    if (before.length === 0) this.pendingLine = this.lineNo;
    const lines = [...before, text];
    const whole = lines.join('\n');
    if (/^\s*machine\b/.test(whole) && !this.runner.context.started) {
      this.emit({ type: 'pending', lines: [] });
      return this.machineLine(whole);
    }
    const acting = this.runner.acting;
    const r = this.runner.runLine(whole, this.pendingLine);
    // An open `{` is reported as an error too; the block simply continues on the next line.
    if (r.incomplete) return this.emit({ type: 'pending', lines });
    this.emit({ type: 'pending', lines: [] });
    if (r.errors.length) {
      this.failed(this.diagnosticText(r.errors.map(formatDiagnostic).join('\n')));
      this.unknownWordHint(r.errors[0], whole);
      return;
    }
    for (const e of r.entries) this.printEntry(e);
    if (acting.process.live === false && r.entries.some((e) => e.kind === 'fault' && e.process === acting.label)) {
      this.print(`${acting.label} was killed; ${ACTOR_HINT}`, 'warn');
    }
    this.record.statement(whole);
  }

  /** A first word that is neither a command nor a call: say which commands come close. */
  private unknownWordHint(d: Diagnostic, text: string): void {
    const first = /^\s*([A-Za-z_]\w*)/.exec(text)?.[1];
    if (!first || d.col > (text.indexOf(first) + 1) + first.length || this.runner.knownCalls().includes(first)) return;
    const near = suggest(first, commandNames());
    if (near && findCommand(near)) this.print(`(${near} is a shell command: ${findCommand(near)!.usage})`, 'dim');
  }

  /** A fresh machine from the command line and these settings; false after reporting a bad one. */
  private rebuild(settings: MachineSetting[], at: Word | null): boolean {
    try {
      if (this.image) {
        // The machine is the image's: a setting may only agree with it.
        checkAgainstImage(this.image.file, this.kernel.config, machineLineOptions(settings), (k, v) => `machine ${k}=${k === 'mem' && /^\d+$/.test(String(v)) ? formatSize(Number(v)) : String(v)}`);
        return true;
      }
      this.runner = buildRunner(this.cli, machineLineOptions(settings));
      this.machineReplaced(this.dirty);
      return true;
    } catch (e) {
      this.fail(at, (e as Error).message);
      return false;
    }
  }

  /** `machine key=value ...` before anything ran: rebuild the machine with these settings. */
  private machineLine(text: string): void {
    const r = parseLine(text, { line: this.pendingLine, context: createParseContext() });
    if (!r.ok) return this.failed(this.diagnosticText(r.errors.map(formatDiagnostic).join('\n')));
    const typed = [...this.record.typedSettings, ...machineSettings(r.statements).values()];
    const all = [...this.record.fileSettings, ...typed];
    if (!this.rebuild(all, null)) return;
    this.record.typedSettings = typed;
    for (const s of all) this.runner.context.machineKeys.set(s.key, s.span);
    this.print(`machine: ${this.machine()}${Object.keys(givenMachineOptions(this.cli)).length ? ' (command-line options win)' : ''}`, 'dim');
  }

  // ------------------------------------------------------------------ CommandHost

  openView(v: ViewSpec): void {
    const view = v.kind === 'pt' && v.state.expanded.size === 0 ? { ...v, state: this.initialPt(v.words) } : v;
    this.emit({ type: 'openView', view });
  }

  private initialPt(words: string[]): PtState {
    const t = resolveSpace(this.kernel, words);
    return t.ok ? initialPtState(this.kernel, t.value.space) : { expanded: new Set(), cursor: 0, walkVa: null };
  }

  closeView(): void {
    this.emit({ type: 'closeView' });
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
    return processes(k).some((p) => p.name === name) || (namedSpaces(k) ?? []).some((v) => v.name === name);
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
    this.emit({ type: 'setView', view: { ...v, state: { expanded, cursor, walkVa: va } } });
  }

  examine(self: Word, args: readonly Word[], physical: boolean): void {
    const slash = self.text.indexOf('/');
    const f = parseExamineFormat(slash < 0 ? '' : self.text.slice(slash + 1));
    if (!f.ok) return this.fail(self, f.message);
    // The address is the rest of the line, so `x/4gx base + 16` reads as one expression.
    const addr = this.evaluate(args[0], args.map((w) => w.text).join(' '));
    if (addr === null) return;
    let translate;
    if (physical) translate = physicalReader(this.kernel);
    else {
      const space = this.actingSpace();
      if (!space.ok) return this.fail(self, space.message);
      translate = virtualReader(this.kernel, space.value);
    }
    const r = examine(this.kernel, translate, addr, f.value);
    if (r.ok) this.print(r.lines);
    else this.failed(r.lines);
  }

  /** The space the acting thread executes in now: its primary, or its shadow of a named space it switched into. */
  private actingSpace(): { ok: true; value: SpaceRef } | { ok: false; message: string } {
    const a = this.runner.acting;
    const p = processes(this.kernel).find((x) => x.pid === a.process.pid);
    const t = p?.threads.find((x) => x.name === a.thread.name);
    if (!p?.live || !t) return { ok: false, message: `${a.label} is not running: x reads the acting process's memory (xp reads physical memory)` };
    const r = resolveSpace(this.kernel, [String(p.pid), String(t.vh)]);
    return r.ok ? { ok: true, value: r.value.space } : { ok: false, message: r.message };
  }

  async runFile(path: Word): Promise<void> {
    const abs = resolve(this.cwd, path.text);
    const opts = { loader: nodeFileLoader(dirname(abs)), knownCalls: TraceRunner.knownCalls(), knownConstants: Object.keys(TRACE_CONSTANTS) };
    // Machine settings in a file apply only to a machine nothing has run on yet, as typed ones do.
    const probe = parseFile(basename(abs), { ...opts, context: createParseContext() });
    const settings = [...machineSettings(probe.statements).values()];
    if (probe.ok && settings.length && !this.runner.context.started) {
      if (!this.rebuild([...this.record.settings, ...settings], path)) return;
      this.record.fileSettings = [...this.record.fileSettings, ...settings];
      this.print(`machine: ${this.machine()}`, 'dim');
    }
    const r = parseFile(basename(abs), { ...opts, context: this.runner.context });
    if (!r.ok) {
      const missing = r.errors[0]?.message.startsWith('cannot read');
      return missing ? this.fail(path, r.errors[0].message) : this.failed(r.errors.map(formatDiagnostic).join('\n'));
    }
    this.emit({ type: 'busy', busy: { label: `run ${path.text}`, progress: null, cancellable: false } });
    await new Promise((res) => setImmediate(res)); // let the screen show "running" first
    try {
      const before = this.runner.transcript.length;
      const s = this.runner.runScript(r.statements, r.sources);
      for (const e of this.runner.transcript.slice(before)) this.printEntry(e);
      this.record.file(abs);
      // The runner's own verdict: a process killed by a fault nobody expected, or a kernel panic,
      // fails the script as a failed expectation does.
      this.print(`--- ${path.text}: ${s.statements} statements, expectations ${s.expectations.passed} passed / ${s.expectations.failed} failed, ${s.faults} faults, ${s.killed} killed, ${s.errors} errors`, s.passed ? 'good' : 'warn');
    } finally {
      this.emit({ type: 'busy', busy: null });
    }
  }

  /**
   * `save FILE.trace`: the session's statements as a trace. `save FILE`: the machine as an image
   * (processes keep running; the image holds what a clean shutdown would leave), which becomes the
   * session's image. `save`: to the session's image.
   */
  save(path: Word | null): void {
    if (path && /\.trace$/i.test(path.text)) return this.saveTrace(path);
    const img = this.image;
    if (!path && !img) return this.fail(null, 'no machine image: save FILE writes one (save FILE.trace writes the statements as a trace)');
    const file = path ? resolve(this.cwd, path.text) : resolve(this.cwd, img!.file);
    const same = img !== null && resolve(this.cwd, img.file) === file;
    if (same && img.readOnly) return this.fail(path, `image ${this.imageStatus()!.file} is read-only (--read-only): save FILE writes elsewhere`);
    let release: (() => void) | null = null;
    try {
      if (!same) release = takeImageLock(file, {});
      const compress = img?.compress ?? false;
      const bytes = imageCall(() => saveImage(this.kernel, file, { live: true, compress }));
      if (!same) {
        img?.release();
        this.image = imageSession(file, false, this.kernel, true, compress, release!);
        release = null;
      }
      this.machineReplaced(false);
      this.print(`saved the machine to image ${this.imageStatus()!.file} (${bytes} bytes; processes are not part of an image)`, 'good');
    } catch (e) {
      this.fail(path, (e as Error).message);
    } finally {
      release?.();
    }
  }

  /** `load FILE`: the machine of an image (locked) replaces this one; refused with unsaved changes unless `--discard`. */
  load(path: Word, discard: boolean): void {
    if (this.dirty && !discard) {
      return this.fail(path, `the machine has unsaved changes${this.image ? ` (image ${this.imageStatus()!.file})` : ''}: save first, or load --discard ${path.text}`);
    }
    const file = resolve(this.cwd, path.text);
    const img = this.image;
    if (img && resolve(this.cwd, img.file) === file) {
      // Reloading the session's own image: its lock is already ours.
      return this.reloadImage(img, path);
    }
    let next: ImageSession;
    try {
      next = loadImageSession(file);
    } catch (e) {
      return this.fail(path, (e as Error).message.replace(file, path.text));
    }
    img?.release();
    this.image = next;
    this.useMachine(next.kernel);
    this.print(`loaded image ${path.text}: ${this.machine()}`, 'good');
  }

  private reloadImage(img: ImageSession, at: Word | null): void {
    const file = resolve(this.cwd, img.file);
    if (!existsSync(file)) {
      this.useMachine(new Kernel(this.kernel.config), true);
      this.print(`image ${this.imageStatus()!.file} is not written yet: a fresh machine of its configuration`, 'dim');
      return;
    }
    try {
      // The lock is ours; load directly (loadImageSession would take it again).
      const l = imageCall(() => loadImageWithInfo(file));
      img.compress = l.compressed;
      this.useMachine(l.kernel);
      this.print(`reloaded image ${this.imageStatus()!.file}: ${this.machine()}`, 'good');
    } catch (e) {
      this.fail(at, (e as Error).message);
    }
  }

  /** Run on `kernel` (or with `runner`, already on its machine) from now on: nothing recorded, views closed. */
  private useMachine(machine: Kernel | TraceRunner, dirty = false): void {
    this.runner = machine instanceof TraceRunner ? machine : new TraceRunner(machine);
    const kernel = this.runner.kernel;
    this.record = new SessionRecord();
    if (this.image) this.image.kernel = kernel;
    this.emit({ type: 'closeView' });
    this.machineReplaced(dirty);
  }

  private saveTrace(path: Word): void {
    const abs = resolve(this.cwd, path.text);
    const { text, statements } = this.record.text(abs, this.cli);
    try {
      writeFileSync(abs, text);
    } catch (e) {
      return this.fail(path, `cannot write ${path.text}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    this.print(`saved ${statements} statement${statements === 1 ? '' : 's'} to ${path.text}`, 'good');
  }

  async runEngine(name: 'gups' | 'nibble' | 'redis', args: readonly Word[]): Promise<void> {
    const engine = this.engines[name];
    if (!engine) return this.fail(null, `${name} is not available in this build (no ${name} engine was given to the shell)`);
    const ac = new AbortController();
    this.abort = ac;
    this.emit({ type: 'busy', busy: { label: name, progress: null, cancellable: true } });
    try {
      const out = await engine(args.map((a) => a.text), (progress) => this.emit({ type: 'progress', progress }), ac.signal, this.image ? this.kernel.config : undefined);
      if (ac.signal.aborted) this.print(`${name} cancelled`, 'warn');
      else this.print(out.lines);
    } catch (e) {
      if (ac.signal.aborted) this.print(`${name} cancelled`, 'warn');
      else this.fail(args[0] ?? null, `${name}: ${(e as Error).message}`);
    } finally {
      this.abort = null;
      this.emit({ type: 'busy', busy: null });
    }
  }

  /** A fresh machine (same options); with an image, its machine as the file holds it (unsaved changes are dropped). */
  reset(): void {
    if (this.image) return this.reloadImage(this.image, null);
    this.useMachine(buildRunner(this.cli));
    this.print(`fresh machine: ${this.machine()}`, 'dim');
  }

  clear(): void {
    this.emit({ type: 'clear' });
  }

  exit(): void {
    this.emit({ type: 'exit' });
  }

  helpText(topic: Word | null): string[] {
    const h = helpFor(topic?.text ?? null, this.runner.knownCalls(), this.historyFile);
    if (h.ok) return h.lines;
    this.fail(topic, h.message);
    return [];
  }
}

const ACTOR_HINT = 'type `reset` for a fresh machine, or `process NAME` then `as NAME` to act as another process';
