// What `save FILE` writes, kept as the session goes: the machine settings (typed, and those files
// run here brought), the statements typed and the files run. The text is a trace that `sjmp trace`
// or `run` replays on the same machine.

import { dirname, relative } from 'node:path';
import type { MachineSetting } from '../../syscalls/trace/index.js';
import { givenMachineOptions, machineLineOptions, machineLineText, mergeMachineOptions, type GlobalOptions } from '../machineOptions.js';

export class SessionRecord {
  /** `machine` settings typed, and those that came from files run (those files say them again on replay). */
  typedSettings: readonly MachineSetting[] = [];
  fileSettings: readonly MachineSetting[] = [];
  private readonly steps: { text: string; file?: string }[] = [];

  /** Every setting the machine was built from, files' first (a typed line comes later in a session). */
  get settings(): MachineSetting[] {
    return [...this.fileSettings, ...this.typedSettings];
  }

  statement(text: string): void {
    this.steps.push({ text });
  }

  file(abs: string): void {
    this.steps.push({ text: '', file: abs });
  }

  /**
   * The session as a trace to be written at `abs`: a `machine` line with the command line's
   * options and the typed settings (so a replay runs on the same machine), then the statements
   * and `include`s of files run. Keys a file run here sets are left to that file's own line,
   * which the include repeats (a second `machine` line for the same key is an error).
   */
  text(abs: string, cli: GlobalOptions): { text: string; statements: number } {
    const options = mergeMachineOptions(machineLineOptions(this.typedSettings), givenMachineOptions(cli));
    for (const k of Object.keys(machineLineOptions(this.fileSettings))) delete (options as Record<string, unknown>)[k];
    const machine = machineLineText(options);
    const body = this.steps.map((s) => (s.file ? `include ${JSON.stringify(relative(dirname(abs), s.file) || s.file)}` : s.text));
    const lines = [...(machine ? [machine] : []), ...body];
    return { text: `# saved from sjmp shell\n${lines.join('\n')}\n`, statements: body.length };
  }
}
