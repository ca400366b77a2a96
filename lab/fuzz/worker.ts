// A worker thread of `sjmp fuzz --jobs N`: runs one seed and posts progress and the result.

import { parentPort, workerData } from 'node:worker_threads';
import { runSeed, DEFAULT_FUZZ } from './fuzz.js';
import type { Phase } from './program.js';

interface Task { seed: number; calls: number; phases: Phase[]; invariantsEvery: number; programCalls: number; shrinkMs: number }

const t = workerData as Task;
let last = 0;
const result = runSeed({
  ...t, maxFailures: DEFAULT_FUZZ.maxFailures,
  onProgress: (calls, failures) => {
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    parentPort!.postMessage({ type: 'progress', calls, failures });
  },
});
parentPort!.postMessage({ type: 'done', result });
