// V8's inlining budget for the emulator's access path. Host-side only: these flags change which
// functions the optimising compiler inlines, never what the code computes (modelled counters and
// cycles are the same with and without them; the golden-counter test runs with them set).
//
// Why: a TLB-missing access runs a chain of small methods (Cpu.xor64Batch -> tryTranslate ->
// Tlb.lookup -> TlbArray.find / insertFrom -> walkAndFill -> PageWalker.walk). With V8's default
// budget (460 bytes of bytecode per inlined callee, 920 cumulative per optimised function, 4600
// absolute) inlining stops part way, so most accesses pay several real calls, each spilling and
// reloading the state the caller keeps in registers. Raising the budget lets the whole miss path
// compile into the batch loop: GUPS batch 2M ~190 -> ~145 ns per update, 4K ~410 -> ~320 ns
// (process CPU time, same run; docs/performance.md, fifth round).

import v8 from 'node:v8';

/** The flags applied; bigger budgets than these measured no faster and compile more. */
export const JIT_FLAGS = [
  '--max-inlined-bytecode-size=2000',
  '--max-inlined-bytecode-size-cumulative=8000',
  '--max-inlined-bytecode-size-absolute=12000',
] as const;

/** Set to 1 to keep V8's defaults (to measure what the flags buy). */
export const JIT_DEFAULTS_ENV = 'SJMP_JIT_DEFAULTS';

let applied: readonly string[] | null = null;

/**
 * Raise the inlining budget for this process (workers share it). Call at an entry point before
 * the emulator runs hot, since V8 reads the flags when it optimises a function. Returns the flags
 * in effect (empty when SJMP_JIT_DEFAULTS=1), for results to record.
 */
export function tuneJit(): readonly string[] {
  if (applied !== null) return applied;
  applied = process.env[JIT_DEFAULTS_ENV] === '1' ? [] : JIT_FLAGS;
  if (applied.length > 0) v8.setFlagsFromString(applied.join(' '));
  return applied;
}

/** The flags tuneJit applied in this process (empty if none, or it was not called). */
export function jitFlags(): readonly string[] {
  return applied ?? [];
}
