// strace for the emulated machine: for every traced process (Process.traced, set by the `trace`
// call or directly), one record per syscall with its arguments, result or errno, and the modelled
// cycles it cost its CPU. A blocked call shows as unfinished and later as resumed, as in strace.
// Sinks (the CLI, the shell) subscribe; the last records are also kept for views and tests.

import type { Kernel } from '../kernel/kernel.js';
import type { Thread } from '../kernel/proc/process.js';
import { formatAddr } from '../mmu/units.js';
import { formatMapFlags, formatMode, formatProt } from './constants.js';
import { describeRaw } from './args.js';
import type { ArgSpec, RawArg, SyscallDef } from './table.js';

/** One traced call: who made it, the call's outcome, and the line strace prints. */
export interface StraceRecord extends Omit<CallOutcome, 'def'> {
  pid: number;
  process: string;
  tid: number;
  thread: string;
  cpu: number;
  line: string;
}

export type StraceSink = (r: StraceRecord) => void;

export class Strace {
  readonly records: StraceRecord[] = [];
  private readonly sinks = new Set<StraceSink>();

  constructor(readonly keep = 1000) {}

  /** Receive every record from now on; returns the unsubscribe function. */
  subscribe(sink: StraceSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  emit(r: StraceRecord): void {
    this.records.push(r);
    if (this.records.length > this.keep) this.records.splice(0, this.records.length - this.keep);
    for (const s of this.sinks) s(r);
  }

  /** The kept lines, oldest first. */
  lines(): string[] {
    return this.records.map((r) => r.line);
  }

  clear(): void {
    this.records.length = 0;
  }
}

const tracers = new WeakMap<Kernel, Strace>();

export function straceOf(k: Kernel): Strace {
  let s = tracers.get(k);
  if (!s) {
    s = new Strace();
    tracers.set(k, s);
  }
  return s;
}

/** Switch tracing of a process on or off (what the `trace` syscall does, for drivers that hold the process). */
export function setTraced(k: Kernel, pid: number, on: boolean): void {
  k.process(pid).traced = on;
}

/**
 * The transcript's one number style: negative numbers and 0..9 in decimal, everything else in hex
 * grouped by four digits (0x1_0001, 0x7f00_0000_0000), whoever prints it (calls, loads, stores).
 * Anything that is not an integer (NaN, Infinity, 0.5, a string) is shown as it is, never thrown on.
 */
export function formatNumber(v: number | bigint): string {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) return String(v);
  const b = BigInt(v);
  if (b < 0n) return b.toString();
  return b < 10n ? b.toString() : formatAddr(b);
}

/** An integer argument: safe integers (or bigints) as `show` renders them, anything else as passed. */
function integerArg(v: unknown, show: (n: number) => string): string {
  const n = asSafeInteger(v);
  if (n !== null) return show(n);
  return typeof v === 'bigint' ? v.toString() : describeRaw(v as RawArg);
}

function asSafeInteger(v: unknown): number | null {
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  return null;
}

function formatValue(a: ArgSpec | undefined, v: unknown, all: readonly unknown[]): string {
  if (a?.format) {
    const format = a.format as (x: unknown, args: readonly unknown[]) => string;
    // Integers only: a call given garbage (NaN, a string) shows the garbage, never throws.
    return typeof v === 'string' || typeof v === 'boolean' ? describeRaw(v) : integerArg(v, (n) => format(n, all.map((x) => asSafeInteger(x) ?? x)));
  }
  switch (a?.type) {
    case 'addr':
    case 'ptr':
      return typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v)) ? formatAddr(BigInt.asUintN(64, BigInt(v))) : describeRaw(v as RawArg);
    case 'prot':
      return integerArg(v, formatProt);
    case 'mapflags':
      return integerArg(v, formatMapFlags);
    case 'mode':
      return integerArg(v, formatMode);
    case 'bool':
      return v === true ? '1' : v === false ? '0' : describeRaw(v as RawArg);
    case 'body':
      return typeof v === 'function' ? '<body>' : 'NULL';
    default:
      return describeRaw(v as RawArg);
  }
}

/** Arguments as strace shows them: converted values when they passed their checks, raw ones otherwise. */
export function formatArgs(def: SyscallDef | undefined, values: readonly unknown[]): string[] {
  return values.map((v, i) => formatValue(def?.args[i], v, values));
}

export function formatResult(def: SyscallDef | undefined, r: number | bigint): string {
  return def?.formatResult ? def.formatResult(r) : String(r);
}

export interface CallOutcome {
  def: SyscallDef | undefined;
  name: string;
  args: string[];
  /** The result; null while the call is blocked (unfinished). */
  result: number | bigint | null;
  /** Errno name when the call failed, e.g. "ENOENT". */
  errno: string | null;
  /** The kernel's explanation of a failure. */
  message: string;
  /** What the call sleeps on, when it blocked. */
  blockedOn: string | null;
  /** This record completes an earlier unfinished one. */
  resumed: boolean;
  /** Modelled cycles the call took on its CPU (entry, checks, work, copies). */
  cycles: number;
  /** The CPU's modelled clock when the call was made. */
  at: number;
}

export function makeRecord(t: Thread, o: CallOutcome): StraceRecord {
  const who = `${t.describe()}@cpu${t.cpu}`;
  let text: string;
  if (o.result === null) {
    text = `${o.name}(${o.args.join(', ')}) <unfinished: ${o.blockedOn}>`;
  } else {
    const value = o.errno ? `-${o.errno}${o.message ? ` (${o.message})` : ''}` : formatResult(o.def, o.result);
    text = o.resumed ? `<... ${o.name} resumed> = ${value}` : `${o.name}(${o.args.join(', ')}) = ${value}`;
  }
  const { def: _def, ...call } = o;
  return {
    pid: t.process.pid, process: t.process.name, tid: t.tid, thread: t.name, cpu: t.cpu,
    ...call,
    line: `${who} ${text} <${Math.round(o.cycles)}>`,
  };
}
