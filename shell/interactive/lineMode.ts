// The shell without a terminal (input piped or redirected): no Ink, no raw mode; each input line
// is submitted as if typed and what it printed follows on stdout. `sjmp shell < session.txt`
// then behaves like the interactive shell, minus the live views.

import { createInterface } from 'node:readline';
import type { ShellSession } from './session.js';

/** Run lines from `input` until it ends or `exit`; resolves when done. */
export async function runLineMode(session: ShellSession, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<void> {
  const show = (from: number) => {
    for (const l of session.transcript.slice(from)) output.write(l.text + '\n');
  };
  show(0);
  const rl = createInterface({ input, terminal: false });
  for await (const line of rl) {
    const before = session.transcript.length;
    await session.submit(line);
    // A long output may have pushed old lines out of the bounded transcript: show what is left.
    show(session.transcript.length >= before ? before : 0);
    if (session.exited) break;
  }
  rl.close();
}
