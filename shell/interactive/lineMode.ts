// The shell without a terminal (input piped or redirected): no Ink, no raw mode; each input line
// is run as if typed, and what it printed follows on stdout as plain text — every result, and
// every view a command opens (ps, stats, pt ...), laid out uncut (or for the terminal's width). As with
// redis-cli, the exit status says whether anything failed.

import { createInterface } from 'node:readline';
import type { ShellSession } from './session.js';
import type { ShellState } from './state.js';
import { renderView } from './viewState.js';

/** Width of the rule over a view when stdout is not a terminal. */
export const PIPED_RULE = 100;

/** Run lines from `input` until it ends or `exit`; resolves with 1 if any statement or command failed, else 0. */
export async function runLineMode(session: ShellSession, input: NodeJS.ReadableStream, output: NodeJS.WritableStream & { columns?: number }): Promise<number> {
  // Into a file or a pipe nothing is cut: views get all the width they want (at a terminal, its width).
  const width = output.columns || Number.MAX_SAFE_INTEGER;
  const rule = Math.min(width, PIPED_RULE);
  let shown = 0;
  const show = (s: ShellState) => {
    const fresh = Math.min(s.printed - shown, s.transcript.length);
    for (const l of s.transcript.slice(s.transcript.length - fresh)) output.write(l.text + '\n');
    shown = s.printed;
  };
  show(session.state);
  const rl = createInterface({ input, terminal: false });
  for await (const line of rl) {
    const view = session.state.view;
    await session.submit(line);
    const s = session.state;
    show(s);
    if (s.view && s.view !== view) {
      const m = renderView(session.kernel, s.view, width);
      output.write(`── ${m.title} ${'─'.repeat(Math.max(0, rule - m.title.length - 4))}\n`);
      for (const l of m.lines) output.write(l.text + '\n');
    }
    if (s.exited) break;
  }
  rl.close();
  return session.state.failures > 0 ? 1 : 0;
}
