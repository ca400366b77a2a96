// The interactive shell's entry point, called by `sjmp shell` (shell/cli.ts).

import { createElement } from 'react';
import { render } from 'ink';
import { App } from './app.js';
import { ShellSession, type SessionOptions } from './session.js';
import { defaultHistoryPath } from './history.js';
import { runLineMode } from './lineMode.js';

/**
 * Options of `startShell`. From SessionOptions:
 * - `machine`: command-line machine options (`--paging`, `--mem`, `--cpus`, `--profile`, `--costs`,
 *   `--tlb`, `--tags`, `--seed`); they override `machine` lines typed or run in the shell;
 * - `historyFile`: default $XDG_CONFIG_HOME/sjmp/history, else ~/.config/sjmp/history; null keeps
 *   the history in memory only;
 * - `engines`: the `gups`, `nibble` and `redis` benchmark engines (without one, the command says so);
 * - `cwd`: where `run FILE` and `save FILE` resolve relative paths (default process.cwd());
 * - `image`: a machine image session (`sjmp shell --image FILE`): the shell runs on its machine,
 *   `save` writes it, a clean exit saves changes back, and the lock is released at the end.
 */
export interface StartShellOptions extends SessionOptions {
  /** Trace files to run before the first prompt, as if typed `run FILE`. */
  run?: readonly string[];
  /** Streams for Ink; default the process's. Tests pass fakes. */
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/**
 * Start the interactive shell; resolves with exit status 0 when the user leaves (`exit`, Ctrl-D).
 * Without a terminal on stdin it reads lines and prints results and views as plain text, and
 * resolves with 1 when any statement or command failed.
 * Never rejects for anything the user types (errors are shown in the shell); rejects with a
 * RangeError for bad `machine` options, as the other subcommands do.
 */
export async function startShell(opts: StartShellOptions = {}): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  // Piped input is a script, not something typed: it does not go into the history.
  const historyFile = opts.historyFile !== undefined ? opts.historyFile : stdin.isTTY ? defaultHistoryPath() : null;
  // Piped, messages keep `<stdin>:LINE:COL:` so a script's failing line can be found.
  const session = new ShellSession({ ...opts, historyFile, positions: opts.positions ?? !stdin.isTTY });
  let code: number;
  try {
    for (const f of opts.run ?? []) await session.submit(`run ${f}`);
    if (!stdin.isTTY) code = await runLineMode(session, stdin, opts.stdout ?? process.stdout);
    else {
      const app = render(createElement(App, { session }), {
        exitOnCtrlC: false,
        ...(opts.stdin ? { stdin: opts.stdin } : {}),
        ...(opts.stdout ? { stdout: opts.stdout } : {}),
      });
      await app.waitUntilExit();
      code = 0;
    }
  } catch (e) {
    session.closeImage(false);
    throw e;
  }
  // A clean exit saves the machine back to its image (piped: only when nothing failed).
  const err = session.closeImage(code === 0);
  if (err) {
    (opts.stderr ?? process.stderr).write(`sjmp: ${err}\n`);
    return 2;
  }
  return code;
}

export { ShellSession, type SessionOptions } from './session.js';
export { App } from './app.js';
export type { Engines, BenchEngine, EngineProgress, EngineOutput } from './engines.js';
export { defaultHistoryPath } from './history.js';
