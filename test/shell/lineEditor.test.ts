import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { editLine, EMPTY_LINE, type EditAction, type LineState } from '../../shell/interactive/lineEditor.js';

const run = (s: LineState, ...as: EditAction[]) => as.reduce(editLine, s);
const typed = (text: string) => editLine(EMPTY_LINE, { type: 'insert', text });

describe('line editor', () => {
  it('inserts at the cursor and moves it', () => {
    const s = run(typed('vas_switch)'), { type: 'left' }, { type: 'insert', text: '(vh' });
    expect(s.text).toBe('vas_switch(vh)');
    expect(s.cursor).toBe(13);
  });

  it('deletes backwards and forwards, and does nothing at the edges', () => {
    expect(run(typed('ab'), { type: 'backspace' }).text).toBe('a');
    expect(run(typed('ab'), { type: 'home' }, { type: 'backspace' }).text).toBe('ab');
    expect(run(typed('ab'), { type: 'home' }, { type: 'deleteForward' }).text).toBe('b');
    expect(run(typed('ab'), { type: 'deleteForward' }).text).toBe('ab');
  });

  it('moves by words and kills words, to the end and to the start; yank pastes back', () => {
    const s = typed('vh = vas_attach(vid)');
    expect(run(s, { type: 'wordLeft' }).cursor).toBe(16);
    expect(run(s, { type: 'home' }, { type: 'wordRight' }).cursor).toBe(2);
    const k = run(s, { type: 'left' }, { type: 'killWordBack' });
    expect(k.text).toBe('vh = vas_attach()');
    expect(run(k, { type: 'yank' }).text).toBe('vh = vas_attach(vid)');
    expect(run(s, { type: 'home' }, { type: 'wordRight' }, { type: 'killToEnd' }).text).toBe('vh');
    expect(run(s, { type: 'wordLeft' }, { type: 'killToStart' }).text).toBe('vid)');
  });

  it('keeps the cursor within the text whatever the actions', () => {
    const action = fc.oneof(
      fc.string({ maxLength: 4 }).map((text) => ({ type: 'insert', text }) as EditAction),
      fc.constantFrom<EditAction['type']>('backspace', 'deleteForward', 'left', 'right', 'home', 'end', 'wordLeft', 'wordRight', 'killToEnd', 'killToStart', 'killWordBack', 'yank')
        .map((type) => ({ type }) as EditAction),
    );
    fc.assert(fc.property(fc.array(action, { maxLength: 40 }), (as) => {
      const s = as.reduce(editLine, EMPTY_LINE);
      expect(s.cursor).toBeGreaterThanOrEqual(0);
      expect(s.cursor).toBeLessThanOrEqual(s.text.length);
    }));
  });
});
