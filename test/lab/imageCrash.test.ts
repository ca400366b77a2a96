// Crash safety of saveImage: a child process saves two different machines (A, B) over one image
// again and again; the test kills it with SIGKILL at random moments. Afterwards the image is
// always a complete image of A or of B (every checksum verified), never a mix or a torn file,
// whether the saves are plain or compressed.
// A small number of iterations keeps it fast; each kill lands at a random point of a ~32 MiB save.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImageInfo } from '../../lab/image/image.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Runs on the built dist/ (test/globalSetup.ts builds it).
const CHILD = `
const { Kernel } = await import(${JSON.stringify(join(root, 'dist/kernel/kernel.js'))});
const { saveImage } = await import(${JSON.stringify(join(root, 'dist/lab/image/image.js'))});
const { RESERVED_START } = await import(${JSON.stringify(join(root, 'dist/kernel/layout.js'))});
const file = process.argv[1];
function machine(name, fill) {
  const k = new Kernel({ memBytes: 2 ** 30 });
  const t = k.spawn('w', { uid: 0, gid: 0 }).threads[0];
  const sid = k.spacejmp.segAlloc(t, name, RESERVED_START, 32 * 2 ** 20, 0o644, 1);
  const seg = k.spacejmp.segments.get(sid);
  for (const pa of seg.object.pages.values()) k.mem.fill(pa, 2 ** 21, fill);
  return k;
}
let n = 0;
process.stdout.write('ready\\n');
// Every other pair of saves compressed (format version 2): both write paths are killed midway.
for (;;) { const c = (n & 2) !== 0; saveImage(machine(n % 2 ? 'B' : 'A', n++ % 2 ? 0xbb : 0xaa), file, { compress: c }); }
`;

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'sjmp-image-crash-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function killAt(file: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', CHILD, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => { err += String(d); });
    c.stdout.once('data', () => setTimeout(() => c.kill('SIGKILL'), ms));
    c.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

describe('saveImage under SIGKILL', () => {
  it('leaves the complete old image or the complete new one', async () => {
    const file = join(dir, 'crash.img');
    let seen = 0;
    for (let i = 0; i < 6; i++) {
      await killAt(file, 100 + Math.floor(Math.random() * 1500));
      if (!existsSync(file)) continue; // killed before the first rename: no image yet, never a partial one
      const info = readImageInfo(file); // throws on any torn or mixed file
      expect(info.segments.map((s) => s.name)).toHaveLength(1);
      expect(['A', 'B']).toContain(info.segments[0].name);
      expect(info.blocks).toBe(32 * 256);
      seen++;
    }
    expect(seen).toBeGreaterThan(0);
    // Each save removes the temporary files of killed saves: at most the last one is left.
    expect(readdirSync(dir).filter((n) => n.startsWith('.crash.img.tmp-')).length).toBeLessThanOrEqual(1);
  }, 120_000);
});
