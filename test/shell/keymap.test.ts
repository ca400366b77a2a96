import { describe, expect, it } from 'vitest';
import { resolveKey, keyHelpLines, noKey, KEY_BINDINGS } from '../../shell/interactive/keymap.js';

describe('keymap', () => {
  it('maps editing keys at the prompt', () => {
    expect(resolveKey('', noKey({ return: true }), 'prompt')).toEqual({ type: 'submit' });
    expect(resolveKey('', noKey({ delete: true }), 'prompt')).toEqual({ type: 'backspace' });
    expect(resolveKey('a', noKey({ ctrl: true }), 'prompt')).toEqual({ type: 'home' });
    expect(resolveKey('', noKey({ tab: true }), 'prompt')).toEqual({ type: 'complete' });
    expect(resolveKey('', noKey({ tab: true, shift: true }), 'prompt')).toEqual({ type: 'focusView' });
    expect(resolveKey('', noKey({ upArrow: true }), 'prompt')).toEqual({ type: 'historyPrev' });
    expect(resolveKey('vas', noKey(), 'prompt')).toEqual({ type: 'insert', text: 'vas' });
  });

  it('gives Ctrl-C and Ctrl-D the same meaning everywhere', () => {
    for (const f of ['prompt', 'view'] as const) {
      expect(resolveKey('c', noKey({ ctrl: true }), f)).toEqual({ type: 'cancel' });
      expect(resolveKey('d', noKey({ ctrl: true }), f)).toEqual({ type: 'eofOrDelete' });
    }
  });

  it('navigates a focused view with arrows and vi keys, and types nothing there', () => {
    expect(resolveKey('', noKey({ downArrow: true }), 'view')).toEqual({ type: 'viewDown' });
    expect(resolveKey('j', noKey(), 'view')).toEqual({ type: 'viewDown' });
    expect(resolveKey('', noKey({ rightArrow: true }), 'view')).toEqual({ type: 'viewExpand' });
    expect(resolveKey('', noKey({ escape: true, meta: true }), 'view')).toEqual({ type: 'focusPrompt' });
    expect(resolveKey('x', noKey(), 'view')).toBeNull();
  });

  it('documents every binding in help keys', () => {
    const help = keyHelpLines().join('\n');
    for (const b of KEY_BINDINGS) expect(help).toContain(b.keys);
  });
});
