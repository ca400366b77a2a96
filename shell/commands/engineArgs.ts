// The shell's `gups ...` and `nibble ...` take the same options as the subcommands: parse the
// words with the subcommand's own option definitions, quietly (the shell shows the error).

import { Command } from 'commander';

export function parseEngineArgs<T>(name: string, addOptions: (c: Command) => Command, args: readonly string[]): T {
  const cmd = addOptions(new Command(name)).exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  cmd.parse(['node', name, ...args]);
  return cmd.opts<T & Record<string, unknown>>();
}
