// Prompt history as plain data: navigation over earlier lines (keeping the line being typed as a
// draft), reverse search (Ctrl-R), and — kept apart, for the effects at the edge — its file in
// the user's config directory so it survives between runs.

import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Lines kept in memory and on disk; older ones are dropped when the file is rewritten. */
export const HISTORY_LIMIT = 1000;

export interface HistoryState {
  readonly entries: readonly string[];
  /** Index into entries while browsing; entries.length means "the draft". */
  readonly index: number;
  /** The line being typed when browsing started, given back after the newest entry. */
  readonly draft: string;
}

export function newHistory(entries: readonly string[] = [], limit = HISTORY_LIMIT): HistoryState {
  const kept = entries.slice(-limit);
  return { entries: kept, index: kept.length, draft: '' };
}

/**
 * Record a submitted line (not blank lines, nor a repeat of the previous one) and stop browsing.
 * `added` says whether the file should get it too.
 */
export function historyAdd(h: HistoryState, line: string, limit = HISTORY_LIMIT): { history: HistoryState; added: boolean } {
  if (line.trim() === '' || h.entries[h.entries.length - 1] === line) return { history: historyReset(h), added: false };
  const entries = [...h.entries, line].slice(-limit);
  return { history: { entries, index: entries.length, draft: '' }, added: true };
}

/** The previous (older) line, remembering `current` as the draft when browsing starts; null at the oldest. */
export function historyPrev(h: HistoryState, current: string): { history: HistoryState; text: string } | null {
  if (h.index === 0) return null;
  const draft = h.index === h.entries.length ? current : h.draft;
  return { history: { ...h, index: h.index - 1, draft }, text: h.entries[h.index - 1] };
}

/** The next (newer) line, or the draft after the newest; null when not browsing. */
export function historyNext(h: HistoryState): { history: HistoryState; text: string } | null {
  if (h.index >= h.entries.length) return null;
  const index = h.index + 1;
  return { history: { ...h, index }, text: index === h.entries.length ? h.draft : h.entries[index] };
}

/** Stop browsing (the line was edited or submitted). */
export function historyReset(h: HistoryState): HistoryState {
  return h.index === h.entries.length ? h : { ...h, index: h.entries.length };
}

/** Index of the newest entry before `before` that contains `query` (Ctrl-R), or -1. */
export function searchBack(h: HistoryState, query: string, before: number = h.entries.length): number {
  for (let i = Math.min(before, h.entries.length) - 1; i >= 0; i--) if (h.entries[i].includes(query)) return i;
  return -1;
}

// ------------------------------------------------------------------ the file

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

/**
 * Append `line` to the file (creating its directory); when the history is full, rewrite the file
 * with `entries` so it stays bounded. Returns an error message instead of throwing: losing
 * history must not stop the shell.
 */
export function saveHistoryLine(path: string, line: string, entries: readonly string[], limit = HISTORY_LIMIT): string | null {
  try {
    mkdirSync(dirname(path), { recursive: true });
    if (entries.length >= limit) writeFileSync(path, entries.map((l) => l.replace(/\n/g, ' ')).join('\n') + '\n');
    else appendFileSync(path, line.replace(/\n/g, ' ') + '\n');
    return null;
  } catch (e) {
    return `history not saved to ${path}: ${(e as Error).message}`;
  }
}
