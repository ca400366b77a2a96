// An opt-in larger V8 inlining budget for long runs (SJMP_JIT_INLINE=1). Host-side only: the
// flags change which functions the optimising compiler inlines, never what the code computes
// (modelled counters and cycles are the same with and without them).
//
// Why opt-in: a TLB-missing access runs a chain of methods (Cpu.xor64Batch -> tryTranslate, with
// the TLB lookup written out in it -> TlbArray.insertFrom or walkAndFill -> PageWalker.walk). V8's default
// budget (460 bytes of bytecode per inlined callee, 920 cumulative per optimised function, 4600
// absolute) stops inlining part way; raising it compiles the whole miss path into the batch loop,
// GUPS batch 2M 145 -> 124 ns per update and 4K 321 -> 272 (process CPU time, same run). But V8
// then inlines that much everywhere: compiling `sjmp gups --design all` took 25.8 s of compiler
// time instead of 2.5 s, so that run (the README's `npm start`) was 20-45 % slower in wall-clock
// and short runs 1.5-3x slower (bench redis --quick 3.4 -> 8.5 s). Only runs long enough to repay
// the compiler (minutes of GUPS or sweeps) gain; docs/performance.md, fifth round.

import v8 from 'node:v8';

/** The flags applied; bigger budgets than these measured no faster and compile more. */
export const JIT_FLAGS = [
  '--max-inlined-bytecode-size=2000',
  '--max-inlined-bytecode-size-cumulative=8000',
  '--max-inlined-bytecode-size-absolute=12000',
] as const;

/** Set to 1 to apply JIT_FLAGS. */
export const JIT_INLINE_ENV = 'SJMP_JIT_INLINE';

let applied: readonly string[] | null = null;

/**
 * With SJMP_JIT_INLINE=1, raise the inlining budget for this process (workers share it). Call at
 * an entry point before the emulator runs hot, since V8 reads the flags when it optimises a
 * function. Returns the flags in effect (empty: V8's defaults), for results to record.
 */
export function tuneJit(): readonly string[] {
  if (applied !== null) return applied;
  applied = process.env[JIT_INLINE_ENV] === '1' ? JIT_FLAGS : [];
  if (applied.length > 0) v8.setFlagsFromString(applied.join(' '));
  return applied;
}

/** The flags tuneJit applied in this process (empty if none, or it was not called). */
export function jitFlags(): readonly string[] {
  return applied ?? [];
}
