// What `sjmp sweep report` draws: every record's result rows (a program's --json may hold several,
// e.g. one per GUPS design), grouped by x and series, with the mean and the standard deviation
// over the points that differ only in `seed` (or any axis not drawn).

import type { SweepRecord } from './store.js';

export interface AggregateRow {
  x: string;
  series: string;
  n: number;
  mean: number;
  /** Sample standard deviation (0 for a single value). */
  sd: number;
}

export interface Aggregate {
  x: string;
  y: string;
  xValues: string[];
  series: string[];
  rows: AggregateRow[];
}

/** Default y per program (a field of each result row). */
export const DEFAULT_Y: Record<string, string> = { gups: 'modelledMups', nibble: 'modelledOpsPerSec', redis: 'modelledRequestsPerSec', sam: 'modelledSeconds', trace: 'summary.cycles' };

function field(o: unknown, path: string): unknown {
  let cur = o;
  for (const k of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** A record's result rows: its `results` array when it has one, else the record itself. */
function resultRows(r: SweepRecord): Record<string, unknown>[] {
  const doc = r.record as Record<string, unknown> | undefined;
  if (!doc) return [];
  return Array.isArray(doc.results) ? (doc.results as Record<string, unknown>[]) : [doc];
}

export function aggregate(records: SweepRecord[], axes: string[], x: string, y: string): Aggregate {
  const seriesAxes = axes.filter((a) => a !== x && a !== 'seed');
  const groups = new Map<string, { x: string; series: string; ys: number[] }>();
  for (const r of records) {
    if (!r.ok) continue;
    for (const row of resultRows(r)) {
      const v = Number(field(row, y));
      if (!Number.isFinite(v)) continue;
      const xv = String(r.values[x] ?? field(row, x));
      const parts = seriesAxes.map((a) => `${a}=${r.values[a]}`);
      if (typeof row.design === 'string' && !axes.includes('design')) parts.unshift(String(row.design).toUpperCase());
      const series = parts.join(', ') || y;
      const k = JSON.stringify([xv, series]);
      const g = groups.get(k) ?? { x: xv, series, ys: [] };
      g.ys.push(v);
      groups.set(k, g);
    }
  }
  const rows = [...groups.values()].map((g) => {
    const mean = g.ys.reduce((a, b) => a + b, 0) / g.ys.length;
    const sd = g.ys.length > 1 ? Math.sqrt(g.ys.reduce((a, b) => a + (b - mean) ** 2, 0) / (g.ys.length - 1)) : 0;
    return { x: g.x, series: g.series, n: g.ys.length, mean, sd };
  });
  const order = (vals: string[]): string[] => [...new Set(vals)].sort((a, b) => (Number.isFinite(Number(a)) && Number.isFinite(Number(b)) ? Number(a) - Number(b) : a.localeCompare(b)));
  return { x, y, xValues: order(rows.map((r) => r.x)), series: [...new Set(rows.map((r) => r.series))].sort(), rows };
}
