// Symbolic constants of the syscall ABI, by name: what programs pass, what strace prints, and what
// the trace language's uppercase names can resolve to.

import { MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANON, MAP_EXCL, MAP_POPULATE } from '../kernel/vm/vmspace.js';
import { PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC } from '../kernel/vm/vmMap.js';

export { MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANON, MAP_EXCL, MAP_POPULATE, PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC };
export const MAP_ANONYMOUS = MAP_ANON;

/** open(2) flags (Linux values). */
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_KNOWN = O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC;

/** waitpid(2) options. */
export const WNOHANG = 1;

export const PROT_FLAGS: readonly (readonly [string, number])[] = [['PROT_READ', PROT_READ], ['PROT_WRITE', PROT_WRITE], ['PROT_EXEC', PROT_EXEC]];
export const MAP_FLAGS: readonly (readonly [string, number])[] = [
  ['MAP_SHARED', MAP_SHARED], ['MAP_PRIVATE', MAP_PRIVATE], ['MAP_FIXED', MAP_FIXED],
  ['MAP_ANON', MAP_ANON], ['MAP_EXCL', MAP_EXCL], ['MAP_POPULATE', MAP_POPULATE],
];
export const OPEN_FLAGS: readonly (readonly [string, number])[] = [['O_CREAT', O_CREAT], ['O_EXCL', O_EXCL], ['O_TRUNC', O_TRUNC]];

/** Every named constant, for the trace language and the shell's completion. */
export const CONSTANTS: Readonly<Record<string, number>> = {
  PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC,
  NONE: PROT_NONE, R: PROT_READ, W: PROT_WRITE, X: PROT_EXEC,
  RW: PROT_READ | PROT_WRITE, RX: PROT_READ | PROT_EXEC, RWX: PROT_READ | PROT_WRITE | PROT_EXEC,
  MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANON, MAP_ANONYMOUS, MAP_EXCL, MAP_POPULATE,
  O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC,
  WNOHANG,
};

/** "PROT_READ|PROT_WRITE", "PROT_NONE"; unknown bits in hex. */
export function formatBits(v: number, names: readonly (readonly [string, number])[], zero: string): string {
  const parts: string[] = [];
  let rest = v;
  for (const [n, bit] of names) {
    if ((v & bit) === bit && bit !== 0) {
      parts.push(n);
      rest &= ~bit;
    }
  }
  if (rest !== 0) parts.push(`0x${rest.toString(16)}`);
  return parts.length ? parts.join('|') : zero;
}

export function formatProt(v: number): string {
  return formatBits(v, PROT_FLAGS, 'PROT_NONE');
}

export function formatMapFlags(v: number): string {
  return formatBits(v, MAP_FLAGS, '0');
}

/** A permission mode in octal as chmod and strace write it: 0644, 0660, 000. */
export function formatMode(v: number): string {
  const o = v.toString(8).padStart(3, '0');
  return o.startsWith('0') ? o : '0' + o;
}

/** waitpid options: 0 or WNOHANG. */
export function formatWaitOptions(v: number): string {
  return formatBits(v, [['WNOHANG', WNOHANG]], '0');
}

export function formatOpenFlags(v: number): string {
  const acc = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][v & O_ACCMODE];
  const rest = formatBits(v & ~O_ACCMODE, OPEN_FLAGS, '');
  return rest ? `${acc}|${rest}` : acc;
}
