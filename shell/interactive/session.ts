// The shell session: its state, the pure reducer that changes it and the effects that run at the
// edge, wired together. dispatch(action) reduces, publishes the new state to subscribers (the Ink
// app) and performs the effects the reducer asked for; effects report back through dispatch too.
// Tests drive a session directly, without Ink.

import type { Kernel } from '../../kernel/kernel.js';
import { loadHistory } from './history.js';
import { listFilesFs } from './completion.js';
import { reduce, type Action } from './reducer.js';
import { ShellEffects, type EffectsOptions } from './effects.js';
import { initialState, type ShellState } from './state.js';

export type SessionOptions = EffectsOptions;
export type { TranscriptLine, Busy } from './state.js';

export class ShellSession {
  private current: ShellState;
  private readonly listeners = new Set<() => void>();
  readonly effects: ShellEffects;

  constructor(opts: SessionOptions = {}) {
    this.effects = new ShellEffects(() => this.current, (e) => { void this.dispatch(e); }, opts);
    const history = opts.historyFile ? loadHistory(opts.historyFile) : [];
    this.current = initialState(this.effects.facts(), history, this.effects.imageStatus());
    void this.dispatch({ type: 'print', lines: [
      `sjmp shell: ${this.effects.machine()}`,
      'type help for commands, a trace statement to run it (e.g. process alice uid=1000), Tab to complete',
    ], tone: 'dim' });
  }

  get state(): ShellState { return this.current; }

  /** The machine, for views (read-only use). */
  get kernel(): Kernel { return this.effects.kernel; }

  /**
   * Apply one action; resolves when the effects it started are done (Enter: the line has run).
   * The state changes synchronously, before any effect starts.
   */
  dispatch(a: Action): Promise<void> {
    const { state, effects } = reduce(this.current, a, { listFiles: listFilesFs });
    if (state !== this.current) {
      this.current = state;
      for (const fn of this.listeners) fn();
    }
    return Promise.all(effects.map((e) => this.effects.perform(e))).then(() => undefined);
  }

  /**
   * The shell is ending: save the machine back to its image on a clean exit (when it changed),
   * and let go of the image's lock. Returns an error message when the save failed.
   */
  closeImage(clean: boolean): string | null {
    return this.effects.closeImage(clean);
  }

  /** Run a line as if typed, without the prompt or the history (piped input, `--run`). */
  submit(text: string): Promise<void> {
    return this.dispatch({ type: 'runLine', text });
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getState = (): ShellState => this.current;

  // Read-only shortcuts to the state, for callers and tests.
  get transcript() { return this.current.transcript; }
  get line() { return this.current.line; }
  get view() { return this.current.view; }
  get focus() { return this.current.focus; }
  get pending() { return this.current.pending; }
  get busy() { return this.current.busy; }
  get completions() { return this.current.completions; }
  get exited() { return this.current.exited; }
}
