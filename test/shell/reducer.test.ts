// The shell's behaviour as a pure function, without Ink or a machine: keys in, state and effects out.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { reduce, type Action, type Effect } from '../../shell/interactive/reducer.js';
import { initialState, promptText, type MachineFacts, type ShellState } from '../../shell/interactive/state.js';
import { TRANSCRIPT_LIMIT } from '../../shell/interactive/state.js';

const FACTS: MachineFacts = {
  actor: 'init',
  completion: {
    commands: ['ps', 'pt', 'vmmap', 'run'], calls: ['vas_attach', 'vas_create', 'vas_find'], keywords: ['process', 'as'],
    names: ['vid', 'vh'], processes: ['alice', 'bob'], constants: ['PRIMARY', 'PROT_READ'], objectNames: ['shared'],
    fileCommands: ['run'], processCommands: ['vmmap', 'pt'], helpCommands: ['help'],
  },
};

/** Apply actions in order; the final state and every effect asked for. */
function run(actions: Action[], s: ShellState = initialState(FACTS, ['process alice', 'as alice', 'vmmap alice', 'process bob'])): { s: ShellState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const a of actions) {
    const step = reduce(s, a, { listFiles: () => [] });
    s = step.state;
    effects.push(...step.effects);
  }
  return { s, effects };
}

const type = (text: string): Action => ({ type: 'insert', text });

describe('shell reducer: the prompt line', () => {
  it('Enter runs the line, records it in the history and asks for it to be saved', () => {
    const { s, effects } = run([type('ps'), { type: 'submit' }]);
    expect(s.line.text).toBe('');
    expect(s.history.entries.at(-1)).toBe('ps');
    expect(effects).toEqual([{ kind: 'remember', line: 'ps', entries: s.history.entries }, { kind: 'run', text: 'ps' }]);
  });

  it('pasted lines each run, in order; a repeat is run but not remembered again', () => {
    const { effects } = run([type('ps\nps\nstats')]);
    expect(effects.filter((e) => e.kind === 'run').map((e) => (e as { text: string }).text)).toEqual(['ps', 'ps']);
    expect(effects.filter((e) => e.kind === 'remember')).toHaveLength(1);
  });

  it('Enter while a command runs says so and runs nothing', () => {
    const busy = run([{ type: 'busy', busy: { label: 'gups', progress: null, cancellable: true } }, type('ps'), { type: 'submit' }]);
    expect(busy.effects).toEqual([]);
    expect(busy.s.transcript.at(-1)?.text).toMatch(/busy with gups/);
  });

  it('Ctrl-C stops a cancellable command, else abandons an open block and clears the line', () => {
    expect(run([{ type: 'busy', busy: { label: 'gups', progress: null, cancellable: true } }, { type: 'cancel' }]).effects).toEqual([{ kind: 'stop' }]);
    const { s } = run([{ type: 'pending', lines: ['as bob {'] }, type('load64'), { type: 'cancel' }]);
    expect(s.pending).toEqual([]);
    expect(s.line.text).toBe('');
    expect(s.transcript.at(-1)?.text).toBe('^C: block abandoned');
  });

  it('Ctrl-D leaves only on an empty line with nothing open', () => {
    expect(run([type('x'), { type: 'eofOrDelete' }]).s.exited).toBe(false);
    expect(run([{ type: 'pending', lines: ['as bob {'] }, { type: 'eofOrDelete' }]).s.exited).toBe(false);
    expect(run([{ type: 'eofOrDelete' }]).s.exited).toBe(true);
  });

  it('Up and Down browse the history and give the draft back', () => {
    const { s } = run([type('vas_'), { type: 'historyPrev' }, { type: 'historyPrev' }]);
    expect(s.line.text).toBe('vmmap alice');
    expect(run([type('vas_'), { type: 'historyPrev' }, { type: 'historyNext' }]).s.line.text).toBe('vas_');
  });

  it('the prompt says who acts, and `...>` inside a block', () => {
    expect(promptText(run([]).s)).toBe('sjmp init> ');
    expect(promptText(run([{ type: 'facts', facts: { ...FACTS, actor: 'bob' } }]).s)).toBe('sjmp bob> ');
    expect(promptText(run([{ type: 'pending', lines: ['as bob {'] }]).s)).toBe('...> ');
  });
});

describe('shell reducer: Ctrl-R searches the history backwards', () => {
  it('typing narrows to the newest match, Ctrl-R again finds an older one, Enter runs it', () => {
    let r = run([type('draft'), { type: 'searchHistory' }, type('proc')]);
    expect(r.s.line.text).toBe('process bob');
    expect(promptText(r.s)).toBe("(reverse-i-search)'proc': ");
    r = run([{ type: 'searchHistory' }], r.s);
    expect(r.s.line.text).toBe('process alice');
    r = run([{ type: 'submit' }], r.s);
    expect(r.s.search).toBeNull();
    expect(r.effects.at(-1)).toEqual({ kind: 'run', text: 'process alice' });
  });

  it('Ctrl-C gives the line back; Esc keeps the match to edit; a miss leaves the last match', () => {
    expect(run([type('draft'), { type: 'searchHistory' }, type('vmm'), { type: 'cancel' }]).s.line.text).toBe('draft');
    const kept = run([{ type: 'searchHistory' }, type('vmm'), { type: 'focusView' }, type('!')]);
    expect(kept.s.search).toBeNull();
    expect(kept.s.line.text).toBe('vmmap alice!');
    const miss = run([{ type: 'searchHistory' }, type('as'), type('zzz')]);
    expect(miss.s.search?.match).toBe(-1);
    expect(miss.s.line.text).toBe('as alice');
    expect(run([{ type: 'backspace' }, { type: 'backspace' }, { type: 'backspace' }], miss.s).s.line.text).toBe('as alice');
  });
});

describe('shell reducer: completion, views, transcript', () => {
  it('Tab inside a call\'s arguments offers names and constants, not calls', () => {
    const one = run([type('vas_attach(v'), { type: 'complete' }]);
    expect(one.s.line.text).toBe('vas_attach(v');
    expect(one.s.completions).toEqual(['vh', 'vid']);
    expect(run([type('vas_attach(P'), { type: 'complete' }]).s.completions).toEqual(['PRIMARY', 'PROT_READ']);
    expect(run([type('x = vas_f'), { type: 'complete' }]).s.line.text).toBe('x = vas_find(');
  });

  it('a plain view scrolls within its lines; the page-table tree asks the machine to move', () => {
    const open = run([{ type: 'openView', view: { kind: 'stats' } }, { type: 'layout', viewPage: 5, viewLines: 12 }]);
    const down = run([{ type: 'viewPageDown' }, { type: 'viewPageDown' }, { type: 'viewPageDown' }], open.s);
    expect(down.s.viewScroll).toBe(7);
    expect(run([{ type: 'viewTop' }], down.s).s.viewScroll).toBe(0);
    const pt = run([{ type: 'openView', view: { kind: 'pt', words: ['1'], state: { expanded: new Set(), cursor: 0, walkVa: null } } }, { type: 'viewDown' }]);
    expect(pt.effects).toEqual([{ kind: 'navigate', move: 'down' }]);
  });

  it('the transcript is bounded, counts what was printed and what failed', () => {
    let s = run([]).s;
    for (let i = 0; i < TRANSCRIPT_LIMIT + 10; i++) s = reduce(s, { type: 'print', lines: `line ${i}` }).state;
    s = reduce(s, { type: 'print', lines: 'bad\nthing', tone: 'warn', failed: true }).state;
    expect(s.transcript).toHaveLength(TRANSCRIPT_LIMIT);
    expect(s.transcript.at(-1)).toEqual({ text: 'thing', tone: 'warn' });
    expect(s.printed).toBe(TRANSCRIPT_LIMIT + 12);
    expect(s.failures).toBe(1);
  });

  it('never changes the state it was given', () => {
    const s = run([type('ps')]).s;
    const copy = JSON.stringify(s);
    for (const a of [{ type: 'submit' }, { type: 'cancel' }, { type: 'print', lines: 'x' }, { type: 'complete' }] as Action[]) reduce(s, a);
    expect(JSON.stringify(s)).toBe(copy);
  });
});

describe('shell reducer: properties', () => {
  const entry = fc.stringMatching(/^[a-c ]{1,6}$/);

  it('Ctrl-R then typing finds the newest entry containing the query, as a plain scan would', () => {
    fc.assert(fc.property(fc.array(entry, { maxLength: 12 }), fc.stringMatching(/^[a-c]{1,3}$/), (entries, query) => {
      const { s } = run([{ type: 'searchHistory' }, ...[...query].map(type)], initialState(FACTS, entries));
      // Model (as bash): each typed character searches back from the current match, inclusive.
      let at = entries.length;
      for (let n = 1; n <= query.length; n++) {
        let i = at - 1;
        while (i >= 0 && !entries[i].includes(query.slice(0, n))) i--;
        if (i < 0) { at = -1; break; }
        at = i + 1;
      }
      const want = at < 0 ? -1 : at - 1;
      expect(s.search?.match).toBe(want);
      if (want >= 0) expect(s.line.text).toBe(entries[want]);
    }));
  });

  it('any sequence of keys keeps the cursor on the line and the history index in range', () => {
    const key = fc.oneof(
      fc.constantFrom<Action>(...(['submit', 'backspace', 'deleteForward', 'left', 'right', 'home', 'end', 'wordLeft', 'wordRight', 'killToEnd', 'killToStart', 'killWordBack', 'yank', 'historyPrev', 'historyNext', 'searchHistory', 'complete', 'cancel', 'focusView', 'focusPrompt'] as const).map((t) => ({ type: t }))),
      entry.map((text) => type(text)),
    );
    fc.assert(fc.property(fc.array(key, { maxLength: 40 }), (keys) => {
      const { s } = run(keys);
      expect(s.line.cursor).toBeGreaterThanOrEqual(0);
      expect(s.line.cursor).toBeLessThanOrEqual(s.line.text.length);
      expect(s.history.index).toBeGreaterThanOrEqual(0);
      expect(s.history.index).toBeLessThanOrEqual(s.history.entries.length);
    }));
  });
});

describe('shell reducer: the machine image status', () => {
  it('an image event sets the status; the same status again changes nothing (no redraw)', () => {
    const s0 = initialState(FACTS);
    expect(s0.image).toBeNull();
    const a = reduce(s0, { type: 'image', image: { file: 'm.img', dirty: false, readOnly: false } });
    expect(a.state.image).toEqual({ file: 'm.img', dirty: false, readOnly: false });
    expect(a.effects).toEqual([]);
    const same = reduce(a.state, { type: 'image', image: { file: 'm.img', dirty: false, readOnly: false } });
    expect(same.state).toBe(a.state);
    const dirty = reduce(a.state, { type: 'image', image: { file: 'm.img', dirty: true, readOnly: false } });
    expect(dirty.state.image?.dirty).toBe(true);
    expect(reduce(dirty.state, { type: 'image', image: null }).state.image).toBeNull();
  });
});
