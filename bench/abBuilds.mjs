// Single-process A/B of two builds of the MMU bench kernels (emulator CPU time per update).
// BASE_DIST: e.g. `git worktree add /tmp/base <commit> && (cd /tmp/base && npm ci && npm run build)`, then /tmp/base/dist.
// Usage: node bench/abBuilds.mjs BASE_DIST NEW_DIST [spec ...] [--slices N] [--ms M]
//   spec = MODE:SIZE:KIND[:alias]  e.g. 4:4K:batch  4:2M:batch:alias  5:4K:single
// Both builds run in this one process, in alternating slices (order flipped every slice), so a
// change in host load hits both alike. Prints ns/update (process CPU time) per build and spec.
import path from 'node:path';
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import console from 'node:console';
const args = process.argv.slice(2);
let slices = 12, ms = 250;
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--slices') slices = Number(args[++i]);
  else if (args[i] === '--ms') ms = Number(args[++i]);
  else pos.push(args[i]);
}
const [baseDir, newDir, ...specs0] = pos;
const specs = specs0.length ? specs0 : ['4:4K:batch', '4:4K:single', '4:2M:batch', '5:4K:batch', '4:4K:batch:alias', '4:2M:batch:alias'];
const GiB = 2 ** 30, MiB = 2 ** 20;
async function load(dir) {
  const pm = await import(path.resolve(dir, 'mmu/physicalMemory.js'));
  const b = await import(path.resolve(dir, 'bench/mmu.js'));
  return { pm, b };
}
// Both builds run under the V8 flags the entry points would set (mmu/jitTuning.ts: V8's defaults
// unless SJMP_JIT_INLINE=1), taken from the new build when it has them.
try {
  const { tuneJit } = await import(path.resolve(newDir, 'mmu/jitTuning.js'));
  console.log(`v8 flags: ${tuneJit().join(' ') || '(defaults)'}`);
} catch { console.log('v8 flags: (defaults; the new build has no mmu/jitTuning.js)'); }
const builds = [await load(baseDir), await load(newDir)];
const names = ['base', 'new'];
const mask = 256 * MiB / 8 - 1;
for (const spec of specs) {
  const [mode, size, kind, alias] = spec.split(':');
  const runs = builds.map(({ pm, b }) => {
    const mem = new pm.PhysicalMemory({ bytes: 2 * GiB, nodes: 1 });
    const m = b.buildMachine(mem, Number(mode), size, 16 * MiB, alias ? (size === '4K' ? 64 * 1024 : 2 * MiB) : 0);
    const f = kind === 'batch' ? b.gupsMmuBatch : b.gupsMmu;
    f(m.cpu, m.va, mask, 500_000);
    return { m, f, cpu: 0, n: 0 };
  });
  for (let s = 0; s < slices; s++) {
    for (const k of (s & 1) ? [1, 0] : [0, 1]) {
      const r = runs[k];
      const c0 = process.cpuUsage(); const w0 = performance.now();
      while (performance.now() - w0 < ms) { r.f(r.m.cpu, r.m.va, mask, 50_000); r.n += 50_000; }
      const c = process.cpuUsage(c0); r.cpu += c.user + c.system;
    }
  }
  const ns = runs.map((r) => (r.cpu * 1000) / r.n);
  console.log(`${spec.padEnd(18)} ${names[0]} ${ns[0].toFixed(1)} ns  ${names[1]} ${ns[1].toFixed(1)} ns  new/base ${(ns[1] / ns[0]).toFixed(3)}`);
  for (const r of runs) r.m = null;
}
