// The results of a sweep: append-only JSON Lines, one record per finished point, written as each
// point finishes so that an interrupted sweep loses nothing it completed. Local runs append to
// DIR/results.jsonl; each Slurm array task writes DIR/parts/point-K.jsonl (no two writers share a
// file on a cluster file system), and `merge` gathers them.

import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export interface SweepRecord {
  key: string;
  point: number;
  program: string;
  /** The axis values of the point. */
  values: Record<string, string | number | boolean>;
  options: Record<string, string | number | boolean>;
  version: string;
  ok: boolean;
  /** The program's own --json document (when ok). */
  record?: unknown;
  /** Why the point failed (when not ok): the program's error line, or the exception. */
  error?: string;
  /** Emulator wall-clock of the whole point, for the sweep's own progress and ETA. */
  wallMs: number;
}

export const RESULTS = 'results.jsonl';

export function resultsPath(dir: string): string {
  return join(dir, RESULTS);
}

export function partPath(dir: string, point: number): string {
  return join(dir, 'parts', `point-${point}.jsonl`);
}

/** Append one record as one line (a line is written whole by one write call). */
export function appendRecord(file: string, r: SweepRecord): void {
  mkdirSync(join(file, '..'), { recursive: true });
  appendFileSync(file, JSON.stringify(r) + '\n');
}

/**
 * Read a JSON Lines store. A last line cut short by a kill is ignored (it was never finished);
 * any other unreadable line is an error naming the file and line.
 */
export function readRecords(file: string): SweepRecord[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: SweepRecord[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as SweepRecord);
    } catch {
      const last = lines.slice(i + 1).every((l) => !l.trim());
      if (!last) throw new Error(`${file}:${i + 1}: not a sweep record`);
    }
  });
  return out;
}

/** The latest record per key, successful ones preferred: what a report or a resume works from. */
export function latestByKey(records: SweepRecord[]): Map<string, SweepRecord> {
  const m = new Map<string, SweepRecord>();
  for (const r of records) {
    const had = m.get(r.key);
    if (!had || r.ok || !had.ok) m.set(r.key, r);
  }
  return m;
}

/**
 * Gather DIR/results.jsonl and DIR/parts/*.jsonl into DIR/results.jsonl, one line per key (written
 * to a temporary file and renamed, so a reader never sees half a merge). Returns the counts.
 */
export function mergeStore(dir: string): { records: number; ok: number; failed: number; parts: number } {
  const partsDir = join(dir, 'parts');
  const parts = existsSync(partsDir) ? readdirSync(partsDir).filter((f) => f.endsWith('.jsonl')).sort() : [];
  const all = [...readRecords(resultsPath(dir)), ...parts.flatMap((f) => readRecords(join(partsDir, f)))];
  const merged = [...latestByKey(all).values()].sort((a, b) => a.point - b.point);
  const tmp = resultsPath(dir) + '.tmp';
  writeFileSync(tmp, merged.map((r) => JSON.stringify(r) + '\n').join(''));
  renameSync(tmp, resultsPath(dir));
  return { records: merged.length, ok: merged.filter((r) => r.ok).length, failed: merged.filter((r) => !r.ok).length, parts: parts.length };
}
