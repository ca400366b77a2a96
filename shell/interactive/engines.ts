// The hook for long-running benchmark commands (`gups ...`, `nibble ...`): the shell gives an
// engine its arguments, a progress callback and an abort signal, and shows what it returns.
// Engines live in userland/ and are wired in by whoever starts the shell (startShell's `engines`).

import type { MachineConfig } from '../../kernel/machineConfig.js';

export interface EngineProgress {
  /** Work done and total, in any unit (updates, operations, windows). */
  done: number;
  total: number;
  /** What is running now, e.g. "VAS, 64 updates/window". */
  label?: string;
}

export interface EngineOutput {
  /** Lines to show: tables and charts already laid out as text. */
  lines: string[];
}

/**
 * Runs a benchmark. `args` are the words after the command (`gups --design vas --windows 4`).
 * Must reject with an Error whose message is one clear line for bad arguments, and stop soon
 * after `signal` aborts (resolving or rejecting; the shell reports "cancelled" either way).
 * `image`: when the shell runs on a machine image, that machine's configuration (the engine
 * builds its machines from it instead of the command line's options).
 */
export type BenchEngine = (args: readonly string[], onProgress: (p: EngineProgress) => void, signal: AbortSignal, image?: MachineConfig) => Promise<EngineOutput>;

export interface Engines {
  gups?: BenchEngine;
  nibble?: BenchEngine;
  redis?: BenchEngine;
}

/** Lines for a progress bar `[#####.....]  42%  label` fitted to `width`. */
export function progressBar(p: EngineProgress, width: number): string {
  const frac = p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : 0;
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  const label = p.label ? `  ${p.label}` : '';
  const barWidth = Math.max(10, Math.min(50, width - pct.length - label.length - 4));
  const filled = Math.round(frac * barWidth);
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${pct}${label}`.slice(0, Math.max(0, width));
}
