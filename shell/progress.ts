// Progress for long CLI runs: one line on stderr, redrawn at most ten times a second, with an ETA
// from the rate so far. Silent when stderr is not a terminal (piped output stays clean).

export interface ProgressLine {
  /** Report `done` of `total` units of work; `label` says what is running now. */
  update(done: number, total: number, label: string): void;
  /** Erase the line (call before printing results). */
  clear(): void;
}

function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The text of one progress line (exported for tests). */
export function progressText(done: number, total: number, label: string, elapsedMs: number, width = 20): string {
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(frac * width);
  const eta = frac > 0.001 && elapsedMs > 500 ? `ETA ${duration((elapsedMs / 1000) * (1 - frac) / frac)}` : 'ETA ?';
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${eta}  ${label}`;
}

export function progressLine(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  const tty = !!stream.isTTY;
  const start = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update(done, total, label) {
      const now = Date.now();
      if (!tty || now - last < 100) return;
      last = now;
      const cols = stream.columns || 80;
      stream.write(`\r${progressText(done, total, label, now - start).slice(0, cols - 1)}\x1b[K`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
