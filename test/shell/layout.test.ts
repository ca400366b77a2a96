import { describe, expect, it } from 'vitest';
import { layout, transcriptRows, wrapLine } from '../../shell/interactive/layout.js';
import { viewWindow } from '../../shell/interactive/viewState.js';

describe('screen layout', () => {
  it('fits view, transcript, status and prompt into the terminal with a row to spare', () => {
    for (const rows of [24, 30, 50]) {
      for (const extra of [0, 1, 2]) {
        const l = layout(rows, 200, extra);
        expect(l.view + 1 + l.transcript + extra + 1).toBeLessThanOrEqual(rows - 1);
        expect(l.transcript).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('gives a short view only the rows it needs', () => {
    expect(layout(24, 4, 0)).toEqual({ view: 4, transcript: 22 - 4 - 1 });
    expect(layout(24, null, 0)).toEqual({ view: 0, transcript: 22 });
  });

  it('keeps the cursor of a navigable view on screen', () => {
    const m = { title: 't', lines: Array.from({ length: 100 }, (_, i) => ({ text: `row ${i}` })), cursor: 70 };
    const w = viewWindow(m, 10, 0);
    expect(w.lines[w.selected].text).toBe('row 70');
    expect(viewWindow({ ...m, cursor: undefined }, 10, 500).scroll).toBe(90);
  });

  it('wraps a long transcript line at a space into rows of the width, continuation indented, nothing cut', () => {
    const line = '[bob[2]] load64 0x1234 = killed  <1534 cycles>  ✗  (segmentation fault: read at 0x1234: no mapping in the vm map)';
    const rows = wrapLine(line, 80);
    expect(rows.length).toBe(2);
    for (const r of rows) expect(r.length).toBeLessThanOrEqual(80);
    expect(rows[1].startsWith('  ')).toBe(true);
    expect(rows.map((r, i) => (i ? r.slice(2) : r)).join(' ')).toBe(line);
    expect(rows.join('')).not.toContain('…');
    expect(wrapLine('x'.repeat(200), 80).map((r) => r.length)).toEqual([80, 80, 44]);
  });

  it('continues an indented table row under its last column', () => {
    const row = `  run FILE${' '.repeat(24)}run a trace file here (checked whole first; names it binds stay)`;
    const rows = wrapLine(row, 80);
    expect(rows).toEqual([`  run FILE${' '.repeat(24)}run a trace file here (checked whole first;`, `${' '.repeat(34)}names it binds stay)`]);
  });

  it('fills the transcript pane with the last rows, counting wrapped rows, scrolled back by lines', () => {
    const t = ['a', 'b', 'c '.repeat(30).trim(), 'd'].map((text) => ({ text, tone: 'normal' }));
    expect(transcriptRows(t, 20, 3, 0).map((r) => r.text)).toEqual(['  c c c c c c c c c', '  c c', 'd']);
    expect(transcriptRows(t, 20, 2, 3).map((r) => r.text)).toEqual(['a']);
    expect(transcriptRows(t, 100, 2, 1).map((r) => r.text)).toEqual(['b', t[2].text]);
  });
});
