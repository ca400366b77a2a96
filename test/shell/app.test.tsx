import { afterEach, describe, expect, it } from 'vitest';
import { render, cleanup } from 'ink-testing-library';
import { App } from '../../shell/interactive/app.js';
import { newSession } from './helpers.js';

const KEY = { CTRL_R: '\u0012', ENTER: '\r', TAB: '\t', ESC: '\u001B', DOWN: '\u001B[B', RIGHT: '\u001B[C', LEFT: '\u001B[D', CTRL_C: '\u0003', CTRL_D: '\u0004', BACKSPACE: '\u007F' } as const;

const tick = () => new Promise((r) => setTimeout(r, 25));

async function type(stdin: { write(s: string): void }, ...chunks: string[]): Promise<void> {
  for (const c of chunks) {
    stdin.write(c);
    await tick();
  }
}

afterEach(() => cleanup());

describe('the Ink shell (ink-testing-library, 100 columns x 24 rows)', () => {
  it('runs a typed statement and shows its result above the prompt', async () => {
    const { stdin, lastFrame } = render(<App session={newSession()} />);
    await type(stdin, 'process alice uid=1000 gid=100', KEY.ENTER);
    const frame = lastFrame()!;
    expect(frame).toContain('sjmp init> process alice uid=1000 gid=100');
    expect(frame).toContain('[alice[2]] process alice = pid 2 uid=1000 gid=100');
    expect(frame.split('\n').at(-1)).toMatch(/^sjmp init>/);
  });

  it('opens a view that updates after the next command', async () => {
    const { stdin, lastFrame } = render(<App session={newSession()} />);
    await type(stdin, 'ps', KEY.ENTER);
    expect(lastFrame()).toMatch(/── processes \(1\) ─+/);
    await type(stdin, 'process bob uid=1001', KEY.ENTER);
    expect(lastFrame()).toMatch(/── processes \(2\)/);
    expect(lastFrame()).toMatch(/2\s+bob\s+1001\s+1001\s+live\s+main/);
  });

  it('shows a clear message for bad input and goes on', async () => {
    const { stdin, lastFrame } = render(<App session={newSession()} />);
    await type(stdin, 'tlb 12', KEY.ENTER);
    expect(lastFrame()).toContain('no CPU 12 (the machine has 4: 0..3)');
    await type(stdin, 'stats', KEY.ENTER);
    expect(lastFrame()).toMatch(/── stats/);
  });

  it('completes with Tab and edits with Backspace', async () => {
    const { stdin, lastFrame } = render(<App session={newSession()} />);
    await type(stdin, 'vas_cr', KEY.TAB);
    expect(lastFrame()).toContain('sjmp init> vas_create(');
    await type(stdin, KEY.BACKSPACE, KEY.BACKSPACE);
    expect(lastFrame()).toContain('sjmp init> vas_creat');
    await type(stdin, KEY.CTRL_C);
    await type(stdin, 'vas_', KEY.TAB);
    expect(lastFrame()).toContain('vas_attach  vas_clone  vas_create');
  });

  it('moves the focus into the page-table view and expands an entry', async () => {
    const session = newSession();
    await session.submit('process p');
    await session.submit('as p');
    await session.submit('store64 0x1000_0000 1');
    const { stdin, lastFrame } = render(<App session={session} />);
    await type(stdin, 'pt p', KEY.ENTER);
    expect(lastFrame()).toMatch(/── pt p\[2\] primary/);
    await type(stdin, KEY.ESC);
    expect(lastFrame()).toContain('arrows move');
    expect(lastFrame()).toContain('(view)');
    expect(lastFrame()).toMatch(/· PT\[0\]\s+0x1000_0000\s+PWUAD/);
    await type(stdin, KEY.DOWN, KEY.DOWN, KEY.LEFT);
    expect(lastFrame()).toMatch(/▸ PD\[128\]/);
    expect(lastFrame()).not.toContain('· PT[0]');
    await type(stdin, KEY.RIGHT);
    expect(lastFrame()).toMatch(/▾ PD\[128\][^\n]*\n\s+· PT\[0\]\s+0x1000_0000\s+PWUAD/);
    await type(stdin, KEY.ESC);
    expect(lastFrame()).toContain('sjmp p> ');
  });

  it('leaves on Ctrl-D at an empty prompt', async () => {
    const session = newSession();
    const { stdin } = render(<App session={session} />);
    await type(stdin, KEY.CTRL_D);
    expect(session.exited).toBe(true);
  });
});

describe('the Ink shell: reading long lines, searching, leaving', () => {
  it('wraps a long result and a long error onto more rows instead of cutting them with …', async () => {
    const { stdin, lastFrame } = render(<App session={newSession()} />);
    await type(stdin, 'process p', KEY.ENTER, 'as p', KEY.ENTER, 'load64 0x1234', KEY.ENTER);
    const frame = lastFrame()!;
    expect(frame).not.toContain('…');
    expect(frame).toMatch(/\[p\[2\]\] load64 0x1234 = killed .*segmentation fault: read at 0x1234: no mapping at\n {2}this address \(segmentation fault\) \[no map entry\] in primary "p" #\d+\)/);
    expect(frame).toContain('p[2] was killed; type `reset` for a fresh machine');
    for (const row of frame.split('\n')) expect(row.length).toBeLessThanOrEqual(100);
  });

  it('Ctrl-R finds an earlier line, Enter runs it', async () => {
    const { stdin, lastFrame } = render(<App session={newSession()} />);
    await type(stdin, 'process zed uid=1234', KEY.ENTER, 'ps', KEY.ENTER, KEY.CTRL_R, 'zed');
    expect(lastFrame()!.split('\n').at(-1)).toBe("(reverse-i-search)'zed': process zed uid=1234");
    await type(stdin, KEY.ENTER);
    expect(lastFrame()).toContain('sjmp init> process zed uid=1234');
  });

  it('shows the acting process in the prompt', async () => {
    const { stdin, lastFrame } = render(<App session={newSession()} />);
    await type(stdin, 'process bob', KEY.ENTER, 'as bob', KEY.ENTER);
    expect(lastFrame()!.split('\n').at(-1)).toMatch(/^sjmp bob>/);
  });

  it('leaves no prompt behind after exit', async () => {
    const session = newSession();
    const { stdin, frames } = render(<App session={session} />);
    await type(stdin, 'exit', KEY.ENTER);
    expect(session.exited).toBe(true);
    // The last frame drawn (Ink with CI set may add an empty one when it unmounts) ends with the
    // echoed line, not a fresh prompt.
    const drawn = frames.filter((f) => f.trim() !== '');
    expect(drawn.at(-1)!.trimEnd().split('\n').at(-1)).toBe('sjmp init> exit');
  });
});
