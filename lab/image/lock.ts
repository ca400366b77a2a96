// The advisory lock on an image: FILE.lock, created exclusively, holding the holder's pid. A
// second sjmp on the same image fails with "image FILE is in use by pid N"; a lock file whose pid
// no longer runs is stale and taken over. Read-only users take the lock too (a writer could
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

/** Take the lock on `file`; returns the release function. ImageError when another live process holds it. */
export function lockImage(file: string): () => void {
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
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && running(pid)) {
        const err = new ImageError(file, '');
        err.message = `image ${file} is in use by pid ${pid}`;
        throw err;
      }
      // A half-written lock file (no pid yet) may be a holder between create and write: wait a little.
      if (text.trim() === '' && attempt < 2) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); continue; }
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
