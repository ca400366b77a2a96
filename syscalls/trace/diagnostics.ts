// Error text for the trace language: `file:line:col: message`, the line, and a caret under the
// offending text. Shared by the parser and (through formatAt) the runner and the shell.

import type { Diagnostic, Span } from './ast.js';

/** Render a diagnostic: the location line, then the source line and a caret (with ~ under the rest of the span). */
export function formatDiagnostic(d: Diagnostic): string {
  const head = `${d.file}:${d.line}:${d.col}: ${d.message}`;
  if (d.sourceLine === '' && d.col <= 1) return head;
  // Copy tabs from the source so the caret lines up however the terminal expands them.
  let pad = '';
  for (let i = 0; i < d.col - 1; i++) pad += d.sourceLine[i] === '\t' ? '\t' : ' ';
  const width = Math.max(1, Math.min(d.endCol, d.sourceLine.length + 1) - d.col);
  return `${head}\n    ${d.sourceLine}\n    ${pad}^${'~'.repeat(width - 1)}`;
}

export function formatDiagnostics(ds: readonly Diagnostic[]): string {
  return ds.map(formatDiagnostic).join('\n');
}

/** Source text of the files a parse read, so later (runtime) errors can show their line. */
export class SourceMap {
  private readonly files = new Map<string, { lines: string[]; firstLine: number }>();

  add(file: string, text: string, firstLine = 1): void {
    this.files.set(file, { lines: text.split(/\r\n|\r|\n/), firstLine });
  }

  has(file: string): boolean {
    return this.files.has(file);
  }

  lineText(file: string, line: number): string {
    const f = this.files.get(file);
    if (!f) return '';
    return f.lines[line - f.firstLine] ?? '';
  }

  /** Merge another map's files into this one. */
  absorb(other: SourceMap): void {
    for (const [k, v] of other.files) this.files.set(k, v);
  }
}

/** A diagnostic for a span; the runner uses this for runtime errors so they read like parse errors. */
export function diagnosticAt(span: Span, message: string, sources: SourceMap): Diagnostic {
  return {
    file: span.file,
    line: span.line,
    col: Math.max(1, span.col),
    endCol: span.endLine === span.line ? Math.max(span.col + 1, span.endCol) : Number.MAX_SAFE_INTEGER,
    message,
    sourceLine: sources.lineText(span.file, span.line),
  };
}

/** formatDiagnostic(diagnosticAt(...)) in one call. */
export function formatAt(span: Span, message: string, sources: SourceMap): string {
  return formatDiagnostic(diagnosticAt(span, message, sources));
}

/** Optimal-string-alignment distance: a swapped pair of letters (vdi/vid) counts as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push(new Array<number>(b.length + 1).fill(0));
    rows[i][0] = i;
  }
  for (let j = 0; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}

/** The closest candidate within a typo's reach, for "did you mean ...?". */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = word.length <= 3 ? 1 : word.length <= 6 ? 2 : 3;
  let best: string | undefined;
  let bestD = limit + 1;
  const lw = word.toLowerCase();
  for (const c of candidates) {
    if (c === word) continue;
    const d = editDistance(lw, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

export function didYouMean(word: string, candidates: Iterable<string>): string {
  const s = suggest(word, candidates);
  return s === undefined ? '' : ` (did you mean ${s}?)`;
}
