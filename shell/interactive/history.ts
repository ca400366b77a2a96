// Prompt history: navigation over earlier lines (keeping the line being typed as a draft), and
// its file in the user's config directory so it survives between runs.

import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Lines kept in memory and on disk; older ones are dropped when the file is rewritten. */
export const HISTORY_LIMIT = 1000;

/**
 * $XDG_CONFIG_HOME/sjmp/history, or ~/.config/sjmp/history when XDG_CONFIG_HOME is unset or
 * not absolute (the XDG spec says to ignore relative values).
 */
export function defaultHistoryPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(home, '.config');
  return join(base, 'sjmp', 'history');
}

/** Lines of a history file (the newest HISTORY_LIMIT); a missing or unreadable file is an empty history. */
export function loadHistory(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-HISTORY_LIMIT);
}

export class History {
  private readonly entries: string[];
  /** Index into entries while browsing; entries.length means "the draft". */
  private index: number;
  private draft = '';

  constructor(
    entries: readonly string[] = [],
    /** File to append each new line to; null keeps the history in memory only. */
    private readonly path: string | null = null,
    private readonly limit = HISTORY_LIMIT,
  ) {
    this.entries = entries.slice(-limit);
    this.index = this.entries.length;
  }

  /** A history loaded from `path` that appends to it. */
  static open(path: string): History {
    return new History(loadHistory(path), path);
  }

  get lines(): readonly string[] { return this.entries; }

  /**
   * Record a submitted line (not blank lines, nor a repeat of the previous one) and stop
   * browsing. Disk errors are reported to the caller's `onError`, never thrown: losing
   * history must not stop the shell.
   */
  add(line: string, onError?: (message: string) => void): void {
    this.index = this.entries.length;
    this.draft = '';
    if (line.trim() === '' || this.entries[this.entries.length - 1] === line) return;
    this.entries.push(line);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    this.index = this.entries.length;
    if (this.path) this.persist(line, onError);
  }

  private persist(line: string, onError?: (message: string) => void): void {
    const path = this.path!;
    try {
      mkdirSync(dirname(path), { recursive: true });
      // Appending is cheap; rewrite now and then so the file stays bounded.
      if (this.entries.length === this.limit) writeFileSync(path, this.entries.join('\n') + '\n');
      else appendFileSync(path, line.replace(/\n/g, ' ') + '\n');
    } catch (e) {
      onError?.(`history not saved to ${path}: ${(e as Error).message}`);
    }
  }

  /** The previous (older) line, remembering `current` as the draft when browsing starts; undefined at the oldest. */
  prev(current: string): string | undefined {
    if (this.index === 0) return undefined;
    if (this.index === this.entries.length) this.draft = current;
    this.index--;
    return this.entries[this.index];
  }

  /** The next (newer) line, or the draft after the newest; undefined when not browsing. */
  next(): string | undefined {
    if (this.index >= this.entries.length) return undefined;
    this.index++;
    return this.index === this.entries.length ? this.draft : this.entries[this.index];
  }

  /** Stop browsing (the line was edited or submitted). */
  reset(): void {
    this.index = this.entries.length;
  }
}
