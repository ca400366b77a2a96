// What every view returns, and the column layout they share. Views are pure functions of the
// kernel's state (they read, never charge cycles or touch a TLB), so opening one changes nothing
// the user measures.

import { formatAddr } from '../../../mmu/units.js';

export type Tone = 'normal' | 'header' | 'dim' | 'accent' | 'warn' | 'good';

export interface ViewLine {
  text: string;
  tone?: Tone;
}

export interface ViewModel {
  title: string;
  lines: ViewLine[];
  /** Index of the selected line in a navigable view (the page-table tree). */
  cursor?: number;
}

export interface Column {
  title: string;
  align?: 'left' | 'right';
  /** May be cut (with …) when the width is short; the last flexible column gives way first. */
  flex?: boolean;
}

/** Cut `s` to `w` characters, marking the cut with an ellipsis. */
export function clip(s: string, w: number): string {
  if (w <= 0) return '';
  return s.length <= w ? s : w === 1 ? '…' : s.slice(0, w - 1) + '…';
}

function pad(s: string, w: number, align: 'left' | 'right' = 'left'): string {
  return align === 'right' ? s.padStart(w) : s.padEnd(w);
}

/**
 * Lay rows out in columns two spaces apart, fitted to `width`: flexible columns shrink (never
 * below their title) from the right until the line fits. Returns the header line and one per row.
 */
export function table(columns: readonly Column[], rows: readonly string[][], width: number): ViewLine[] {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
  for (let i = columns.length - 1; i >= 0 && total() > width; i--) {
    if (!columns[i].flex) continue;
    widths[i] = Math.max(columns[i].title.length, widths[i] - (total() - width));
  }
  const line = (cells: readonly string[]) =>
    columns.map((c, i) => pad(clip(cells[i] ?? '', widths[i]), widths[i], c.align)).join('  ').trimEnd();
  return [
    { text: clip(line(columns.map((c) => c.title)), width), tone: 'header' },
    ...rows.map((r) => ({ text: clip(line(r), width) })),
  ];
}

/** 12345678 -> "12,345,678". */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A ratio as a percentage with one decimal, or "-" when there were no events. */
export function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

/** Hex with `_` every 16 bits, as the trace language writes addresses. */
export const hex = formatAddr;

/** A message line in place of a view's content (nothing to show, or a bad argument). */
export function note(text: string, tone: Tone = 'dim'): ViewLine {
  return { text, tone };
}
