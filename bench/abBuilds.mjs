// Single-process A/B of two builds of the MMU bench kernels (emulator CPU time per update).
// BASE_DIST: e.g. `git worktree add /tmp/base <commit> && (cd /tmp/base && npm ci && npm run build)`, then /tmp/base/dist.
// Usage: node bench/abBuilds.mjs BASE_DIST NEW_DIST [spec ...] [--slices N] [--ms M] [--data-pa GIB]
//   spec = MODE:SIZE:KIND[:alias]  e.g. 4:4K:batch  4:2M:batch:alias  5:4K:single  4:4K:seq
//   (KIND batch | single: the GUPS kernels; seq: seq-load32, ns per load)
//   --data-pa GIB: the table's frames start at GIB GiB of physical memory (bench mmu's machine
//   puts them at 1 GiB; at 2 or more every physical address is >= 2^31, beyond a Smi), in a
//   machine of GIB + 1 GiB (the build's own PtBuilder maps them, as bench mmu's buildMachine does).
// Both builds run in this one process, in alternating slices (order flipped every slice), so a
// change in host load hits both alike. Prints ns/update (process CPU time) per build and spec, and
// the garbage collections (young generation) during its slices per million updates: the update
// loop allocates nothing, so anything above 0 is an allocation on the per-access path.
import path from 'node:path';
import process from 'node:process';
import { performance, PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import console from 'node:console';
import { setTimeout } from 'node:timers';
const args = process.argv.slice(2);
let slices = 12, ms = 250, dataGiB = 0;
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--slices') slices = Number(args[++i]);
  else if (args[i] === '--ms') ms = Number(args[++i]);
  else if (args[i] === '--data-pa') dataGiB = Number(args[++i]);
  else pos.push(args[i]);
}
// Young-generation collections, by time: each slice counts those that started inside it.
const gcTimes = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gcTimes.push(e.startTime);
}).observe({ entryTypes: ['gc'] });
// The observer's entries arrive some turns later: each run keeps its slices' windows, counted at the end.
const countGcs = (windows) => windows.reduce((n, [a, b]) => n + gcTimes.filter((t) => t >= a && t < b).length, 0);
const [baseDir, newDir, ...specs0] = pos;
const specs = specs0.length ? specs0 : ['4:4K:batch', '4:4K:single', '4:2M:batch', '5:4K:batch', '4:4K:batch:alias', '4:2M:batch:alias'];
const GiB = 2 ** 30, MiB = 2 ** 20;
async function load(dir) {
  const pm = await import(path.resolve(dir, 'mmu/physicalMemory.js'));
  const b = await import(path.resolve(dir, 'bench/mmu.js'));
  const cpuMod = await import(path.resolve(dir, 'mmu/cpu.js'));
  const ptb = await import(path.resolve(dir, 'test/mmu/ptBuilder.js'));
  return { pm, b, cpuMod, ptb };
}

/** bench mmu's buildMachine with the data frames at `dataPa` (no alias, no caches). */
function buildHigh({ cpuMod, ptb }, mem, mode, size, dataPa) {
  const pt = new ptb.PtBuilder(mem, mode, { base: 16 * MiB, limit: 20 * MiB });
  const va = mode === 5 ? 2 ** 52 : 0x7f00_0000_0000;
  const step = size === '4K' ? 4096 : 2 * MiB;
  for (let off = 0; off < 256 * MiB; off += step) pt.map(va + off, dataPa + off, { size, writable: true, user: true });
  const cpu = new cpuMod.Cpu(mem, { paging: mode });
  cpu.writeCr3(pt.root);
  return { cpu, va };
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
  const runs = builds.map((bld) => {
    const { pm, b } = bld;
    if (dataGiB > 0 && alias) throw new Error('--data-pa with an alias spec is not supported');
    const mem = new pm.PhysicalMemory({ bytes: dataGiB > 0 ? (dataGiB + 1) * GiB : 2 * GiB, nodes: 1 });
    const m = dataGiB > 0
      ? buildHigh(bld, mem, Number(mode), size, dataGiB * GiB)
      : b.buildMachine(mem, Number(mode), size, 16 * MiB, alias ? (size === '4K' ? 64 * 1024 : 2 * MiB) : 0);
    // seq: bench mmu's seq-load32 kernel (sequential 32-bit loads over SEQ_BYTES, TLB hits), `ops` loads
    const f = kind === 'batch' ? b.gupsMmuBatch : kind === 'seq' ? (cpu, va, _mask, ops) => b.seqMmu(cpu, va, b.SEQ_BYTES, ops / (b.SEQ_BYTES / 4)) : b.gupsMmu;
    f(m.cpu, m.va, mask, 500_000);
    return { m, f, cpu: 0, n: 0, windows: [] };
  });
  for (let s = 0; s < slices; s++) {
    for (const k of (s & 1) ? [1, 0] : [0, 1]) {
      const r = runs[k];
      const c0 = process.cpuUsage(); const w0 = performance.now();
      const ops = kind === 'seq' ? 64 * 32768 : 50_000;
      while (performance.now() - w0 < ms) { r.f(r.m.cpu, r.m.va, mask, ops); r.n += ops; }
      const c = process.cpuUsage(c0); r.cpu += c.user + c.system;
      r.windows.push([w0, performance.now()]);
    }
  }
  const ns = runs.map((r) => (r.cpu * 1000) / r.n);
  await new Promise((r) => setTimeout(r, 200));
  const gc = runs.map((r) => ((countGcs(r.windows) * 1e6) / r.n).toFixed(2));
  console.log(`${spec.padEnd(18)} ${names[0]} ${ns[0].toFixed(1)} ns  ${names[1]} ${ns[1].toFixed(1)} ns  new/base ${(ns[1] / ns[0]).toFixed(3)}  young GCs per M updates: ${names[0]} ${gc[0]}, ${names[1]} ${gc[1]}`);
  for (const r of runs) r.m = null;
}
