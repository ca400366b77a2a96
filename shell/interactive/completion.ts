// Tab completion: what the word under the cursor can become, judged from where it stands —
// a shell command or statement at the start of the line, a process after `@`/`as`, a constant when
// it starts uppercase, a segment or address-space name inside quotes, a file after `run`/`save`.
// Pure: the session passes in what exists now (CompletionSources).

import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface CompletionSources {
  commands: readonly string[];
  calls: readonly string[];
  keywords: readonly string[];
  /** Bound names (vid, sid, vh, base ...). */
  names: readonly string[];
  processes: readonly string[];
  constants: readonly string[];
  /** Names of named address spaces and segments (completed inside quotes). */
  objectNames: readonly string[];
  /** Commands whose arguments are file paths. */
  fileCommands?: readonly string[];
  /** Commands whose first argument is a process (vmmap, pt). */
  processCommands?: readonly string[];
  /** Commands whose argument is a command or call name (help). */
  helpCommands?: readonly string[];
  /** Files starting with a prefix; defaults to the real file system. */
  listFiles?: (prefix: string) => string[];
}

export interface Completion {
  /** Range of the line the insertion replaces. */
  start: number;
  end: number;
  /** What to put there: the unique candidate (with a suffix) or the longest common prefix. */
  insert: string;
  /** All candidates, when there is more than one. */
  candidates: string[];
}

const WORD = /[A-Za-z0-9_.]/;

function commonPrefix(xs: readonly string[]): string {
  if (xs.length === 0) return '';
  let p = xs[0];
  for (const x of xs) while (!x.startsWith(p)) p = p.slice(0, -1);
  return p;
}

/** Paths under the directory of `prefix` that start with it; directories end in `/`. */
export function listFilesFs(prefix: string): string[] {
  const dir = prefix.endsWith('/') ? prefix : dirname(prefix);
  const shownDir = prefix.includes('/') ? (prefix.endsWith('/') ? prefix : dir + '/') : '';
  try {
    return readdirSync(dir === '' ? '.' : dir)
      .map((f) => shownDir + f)
      .filter((f) => f.startsWith(prefix) && !f.slice(shownDir.length).startsWith('.'))
      .map((f) => {
        try { return statSync(join(f)).isDirectory() ? f + '/' : f; } catch { return f; }
      })
      .sort();
  } catch {
    return [];
  }
}

interface Slot { kind: 'command' | 'process' | 'constant' | 'quoted' | 'file' | 'help' | 'value' | 'argument'; start: number }

/** Whether `lead` ends inside the parentheses of a call (strings skipped): its words are arguments. */
function insideCall(lead: string): boolean {
  let depth = 0;
  for (const part of lead.replace(/"[^"]*"/g, '""')) {
    if (part === '(') depth++;
    else if (part === ')') depth = Math.max(0, depth - 1);
  }
  return depth > 0;
}

/** Decide what kind of word the cursor is in, and where that word starts. */
function slotAt(line: string, cursor: number, s: CompletionSources): Slot {
  const before = line.slice(0, cursor);
  const quotes = (before.match(/"/g) ?? []).length;
  if (quotes % 2 === 1) return { kind: 'quoted', start: before.lastIndexOf('"') + 1 };
  const words = before.trimStart().split(/\s+/);
  const first = words[0] ?? '';
  const argIndex = words.length - 1;
  if (argIndex >= 1 && (s.fileCommands ?? []).includes(first)) return { kind: 'file', start: before.lastIndexOf(' ') + 1 };
  let start = cursor;
  while (start > 0 && WORD.test(line[start - 1])) start--;
  const lead = before.slice(0, start);
  if (argIndex >= 1 && (s.helpCommands ?? []).includes(first)) return { kind: 'help', start };
  if (argIndex === 1 && (s.processCommands ?? []).includes(first)) return { kind: 'process', start };
  if (/@$/.test(lead) || /(^|[\s{;])(as|thread)\s+$/.test(lead)) return { kind: 'process', start };
  if (/^[A-Z]/.test(line.slice(start, cursor))) return { kind: 'constant', start };
  // The first word of a statement (line start, after `{`, `;`, `@actor `) is a command or statement.
  if (/^\s*$|[{;]\s*$|^\s*@[A-Za-z0-9_.]+\s+$/.test(lead)) return { kind: 'command', start };
  return { kind: insideCall(lead) ? 'argument' : 'value', start };
}

function candidatesFor(slot: Slot, s: CompletionSources, word: string): { list: string[]; suffix: (c: string) => string } {
  const uniq = (xs: Iterable<string>) => [...new Set(xs)].filter((c) => c.startsWith(word)).sort();
  const calls = new Set(s.calls);
  switch (slot.kind) {
    case 'quoted': return { list: uniq(s.objectNames), suffix: () => '"' };
    case 'file': return { list: (s.listFiles ?? listFilesFs)(word), suffix: (c) => (c.endsWith('/') ? '' : ' ') };
    case 'process': return { list: uniq(s.processes), suffix: () => ' ' };
    case 'constant': return { list: uniq(s.constants), suffix: () => '' };
    case 'help': return { list: uniq([...s.commands, ...s.calls, 'keys', 'trace']), suffix: () => ' ' };
    case 'command': return { list: uniq([...s.commands, ...s.calls, ...s.keywords, ...s.names]), suffix: (c) => (calls.has(c) ? '(' : ' ') };
    case 'value': return { list: uniq([...s.names, ...s.processes, ...s.calls]), suffix: (c) => (calls.has(c) ? '(' : '') };
    // A call's argument is a value: a bound name, a process (its pid) or a constant, never a call.
    case 'argument': return { list: uniq([...s.names, ...s.processes, ...s.constants]), suffix: () => '' };
  }
}

/**
 * Complete the word before `cursor`. With one candidate the word becomes it (plus `(` after a
 * call, a space after a command, a closing quote in a string); with several, the longest common
 * prefix is inserted and the candidates are listed. Null when nothing matches.
 */
export function complete(line: string, cursor: number, sources: CompletionSources): Completion | null {
  const slot = slotAt(line, cursor, sources);
  const word = line.slice(slot.start, cursor);
  const { list, suffix } = candidatesFor(slot, sources, word);
  if (list.length === 0) return null;
  if (list.length === 1) return { start: slot.start, end: cursor, insert: list[0] + suffix(list[0]), candidates: [] };
  return { start: slot.start, end: cursor, insert: commonPrefix(list), candidates: list };
}

/** The line and cursor after applying a completion. */
export function applyCompletion(line: string, c: Completion): { text: string; cursor: number } {
  return { text: line.slice(0, c.start) + c.insert + line.slice(c.end), cursor: c.start + c.insert.length };
}
