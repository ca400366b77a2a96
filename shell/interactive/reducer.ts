// The shell's behaviour as a pure function: (state, action) -> (new state, effects). Key actions
// come from the keymap; events come back from the effects (effects.ts) that run statements, read
// and write files and drive engines. Nothing here touches the machine, the terminal or the disk,
// so every key's meaning is tested without Ink (test/shell/reducer.test.ts).

import { editLine, EMPTY_LINE, type EditAction, type LineState } from './lineEditor.js';
import { historyAdd, historyNext, historyPrev, historyReset, searchBack } from './history.js';
import { complete, applyCompletion } from './completion.js';
import { scrollView, type ViewMove } from './viewState.js';
import type { ShellAction } from './keymap.js';
import type { ViewSpec } from './commands.js';
import type { EngineProgress } from './engines.js';
import type { Tone } from './views/format.js';
import type { ImageStatus } from './imageStatus.js';
import { TRANSCRIPT_LIMIT, type Busy, type MachineFacts, type ShellState } from './state.js';

/** What the effects report back. */
export type ShellEvent =
  /** A line to run as if typed, without touching the prompt or the history (piped input, --run). */
  | { type: 'runLine'; text: string }
  | { type: 'print'; lines: string | readonly string[]; tone?: Tone; failed?: boolean }
  | { type: 'busy'; busy: Busy | null }
  | { type: 'progress'; progress: EngineProgress }
  | { type: 'openView'; view: ViewSpec }
  /** The open view's navigation changed (a page-table move or walk): the scroll stays. */
  | { type: 'setView'; view: ViewSpec }
  | { type: 'closeView' }
  | { type: 'pending'; lines: readonly string[] }
  | { type: 'facts'; facts: MachineFacts }
  /** The image the session is tied to, and whether the machine has unsaved changes. */
  | { type: 'image'; image: ImageStatus | null }
  | { type: 'clear' }
  | { type: 'exit' }
  /** From the screen: rows of a view page, lines the open view has. */
  | { type: 'layout'; viewPage: number; viewLines: number };

export type Action = ShellAction | ShellEvent;

/** Work for the edge: the machine, the disk, a running engine. */
export type Effect =
  | { kind: 'run'; text: string }
  | { kind: 'remember'; line: string; entries: readonly string[] }
  | { kind: 'stop' }
  | { kind: 'navigate'; move: ViewMove };

export interface Step {
  state: ShellState;
  effects: Effect[];
}

/** Reading the file system for `run`/`save` completion is the one input a key needs from outside. */
export interface ReducerInput {
  listFiles?: (prefix: string) => string[];
}

const EDITS = new Set<string>(['insert', 'backspace', 'deleteForward', 'left', 'right', 'home', 'end', 'wordLeft', 'wordRight', 'killToEnd', 'killToStart', 'killWordBack', 'yank']);
const VIEW_MOVES: Partial<Record<string, ViewMove>> = {
  viewUp: 'up', viewDown: 'down', viewTop: 'top', viewBottom: 'bottom', viewExpand: 'expand', viewCollapse: 'collapse', viewToggle: 'toggle',
};

const none = (state: ShellState): Step => ({ state, effects: [] });

/** Append lines to the transcript (bounded) and jump to its bottom. */
export function print(s: ShellState, lines: string | readonly string[], tone: Tone = 'normal', failed = false): ShellState {
  const all = (typeof lines === 'string' ? [lines] : lines).flatMap((l) => l.split('\n')).map((text) => ({ text, tone }));
  const transcript = [...s.transcript, ...all];
  if (transcript.length > TRANSCRIPT_LIMIT) transcript.splice(0, transcript.length - TRANSCRIPT_LIMIT);
  return { ...s, transcript, printed: s.printed + all.length, transcriptScroll: 0, failures: s.failures + (failed ? 1 : 0) };
}

export function reduce(s: ShellState, a: Action, input: ReducerInput = {}): Step {
  if (isEvent(a)) return reduceEvent(s, a);
  const cleared = a.type !== 'complete' && s.completions.length ? { ...s, completions: [] } : s;
  if (cleared.search) return reduceSearch(cleared, a, input);
  return reduceKey(cleared, a, input);
}

function isEvent(a: Action): a is ShellEvent {
  return ['runLine', 'print', 'busy', 'progress', 'openView', 'setView', 'closeView', 'pending', 'facts', 'image', 'clear', 'exit', 'layout'].includes(a.type);
}

function reduceEvent(s: ShellState, e: ShellEvent): Step {
  switch (e.type) {
    case 'runLine': return { state: s, effects: [{ kind: 'run', text: e.text }] };
    case 'print': return none(print(s, e.lines, e.tone, e.failed));
    case 'busy': return none({ ...s, busy: e.busy });
    case 'progress': return none(s.busy ? { ...s, busy: { ...s.busy, progress: e.progress } } : s);
    case 'openView': return none({ ...s, view: e.view, viewScroll: 0 });
    case 'setView': return none({ ...s, view: e.view });
    case 'closeView': return none({ ...s, view: null, focus: 'prompt' });
    case 'pending': return none({ ...s, pending: e.lines });
    case 'facts': return none({ ...s, facts: e.facts });
    case 'image': return none(sameImage(s.image, e.image) ? s : { ...s, image: e.image });
    case 'clear': return none({ ...s, transcript: [], transcriptScroll: 0 });
    case 'exit': return none({ ...s, exited: true });
    case 'layout':
      return none(s.viewPage === e.viewPage && s.viewLines === e.viewLines ? s : { ...s, viewPage: e.viewPage, viewLines: e.viewLines });
  }
}

function sameImage(a: ImageStatus | null, b: ImageStatus | null): boolean {
  return a === b || (a !== null && b !== null && a.file === b.file && a.dirty === b.dirty && a.readOnly === b.readOnly);
}

function setLine(s: ShellState, line: LineState): ShellState {
  return line === s.line ? s : { ...s, line, history: line.text !== s.line.text ? historyReset(s.history) : s.history };
}

function reduceKey(s: ShellState, a: ShellAction, input: ReducerInput): Step {
  switch (a.type) {
    case 'insert': return insert(s, a.text);
    case 'submit': return submit(s);
    case 'cancel': return cancel(s);
    case 'eofOrDelete':
      if (s.line.text === '' && s.pending.length === 0 && !s.busy) return none({ ...s, exited: true });
      return none(setLine(s, editLine(s.line, { type: 'deleteForward' })));
    case 'clearScreen': return none({ ...s, transcript: [], transcriptScroll: 0 });
    case 'historyPrev': {
      const h = historyPrev(s.history, s.line.text);
      return none(h ? { ...s, history: h.history, line: editLine(s.line, { type: 'set', text: h.text }) } : s);
    }
    case 'historyNext': {
      const h = historyNext(s.history);
      return none(h ? { ...s, history: h.history, line: editLine(s.line, { type: 'set', text: h.text }) } : s);
    }
    case 'searchHistory': return none({ ...s, search: { query: '', match: -1, saved: s.line } });
    case 'complete': return none(completeWord(s, input));
    case 'focusView': return none(s.view ? { ...s, focus: 'view' } : s);
    case 'focusPrompt': return none({ ...s, focus: 'prompt' });
    case 'transcriptUp': return none({ ...s, transcriptScroll: Math.min(Math.max(0, s.transcript.length - 1), s.transcriptScroll + 5) });
    case 'transcriptDown': return none({ ...s, transcriptScroll: Math.max(0, s.transcriptScroll - 5) });
    case 'viewPageUp': case 'viewPageDown': {
      const up = a.type === 'viewPageUp';
      if (s.view) return moveView(s, up ? 'pageUp' : 'pageDown');
      const d = up ? s.viewPage : -s.viewPage;
      return none({ ...s, transcriptScroll: Math.max(0, Math.min(s.transcript.length - 1, s.transcriptScroll + d)) });
    }
    default: {
      const move = VIEW_MOVES[a.type];
      if (move) return moveView(s, move);
      if (EDITS.has(a.type)) return none(setLine(s, editLine(s.line, a as EditAction)));
      return none(s);
    }
  }
}

/** Typed or pasted text; pasted newlines submit the line before them. */
function insert(s: ShellState, text: string): Step {
  const parts = text.split(/\r\n|\r|\n/);
  let state = s;
  const effects: Effect[] = [];
  parts.forEach((p, i) => {
    if (p) state = setLine(state, editLine(state.line, { type: 'insert', text: p }));
    if (i < parts.length - 1) {
      const step = submit(state);
      state = step.state;
      effects.push(...step.effects);
    }
  });
  return { state, effects };
}

/** Enter: the line goes to the history (and its file) and is run, queued behind any line still running. */
function submit(s: ShellState): Step {
  const text = s.line.text;
  const cleared = { ...s, line: EMPTY_LINE };
  if (s.busy) return none(print(cleared, `busy with ${s.busy.label}: wait, or Ctrl-C to stop it`, 'warn'));
  const h = historyAdd(s.history, text);
  const effects: Effect[] = h.added ? [{ kind: 'remember', line: text, entries: h.history.entries }] : [];
  effects.push({ kind: 'run', text });
  return { state: { ...cleared, history: h.history }, effects };
}

function cancel(s: ShellState): Step {
  if (s.busy?.cancellable) return { state: print(s, `^C: stopping ${s.busy.label}`, 'warn'), effects: [{ kind: 'stop' }] };
  let next = s;
  if (s.pending.length) next = print(next, '^C: block abandoned', 'dim');
  else if (s.line.text === '') next = print(next, '^C (exit or Ctrl-D leaves the shell)', 'dim');
  return none({ ...next, pending: [], line: EMPTY_LINE, history: historyReset(next.history) });
}

function completeWord(s: ShellState, input: ReducerInput): ShellState {
  const c = complete(s.line.text, s.line.cursor, { ...s.facts.completion, listFiles: input.listFiles ?? s.facts.completion.listFiles });
  if (!c) return s;
  let line = s.line;
  if (c.insert.length >= c.end - c.start) {
    const r = applyCompletion(line.text, c);
    line = { ...line, text: r.text, cursor: r.cursor };
  }
  return { ...setLine(s, line), completions: c.candidates };
}

/** A plain view scrolls here; the page-table tree needs the machine to move, so that is an effect. */
function moveView(s: ShellState, move: ViewMove): Step {
  if (!s.view) return none(s);
  if (s.view.kind === 'pt') return { state: s, effects: [{ kind: 'navigate', move }] };
  const max = Math.max(0, s.viewLines - s.viewPage);
  return none({ ...s, viewScroll: Math.max(0, Math.min(max, scrollView(s.viewScroll, move, s.viewPage))) });
}

// ------------------------------------------------------------------ Ctrl-R

/** The line showing a search's match (the line as it was when nothing matches yet). */
function found(s: ShellState, query: string, match: number): ShellState {
  const text = match >= 0 ? s.history.entries[match] : s.search!.saved.text;
  const line = match >= 0 || query === '' ? editLine(s.line, { type: 'set', text }) : s.line;
  return { ...s, line, search: { ...s.search!, query, match } };
}

/**
 * Keys during a reverse search: text narrows it, Backspace widens it, Ctrl-R finds the next older
 * match, Enter runs the match, Ctrl-C gives the old line back, any other key keeps the match on
 * the line and then does what it does (Esc just keeps it).
 */
function reduceSearch(s: ShellState, a: ShellAction, input: ReducerInput): Step {
  const q = s.search!;
  switch (a.type) {
    case 'insert': {
      const nl = a.text.search(/[\r\n]/);
      if (nl >= 0) {
        const typed = reduceSearch(s, { type: 'insert', text: a.text.slice(0, nl) }, input);
        return reduceSearch(typed.state, { type: 'submit' }, input);
      }
      const query = q.query + a.text;
      return none(found(s, query, searchBack(s.history, query, q.match >= 0 ? q.match + 1 : s.history.entries.length)));
    }
    case 'backspace': {
      const query = q.query.slice(0, -1);
      return none(found(s, query, query === '' ? -1 : searchBack(s.history, query)));
    }
    case 'searchHistory': {
      if (q.query === '') return none(s);
      const older = searchBack(s.history, q.query, q.match >= 0 ? q.match : s.history.entries.length);
      return none(older >= 0 ? found(s, q.query, older) : s);
    }
    case 'cancel': return none({ ...s, search: null, line: q.saved });
    case 'focusView': return none({ ...s, search: null });
    default: return reduce({ ...s, search: null }, a, input);
  }
}
