// Argument checks: every argument is converted and checked against its spec before the handler
// runs, so a call with a bad argument fails with its errno and changes nothing.

import type { Kernel } from '../kernel/kernel.js';
import type { Thread } from '../kernel/proc/process.js';
import { fail, type ErrnoName } from '../kernel/errno.js';
import { MAP_KNOWN } from '../kernel/vm/vmspace.js';
import { PROT_ALL } from '../kernel/vm/vmMap.js';
import { isCanonical, userTop } from '../mmu/address.js';
import type { ArgSpec, RawArg, SyscallDef } from './table.js';

const MAX_STRING = 255;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
/** 2^47: the first non-canonical address of 4-level paging's lower half, and minus it the last of the upper. */
const HALF4 = 2 ** 47;

function integer(a: ArgSpec, v: RawArg): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint') {
    if (v > MAX_SAFE || v < MIN_SAFE) fail('EINVAL', `${a.name}: ${v} is out of range`);
    return Number(v);
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return fail('EINVAL', `${a.name}: expected an integer, got ${describeRaw(v)}`);
}

/**
 * An address argument given as a non-negative safe integer, checked as a number: such a value is
 * below 2^53, so it is canonical under 5-level paging (lower half up to 2^56) and under 4-level
 * exactly when below 2^47 — the same answer `isCanonical` gives its unsigned 64-bit value, with
 * the same message. Returns the number; anything else (a bigint, a negative number, which stands
 * for a value in the upper half) takes `address`, which answers in bigint as it always did.
 */
function numberAddress(a: ArgSpec, v: number, k: Kernel, err: ErrnoName): number {
  if (k.config.paging !== 5 && v >= HALF4) fail(err, `${a.name}: non-canonical address 0x${v.toString(16)}`);
  return v;
}

function address(a: ArgSpec, v: RawArg, k: Kernel, err: ErrnoName): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else return fail('EINVAL', `${a.name}: expected an address, got ${describeRaw(v)}`);
  b = BigInt.asUintN(64, b);
  if (!isCanonical(b, k.config.paging)) fail(err, `${a.name}: non-canonical address 0x${b.toString(16)}`);
  return b;
}

export function describeRaw(v: RawArg): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** Convert one argument; throws SysError with the spec's errno. */
export function convertArg(k: Kernel, t: Thread, a: ArgSpec, v: RawArg): unknown {
  switch (a.type) {
    case 'int':
    case 'pid':
      return integer(a, v);
    case 'size':
    case 'flags': {
      const n = integer(a, v);
      if (n < 0) fail('EINVAL', `${a.name}: must not be negative`);
      return n;
    }
    case 'prot': {
      const n = integer(a, v);
      if (n < 0 || (n & ~PROT_ALL) !== 0) fail('EINVAL', `${a.name}: unknown protection bits`);
      return n;
    }
    case 'mapflags': {
      const n = integer(a, v);
      if (n < 0 || (n & ~MAP_KNOWN) !== 0) fail('EINVAL', `${a.name}: unknown mmap flags 0x${(n & ~MAP_KNOWN).toString(16)}`);
      return n;
    }
    case 'mode': {
      const n = integer(a, v);
      if (n < 0 || n > 0o7777) fail('EINVAL', `${a.name}: mode must be 0..07777`);
      return n;
    }
    case 'cpu': {
      const n = integer(a, v);
      if (n < -1 || n >= k.cpus.length) fail('EINVAL', `${a.name}: no CPU ${n} (the machine has ${k.cpus.length})`);
      return n;
    }
    case 'fd': {
      if (typeof v !== 'number' && typeof v !== 'bigint') fail('EBADF', `${a.name}: not a descriptor: ${describeRaw(v)}`);
      const n = integer(a, v);
      if (n === -1 && a.orNone) return n;
      if (!t.process.fds.has(n)) fail('EBADF', `${a.name}: ${n} is not an open descriptor`);
      return n;
    }
    case 'addr':
      // A number in, a number out (handlers take either: pageAddr); no BigInt on the common path.
      if (typeof v === 'number' && v >= 0 && Number.isSafeInteger(v)) return numberAddress(a, v, k, 'EINVAL');
      return address(a, v, k, 'EINVAL');
    case 'ptr': {
      // A non-negative safe integer is below 2^53, so canonical is all it needs to be a user
      // address (userTop is 2^47 or 2^56). Handlers take either (copyin/copyout: UserAddr).
      if (typeof v === 'number' && v >= 0 && Number.isSafeInteger(v)) return numberAddress(a, v, k, 'EFAULT');
      const b = address(a, v, k, 'EFAULT');
      if (b >= userTop(k.config.paging)) fail('EFAULT', `${a.name}: 0x${b.toString(16)} is not a user address`);
      return b;
    }
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 0 || v === 1 || v === 0n || v === 1n) return v === 1 || v === 1n;
      return fail('EINVAL', `${a.name}: expected 0 or 1, got ${describeRaw(v)}`);
    case 'string':
      if (typeof v !== 'string') fail('EINVAL', `${a.name}: expected a string, got ${describeRaw(v)}`);
      if (v.length > MAX_STRING) fail('ENAMETOOLONG', `${a.name}: longer than ${MAX_STRING} characters`);
      return v;
    case 'body':
      if (v === null || v === undefined || v === 0 || v === 0n) return null;
      if (typeof v !== 'function') fail('EINVAL', `${a.name}: expected a thread body`);
      return v;
  }
}

/**
 * Check and convert a whole argument list against a call's spec (defaults fill what is left off),
 * into `out` when given (a scratch array of exactly the spec's length, overwritten slot by slot;
 * dispatch reuses one per call definition) or a new array. On failure `out` may be left part-written.
 */
export function convertArgs(k: Kernel, t: Thread, def: SyscallDef, raw: readonly RawArg[], out: unknown[] | null = null): unknown[] {
  const n = def.args.length;
  if (raw.length > n) fail('EINVAL', `${def.name} takes at most ${n} arguments, got ${raw.length}`);
  const values = out ?? [];
  for (let i = 0; i < n; i++) {
    const a = def.args[i];
    const v = raw[i];
    if (v === undefined) {
      if (a.default === undefined) fail('EINVAL', `${def.name}: missing argument ${a.name}`);
      values[i] = a.default;
    } else {
      values[i] = convertArg(k, t, a, v);
    }
  }
  return values;
}
