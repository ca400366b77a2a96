#!/usr/bin/env node
// `sjmp`: the command line of spacejmp-emu. Errors are one clear line on stderr (a stack trace
// only with --debug); exit status 0 success, 1 a failed expectation or check, 2 bad usage or script.

import { Command, CommanderError } from 'commander';
import { fileURLToPath } from 'node:url';
import { addMachineOptions, type GlobalOptions } from './machineOptions.js';
import { traceCommand, type TraceOptions } from './commands/trace.js';
import { demoCommand } from './commands/demo.js';
import { gupsCommand, addGupsOptions, gupsEngine, type GupsCliOptions } from './commands/gups.js';
import { nibbleCommand, addNibbleOptions, nibbleEngine, type NibbleCliOptions } from './commands/nibble.js';
import { fuzzCommand, addFuzzOptions, type FuzzCliOptions } from './commands/fuzz.js';
import { samCommand, SAM_HELP } from './commands/sam.js';
import { addRedisCommands, redisEngine } from './commands/redis.js';
import { UsageError } from './errors.js';
import { addImageOptions, imageInfoCommand, imageNewCommand, openImageSession, type ImageOptions } from './commands/image.js';
import { GUPS_IMAGE_NOTE } from './commands/gups.js';
import { NIBBLE_IMAGE_NOTE } from './commands/nibble.js';
import { buildMachine } from './machineOptions.js';
import { version } from './version.js';
import { addSweepCommand } from './commands/sweep.js';
import { tuneJit } from '../mmu/jitTuning.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('sjmp')
    .description('spacejmp-emu: an emulated OS virtual-memory subsystem with first-class address spaces (SpaceJMP)')
    .version(version(), '-V, --version')
    // One line per usage error (commander's message, any suggestion, the hint), like every sjmp error.
    .configureOutput({ outputError: (str, write) => write(`sjmp: ${str.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (run with --help for usage)\n`) })
    .exitOverride();
  addMachineOptions(program);

  const trace = program.command('trace')
    .description('run trace scripts: an strace-like transcript, expectations checked, a summary')
    .argument('<files...>', 'trace files (.trace); - reads one from stdin')
    .option('--json', 'transcript and summary as one JSON document (docs/json.md)')
    .option('--quiet', 'only the summary (failures are still printed on stderr)')
    .option('-e <expr>', 'strace-style selection of the transcript: trace=NAME,... with * globs, e.g. trace=vas_*,seg_*; trace=!NAME,... for all but those')
    .option('-p <process>', 'only these processes (name or pid; repeat or separate with commas)', (v: string, prev: string[] = []) => [...prev, v])
    .option('-c', 'a per-call table of calls, errors and modelled cycles instead of the transcript')
    .option('-t', 'start each transcript line with its modelled timestamp (cycles since boot, all CPUs)')
    .option('-o <file>', 'write the transcript and summary to a file (checked before anything runs)');
  addImageOptions(trace, 'every script runs on its machine, in order; the named spaces, segments (with contents) and tmpfs files they leave persist, saved only when every script passed');
  trace
    .action((files: string[], o: TraceOptions, cmd: Command) => { process.exitCode = traceCommand(files, { ...cmd.optsWithGlobals(), ...o }); });
  addMachineOptions(trace);

  const image = program.command('image').description('machine images: named spaces, segments and tmpfs files that outlive sjmp (docs/image-format.md)');
  const imageNew = image.command('new')
    .description('write a new image holding an empty machine (machine options choose it)')
    .argument('<file>', 'image file to create')
    .option('--compress', 'store contents compressed (zlib; format version 2); later saves of this image stay compressed')
    .action((file: string, _o: unknown, cmd: Command) => { process.exitCode = imageNewCommand(file, cmd.optsWithGlobals() as GlobalOptions & { compress?: boolean }); });
  addMachineOptions(imageNew);
  image.command('info')
    .description('what an image holds: machine, named spaces, segments, files (every checksum verified)')
    .argument('<file>', 'image file')
    .option('--json', 'as a JSON document')
    .action((file: string, o: { json?: boolean }) => { process.exitCode = imageInfoCommand(file, o); });

  const demo = program.command('demo')
    .description('a short tour of the MMU: a page walk level by level, TLB hits and misses, a tagged and an untagged switch')
    .option('--json', 'results as JSON')
    .action((o: { json?: boolean } & ImageOptions, cmd: Command) => { process.exitCode = demoCommand({ ...cmd.optsWithGlobals(), ...o }); });
  addImageOptions(demo, 'the tour\'s named space "demo" and segment "demo-seg" persist (with a count of the tours run on the machine)');
  addMachineOptions(demo);

  const gups = program.command('gups')
    .description('GUPS (HPCC RandomAccess) over windows of one table: MAP vs MP vs VAS (the reference\'s Figure 48)');
  addGupsOptions(gups);
  addImageOptions(gups, GUPS_IMAGE_NOTE);
  addMachineOptions(gups);
  gups.action(async (o: GupsCliOptions, cmd: Command) => { process.exitCode = await gupsCommand({ ...cmd.optsWithGlobals(), ...o }); });

  const nibble = program.command('nibble')
    .description('the Nibble log-structured KV store: YCSB (Nibble vs Nibble-2), throughput as it fills, fragmentation vs malloc');
  addNibbleOptions(nibble);
  addImageOptions(nibble, NIBBLE_IMAGE_NOTE);
  addMachineOptions(nibble);
  nibble.action(async (o: NibbleCliOptions, cmd: Command) => { process.exitCode = await nibbleCommand({ ...cmd.optsWithGlobals(), ...o }); });

  const fuzz = program.command('fuzz')
    .description('the system-call fuzzer: random multi-process programs on random machines, checked against a memory-contents model, the kernel invariants, progress bounds and leaks; failures shrunk to trace scripts');
  addFuzzOptions(fuzz);
  // `--seed` is also a global machine option, which commander hands to the program: take it from there.
  fuzz.action(async (o: FuzzCliOptions, cmd: Command) => {
    const seed = (cmd.optsWithGlobals() as { seed?: string }).seed ?? o.seed;
    process.exitCode = await fuzzCommand({ ...o, seed });
  });

  // samtools' own options (-h, -c, -F ...) pass through untouched; sjmp's (--design, --json, ...)
  // are taken out by samCommand.
  const sam = program.command('sam')
    .description('samtools-style tools (flagstat, view, sort, index, idxstats, depth): files vs a data set kept in a named address space')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]', 'import | ls | run | bench | TOOL, with samtools arguments');
  addMachineOptions(sam);
  sam.action(async (args: string[], _o: unknown, cmd: Command) => {
    if (args.length === 0 || args[0] === '--help' || args[0] === 'help') { process.stdout.write(SAM_HELP); process.exitCode = 0; return; }
    process.exitCode = await samCommand(args, cmd.optsWithGlobals() as GlobalOptions);
  });
  addRedisCommands(program, addMachineOptions);

  const shell = program.command('shell')
    .description('the interactive shell: trace statements typed live, with views of processes, spaces, page tables and TLBs')
    .option('--run <file...>', 'trace files to run before the first prompt');
  addImageOptions(shell, 'the shell runs on its machine; the named spaces, segments (with contents) and tmpfs files persist (save, load in the shell; exit saves unsaved changes)');
  addMachineOptions(shell);
  shell.action(async (o: { run?: string[] } & ImageOptions, cmd: Command) => {
    const machine = cmd.optsWithGlobals() as GlobalOptions & ImageOptions;
    // Ink draws only its final frame when it believes it runs in CI (is-in-ci reads CI at import);
    // a person at a terminal should see the shell whatever CI says.
    if (process.stdin.isTTY && process.stdout.isTTY) delete process.env.CI;
    const image = machine.image ? openImageSession(machine, () => buildMachine(machine)) : undefined;
    const { startShell } = await import('./interactive/index.js');
    process.exitCode = await startShell({
      machine,
      image,
      run: o.run,
      engines: {
        gups: (args, onProgress, signal, config) => gupsEngine(args, onProgress, signal, machine, config),
        nibble: (args, onProgress, signal, config) => nibbleEngine(args, onProgress, signal, machine, config),
        redis: (args, onProgress, signal, config) => redisEngine(args, onProgress, signal, machine, config),
      },
    });
  });

  addSweepCommand(program);

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  let debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    debug = !!(program.opts() as GlobalOptions).debug;
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message (help/version exit with code 0)
      return e.exitCode === 0 ? 0 : 2;
    }
    if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`sjmp: ${msg}\n`);
    return e instanceof UsageError || e instanceof RangeError ? 2 : 1;
  }
}

const isEntry = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntry || process.argv[1]?.endsWith('/sjmp')) {
  tuneJit();
  // A reader that stops early (`sjmp trace x.trace | head`) closes our stdout: stop quietly, as
  // a Unix tool killed by SIGPIPE does, instead of an unhandled 'error' event's stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
  main(process.argv).then((code) => { process.exitCode = code; });
}
