// `help`, `help COMMAND`, `help CALL`, `help keys`, `help trace`: text only, from the command table,
// the system-call table and the key bindings, so help never drifts from what the shell does.

import { SYSCALLS } from '../../syscalls/table.js';
import { suggest } from '../../syscalls/trace/index.js';
import { ALL_COMMANDS, commandNames, findCommand } from './commands.js';
import { keyHelpLines } from './keymap.js';

const TRACE_HELP = [
  'trace statements (docs/traces.md has the whole language):',
  '  vid = vas_create("shared", 0660) = >=0     call, bind the result, check it',
  '  base = 0x4000_0000_0000                    a script variable',
  '  store64 base 42     load64 base = 42       memory through the current thread',
  '  expect fault read unmapped load64 base     an access that must fault',
  '  process bob uid=1001 gid=100               a new process (thread main)',
  '  as bob      as bob { ... }      @bob stmt  who runs the statements',
  '  machine paging=5 cpus=4                    machine settings, before anything runs',
];

/** Help on `topic` (null: the command list); an unknown topic is an error with the nearest name. */
export function helpFor(topic: string | null, calls: readonly string[], historyFile: string | null): { ok: true; lines: string[] } | { ok: false; message: string } {
  if (topic === null) {
    const w = Math.max(...ALL_COMMANDS.map((c) => c.usage.length));
    return { ok: true, lines: [
      'shell commands:',
      ...ALL_COMMANDS.map((c) => `  ${c.usage.padEnd(w)}  ${c.summary}`),
      'anything else is a trace statement, e.g.:',
      '  process alice uid=1000 gid=100     as alice     vid = vas_create("shared", 0660) = >=0',
      'help CALL for a system call, help keys for key bindings, help trace for the statement forms',
      `history: Up/Down and Ctrl-R; kept in $XDG_CONFIG_HOME/sjmp/history (default ~/.config/sjmp/history)${historyFile ? `, here ${historyFile}` : ''}`,
    ] };
  }
  const c = findCommand(topic.split('/')[0]);
  if (c) return { ok: true, lines: [`${c.usage}: ${c.summary}`, ...(c.details ?? []).map((d) => `  ${d}`)] };
  if (topic === 'keys') return { ok: true, lines: keyHelpLines() };
  if (topic === 'trace') return { ok: true, lines: TRACE_HELP };
  const def = SYSCALLS.lookup(topic);
  if (def) return { ok: true, lines: [`${def.name}(${def.args.map((a) => (a.default !== undefined ? `[${a.name}]` : a.name)).join(', ')}): ${def.doc}`] };
  const near = suggest(topic, [...commandNames(), ...calls, 'keys', 'trace']);
  return { ok: false, message: `no help for '${topic}'${near ? ` (did you mean ${near}?)` : ''}` };
}
