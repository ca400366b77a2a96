// The system-call boundary. `syscall` puts the thread on its CPU, charges the entry/exit cost,
// checks the arguments against the table, runs the handler and turns a SysError into -errno.
// A ProcessKilled (or an emulator bug) is not an errno and goes on up.
//
// Blocking protocol: a handler that cannot proceed returns WouldBlock(channel) having changed
// nothing. `syscall` hands it back as is; the caller sleeps on `channel` and calls again with
// { restart: true } (no second entry charge: it is one call) until it gets a value:
//  - a program (userland/runtime.ts) yields the WouldBlock to the scheduler, which blocks the
//    thread on the channel, and retries when resumed;
//  - a synchronous driver (trace runner, shell) sees isWouldBlock(r), may kernel.block() the
//    thread to show it as sleeping, runs other actors, and retries later.

import type { Kernel } from '../kernel/kernel.js';
import type { Thread } from '../kernel/proc/process.js';
import { SysError, errnoName, fail } from '../kernel/errno.js';
import { WouldBlock, isWouldBlock } from '../kernel/proc/ipc.js';
import { convertArgs } from './args.js';
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

const lastErrors = new WeakMap<Thread, LastError>();
/** Threads with a call that blocked and has not completed yet, for strace's unfinished/resumed. */
const unfinished = new WeakMap<Thread, string>();

/** The kernel's explanation of the thread's most recent failed call. */
export function lastSyscallError(t: Thread): LastError | undefined {
  return lastErrors.get(t);
}

function stripErrnoPrefix(e: SysError): string {
  const name = errnoName(e.errno);
  return e.message.startsWith(name) ? e.message.slice(name.length).replace(/^: /, '') : e.message;
}

/** Make a system call on behalf of `t`: its result, -errno, or WouldBlock. */
export function syscall(k: Kernel, t: Thread, nameOrNumber: string | number, args: readonly RawArg[] = [], opts: SyscallOptions = {}): SyscallReturn {
  const def: SyscallDef | undefined = (opts.table ?? SYSCALLS).lookup(nameOrNumber);
  const name = def?.name ?? String(nameOrNumber);
  let cpu;
  try {
    cpu = k.enter(t);
  } catch (e) {
    if (e instanceof SysError) return -e.errno;
    throw e;
  }
  const at = cpu.clock;
  if (!opts.restart) cpu.charge('syscall', k.costs.syscall);
  const wasTraced = t.process.traced;
  let values: readonly unknown[] = args;
  let result: SyscallReturn;
  let error: SysError | null = null;
  try {
    if (!def) fail('ENOSYS', `no system call ${JSON.stringify(nameOrNumber)}`);
    values = convertArgs(k, t, def, args);
    result = def.handler(k, t, values);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    error = e;
    result = -e.errno;
    lastErrors.set(t, { name, errno: e.errno, message: stripErrnoPrefix(e) });
  }
  // strace shows what the caller passed, not the defaults filled in for it.
  const shown = values.slice(0, args.length);
  if (wasTraced || t.process.traced) trace(k, t, def, name, shown, result, error, cpu.clock - at, at, opts.restart === true);
  else if (!isWouldBlock(result) && unfinished.get(t) === name) unfinished.delete(t);
  return result;
}

function trace(k: Kernel, t: Thread, def: SyscallDef | undefined, name: string, values: readonly unknown[], result: SyscallReturn, error: SysError | null, cycles: number, at: number, restart: boolean): void {
  const pending = unfinished.get(t) === name && restart;
  if (isWouldBlock(result)) {
    if (pending) return; // still asleep: strace shows one unfinished line per call
    unfinished.set(t, name);
    straceOf(k).emit(makeRecord(t, { def, name, args: formatArgs(def, values), result: null, errno: null, message: '', blockedOn: result.reason, resumed: false, cycles, at }));
    return;
  }
  if (unfinished.get(t) === name) unfinished.delete(t);
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
