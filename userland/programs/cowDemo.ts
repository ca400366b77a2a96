// The smallest program that shows copy-on-write: allocate, write, fork; the child checks it sees
// the parent's value, writes its own and reports what it sees through a pipe; the parent checks
// its copy is unchanged, that the child saw its own write, and waits for it. Exit 0 on success;
// any other code names the check that failed.

import type { ThreadBody } from '../../syscalls/abi.js';
import type { Runtime } from '../runtime.js';

export const name = 'cowDemo';

const PARENT_VALUE = 0x1111_1111;
const CHILD_VALUE = 0x2222_2222;

export function* main(rt: Runtime): ThreadBody {
  const cell = rt.malloc(64);
  if (cell === 0) return 1;
  rt.store32(cell, PARENT_VALUE);
  const [rd, wr] = rt.pipe();

  const child = rt.fork(function* (c: Runtime): ThreadBody {
    c.close(rd);
    if (c.load32(cell) !== PARENT_VALUE) return 2; // the child starts with the parent's data
    c.store32(cell, CHILD_VALUE); // copy-on-write: this page becomes the child's own
    yield* c.write(wr, cell, 4); // tell the parent what the child now sees
    c.close(wr);
    return 0;
  });

  rt.close(wr);
  const report = rt.malloc(16);
  const n = yield* rt.read(rd, report, 4);
  if (n !== 4) return 3;
  if (rt.load32(report) !== CHILD_VALUE) return 4; // the child saw its own write
  if (rt.load32(cell) !== PARENT_VALUE) return 5; // ... and the parent's copy is unchanged
  if ((yield* rt.read(rd, report, 4)) !== 0) return 6; // end of file once the child closed its end

  const w = yield* rt.wait(child);
  if (!w.exited || w.code !== 0) return 10 + (w.exited ? w.code : 50);
  rt.free(report);
  rt.free(cell);
  return 0;
}
