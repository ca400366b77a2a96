// Line charts for results people would rather look at than read: one in the terminal (text),
// the same one as an SVG file to keep. Series share the x categories; y may be logarithmic.

export interface Series {
  name: string;
  values: (number | null)[];
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  x: (string | number)[];
  series: Series[];
  logY?: boolean;
}

const MARKS = ['●', '■', '▲', '◆', '○', '□'];
const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function range(spec: ChartSpec): { lo: number; hi: number; map: (v: number) => number } {
  const vals = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v) && (!spec.logY || v > 0)));
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  if (!vals.length) { lo = 0; hi = 1; }
  if (spec.logY) {
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
    if (lo === hi) hi = lo * 10;
    return { lo, hi, map: (v) => (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) };
  }
  lo = Math.min(0, lo);
  if (hi === lo) hi = lo + 1;
  return { lo, hi, map: (v) => (v - lo) / (hi - lo) };
}

function fmt(v: number): string {
  if (v >= 1000) return `${Math.round(v)}`;
  if (v >= 10) return v.toFixed(0);
  if (v >= 1) return v.toFixed(1);
  return v.toPrecision(2);
}

/** A text chart `height` rows tall; each x category gets a column band. */
export function textChart(spec: ChartSpec, height = 12, colWidth = 8): string[] {
  const r = range(spec);
  const rows: string[][] = Array.from({ length: height }, () => Array(spec.x.length * colWidth).fill(' '));
  spec.series.forEach((s, si) => {
    s.values.forEach((v, xi) => {
      if (v === null || !Number.isFinite(v) || (spec.logY && v <= 0)) return;
      const y = Math.round(r.map(v) * (height - 1));
      const row = height - 1 - Math.max(0, Math.min(height - 1, y));
      const col = xi * colWidth + Math.floor(colWidth / 2) - 1 + si;
      rows[row][col] = MARKS[si % MARKS.length];
    });
  });
  const axisW = 8;
  const out = [`${spec.title}`, `${spec.yLabel}${spec.logY ? ' (log scale)' : ''}`];
  rows.forEach((row, i) => {
    const frac = (height - 1 - i) / (height - 1);
    const v = spec.logY ? 10 ** (Math.log10(r.lo) + frac * (Math.log10(r.hi) - Math.log10(r.lo))) : r.lo + frac * (r.hi - r.lo);
    const label = i === 0 || i === height - 1 || i === Math.floor(height / 2) ? fmt(v).padStart(axisW - 1) : ' '.repeat(axisW - 1);
    out.push(`${label}│${row.join('')}`);
  });
  out.push(`${' '.repeat(axisW - 1)}└${'─'.repeat(spec.x.length * colWidth)}`);
  out.push(`${' '.repeat(axisW)}${spec.x.map((x) => String(x).padStart(Math.floor(colWidth / 2) + 1).padEnd(colWidth)).join('')}  ${spec.xLabel}`);
  out.push(`${' '.repeat(axisW)}${spec.series.map((s, i) => `${MARKS[i % MARKS.length]} ${s.name}`).join('   ')}`);
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The same chart as a standalone SVG document. */
export function svgChart(spec: ChartSpec, width = 720, height = 440): string {
  const r = range(spec);
  const m = { l: 70, r: 150, t: 40, b: 55 };
  const pw = width - m.l - m.r;
  const ph = height - m.t - m.b;
  const xAt = (i: number) => m.l + (spec.x.length === 1 ? pw / 2 : (i / (spec.x.length - 1)) * pw);
  const yAt = (v: number) => m.t + ph - r.map(v) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${esc(spec.title)}</text>`);
  const ticks: number[] = [];
  if (spec.logY) for (let v = r.lo; v <= r.hi * 1.0001; v *= 10) ticks.push(v);
  else for (let i = 0; i <= 5; i++) ticks.push(r.lo + (i / 5) * (r.hi - r.lo));
  for (const v of ticks) {
    const y = yAt(v);
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${esc(fmt(v))}</text>`);
  }
  spec.x.forEach((x, i) => {
    parts.push(`<text x="${xAt(i)}" y="${m.t + ph + 18}" text-anchor="middle">${esc(String(x))}</text>`);
  });
  parts.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="black"/>`);
  parts.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="black"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${height - 12}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  parts.push(`<text transform="translate(18 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel + (spec.logY ? ' (log scale)' : ''))}</text>`);
  spec.series.forEach((s, si) => {
    const c = COLORS[si % COLORS.length];
    const pts = s.values.map((v, i) => (v === null || !Number.isFinite(v) || (spec.logY && v <= 0) ? null : [xAt(i), yAt(v)] as const));
    const path = pts.filter((p): p is readonly [number, number] => p !== null).map((p, i) => `${i ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}`).join(' ');
    if (path) parts.push(`<path d="${path}" fill="none" stroke="${c}" stroke-width="2"/>`);
    for (const p of pts) if (p) parts.push(`<circle cx="${p[0].toFixed(1)}" cy="${p[1].toFixed(1)}" r="4" fill="${c}"/>`);
    const ly = m.t + 10 + si * 20;
    parts.push(`<line x1="${m.l + pw + 15}" y1="${ly}" x2="${m.l + pw + 35}" y2="${ly}" stroke="${c}" stroke-width="2"/>`);
    parts.push(`<text x="${m.l + pw + 40}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** A plain text table with right-aligned numeric columns. */
export function textTable(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
}
