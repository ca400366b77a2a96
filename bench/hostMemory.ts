// Host memory against presented memory: a machine presenting 1 TiB (and one presenting the
// documented maximum, 64 TiB) with 1 GiB touched, against the same work on a machine presenting
// 2 GiB, each in its own child process so their resident sizes do not mix. The emulator's host
// memory must follow what is touched, not what is presented (target: <= 1.3 GiB RSS at 1 TiB).
// Prints one JSON document; clocks: emulator wall-clock only (nothing modelled is compared here).

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kernel } from '../kernel/kernel.js';
import { GiB, MiB, TiB } from '../mmu/units.js';
import { syscall } from '../syscalls/dispatch.js';
import { MAP_ANON, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../syscalls/constants.js';

interface Sample { presented: string; touched: string; bootMs: number; touchMs: number; rssAfterBootMiB: number; rssAfterTouchMiB: number }

/** In the child: boot, map and touch, report. */
function measure(presentedBytes: number, touchBytes: number): Sample {
  const t0 = performance.now();
  const k = new Kernel({ memBytes: presentedBytes, cpus: 1 });
  const p = k.spawn('toucher', { uid: 1000, gid: 1000 });
  const t = p.threads[0];
  const t1 = performance.now();
  const rssBoot = process.memoryUsage().rss;
  const va = syscall(k, t, 'mmap', [0n, BigInt(touchBytes), BigInt(PROT_READ | PROT_WRITE), BigInt(MAP_PRIVATE | MAP_ANON)]);
  if (typeof va !== 'number' || va < 0) throw new Error(`mmap of ${touchBytes} bytes failed: ${String(va)}`);
  const cpu = k.enter(t);
  for (let off = 0; off < touchBytes; off += 4096) cpu.store64(va + off, off | 0, 1);
  const t2 = performance.now();
  const fmt = (b: number): string => (b >= TiB ? `${b / TiB}T` : `${b / GiB}G`);
  return {
    presented: fmt(presentedBytes), touched: fmt(touchBytes),
    bootMs: Math.round(t1 - t0), touchMs: Math.round(t2 - t1),
    rssAfterBootMiB: Math.round(rssBoot / MiB), rssAfterTouchMiB: Math.round(process.memoryUsage().rss / MiB),
  };
}

function inChild(presented: number, touched: number): Sample {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(presented), String(touched)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as Sample;
}

export function main(argv: string[]): void {
  const unknown = argv.find((a) => a !== '--quick');
  if (unknown !== undefined) throw new RangeError(`bench host-memory: unknown argument "${unknown}" (use --quick)`);
  const touched = argv.includes('--quick') ? 256 * MiB : GiB;
  const log = (s: string): void => { if (process.stderr.isTTY) process.stderr.write(`[bench host-memory] ${s}\n`); };
  log('baseline: 2G presented');
  const baseline = inChild(2 * GiB, touched);
  log('1T presented');
  const tera = inChild(TiB, touched);
  log('64T presented');
  const max = inChild(64 * TiB, touched);
  const doc = {
    bench: 'host-memory',
    node: process.version,
    clock: 'emulator wall-clock (host ms) and host resident set size; nothing modelled',
    baseline,
    runs: [tera, max].map((s) => ({
      ...s,
      rssRatioToBaseline: Number((s.rssAfterTouchMiB / baseline.rssAfterTouchMiB).toFixed(3)),
      bootMsOverBaseline: s.bootMs - baseline.bootMs,
    })),
    target: { presented: '1T', touched: '1G', rssAfterTouchMiB: 1.3 * 1024 },
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}

if (process.argv[2] === '--child') {
  process.stdout.write(JSON.stringify(measure(Number(process.argv[3]), Number(process.argv[4]))) + '\n');
}
