// The system-call table: every call has a number, a name, an argument spec and a handler. The
// spec is what dispatch checks before the handler runs (so a bad argument changes nothing), what
// strace prints, and what the trace parser uses to catch wrong argument counts. Other modules
// (SpaceJMP's vas_*/seg_* calls) add their own entries with registerSyscalls.

import type { Kernel } from '../kernel/kernel.js';
import type { Thread, ThreadBody } from '../kernel/proc/process.js';
import type { WouldBlock } from '../kernel/proc/ipc.js';

/**
 * Argument types. Each has a check (its errno on failure) and a printed form:
 *   int      any safe integer (number or bigint)                     EINVAL
 *   size     a non-negative safe integer                              EINVAL
 *   addr     an address to map at or a range start: canonical         EINVAL   -> number (given a
 *            non-negative number) or bigint (given a bigint or a negative number)
 *   ptr      a user buffer: canonical, in the user half               EFAULT   -> number or
 *            bigint, as addr
 *   prot     PROT_* bits only                                         EINVAL
 *   mapflags MAP_* bits only                                          EINVAL
 *   flags    any non-negative integer (the handler checks bits)       EINVAL
 *   mode     permission bits 0..0o7777                                EINVAL
 *   fd       an open descriptor of the caller (-1 too when `orNone`)  EBADF
 *   pid      an integer (-1 and 0 have meanings; the handler checks)  EINVAL
 *   cpu      -1 (any) or a CPU of the machine                         EINVAL
 *   bool     true/false or 0/1                                        EINVAL
 *   string   a JS string up to 255 characters (by value, not a user pointer) EINVAL / ENAMETOOLONG
 *   body     a function making a thread body (programs only; absent for synchronous drivers)
 */
export type ArgType = 'int' | 'size' | 'addr' | 'ptr' | 'prot' | 'mapflags' | 'flags' | 'mode' | 'fd' | 'pid' | 'cpu' | 'bool' | 'string' | 'body';

/** Makes the body of a new thread (fork's child, thread_create) once the kernel has made the thread. */
export type BodyFactory = (thread: Thread) => ThreadBody;

export interface ArgTypeMap {
  int: number;
  size: number;
  addr: number | bigint;
  ptr: number | bigint;
  prot: number;
  mapflags: number;
  flags: number;
  mode: number;
  fd: number;
  pid: number;
  cpu: number;
  bool: boolean;
  string: string;
  body: BodyFactory | null;
}

export interface ArgSpec<T extends ArgType = ArgType> {
  name: string;
  type: T;
  /** Used when the argument is left off; an argument with a default is optional. */
  default?: ArgTypeMap[T];
  /** fd only: -1 ("no descriptor") is allowed. */
  orNone?: boolean;
  /**
   * How strace shows the value, when the type's own form is not the clearest (open flags,
   * commands); `args` are all the call's values, for an argument whose meaning depends on another.
   */
  format?: (v: never, args: readonly unknown[]) => string;
}

/** What a caller may pass: numbers, bigints (trace literals), strings, booleans, functions. */
export type RawArg = number | bigint | string | boolean | BodyFactory | null | undefined;

/** A handler's outcome: a value, or "sleep on this channel and call again" (nothing changed). */
export type SysResult = number | bigint | WouldBlock;

type ValuesOf<S extends readonly ArgSpec[]> = { -readonly [K in keyof S]: S[K] extends ArgSpec<infer T> ? ArgTypeMap[T] : never };

export interface SyscallDef {
  readonly number: number;
  readonly name: string;
  readonly args: readonly ArgSpec[];
  /** May return WouldBlock (the runtime exposes it as a generator). */
  readonly blocking: boolean;
  readonly doc: string;
  /** Runs after the arguments passed their checks; throws SysError for -errno. */
  readonly handler: (k: Kernel, t: Thread, args: readonly unknown[]) => SysResult;
  /** Optional custom rendering of the result for strace (e.g. hex for addresses). */
  readonly formatResult?: (r: number | bigint) => string;
  /**
   * Where dispatch converts this call's arguments when no other call is converting or running
   * (a handler takes its values out before anything else runs): one array of the spec's length,
   * reused, instead of one per call. Null for calls taking a thread body, which the array would
   * keep alive after the call.
   */
  readonly argScratch: unknown[] | null;
}

export interface SyscallInput<S extends readonly ArgSpec[]> {
  /** Omit to get the next free number from 1000 up (numbers below 1000 follow Linux x86-64). */
  number?: number;
  name: string;
  args: S;
  blocking?: boolean;
  doc?: string;
  handler: (k: Kernel, t: Thread, args: ValuesOf<S>) => SysResult;
  formatResult?: (r: number | bigint) => string;
}

/** A call whose handler sees its arguments typed from the spec. */
export interface SyscallDraft {
  readonly input: SyscallInput<readonly ArgSpec[]>;
}

/**
 * Describe a call; the handler's argument tuple is typed from `args`, e.g.
 * `defineSyscall({ name: 'close', args: [{ name: 'fd', type: 'fd' }], handler: (k, t, [fd]) => ... })`.
 */
export function defineSyscall<const S extends readonly ArgSpec[]>(input: SyscallInput<S>): SyscallDraft {
  return { input: input as unknown as SyscallInput<readonly ArgSpec[]> };
}

const NAME_RE = /^[a-z_][a-z0-9_]*$/;
export const FIRST_CUSTOM_NUMBER = 1000;

export class SyscallTable {
  private readonly byName = new Map<string, SyscallDef>();
  private readonly byNumber = new Map<number, SyscallDef>();
  private readonly drafts = new Set<SyscallDraft>();
  private nextNumber = FIRST_CUSTOM_NUMBER;

  /** Add calls; a name or number already taken is a programming error and throws. Re-adding the same draft is a no-op. */
  register(drafts: Iterable<SyscallDraft>): SyscallDef[] {
    const out: SyscallDef[] = [];
    for (const d of drafts) {
      if (this.drafts.has(d)) continue;
      const i = d.input;
      if (!NAME_RE.test(i.name)) throw new Error(`syscall name "${i.name}" must be lower_snake_case`);
      if (this.byName.has(i.name)) throw new Error(`syscall "${i.name}" is already registered`);
      let optional = false;
      for (const a of i.args) {
        if (a.default === undefined && optional) throw new Error(`${i.name}: required argument ${a.name} after an optional one`);
        optional ||= a.default !== undefined;
      }
      let n = i.number;
      if (n === undefined) {
        while (this.byNumber.has(this.nextNumber)) this.nextNumber++;
        n = this.nextNumber++;
      }
      if (!Number.isInteger(n) || n < 0) throw new Error(`${i.name}: bad syscall number ${n}`);
      const clash = this.byNumber.get(n);
      if (clash) throw new Error(`${i.name}: number ${n} is already ${clash.name}`);
      const def: SyscallDef = {
        number: n, name: i.name, args: i.args, blocking: i.blocking ?? false, doc: i.doc ?? '',
        handler: i.handler as SyscallDef['handler'], formatResult: i.formatResult,
        argScratch: i.args.some((a) => a.type === 'body') ? null : Array.from(i.args, () => undefined as unknown),
      };
      this.byName.set(def.name, def);
      this.byNumber.set(n, def);
      this.drafts.add(d);
      out.push(def);
    }
    return out;
  }

  lookup(nameOrNumber: string | number): SyscallDef | undefined {
    return typeof nameOrNumber === 'number' ? this.byNumber.get(nameOrNumber) : this.byName.get(nameOrNumber);
  }

  /** Every call, by number. */
  list(): SyscallDef[] {
    return [...this.byNumber.values()].sort((a, b) => a.number - b.number);
  }

  /** Name -> argument counts, in the shape the trace parser's `knownCalls` takes. */
  arities(): Map<string, { minArgs: number; maxArgs: number }> {
    const m = new Map<string, { minArgs: number; maxArgs: number }>();
    for (const d of this.byName.values()) {
      m.set(d.name, { minArgs: d.args.filter((a) => a.default === undefined).length, maxArgs: d.args.length });
    }
    return m;
  }
}

/** The machine's table: the built-in calls and whatever other modules register. */
export const SYSCALLS = new SyscallTable();

export function registerSyscalls(drafts: Iterable<SyscallDraft>, table: SyscallTable = SYSCALLS): SyscallDef[] {
  return table.register(drafts);
}
