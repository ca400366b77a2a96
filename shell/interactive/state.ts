// The interactive shell's state as plain data: the prompt line, history, the transcript, the open
// view and its navigation, a block being typed, a running command, what the machine looks like to
// completion and the prompt. reducer.ts changes it; nothing else does.

import type { LineState } from './lineEditor.js';
import { EMPTY_LINE } from './lineEditor.js';
import type { HistoryState } from './history.js';
import { newHistory } from './history.js';
import type { Focus } from './keymap.js';
import type { ViewSpec } from './commands.js';
import type { EngineProgress } from './engines.js';
import type { CompletionSources } from './completion.js';
import type { Tone } from './views/format.js';
import type { ImageStatus } from './imageStatus.js';

export interface TranscriptLine {
  readonly text: string;
  readonly tone: Tone;
}

export interface Busy {
  readonly label: string;
  readonly progress: EngineProgress | null;
  /** Whether Ctrl-C can stop it. */
  readonly cancellable: boolean;
}

/** Ctrl-R: the text searched for and the history entry it found (-1: none). */
export interface HistorySearch {
  readonly query: string;
  readonly match: number;
  /** The line as it was before the search, given back by Ctrl-C. */
  readonly saved: LineState;
}

/** What the machine looks like from the prompt, refreshed after every command. */
export interface MachineFacts {
  /** Who runs the next statement, as the prompt shows it (`init`, `bob`, `bob.t2`). */
  readonly actor: string;
  /** Completion candidates that depend on the machine and the names bound so far. */
  readonly completion: CompletionSources;
}

export interface ShellState {
  readonly line: LineState;
  readonly history: HistoryState;
  readonly search: HistorySearch | null;
  readonly transcript: readonly TranscriptLine[];
  /** Lines ever printed (the transcript keeps only the newest): piped output follows this count. */
  readonly printed: number;
  /** Lines scrolled back from the bottom of the transcript. */
  readonly transcriptScroll: number;
  readonly view: ViewSpec | null;
  /** First visible line of a view without a cursor. */
  readonly viewScroll: number;
  /** Rows a view page holds and lines the open view has (the app reports both from the screen). */
  readonly viewPage: number;
  readonly viewLines: number;
  readonly focus: Focus;
  /** Lines of a statement still open (`as bob {` ...). */
  readonly pending: readonly string[];
  readonly busy: Busy | null;
  /** Candidates of the last ambiguous completion, shown under the prompt until the next key. */
  readonly completions: readonly string[];
  readonly exited: boolean;
  /** Statements and commands that failed: piped, the shell exits 1 when there was any. */
  readonly failures: number;
  readonly facts: MachineFacts;
  /** The machine image the session is tied to (`--image`, `load`, `save FILE`), or null. */
  readonly image: ImageStatus | null;
}

export const TRANSCRIPT_LIMIT = 3000;

export function initialState(facts: MachineFacts, history: readonly string[] = [], image: ImageStatus | null = null): ShellState {
  return {
    image,
    line: EMPTY_LINE, history: newHistory(history), search: null, transcript: [], printed: 0, transcriptScroll: 0,
    view: null, viewScroll: 0, viewPage: 10, viewLines: 0, focus: 'prompt', pending: [], busy: null,
    completions: [], exited: false, failures: 0, facts,
  };
}

/** The prompt for the next line: who acts, or `...>` inside a block. */
export function promptFor(pending: readonly string[], actor: string): string {
  return pending.length ? '...> ' : `sjmp ${actor}> `;
}

/** The prompt as the screen shows it (the view's focus and a search have their own). */
export function promptText(s: ShellState): string {
  if (s.search) return `(reverse-i-search)'${s.search.query}': `;
  if (s.focus === 'view') return '(view) ';
  return promptFor(s.pending, s.facts.actor);
}
