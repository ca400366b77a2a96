// Shared by the shell tests: a session with no history file, fed lines or key actions.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ShellSession, type SessionOptions } from '../../shell/interactive/session.js';
import { renderView } from '../../shell/interactive/viewState.js';

export const ALICE_BOB = fileURLToPath(new URL('../../examples/alice-bob.trace', import.meta.url));

export function newSession(opts: SessionOptions = {}): ShellSession {
  return new ShellSession({ historyFile: null, ...opts });
}

/** Type each line of a trace file, as a user would. */
export async function typeFile(s: ShellSession, path: string): Promise<void> {
  for (const line of readFileSync(path, 'utf8').split('\n')) await s.submit(line);
}

/** Transcript lines printed by `fn`. */
export async function output(s: ShellSession, fn: () => Promise<void> | void): Promise<string> {
  const before = s.transcript.length;
  await fn();
  return s.transcript.slice(before).map((l) => l.text).join('\n');
}

export function viewText(s: ShellSession, width = 80): string {
  return s.view ? renderView(s.kernel, s.view, width).lines.map((l) => l.text).join('\n') : '';
}
