// The system-call boundary. `syscall` puts the thread on its CPU, charges the entry/exit cost,
// checks the arguments against the table, runs the handler and turns a SysError into -errno.
// A ProcessKilled is not an errno and goes on up. Anything else a handler throws is an emulator
// bug: it never reaches the caller as a raw JS exception. The kernel records a named panic report
// (kernelPanics), kills the calling process as Linux does on an oops, and the caller sees a
// KernelPanic — a ProcessKilled, so programs, the scheduler and traces handle it like any kill.
//
// Blocking protocol: a handler that cannot proceed returns WouldBlock(channel) having changed
// nothing. `syscall` hands it back as is; the caller sleeps on `channel` and calls again with
// { restart: true } (no second entry charge: it is one call) until it gets a value:
//  - a program (userland/runtime.ts) yields the WouldBlock to the scheduler, which blocks the
//    thread on the channel, and retries when resumed;
//  - a synchronous driver (trace runner, shell) sees isWouldBlock(r), may kernel.block() the
//    thread to show it as sleeping, runs other actors, and retries later.

import { ProcessKilled, type Kernel } from '../kernel/kernel.js';
import type { Thread } from '../kernel/proc/process.js';
import { SysError, errnoName, fail } from '../kernel/errno.js';
import { WouldBlock, isWouldBlock } from '../kernel/proc/ipc.js';
import { convertArgs } from './args.js';
import { CYC_SYSCALL } from '../mmu/cpu.js';
import { SYSCALLS, type RawArg, type SyscallTable, type SyscallDef } from './table.js';
import { straceOf, makeRecord, formatArgs } from './strace.js';
import './builtins.js';

export { WouldBlock, isWouldBlock };

export type SyscallReturn = number | bigint | WouldBlock;

export interface SyscallOptions {
  /** A retry of a call that blocked: the entry cost was already paid. */
  restart?: boolean;
  table?: SyscallTable;
}

export interface LastError {
  name: string;
  errno: number;
  message: string;
}

/** What the kernel records when a call hit an emulator bug instead of returning. */
export interface PanicReport {
  /** The call's name and arguments as the caller passed them. */
  call: string;
  pid: number;
  process: string;
  /** "RangeError: Invalid typed array length". */
  error: string;
  stack: string;
  /** Modelled cycles of the CPU at the panic. */
  at: number;
}

/** A system call panicked the kernel: its process was killed with the panic as the report. */
export class KernelPanic extends ProcessKilled {
  constructor(process: Thread['process'], readonly panic: PanicReport) {
    super(process, `kernel panic in ${panic.call}: ${panic.error}`);
    this.name = 'KernelPanic';
  }
}

const panics = new WeakMap<Kernel, PanicReport[]>();

/** Every panic this kernel has reported, oldest first. */
export function kernelPanics(k: Kernel): readonly PanicReport[] {
  return panics.get(k) ?? [];
}

function describeCall(name: string, args: readonly RawArg[]): string {
  const shown = args.map((a) => (typeof a === 'function' ? '<body>' : typeof a === 'string' ? JSON.stringify(a) : typeof a === 'bigint' ? `0x${a.toString(16)}` : String(a)));
  return `${name}(${shown.join(', ')})`;
}

/** Record the panic, kill the caller's process (whatever state it is in), and build what the caller sees. */
function panic(k: Kernel, t: Thread, name: string, args: readonly RawArg[], e: unknown): KernelPanic {
  const err = e instanceof Error ? e : new Error(String(e));
  const report: PanicReport = {
    call: describeCall(name, args), pid: t.process.pid, process: t.process.name,
    error: `${err.name}: ${err.message}`, stack: err.stack ?? '', at: k.current.clock,
  };
  let list = panics.get(k);
  if (!list) panics.set(k, (list = []));
  list.push(report);
  const text = `kernel panic in ${report.call}: ${report.error}`;
  try {
    k.log('panic', `${t.process.name}[${t.process.pid}] ${text}`);
    k.exit(t.process, 128 + 9, text);
  } catch (e2) {
    // The teardown hit the same corruption: leave the process dead to its callers anyway.
    t.process.state = 'zombie';
    t.process.killedBy = text;
    report.error += ` (and while killing the process: ${e2 instanceof Error ? e2.message : String(e2)})`;
  }
  return new KernelPanic(t.process, report);
}

const lastErrors = new WeakMap<Thread, LastError>();
/** Threads with a call that blocked and has not completed yet, for strace's unfinished/resumed. */
const unfinished = new WeakMap<Thread, string>();
/**
 * Entries put in `unfinished` and not taken out (a WeakMap has no size): untraced calls skip the
 * lookup while it is 0. A thread collected with an entry leaves it high; then the lookups just happen.
 */
let unfinishedCount = 0;

function markUnfinished(t: Thread, name: string): void {
  if (!unfinished.has(t)) unfinishedCount++;
  unfinished.set(t, name);
}

function forgetUnfinished(t: Thread): void {
  if (unfinished.delete(t)) unfinishedCount--;
}

/** The kernel's explanation of the thread's most recent failed call. */
export function lastSyscallError(t: Thread): LastError | undefined {
  return lastErrors.get(t);
}

function stripErrnoPrefix(e: SysError): string {
  const name = errnoName(e.errno);
  return e.message.startsWith(name) ? e.message.slice(name.length).replace(/^: /, '') : e.message;
}

/** Make a system call on behalf of `t`: its result, -errno, or WouldBlock. */
/** The options of a plain call (one shared object: no allocation per call). */
const PLAIN_CALL: SyscallOptions = Object.freeze({});
const NO_ARGS: readonly RawArg[] = [];
/** A call's converted arguments are in its definition's scratch array (see dispatch). */
let argsBusy = false;

export function syscall(k: Kernel, t: Thread, nameOrNumber: string | number, args: readonly RawArg[] = NO_ARGS, opts: SyscallOptions = PLAIN_CALL): SyscallReturn {
  const def: SyscallDef | undefined = (opts.table ?? SYSCALLS).lookup(nameOrNumber);
  const name = def?.name ?? String(nameOrNumber);
  try {
    return dispatch(k, t, def, name, nameOrNumber, args, opts);
  } catch (e) {
    if (e instanceof ProcessKilled) throw e;
    throw panic(k, t, name, args, e);
  }
}

function dispatch(k: Kernel, t: Thread, def: SyscallDef | undefined, name: string, nameOrNumber: string | number, args: readonly RawArg[], opts: SyscallOptions): SyscallReturn {
  let cpu;
  try {
    cpu = k.enter(t);
  } catch (e) {
    if (e instanceof SysError) return -e.errno;
    throw e;
  }
  const at = cpu.clock;
  if (!opts.restart) {
    // Entry and exit as measured (`syscall`), plus the entry path's own references through this
    // CPU's TLB and caches: free when warm, walks after a flush (kernel/kernelHalf.ts).
    cpu.chargeAt(CYC_SYSCALL, k.costs.syscall);
    k.kernelHalf.syscallEntry(cpu, t.process, def?.number ?? 0);
  }
  const wasTraced = t.process.traced;
  let values: readonly unknown[] = args;
  let result: SyscallReturn;
  let error: SysError | null = null;
  // The definition's scratch array holds the converted values unless a call is already between
  // conversion and its handler's return (a handler that makes a call of its own): that one gets a
  // new array.
  const scratch = argsBusy ? null : def?.argScratch ?? null;
  if (scratch !== null) argsBusy = true;
  try {
    if (!def) fail('ENOSYS', `no system call ${JSON.stringify(nameOrNumber)}`);
    values = convertArgs(k, t, def, args, scratch); // (left as `args` when a conversion fails, as strace shows it)
    result = def.handler(k, t, values);
  } catch (e) {
    if (!(e instanceof SysError)) {
      if (scratch !== null) argsBusy = false;
      throw e;
    }
    error = e;
    result = -e.errno;
    lastErrors.set(t, { name, errno: e.errno, message: stripErrnoPrefix(e) });
  }
  // Free for the next call: nothing from here on makes a call, and strace copies `values` first.
  if (scratch !== null) argsBusy = false;
  // Back to user mode (a call that blocked returns later, when it is restarted), on the CPU the
  // thread runs on now: the exit path's references, under the space the call may have switched to.
  if (!isWouldBlock(result) && t.state !== 'exited' && k.running[t.cpu] === t) k.kernelHalf.syscallExit(k.cpus[t.cpu]);
  // strace shows what the caller passed, not the defaults filled in for it.
  if (wasTraced || t.process.traced) trace(k, t, def, name, values.slice(0, args.length), result, error, cpu.clock - at, at, opts.restart === true);
  else if (unfinishedCount > 0 && !isWouldBlock(result) && unfinished.get(t) === name) forgetUnfinished(t);
  return result;
}

function trace(k: Kernel, t: Thread, def: SyscallDef | undefined, name: string, values: readonly unknown[], result: SyscallReturn, error: SysError | null, cycles: number, at: number, restart: boolean): void {
  const pending = unfinished.get(t) === name && restart;
  if (isWouldBlock(result)) {
    if (pending) return; // still asleep: strace shows one unfinished line per call
    markUnfinished(t, name);
    straceOf(k).emit(makeRecord(t, { def, name, args: formatArgs(def, values), result: null, errno: null, message: '', blockedOn: result.reason, resumed: false, cycles, at }));
    return;
  }
  if (unfinished.get(t) === name) forgetUnfinished(t);
  straceOf(k).emit(makeRecord(t, {
    def, name, args: formatArgs(def, values), result,
    errno: error ? errnoName(error.errno) : null, message: error ? stripErrnoPrefix(error) : '',
    blockedOn: null, resumed: pending, cycles, at,
  }));
}

/** True when a syscall result is -errno (the Linux convention: -4095..-1). */
export function isError(r: SyscallReturn): r is number | bigint {
  if (isWouldBlock(r)) return false;
  return typeof r === 'bigint' ? r < 0n && r >= -4095n : r < 0 && r >= -4095;
}
