/* global process */
// How far from the raw loop can the GUPS batch rows go? Model-breaking ablations of the translation
// path, for docs/performance.md (emulator wall-clock only: every variant but `exact` is WRONG as a
// model and exists only to be timed). Each variant is a copy of a build's dist/ with one piece of
// Cpu's batch translation replaced by less work; each is run as `bench mmu --only ROW` in its own
// process and read as the ratio to that run's raw loop.
//
//   node bench/ceiling.mjs [DIST] [--rows gups-xor64-batch:4:4K,...] [--runs N] [--json]
//
// Variants, from least to most of the exact path:
//   host-map   a host Int32Array from page to frame: no TLB, no walk (the batch loop and data words)
//   walk-only  PageWalker.walk from CR3 on every element: no L1/STLB lookup, no PSC, no fill
//   no-fill    Cpu.walkAndFill without its TLB fill: PSC lookups and inserts, the walk, counters
//   no-lookup  Cpu.walkAndFill whole (PSC, walk, STLB + L1 fill), but no L1/STLB lookup before it
//   exact      the build as it is
// A patch that no longer matches its build's text (the code moved) stops the tool with the patch's
// name: update the patch, never let a variant run unpatched.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BATCH_TRANSLATE = `        const ok = this.tryTranslate(lo | 0, hi, access, true); // lo | 0: a Smi argument (see tryTranslate)
        if (ok && this.caches !== null)
            this.dataCacheAccess(this.pa);
        return ok;`;
const FILL = `const slot = tlb.fill(lo, hi, w.leafLevel, this.pcid, w.frameLo, w.frameHi, flags, w.pkey, stamp, missed);
        if (this.l1Uses[slot] !== 0)
            this.l1Uses[slot] = 0;`;
const IMPORT_ANCHOR = "import { formatAddr } from './units.js';";

/** [file under dist, exact text, replacement]: each must match exactly once. */
const VARIANTS = {
  'host-map': [
    ['mmu/cpu.js', IMPORT_ANCHOR, `${IMPORT_ANCHOR}\nconst CEILING_MAP = new Int32Array(1 << 20);`],
    ['mmu/cpu.js', BATCH_TRANSLATE, `        const i = (lo >>> 12) & 0xFFFFF;
        const f = CEILING_MAP[i];
        if (f !== 0) { this.pa = (f - 1) * 4096 + (lo & 4095); return true; }
        const ok = this.tryTranslate(lo | 0, hi, access, true);
        if (ok) CEILING_MAP[i] = Math.floor(this.pa / 4096) + 1;
        return ok;`],
  ],
  'walk-only': [
    ['mmu/cpu.js', BATCH_TRANSLATE, `        const w = this.walker;
        if (!w.walk(this.cr3Base, this.la57 ? 5 : 4, 3, lo | 0, hi, access, true, this.ctl)) return this.tryTranslate(lo | 0, hi, access, true);
        this.walks++;
        this.walkRefs += w.refs;
        this.pa = w.frameBase + (lo & (PAGE_BYTES[w.leafLevel] - 1));
        return true;`],
  ],
  'no-fill': [
    ['mmu/cpu.js', BATCH_TRANSLATE, '        return this.walkAndFill(lo | 0, hi, access, true, true);'],
    ['mmu/cpu.js', FILL, '/* ceiling: no fill */'],
  ],
  'no-lookup': [
    ['mmu/cpu.js', BATCH_TRANSLATE, '        return this.walkAndFill(lo | 0, hi, access, true, true);'],
  ],
  exact: [],
};

function usage(msg) {
  process.stderr.write(`ceiling: ${msg}\nusage: node bench/ceiling.mjs [DIST] [--rows gups-xor64-batch:4:4K,...] [--runs N] [--json]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let dist = 'dist';
let rows = ['gups-xor64-batch:4:4K', 'gups-xor64-batch:5:4K', 'gups-xor64-batch:4:2M'];
let runs = 2;
let json = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--rows') { const v = args[++i]; if (!v) usage('--rows needs a list'); rows = v.split(','); }
  else if (a === '--runs') { runs = Number(args[++i]); if (!Number.isInteger(runs) || runs < 1) usage('--runs needs a positive integer'); }
  else if (a === '--json') json = true;
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else dist = a;
}
dist = resolve(dist);
if (!existsSync(join(dist, 'bench', 'run.js'))) usage(`${dist} is not a build (no bench/run.js; run npm run build)`);
for (const r of rows) if (!/^gups-xor64-batch:[45]:(4K|2M)$/.test(r)) usage(`row ${r}: only gups-xor64-batch:{4,5}:{4K,2M} rows go through the batch translation these variants patch`);

const work = mkdtempSync(join(tmpdir(), 'sjmp-ceiling-'));
const dirs = {};
try {
  for (const [name, patches] of Object.entries(VARIANTS)) {
    const d = join(work, name);
    cpSync(dist, d, { recursive: true });
    for (const [file, from, to] of patches) {
      const p = join(d, file);
      const text = readFileSync(p, 'utf8');
      const n = text.split(from).length - 1;
      if (n !== 1) throw new Error(`variant ${name}: its patch of ${file} matches ${n} times (the build's code moved; update bench/ceiling.mjs)`);
      writeFileSync(p, text.replace(from, () => to));
    }
    dirs[name] = d;
  }
  const names = Object.keys(VARIANTS);
  const ratios = Object.fromEntries(rows.map((r) => [r, Object.fromEntries(names.map((n) => [n, []]))]));
  const raws = Object.fromEntries(rows.map((r) => [r, []]));
  for (let run = 0; run < runs; run++) {
    for (const row of rows) {
      // Alternate the order every run, so a drift in host load does not favour one end.
      for (const name of run % 2 === 0 ? names : [...names].reverse()) {
        if (process.stderr.isTTY) process.stderr.write(`\r[ceiling] run ${run + 1}/${runs} ${row} ${name}            `);
        const p = spawnSync(process.execPath, [join(dirs[name], 'bench', 'run.js'), 'mmu', '--only', row], { encoding: 'utf8' });
        const m = /([\d.]+) M\/s vs raw ([\d.]+) M\/s = ([\d.]+)/.exec(p.stderr ?? '');
        if (p.status !== 0 || !m) throw new Error(`variant ${name}, row ${row}: bench mmu failed (exit ${p.status}): ${(p.stderr ?? '').trim().split('\n').pop()}`);
        ratios[row][name].push(Number(m[3]));
        raws[row].push(Number(m[2]));
      }
    }
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  const out = {
    bench: 'ceiling',
    clock: 'emulator wall-clock: each ratio is a variant\'s rate over the raw loop of its own run (bench mmu, best call); ns/update = that ratio applied to the median raw rate of all runs',
    warning: 'every variant but exact breaks the model on purpose; timing only',
    build: dist,
    runs,
    rows: Object.fromEntries(rows.map((row) => {
      const rawNs = 1e3 / median(raws[row]);
      return [row, {
        medianRawNsPerUpdate: Number(rawNs.toFixed(1)),
        variants: Object.fromEntries(names.map((n) => [n, { ratios: ratios[row][n], medianRatio: median(ratios[row][n]), nsPerUpdate: Number((rawNs / median(ratios[row][n])).toFixed(1)) }])),
      }];
    })),
  };
  if (json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  else {
    process.stdout.write(`${out.clock}\n${out.warning}\n\n`);
    process.stdout.write(`${'variant'.padEnd(12)}${rows.map((r) => r.replace('gups-xor64-batch:', '').padStart(22)).join('')}\n`);
    for (const n of names) {
      process.stdout.write(`${n.padEnd(12)}${rows.map((r) => { const v = out.rows[r].variants[n]; return `${v.medianRatio.toFixed(3)} (${v.nsPerUpdate.toFixed(0)} ns)`.padStart(22); }).join('')}\n`);
    }
    process.stdout.write(`${'raw loop'.padEnd(12)}${rows.map((r) => `(${out.rows[r].medianRawNsPerUpdate.toFixed(0)} ns)`.padStart(22)).join('')}\n`);
  }
} catch (e) {
  process.stderr.write(`ceiling: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
