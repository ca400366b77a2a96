// The prompt line as a pure reducer: text, cursor and the last deleted text (for Ctrl-Y).
// Emacs-style editing, the same keys readline users expect; the key-to-action mapping is in keymap.ts.

export interface LineState {
  readonly text: string;
  /** Cursor position, 0..text.length (before the character at that index). */
  readonly cursor: number;
  /** The text removed by the last kill, pasted back by yank. */
  readonly killed: string;
}

export type EditAction =
  | { type: 'insert'; text: string }
  | { type: 'set'; text: string }
  | { type: 'backspace' | 'deleteForward' | 'left' | 'right' | 'home' | 'end' | 'wordLeft' | 'wordRight' | 'killToEnd' | 'killToStart' | 'killWordBack' | 'yank' };

export const EMPTY_LINE: LineState = { text: '', cursor: 0, killed: '' };

const isWordChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** Start of the word before `i` (skipping separators first), as readline's backward-word. */
export function wordStart(text: string, i: number): number {
  let j = i;
  while (j > 0 && !isWordChar(text[j - 1])) j--;
  while (j > 0 && isWordChar(text[j - 1])) j--;
  return j;
}

/** End of the word after `i`, as readline's forward-word. */
export function wordEnd(text: string, i: number): number {
  let j = i;
  while (j < text.length && !isWordChar(text[j])) j++;
  while (j < text.length && isWordChar(text[j])) j++;
  return j;
}

/** Apply one edit; returns the same object when nothing changes. */
export function editLine(s: LineState, a: EditAction): LineState {
  const { text, cursor } = s;
  switch (a.type) {
    case 'insert':
      return { ...s, text: text.slice(0, cursor) + a.text + text.slice(cursor), cursor: cursor + a.text.length };
    case 'set':
      return { ...s, text: a.text, cursor: a.text.length };
    case 'backspace':
      return cursor === 0 ? s : { ...s, text: text.slice(0, cursor - 1) + text.slice(cursor), cursor: cursor - 1 };
    case 'deleteForward':
      return cursor >= text.length ? s : { ...s, text: text.slice(0, cursor) + text.slice(cursor + 1) };
    case 'left':
      return cursor === 0 ? s : { ...s, cursor: cursor - 1 };
    case 'right':
      return cursor >= text.length ? s : { ...s, cursor: cursor + 1 };
    case 'home':
      return { ...s, cursor: 0 };
    case 'end':
      return { ...s, cursor: text.length };
    case 'wordLeft':
      return { ...s, cursor: wordStart(text, cursor) };
    case 'wordRight':
      return { ...s, cursor: wordEnd(text, cursor) };
    case 'killToEnd':
      return cursor >= text.length ? s : { text: text.slice(0, cursor), cursor, killed: text.slice(cursor) };
    case 'killToStart':
      return cursor === 0 ? s : { text: text.slice(cursor), cursor: 0, killed: text.slice(0, cursor) };
    case 'killWordBack': {
      const from = wordStart(text, cursor);
      return from === cursor ? s : { text: text.slice(0, from) + text.slice(cursor), cursor: from, killed: text.slice(from, cursor) };
    }
    case 'yank':
      return s.killed ? editLine(s, { type: 'insert', text: s.killed }) : s;
  }
}
