// A fuzz program as a trace script (docs/traces.md): one statement per step, references by name,
// each load carrying the model's expected value and each access the model says must fault
// written as `expect fault`, so running the script shows the failure at its line. Also checks
// that the written script reproduces the failure with the trace runner.

import { Kernel } from '../../kernel/kernel.js';
import { machineFromOptions, type MachineConfig } from '../../kernel/machineConfig.js';
import { formatSize } from '../../mmu/units.js';
import { parseScript, machineSettings } from '../../syscalls/trace/parser.js';
import { machineLineOptions } from '../../syscalls/trace/machineLine.js';
import { TraceRunner, TRACE_CONSTANTS } from '../../syscalls/trace/runner.js';
import { formatDouble } from '../../syscalls/trace/evaluate.js';
import { isRef, type Arg, type Step } from './program.js';
import type { Failure } from './session.js';

export interface TraceContext {
  header: string[];
  machine: Partial<MachineConfig> & { paging: 4 | 5; memBytes: number; cpus: number; nodes: number; seed: number };
  predictions: ReadonlyMap<number, { kind: 'value'; value: bigint } | { kind: 'fault' }>;
  /** Spawn and thread steps the kernel refused, with why: written as comments, and the actor's
   *  steps until it is created are left out (the fuzzer skipped them too). */
  notCreated?: ReadonlyMap<number, string>;
  failure: Failure;
  /** The bound the failing call broke (progress failures). */
  cycleBound?: number;
}

const hex = (v: bigint): string => (v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);

/**
 * A literal as trace text. A number that is not a safe integer (NaN, ±Infinity, a fraction, an
 * integer beyond 2^53) is written as a double (`NaN`, `0.5`, `9007199254740992.0`) so the call
 * gets the same double the fuzzer passed, not an exact integer the kernel would treat otherwise.
 */
function literal(v: number | bigint | string): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return hex(v);
  if (!Number.isSafeInteger(v)) return formatDouble(v);
  if (Math.abs(v) < 4096) return String(v);
  return hex(BigInt(v));
}

export function programToTrace(steps: readonly Step[], ctx: TraceContext): string {
  const m = ctx.machine;
  const lines = [...ctx.header.map((h) => `# ${h}`)];
  // Every setting the fuzzer varies, so the script runs on the same machine (ASLR included: the
  // same seed then moves every mmap base the same way). The keys are the machine statement's.
  lines.push(`machine paging=${m.paging} mem=${formatSize(m.memBytes).replace(/\s|iB/g, '')} nodes=${m.nodes} cpus=${m.cpus} pcid=${m.tagPolicy === 'tagged' ? 'on' : 'off'} seed=${m.seed}${m.aslr ? ' aslr=on' : ''}`);
  lines.push('');
  const bound = new Set<string>();
  const processes = new Set<string>(['init']);
  const arg = (a: Arg): string => {
    if (!isRef(a)) return literal(a);
    if (!bound.has(a.ref) && !processes.has(a.ref)) return literal(a.fallback);
    return a.add ? `(${a.ref} + ${a.add})` : a.ref;
  };
  const absent = new Set<string>();
  steps.forEach((s, i) => {
    const failing = i === ctx.failure.step;
    const mark = failing ? `    # <- ${ctx.failure.oracle}: ${ctx.failure.message.split('\n')[0]}` : '';
    const who = s.kind === 'spawn' || s.kind === 'thread' ? '' : `@${s.actor} `;
    const refused = ctx.notCreated?.get(i);
    if (refused !== undefined && (s.kind === 'spawn' || s.kind === 'thread')) {
      lines.push(`# ${s.kind === 'spawn' ? 'process' : 'thread'} ${s.actor} not created: ${refused}${mark}`);
      absent.add(s.actor);
      return;
    }
    if (s.kind === 'spawn' || s.kind === 'thread') absent.delete(s.actor);
    else if (absent.has(s.actor) || absent.has(s.actor.split('.')[0])) return;
    switch (s.kind) {
      case 'spawn':
        lines.push(`process ${s.actor} uid=${s.uid} gid=${s.gid}${s.groups?.length ? ` groups=${s.groups.join(',')}` : ''}${mark}`);
        processes.add(s.actor);
        return;
      case 'thread':
        lines.push(`thread ${s.actor}${mark}`);
        return;
      case 'call': {
        const args = s.args.map(arg);
        const text = `${s.name}(${args.join(', ')})`;
        const arity = TraceRunner.knownCalls().get(s.name);
        if (arity && (args.length < arity.minArgs || args.length > arity.maxArgs)) {
          // The fuzzer calls with too few or too many arguments (hostile phase); the trace
          // language refuses that before running, and the call failed with an errno (it changed
          // nothing), so the trace keeps it as a comment.
          lines.push(`# ${who}${text}: ${args.length} arguments, which a trace cannot write (${s.name} takes ${arity.minArgs === arity.maxArgs ? arity.minArgs : `${arity.minArgs}..${arity.maxArgs}`})${mark}`);
          return;
        }
        lines.push(`${who}${s.bind ? `${s.bind} = ` : ''}${text}${mark}`);
        if (s.bind) { bound.add(s.bind); if (s.name === 'fork') processes.add(s.bind); }
        // Both always succeed: the fuzzer skipped the actor's later steps, so the trace does too.
        if (s.name === 'exit') absent.add(s.actor.split('.')[0]);
        if (s.name === 'thread_exit') absent.add(s.actor);
        if (failing && ctx.failure.oracle === 'progress' && ctx.cycleBound) lines.push(`expect cycles <= ${ctx.cycleBound}`);
        return;
      }
      case 'load': case 'store': {
        const addr = arg(s.addr);
        const p = ctx.predictions.get(i);
        const bits = 8 * (s.width ?? 8);
        const access = s.kind === 'load' ? `load${bits} ${addr}` : `store${bits} ${addr} ${hex(BigInt.asUintN(bits, s.value))}`;
        if (p?.kind === 'fault') lines.push(`${who}expect fault ${access}${mark}`);
        else if (p?.kind === 'value' && s.kind === 'load') lines.push(`${who}${access} = ${hex(p.value)}${mark}`);
        else lines.push(`${who}${access}${mark}`);
        return;
      }
    }
  });
  if (ctx.failure.oracle === 'invariants' || ctx.failure.oracle === 'leak') {
    lines.push('');
    if (ctx.failure.oracle === 'leak') lines.push('# the leak shows once every process has exited and every segment, space, file and queue is deleted');
    lines.push('check invariants');
  }
  return lines.join('\n') + '\n';
}

/**
 * Run the written script with the trace runner on the machine its own `machine` line describes (as
 * `sjmp trace` would): true when it reports a failed step (an expectation, an unexpected fault or
 * kill, a panic), null when it does not parse.
 */
export function traceReproduces(text: string): { reproduces: boolean | null; note: string } {
  const parsed = parseScript(text, { file: 'fuzz.trace', knownCalls: TraceRunner.knownCalls(), knownConstants: Object.keys(TRACE_CONSTANTS) });
  if (!parsed.ok) return { reproduces: null, note: `does not parse: ${parsed.errors[0]?.message ?? ''}` };
  try {
    const runner = new TraceRunner(new Kernel(machineFromOptions(machineLineOptions(machineSettings(parsed.statements).values()))));
    const summary = runner.runScript(parsed.statements, parsed.sources);
    const bad = runner.transcript.find((e) => !e.ok);
    return { reproduces: bad !== undefined || summary.expectations.failed > 0, note: bad ? `${bad.at}: ${bad.text}${bad.note ? ` (${bad.note})` : ''}` : 'every step held' };
  } catch (e) {
    return { reproduces: true, note: `the runner threw ${e instanceof Error ? e.message : String(e)}` };
  }
}
