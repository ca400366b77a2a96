// The advisory lock on an image: FILE.lock, created exclusively, holding the holder's pid. A
// second sjmp on the same image fails with "image FILE is in use by pid N" — at once, or after
// waiting up to a given time for the holder to finish (polling); a lock file whose pid no longer
// runs is stale and taken over. Read-only users take the lock too (a writer could
// rename a new image in while they read, which is safe, but they would then report a machine
// that is no longer the file's — one holder at a time keeps the story simple).

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { ImageError } from './format.js';

export function lockPath(file: string): string {
  return `${file}.lock`;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockWait {
  /** Seconds to wait for a holder to let go before failing (0: fail at once). */
  seconds: number;
  /** Called about every 100 ms while waiting, with the holder and the milliseconds waited. */
  onWait?: (pid: number, waitedMs: number) => void;
}

const POLL_MS = 100;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Take the lock on `file`; returns the release function. ImageError "image FILE is in use by pid
 * N" when another live process holds it (after waiting up to `wait.seconds`, when given).
 */
export function lockImage(file: string, wait: LockWait = { seconds: 0 }): () => void {
  const start = Date.now();
  for (;;) {
    const r = tryLock(file);
    if (typeof r === 'function') return r;
    const waited = Date.now() - start;
    if (waited >= wait.seconds * 1000) {
      const err = new ImageError(file, '');
      err.message = `image ${file} is in use by pid ${r.pid}`;
      throw err;
    }
    wait.onWait?.(r.pid, waited);
    sleep(Math.min(POLL_MS, wait.seconds * 1000 - waited));
  }
}

/** One attempt: the release function, or the live holder's pid. */
function tryLock(file: string): (() => void) | { pid: number } {
  const path = lockPath(file);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ImageError(file, `cannot create lock ${path}: ${(e as Error).message}`);
      let text: string;
      try { text = readFileSync(path, 'utf8'); } catch { continue; /* released meanwhile */ }
      const pid = Number(text.trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && running(pid)) return { pid };
      // A half-written lock file (no pid yet) may be a holder between create and write: wait a little.
      if (text.trim() === '' && attempt < 2) { sleep(50); continue; }
      try { unlinkSync(path); } catch { /* someone else took it over */ }
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.removeListener('exit', release);
      try {
        if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
      } catch { /* already gone */ }
    };
    process.on('exit', release);
    return release;
  }
  throw new ImageError(file, `could not take the lock ${path}`);
}
