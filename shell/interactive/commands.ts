// The shell's own commands (help, the views, run, save, gups, nibble, exit ...) and how a typed
// line is told apart from a trace statement. A command runs against a CommandHost (the session),
// so this table holds what each command means and checks, not how the screen shows it.

import type { Kernel } from '../../kernel/kernel.js';
import { counters } from '../../kernel/snapshot.js';
import type { Tone } from './views/format.js';
import type { PtState } from './views/pageTable.js';

/** A word of a command line and its 1-based column, so errors can point at it. */
export interface Word {
  text: string;
  col: number;
}

export type ViewSpec =
  | { kind: 'processes' | 'spaces' | 'segments' | 'stats' }
  | { kind: 'vmmap'; words: string[] }
  | { kind: 'pt'; words: string[]; state: PtState }
  | { kind: 'tlb'; cpu: number };

/** What commands may do to the session. */
export interface CommandHost {
  readonly kernel: Kernel;
  print(lines: string | readonly string[], tone?: Tone): void;
  /** Report a bad argument as `<stdin>:line:col: message` with a caret under `at`. */
  fail(at: Word | null, message: string): void;
  openView(v: ViewSpec): void;
  closeView(): void;
  readonly view: ViewSpec | null;
  /** The value of an argument: a number, a bound name, a constant or a small sum (`base + 8`); null after reporting an error. */
  evaluate(at: Word, text: string): bigint | null;
  /** Resolve `PID|NAME [VH]` words for vmmap/pt; null after reporting an error. */
  checkSpace(args: readonly Word[]): string[] | null;
  /** Walk an address in the open page-table view. */
  walk(va: bigint): void;
  /** `x/FMT ADDR` (virtual, the acting process's current space) or `xp/FMT ADDR` (physical). */
  examine(self: Word, args: readonly Word[], physical: boolean): void;
  runFile(path: Word): Promise<void>;
  /** `save FILE.trace`: the statements as a trace; `save [FILE]`: the machine as an image. */
  save(path: Word | null): void;
  /** `load [--discard] FILE`: the machine of an image replaces this one. */
  load(path: Word, discard: boolean): void;
  runEngine(name: 'gups' | 'nibble' | 'redis', args: readonly Word[]): Promise<void>;
  reset(): void;
  clear(): void;
  exit(): void;
  helpText(topic: Word | null): string[];
}

export interface ShellCommand {
  name: string;
  aliases?: readonly string[];
  usage: string;
  summary: string;
  /** Extra lines for `help NAME`. */
  details?: readonly string[];
  minArgs?: number;
  maxArgs?: number;
  /** Written with a `/FORMAT` suffix (`x/16gx`). */
  formats?: boolean;
  run(host: CommandHost, args: readonly Word[], self: Word): void | Promise<void>;
}

const simpleView = (kind: 'processes' | 'spaces' | 'segments' | 'stats') => (h: CommandHost) => h.openView({ kind });

export const COMMANDS: readonly ShellCommand[] = [
  { name: 'help', usage: 'help [COMMAND|CALL|keys|trace]', summary: 'this list, or help on one command, system call, the keys or the trace language', maxArgs: 1,
    run: (h, a) => h.print(h.helpText(a[0] ?? null)) },
  { name: 'processes', aliases: ['ps'], usage: 'processes', summary: 'view: processes and threads (pid, credentials, CPU, address space)', maxArgs: 0, run: simpleView('processes') },
  { name: 'spaces', aliases: ['vas'], usage: 'spaces', summary: 'view: named address spaces, their segments and attachers; shadows per process', maxArgs: 0, run: simpleView('spaces') },
  { name: 'segments', aliases: ['segs'], usage: 'segments', summary: 'view: segments (base, size, mode, owner, lock)', maxArgs: 0, run: simpleView('segments') },
  { name: 'vmmap', usage: 'vmmap PID|NAME [VH]', summary: 'view: the vm map of a process (or of its shadow VH), entry by entry', minArgs: 1, maxArgs: 2,
    details: ['PID or NAME picks a process (its primary space); add VH for its shadow of a named space.', 'A handle alone works when one process has it; a named space\'s name shows the named space itself.'],
    run: (h, a) => { const words = h.checkSpace(a); if (words) h.openView({ kind: 'vmmap', words }); } },
  { name: 'pt', usage: 'pt PID|NAME|VH [VH] [walk VA]', summary: 'view: the page-table tree (Esc to navigate it); walk VA shows where an address leads', minArgs: 1,
    details: ['Esc (or Shift-Tab) moves the focus into the tree: Up/Down move, Right/Enter expand, Left collapse, Esc returns.', '`walk VA` (also later, on its own) follows VA from the root level by level.'],
    run: (h, a) => {
      const w = a.findIndex((x) => x.text === 'walk');
      const spaceWords = w >= 0 ? a.slice(0, w) : a;
      const words = h.checkSpace(spaceWords);
      if (!words) return;
      h.openView({ kind: 'pt', words, state: { expanded: new Set(), cursor: 0, walkVa: null } });
      if (w > 2) return h.fail(a[2], 'usage: pt PID|NAME|VH [VH] [walk VA]');
      if (w >= 0) walkCommand.run(h, a.slice(w + 1), a[w]);
    } },
  { name: 'tlb', usage: 'tlb [CPU]', summary: 'view: TLB contents by set and way with PCIDs, hit/miss rates', maxArgs: 1,
    run: (h, a) => {
      const cpu = a[0] ? h.evaluate(a[0], a[0].text) : 0n;
      if (cpu === null) return;
      const n = counters(h.kernel).cpus.length;
      if (cpu < 0n || cpu >= BigInt(n)) return h.fail(a[0], `no CPU ${cpu} (the machine has ${n}: 0..${n - 1})`);
      h.openView({ kind: 'tlb', cpu: Number(cpu) });
    } },
  { name: 'x', usage: 'x/[COUNT][FMT][SIZE] ADDR', summary: 'examine virtual memory of the acting process (no TLB fill, no cycles)', minArgs: 1,
    details: ['As in the QEMU monitor: x/16gx base shows 16 8-byte words in hex; x/4dw, x/32xb, x ADDR (one 4-byte word).',
      'Formats x (hex), d (signed), u (unsigned); sizes b (1), h (2), w (4), g (8). ADDR may be a sum: x/2gx base + 8.',
      'It walks the page tables of the space the acting thread runs in without changing them: no TLB fill, no A/D bits, no modelled cycles.'],
    formats: true, run: (h, a, self) => h.examine(self, a, false) },
  { name: 'xp', usage: 'xp/[COUNT][FMT][SIZE] PADDR', summary: 'examine physical memory (like x, by physical address)', minArgs: 1,
    formats: true, run: (h, a, self) => h.examine(self, a, true) },
  { name: 'stats', usage: 'stats', summary: 'view: modelled cycles per CPU, page walks, faults, switches', maxArgs: 0, run: simpleView('stats') },
  { name: 'close', usage: 'close', summary: 'close the view', maxArgs: 0, run: (h) => h.closeView() },
  { name: 'run', usage: 'run FILE', summary: 'run a trace file here (checked whole first; names it binds stay)', minArgs: 1, maxArgs: 1, run: (h, a) => h.runFile(a[0]) },
  { name: 'save', usage: 'save [FILE]', summary: 'save the machine to its image (or to FILE, which becomes its image); save FILE.trace writes the statements as a trace', maxArgs: 1,
    details: ['save            the machine to the session\'s image (sjmp shell --image FILE, or the last save/load)',
      'save FILE       the machine to image FILE (locked from now on); processes keep running, the image holds what a clean shutdown leaves',
      'save FILE.trace this session\'s statements as a trace file that `run` or `sjmp trace` replays',
      'The status line says whether the machine has unsaved changes; exit saves them to the image (not with --read-only).'],
    run: (h, a) => h.save(a[0] ?? null) },
  { name: 'load', usage: 'load [--discard] FILE', summary: 'load a machine image: its machine replaces this one (refused with unsaved changes unless --discard)', minArgs: 1, maxArgs: 2,
    run: (h, a, self) => {
      const discard = a[0].text === '--discard';
      const file = discard ? a[1] : a[0];
      if (!file || (a.length === 2 && !discard)) return h.fail(a.length === 2 ? a[0] : self, 'usage: load [--discard] FILE');
      h.load(file, discard);
    } },
  { name: 'gups', usage: 'gups [OPTIONS]', summary: 'run the GUPS benchmark (MAP, MP, VAS) with a progress bar; Ctrl-C stops it', run: (h, a) => h.runEngine('gups', a) },
  { name: 'nibble', usage: 'nibble [OPTIONS]', summary: 'run the Nibble key-value store benchmark with a progress bar; Ctrl-C stops it', run: (h, a) => h.runEngine('nibble', a) },
  { name: 'redis', usage: 'redis [OPTIONS]', summary: 'run the Redis designs benchmark (rpc vs jmp, as `sjmp redis bench`) with a progress bar; Ctrl-C stops it', run: (h, a) => h.runEngine('redis', a) },
  { name: 'reset', usage: 'reset', summary: 'start over on a fresh machine (same options)', maxArgs: 0, run: (h) => h.reset() },
  { name: 'clear', usage: 'clear', summary: 'clear the transcript (Ctrl-L)', maxArgs: 0, run: (h) => h.clear() },
  { name: 'exit', aliases: ['quit'], usage: 'exit', summary: 'leave the shell (Ctrl-D); exit(N) is the system call', maxArgs: 0, run: (h) => h.exit() },
];

const walkCommand: ShellCommand = {
  name: 'walk', usage: 'walk VA', summary: 'in the page-table view: follow VA (a number, name or sum) level by level', minArgs: 1,
  run: (h, a, self) => {
    if (a.length === 0) return h.fail(self, 'usage: walk VA');
    const v = h.view;
    if (!v || v.kind !== 'pt') return h.fail(self, 'walk needs the page-table view: pt PID walk VA');
    // The address is the rest of the line, so `walk base + 16` reads as one expression.
    const va = h.evaluate(a[0], a.map((w) => w.text).join(' '));
    if (va !== null) h.walk(va);
  },
};

export const ALL_COMMANDS: readonly ShellCommand[] = [...COMMANDS, walkCommand];

/** Split a command line into words with their columns. */
export function splitWords(line: string): Word[] {
  const out: Word[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push({ text: m[0], col: m.index + 1 });
  return out;
}

export function findCommand(name: string): ShellCommand | undefined {
  return ALL_COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

/** Names and aliases, for completion and suggestions. */
export function commandNames(): string[] {
  return ALL_COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
}

/**
 * A shell command, or a trace statement for the runner. A line is a command when its first word
 * names one and is not used as a statement: `exit` leaves, `exit(0)` is the system call, and
 * `stats = 1` binds a name.
 */
export function classifyLine(line: string): { kind: 'command'; command: ShellCommand; self: Word; args: Word[] } | { kind: 'statement' } {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)(\/\S*)?(?=\s|$)\s*(.?)/.exec(line);
  if (!m || m[3] === '=' || m[3] === '(') return { kind: 'statement' };
  const command = findCommand(m[1]);
  if (!command || (m[2] !== undefined && !command.formats)) return { kind: 'statement' };
  const words = splitWords(line);
  return { kind: 'command', command, self: words[0], args: words.slice(1) };
}

/** Check the argument count; returns an error message pointing at the first extra or the command. */
export function checkArity(c: ShellCommand, args: readonly Word[], self: Word): { at: Word; message: string } | null {
  if (args.length < (c.minArgs ?? 0)) return { at: self, message: `usage: ${c.usage}` };
  if (c.maxArgs !== undefined && args.length > c.maxArgs && c.name !== 'gups' && c.name !== 'nibble' && c.name !== 'redis') {
    return { at: args[c.maxArgs], message: `${c.name} takes ${c.maxArgs === 0 ? 'no arguments' : `at most ${c.maxArgs}`}; usage: ${c.usage}` };
  }
  return null;
}
