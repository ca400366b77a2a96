// Every key binding of the interactive shell, in one table. The app asks `resolveKey` what a key
// press means given where the focus is; `help keys` prints the same table, so the two never drift.

/** The subset of Ink's `Key` the bindings look at (kept structural so tests need no Ink). */
export interface KeyInfo {
  upArrow: boolean;
  downArrow: boolean;
  leftArrow: boolean;
  rightArrow: boolean;
  pageUp: boolean;
  pageDown: boolean;
  home: boolean;
  end: boolean;
  return: boolean;
  escape: boolean;
  ctrl: boolean;
  shift: boolean;
  tab: boolean;
  backspace: boolean;
  delete: boolean;
  meta: boolean;
}

/** Where keys go: the prompt line, or the open view (page-table navigation, scrolling). */
export type Focus = 'prompt' | 'view';

export type ActionType =
  // line editing
  | 'submit' | 'backspace' | 'deleteForward' | 'left' | 'right' | 'home' | 'end'
  | 'wordLeft' | 'wordRight' | 'killToEnd' | 'killToStart' | 'killWordBack' | 'yank'
  // history and completion
  | 'historyPrev' | 'historyNext' | 'searchHistory' | 'complete'
  // session
  | 'cancel' | 'eofOrDelete' | 'clearScreen' | 'focusView' | 'focusPrompt'
  // views
  | 'viewUp' | 'viewDown' | 'viewPageUp' | 'viewPageDown' | 'viewTop' | 'viewBottom'
  | 'viewExpand' | 'viewCollapse' | 'viewToggle' | 'transcriptUp' | 'transcriptDown';

export type ShellAction = { type: ActionType } | { type: 'insert'; text: string };

interface Binding {
  /** How the key is written in `help keys`. */
  keys: string;
  when: Focus | 'any';
  action: ActionType;
  help: string;
  match: (input: string, key: KeyInfo) => boolean;
}

const ctrl = (ch: string) => (input: string, key: KeyInfo) => key.ctrl && input === ch;
const plain = (k: keyof KeyInfo) => (_: string, key: KeyInfo) => key[k] && !key.ctrl && !key.meta;
const metaCh = (ch: string) => (input: string, key: KeyInfo) => key.meta && !key.ctrl && input === ch;

// Order matters: the first matching binding wins (Ctrl-arrows before bare arrows).
export const KEY_BINDINGS: readonly Binding[] = [
  { keys: 'Ctrl-C', when: 'any', action: 'cancel', help: 'cancel the running command, or clear the line', match: ctrl('c') },
  { keys: 'Ctrl-D', when: 'any', action: 'eofOrDelete', help: 'leave the shell (on an empty line); else delete forward', match: ctrl('d') },
  { keys: 'Ctrl-L', when: 'any', action: 'clearScreen', help: 'clear the transcript', match: ctrl('l') },

  { keys: 'Tab', when: 'view', action: 'focusPrompt', help: 'back to the prompt', match: plain('tab') },
  { keys: 'Esc', when: 'view', action: 'focusPrompt', help: 'back to the prompt', match: (_, k) => k.escape },
  { keys: 'Up / k', when: 'view', action: 'viewUp', help: 'previous row', match: (i, k) => (k.upArrow && !k.ctrl) || i === 'k' },
  { keys: 'Down / j', when: 'view', action: 'viewDown', help: 'next row', match: (i, k) => (k.downArrow && !k.ctrl) || i === 'j' },
  { keys: 'Right / l / +', when: 'view', action: 'viewExpand', help: 'expand the page-table entry', match: (i, k) => (k.rightArrow && !k.ctrl) || i === 'l' || i === '+' },
  { keys: 'Left / h / -', when: 'view', action: 'viewCollapse', help: 'collapse (or go to the parent entry)', match: (i, k) => (k.leftArrow && !k.ctrl) || i === 'h' || i === '-' },
  { keys: 'Enter / Space', when: 'view', action: 'viewToggle', help: 'expand or collapse', match: (i, k) => k.return || i === ' ' },
  { keys: 'g', when: 'view', action: 'viewTop', help: 'first row', match: (i) => i === 'g' },
  { keys: 'G', when: 'view', action: 'viewBottom', help: 'last row', match: (i) => i === 'G' },

  { keys: 'PageUp', when: 'any', action: 'viewPageUp', help: 'scroll the view up', match: plain('pageUp') },
  { keys: 'PageDown', when: 'any', action: 'viewPageDown', help: 'scroll the view down', match: plain('pageDown') },
  { keys: 'Ctrl-Up', when: 'prompt', action: 'transcriptUp', help: 'scroll the transcript back', match: (_, k) => k.ctrl && k.upArrow },
  { keys: 'Ctrl-Down', when: 'prompt', action: 'transcriptDown', help: 'scroll the transcript forward', match: (_, k) => k.ctrl && k.downArrow },

  { keys: 'Shift-Tab', when: 'prompt', action: 'focusView', help: 'move the focus into the open view', match: (_, k) => k.tab && k.shift },
  { keys: 'Enter', when: 'prompt', action: 'submit', help: 'run the line', match: (_, k) => k.return },
  { keys: 'Tab', when: 'prompt', action: 'complete', help: 'complete a command, call, name or file', match: plain('tab') },
  { keys: 'Esc', when: 'prompt', action: 'focusView', help: 'move the focus into the open view', match: (_, k) => k.escape && !k.ctrl },
  { keys: 'Up / Ctrl-P', when: 'prompt', action: 'historyPrev', help: 'previous line in the history', match: (i, k) => (k.upArrow && !k.ctrl) || (k.ctrl && i === 'p') },
  { keys: 'Down / Ctrl-N', when: 'prompt', action: 'historyNext', help: 'next line in the history', match: (i, k) => (k.downArrow && !k.ctrl) || (k.ctrl && i === 'n') },
  { keys: 'Ctrl-R', when: 'prompt', action: 'searchHistory', help: 'search the history backwards (again: older match; Enter runs it, Esc keeps it)', match: ctrl('r') },
  { keys: 'Alt-B / Ctrl-Left', when: 'prompt', action: 'wordLeft', help: 'back one word', match: (i, k) => metaCh('b')(i, k) || (k.leftArrow && (k.ctrl || k.meta)) },
  { keys: 'Alt-F / Ctrl-Right', when: 'prompt', action: 'wordRight', help: 'forward one word', match: (i, k) => metaCh('f')(i, k) || (k.rightArrow && (k.ctrl || k.meta)) },
  { keys: 'Left / Ctrl-B', when: 'prompt', action: 'left', help: 'cursor left', match: (i, k) => k.leftArrow || (k.ctrl && i === 'b') },
  { keys: 'Right / Ctrl-F', when: 'prompt', action: 'right', help: 'cursor right', match: (i, k) => k.rightArrow || (k.ctrl && i === 'f') },
  { keys: 'Home / Ctrl-A', when: 'prompt', action: 'home', help: 'start of the line', match: (i, k) => k.home || (k.ctrl && i === 'a') },
  { keys: 'End / Ctrl-E', when: 'prompt', action: 'end', help: 'end of the line', match: (i, k) => k.end || (k.ctrl && i === 'e') },
  { keys: 'Ctrl-K', when: 'prompt', action: 'killToEnd', help: 'delete to the end of the line', match: ctrl('k') },
  { keys: 'Ctrl-U', when: 'prompt', action: 'killToStart', help: 'delete to the start of the line', match: ctrl('u') },
  { keys: 'Ctrl-W / Alt-Backspace', when: 'prompt', action: 'killWordBack', help: 'delete the word before the cursor', match: (i, k) => (k.ctrl && i === 'w') || (k.meta && (k.backspace || k.delete)) },
  { keys: 'Ctrl-Y', when: 'prompt', action: 'yank', help: 'paste the last deleted text', match: ctrl('y') },
  // Terminals send DEL (0x7f) for Backspace and Ink reports it as `delete`: both erase backwards.
  { keys: 'Backspace', when: 'prompt', action: 'backspace', help: 'delete the character before the cursor', match: (_, k) => k.backspace || k.delete },
];

/**
 * What a key press means. Printable input (typed or pasted text) becomes an insert; keys that
 * mean nothing where the focus is return null.
 */
export function resolveKey(input: string, key: KeyInfo, focus: Focus): ShellAction | null {
  for (const b of KEY_BINDINGS) {
    if ((b.when === 'any' || b.when === focus) && b.match(input, key)) return { type: b.action };
  }
  if (focus === 'prompt' && !key.ctrl && !key.meta && input.length > 0) {
    // Drop control characters a terminal may pass through; keep pasted newlines for the session.
    const text = [...input].filter((c) => c === '\n' || c === '\r' || (c >= ' ' && c !== '\x7f')).join('');
    return text ? { type: 'insert', text } : null;
  }
  return null;
}

/** The table for `help keys`: one line per binding, grouped by focus. */
export function keyHelpLines(): string[] {
  const out: string[] = [];
  const width = Math.max(...KEY_BINDINGS.map((b) => b.keys.length));
  for (const [when, title] of [['any', 'anywhere'], ['prompt', 'at the prompt'], ['view', 'in a view (Esc or Shift-Tab at the prompt to enter)']] as const) {
    out.push(`${title}:`);
    const seen = new Set<string>();
    for (const b of KEY_BINDINGS) {
      if (b.when !== when || seen.has(b.keys + b.help)) continue;
      seen.add(b.keys + b.help);
      out.push(`  ${b.keys.padEnd(width)}  ${b.help}`);
    }
  }
  return out;
}

/** A KeyInfo with nothing pressed, for building key events in tests and adapters. */
export function noKey(over: Partial<KeyInfo> = {}): KeyInfo {
  return {
    upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageUp: false, pageDown: false,
    home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false,
    backspace: false, delete: false, meta: false, ...over,
  };
}
