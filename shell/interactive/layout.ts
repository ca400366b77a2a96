// How the terminal's rows are shared: the open view on top, the transcript under it, then the
// status lines (progress, completions) and the prompt. One row is left spare so Ink never has
// to redraw the whole screen.

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
