// Runs sweep points on worker threads: each worker takes one point at a time (an argv for
// `sjmp`), runs it in-process and answers with what the program printed. Results come back in
// the order points finish; a point that throws or exits non-zero is a failed point, never a
// failed sweep.

import { Worker } from 'node:worker_threads';
import { cpus } from 'node:os';

export interface PointJob { index: number; argv: string[] }
export interface PointOutcome { index: number; code: number; stdout: string; stderr: string; wallMs: number }

export const defaultJobs = (): number => Math.max(1, cpus().length);

/**
 * Run `jobs` in `workers` threads of `workerUrl` (a module that answers {argv} with a
 * PointOutcome); `onDone` is called as each point finishes. Resolves when all are done, or when
 * `signal` aborts (running points are abandoned with their workers).
 */
export async function runPool(workerUrl: URL, jobs: PointJob[], workers: number, onDone: (o: PointOutcome) => void, signal?: AbortSignal): Promise<void> {
  const queue = [...jobs];
  const n = Math.max(1, Math.min(workers, queue.length));
  const pool: Worker[] = [];
  const stopAll = (): void => { for (const w of pool) void w.terminate(); };
  signal?.addEventListener('abort', stopAll, { once: true });
  const round = (): Promise<unknown> => Promise.all(Array.from({ length: Math.max(1, Math.min(n, queue.length)) }, () => new Promise<void>((resolve, reject) => {
      const worker = new Worker(workerUrl);
      pool.push(worker);
      let current: PointJob | undefined;
      const next = (): void => {
        current = signal?.aborted ? undefined : queue.shift();
        if (!current) { void worker.terminate().then(() => resolve()); return; }
        worker.postMessage({ argv: current.argv });
      };
      worker.on('message', (m: Omit<PointOutcome, 'index'>) => {
        onDone({ ...m, index: current!.index });
        next();
      });
      worker.on('error', (e) => {
        // The worker died (out of memory, a crash): the point fails, the thread is replaced.
        if (current) onDone({ index: current.index, code: 1, stdout: '', stderr: `worker died: ${e.message}`, wallMs: 0 });
        reject(e);
      });
      worker.on('exit', () => resolve());
      next();
    }).catch(() => undefined)));
  try {
    // A worker that dies ends its own loop; whatever it left in the queue runs in a new round.
    while (queue.length > 0 && !signal?.aborted) await round();
  } finally {
    signal?.removeEventListener('abort', stopAll);
  }
}
