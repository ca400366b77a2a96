// A sweep worker thread: answers each {argv} with what `sjmp ARGV` printed and its exit code,
// running the CLI in this thread (one machine at a time). stdout and stderr writes are captured;
// process.exitCode is reset between points so one point's status never leaks into the next.

import { parentPort } from 'node:worker_threads';
import { main } from './cli.js';

type Write = typeof process.stdout.write;

async function runPoint(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; wallMs: number }> {
  let out = '';
  let err = '';
  const realOut = process.stdout.write.bind(process.stdout) as Write;
  const realErr = process.stderr.write.bind(process.stderr) as Write;
  process.stdout.write = ((chunk: string | Uint8Array) => { out += String(chunk); return true; }) as Write;
  process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as Write;
  process.exitCode = undefined;
  const t0 = performance.now();
  let code: number;
  try {
    code = await main(['node', 'sjmp', ...argv]);
  } catch (e) {
    err += `${(e as Error).message}\n`;
    code = 1;
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
  process.exitCode = undefined;
  return { code, stdout: out, stderr: err, wallMs: performance.now() - t0 };
}

parentPort?.on('message', (m: { argv: string[] }) => {
  void runPoint(m.argv).then((r) => parentPort!.postMessage(r));
});
