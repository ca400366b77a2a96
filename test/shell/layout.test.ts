import { describe, expect, it } from 'vitest';
import { layout } from '../../shell/interactive/layout.js';
import { viewWindow, transcriptWindow } from '../../shell/interactive/viewState.js';

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
    expect(transcriptWindow([1, 2, 3, 4, 5], 2, 1)).toEqual([3, 4]);
  });
});
