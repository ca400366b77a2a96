// Machine-image benchmark: save and load a machine holding one segment (2 MiB pages) fully
// written, and report MB/s of segment contents, stored plain (format version 1) and compressed
// (version 2, zlib level 1), with the image sizes. The contents are half incompressible (every
// other 2 MiB page holds pseudo-random bytes) and half a repeated byte, so neither case is the
// best one. Host wall-clock only (saving and loading charge no modelled cycles worth reporting).
// Baseline measured in the same run on the same folder: writing the same number of bytes with
// node:fs and an fsync, and reading them back. Prints one JSON document on stdout; progress on
// stderr when it is a TTY.

import { mkdtempSync, openSync, writeSync, fsyncSync, closeSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kernel } from '../kernel/kernel.js';
import { RESERVED_START } from '../kernel/layout.js';
import { SEG_2M } from '../kernel/spacejmp/spacejmp.js';
import { saveImage, loadImage } from '../lab/image/image.js';
import { MiB, GiB, parseSize, formatSize } from '../mmu/units.js';

function parseArgs(argv: string[]): { size: number; dir: string | null } {
  const a = { size: 512 * MiB, dir: null as string | null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--size' && v) { a.size = parseSize(v); i++; }
    else if (k === '--dir' && v) { a.dir = v; i++; }
    else if (k === '--quick') a.size = 64 * MiB;
    else throw new RangeError(`bench image: bad argument "${k}" (use --size SIZE (e.g. 2G), --dir FOLDER, --quick)`);
  }
  if (a.size % (2 * MiB) !== 0) throw new RangeError('bench image: --size must be a multiple of 2M');
  return a;
}

const progress = (s: string) => { if (process.stderr.isTTY) process.stderr.write(`\r${s}\x1b[K`); };

export function main(argv: string[]): void {
  const args = parseArgs(argv);
  const dir = mkdtempSync(join(args.dir ?? tmpdir(), 'sjmp-bench-image-'));
  try {
    const k = new Kernel({ memBytes: Math.max(1 * GiB, Math.ceil((args.size + 256 * MiB) / GiB) * GiB) });
    const t = k.spawn('writer', { uid: 0, gid: 0 }).threads[0];
    const sid = k.spacejmp.segAlloc(t, 'big', RESERVED_START, args.size, 0o644, SEG_2M);
    progress(`filling ${formatSize(args.size)}`);
    const noise = Buffer.alloc(2 * MiB);
    let x = 0x9e3779b9;
    for (let i = 0; i < noise.length; i += 4) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; noise.writeUInt32LE(x, i); }
    let v = 1;
    for (const pa of k.spacejmp.segments.get(sid)!.object.pages.values()) {
      if (v++ % 2) k.mem.writeBytes(pa, noise);
      else k.mem.fill(pa, 2 * MiB, (v & 0xff) || 1);
    }
    const run = (compress: boolean) => {
      const file = join(dir, compress ? 'big-z.img' : 'big.img');
      progress(`saving${compress ? ' (compressed)' : ''}`);
      let t0 = performance.now();
      const bytes = saveImage(k, file, { live: true, compress });
      const saveMs = performance.now() - t0;
      progress(`loading${compress ? ' (compressed)' : ''}`);
      t0 = performance.now();
      loadImage(file);
      const loadMs = performance.now() - t0;
      rmSync(file);
      return { bytes, saveMs, loadMs };
    };
    const plain = run(false);
    const packed = run(true);
    const bytes = plain.bytes;
    let t0: number;
    progress('baseline');
    const raw = join(dir, 'raw.bin');
    const buf = Buffer.alloc(MiB, 0x5a);
    t0 = performance.now();
    const fd = openSync(raw, 'w');
    for (let off = 0; off < bytes; off += MiB) writeSync(fd, buf, 0, Math.min(MiB, bytes - off));
    fsyncSync(fd);
    closeSync(fd);
    const rawWriteMs = performance.now() - t0;
    t0 = performance.now();
    const rfd = openSync(raw, 'r');
    while (readSync(rfd, buf) > 0) { /* read it all */ }
    closeSync(rfd);
    const rawReadMs = performance.now() - t0;
    progress('');
    const mbps = (b: number, ms: number) => +((b / MiB) / (ms / 1000)).toFixed(1);
    process.stdout.write(JSON.stringify({
      benchmark: 'image', clock: 'emulator host wall-clock', segmentBytes: args.size,
      contents: 'half pseudo-random 2 MiB pages, half a repeated byte',
      imageBytes: bytes,
      save: { ms: +plain.saveMs.toFixed(1), MBps: mbps(args.size, plain.saveMs) },
      load: { ms: +plain.loadMs.toFixed(1), MBps: mbps(args.size, plain.loadMs) },
      compressed: {
        imageBytes: packed.bytes, sizeToPlain: +(packed.bytes / plain.bytes).toFixed(3),
        save: { ms: +packed.saveMs.toFixed(1), MBps: mbps(args.size, packed.saveMs) },
        load: { ms: +packed.loadMs.toFixed(1), MBps: mbps(args.size, packed.loadMs) },
        speedToPlain: { save: +(plain.saveMs / packed.saveMs).toFixed(3), load: +(plain.loadMs / packed.loadMs).toFixed(3) },
      },
      baseline: { writeFsyncMBps: mbps(bytes, rawWriteMs), readMBps: mbps(bytes, rawReadMs) },
      ratios: { saveToRawWrite: +(rawWriteMs / plain.saveMs).toFixed(3), loadToRawRead: +(rawReadMs / plain.loadMs).toFixed(3) },
    }, null, 2) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
