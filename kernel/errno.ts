// errno values (Linux numbering) and the error the kernel throws internally; the syscall layer
// turns it into a -errno return, so a failed call reaches the caller as a number and changes nothing.

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EPIPE: 32,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  EOVERFLOW: 75,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const NAMES: Record<number, ErrnoName> = Object.fromEntries(Object.entries(ERRNO).map(([k, v]) => [v, k])) as Record<number, ErrnoName>;

/** Symbolic name of errno `n` (sign ignored): "ENOENT"; `E<n>` for a number with no name. */
export function errnoName(n: number): string {
  return NAMES[Math.abs(n)] ?? `E${Math.abs(n)}`;
}

/** The errno value of a symbolic name, or undefined when there is no such errno. */
export function errnoValue(name: string): number | undefined {
  return (ERRNO as Record<string, number>)[name];
}

/** Thrown inside the kernel; caught at the syscall boundary and returned as -errno. */
export class SysError extends Error {
  constructor(readonly errno: number, message?: string) {
    super(`${errnoName(errno)}${message ? ': ' + message : ''}`);
    this.name = 'SysError';
  }
}

/** Abandon the current kernel operation with errno `name`: throws SysError, which the syscall
 *  boundary turns into -errno. Callers check before they change state, so failing changes nothing. */
export function fail(name: ErrnoName, message?: string): never {
  // Without a stack trace: capturing one was ~90 % of a failing call's host time (~6 µs of a
  // 7 µs munmap that fails EINVAL), and the system-call boundary turns the error into -errno
  // without reading it (a panic report's stack is for errors that are not SysErrors).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let e: SysError;
  try {
    e = new SysError(ERRNO[name], message);
  } finally {
    Error.stackTraceLimit = limit;
  }
  throw e;
}
