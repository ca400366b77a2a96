// The one evaluator of trace-language expressions, shared by the trace runner and the interactive
// shell so a value means the same wherever it is typed: numbers are exact bigints, names are the
// script's variables, a process name is that process's pid, uppercase words are the runner's
// constants. Arithmetic is exact; a value becomes a 64-bit pattern only where it is used (a store
// truncates, an expectation compares modulo 2^64), so `-1` stays -1 until then.

import type { Expr, Span } from './ast.js';

/** An expression that cannot be evaluated: reported as `file:line:col: message` at span. */
export class EvalError extends Error {
  constructor(readonly span: Span, message: string) {
    super(message);
  }
}

/** Where an evaluation looks names up. */
export interface EvalEnv {
  /** A bound script variable, or undefined. */
  name(name: string): bigint | string | undefined;
  /** The pid of the process called `name`, or undefined (process names are usable as pids). */
  pid?(name: string): number | undefined;
  /** The value of an uppercase constant, or undefined. */
  constant(name: string): number | bigint | undefined;
}

export function evaluate(e: Expr, env: EvalEnv): bigint | string {
  switch (e.kind) {
    case 'number': return e.value;
    case 'string': return e.value;
    case 'name': {
      const v = env.name(e.name);
      if (v !== undefined) return v;
      const pid = env.pid?.(e.name);
      if (pid !== undefined) return BigInt(pid);
      throw new EvalError(e.span, `'${e.name}' has no value`);
    }
    case 'const': {
      const v = env.constant(e.name);
      if (v === undefined) throw new EvalError(e.span, `unknown constant ${e.name}`);
      return BigInt(v);
    }
    case 'neg': return -evaluateNumber(e.operand, env);
    case 'binary': {
      const l = evaluateNumber(e.left, env);
      const r = evaluateNumber(e.right, env);
      return e.op === '+' ? l + r : e.op === '-' ? l - r : e.op === '*' ? l * r : l | r;
    }
  }
}

export function evaluateNumber(e: Expr, env: EvalEnv): bigint {
  const v = evaluate(e, env);
  if (typeof v === 'string') throw new EvalError(e.span, 'expected a number, got a string');
  return v;
}

/** Two values are the same 64-bit pattern (two's complement: -1 equals 0xffff_ffff_ffff_ffff). */
export function sameBits(a: bigint, b: bigint, width = 64): boolean {
  return BigInt.asUintN(width, a) === BigInt.asUintN(width, b);
}
