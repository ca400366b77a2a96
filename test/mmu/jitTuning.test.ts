// tuneJit (mmu/jitTuning.ts) as the entry points use it: in a fresh process (V8 flags are
// process-wide), it keeps V8's defaults unless SJMP_JIT_INLINE=1 asks for the larger inlining
// budget, and reports what it applied, which benchmarks record in their JSON.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const mod = fileURLToPath(new URL('../../dist/mmu/jitTuning.js', import.meta.url));
const script = `const j = await import(${JSON.stringify(mod)}); const a = j.tuneJit(); const b = j.tuneJit(); console.log(JSON.stringify({ a, b, later: j.jitFlags(), all: j.JIT_FLAGS }));`;

function runWith(env: Record<string, string>): { a: string[]; b: string[]; later: string[]; all: string[] } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { a: string[]; b: string[]; later: string[]; all: string[] };
}

describe('tuneJit', () => {
  it('with SJMP_JIT_INLINE=1 applies the inlining flags once and reports them', () => {
    const r = runWith({ SJMP_JIT_INLINE: '1' });
    expect(r.a).toEqual(r.all);
    expect(r.a.every((f) => /^--max-inlined-bytecode-size(-cumulative|-absolute)?=\d+$/.test(f))).toBe(true);
    expect(r.b).toEqual(r.a);
    expect(r.later).toEqual(r.a);
  });

  it('keeps V8 defaults otherwise', () => {
    const r = runWith({ SJMP_JIT_INLINE: '' });
    expect(r.a).toEqual([]);
    expect(r.later).toEqual([]);
  });
});
