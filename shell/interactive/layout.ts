// How the terminal's rows are shared: the open view on top, the transcript under it, then the
// status lines (progress, completions) and the prompt. One row is left spare so Ink never has
// to redraw the whole screen. Long transcript lines wrap onto more rows instead of being cut.

export interface Layout {
  /** Lines of view content (after its title line); 0 without a view. */
  view: number;
  transcript: number;
}

/**
 * Rows for a terminal of `rows` with `extra` status lines under the transcript. A view of
 * `viewLines` lines (null: none) takes what it needs up to about 60% of the screen; the
 * transcript gets the rest.
 */
export function layout(rows: number, viewLines: number | null, extra: number): Layout {
  const free = Math.max(4, rows - 1 - 1 - extra);
  if (viewLines === null) return { view: 0, transcript: free };
  const view = Math.min(Math.max(1, viewLines), Math.max(3, Math.floor(free * 0.6) - 1));
  return { view, transcript: Math.max(2, free - view - 1) };
}

/** Continuation rows of a wrapped line are indented this much more than the line, so they read as one line. */
export const WRAP_INDENT = 2;

/**
 * Where continuation rows start: under the last column of an indented table row (`  run FILE    run
 * a trace ...`: under "run a"), else two columns in from the line's own indentation.
 */
function hangingIndent(text: string, w: number): number {
  const lead = /^ */.exec(text)![0].length;
  if (lead > 0) {
    const cols = [...text.slice(0, w).matchAll(/ {2,}(?=\S)/g)].map((m) => m.index + m[0].length).filter((c) => c > lead && c <= w / 2);
    if (cols.length) return cols[cols.length - 1];
  }
  return Math.min(lead + WRAP_INDENT, Math.floor(w / 2));
}

/**
 * `text` as rows of at most `width` columns, broken after the last space that fits (or hard, in
 * a long word), continuation rows indented (hangingIndent). Nothing is cut.
 */
export function wrapLine(text: string, width: number): string[] {
  const w = Math.max(8, width);
  if (text.length <= w) return [text];
  const pad = ' '.repeat(hangingIndent(text, w));
  const rows: string[] = [];
  let rest = text;
  let room = w;
  while (rest.length > room) {
    const space = rest.lastIndexOf(' ', room);
    const cut = space > room / 2 ? space + 1 : room;
    rows.push((rows.length ? pad : '') + rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
    room = w - pad.length;
  }
  if (rest.length) rows.push((rows.length ? pad : '') + rest);
  return rows;
}

/**
 * The transcript rows to show: `height` rows of wrapped lines ending `back` lines before the
 * last. Each row keeps the line's other fields (its tone).
 */
export function transcriptRows<T extends { text: string }>(lines: readonly T[], width: number, height: number, back: number): T[] {
  const out: T[] = [];
  for (let i = lines.length - 1 - back; i >= 0 && out.length < height; i--) {
    const rows = wrapLine(lines[i].text, width).map((text) => ({ ...lines[i], text }));
    out.unshift(...rows);
  }
  return out.slice(Math.max(0, out.length - height));
}
