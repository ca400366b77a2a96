// The one evaluator of trace-language expressions, shared by the trace runner and the interactive
// shell so a value means the same wherever it is typed: numbers are exact bigints, names are the
// script's variables, a process name is that process's pid, uppercase words are the runner's
// constants. Arithmetic is exact; a value becomes a 64-bit pattern only where it is used (a store
// truncates, an expectation compares modulo 2^64), so `-1` stays -1 until then.
//
// A double (`0.5`, `2.0`, `NaN`, `Infinity`) stays a JS number: a call receives it as the double
// it is, which is how a program passes NaN, ±Infinity, a fraction or an integer beyond 2^53 (the
// system-call boundary must reject those, not the script). Arithmetic with a double is done in
// doubles; `|` is for integers only. Where only an integer makes sense (addresses, stored values,
// expectations) a double is accepted when it is a safe integer and is an error otherwise.

import type { Expr, Span } from './ast.js';

/** An expression that cannot be evaluated: reported as `file:line:col: message` at span. */
export class EvalError extends Error {
  constructor(readonly span: Span, message: string) {
    super(message);
  }
}

/** What an expression evaluates to: an exact integer, a string, or a double (see above). */
export type Value = bigint | string | number;

/** Where an evaluation looks names up. */
export interface EvalEnv {
  /** A bound script variable, or undefined. */
  name(name: string): Value | undefined;
  /** The pid of the process called `name`, or undefined (process names are usable as pids). */
  pid?(name: string): number | undefined;
  /** The value of an uppercase constant, or undefined. */
  constant(name: string): number | bigint | undefined;
}

export function evaluate(e: Expr, env: EvalEnv): Value {
  switch (e.kind) {
    case 'number': return e.value;
    case 'float': return e.value;
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
    case 'neg': {
      const v = arithmetic(e.operand, env);
      return typeof v === 'number' ? -v : -v;
    }
    case 'binary': {
      const l = arithmetic(e.left, env);
      const r = arithmetic(e.right, env);
      if (typeof l === 'bigint' && typeof r === 'bigint') return e.op === '+' ? l + r : e.op === '-' ? l - r : e.op === '*' ? l * r : l | r;
      if (e.op === '|') throw new EvalError(e.span, `'|' needs integers, got ${formatValue(typeof l === 'number' ? l : r)}`);
      const a = Number(l);
      const b = Number(r);
      return e.op === '+' ? a + b : e.op === '-' ? a - b : a * b;
    }
  }
}

/** An operand of arithmetic: an integer or a double, never a string. */
function arithmetic(e: Expr, env: EvalEnv): bigint | number {
  const v = evaluate(e, env);
  if (typeof v === 'string') throw new EvalError(e.span, 'expected a number, got a string');
  return v;
}

/** An integer: a double is accepted only when it is a safe integer (`2.0`). */
export function evaluateNumber(e: Expr, env: EvalEnv): bigint {
  const v = arithmetic(e, env);
  if (typeof v === 'bigint') return v;
  if (Number.isSafeInteger(v)) return BigInt(v);
  throw new EvalError(e.span, `expected an integer, got ${formatValue(v)}`);
}

/** A value as the language writes it: a double keeps its point (`2.0`), NaN and Infinity their names. */
export function formatValue(v: Value): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return String(v);
  return formatDouble(v);
}

/** A double as a trace literal that reads back as the same double: `NaN`, `-Infinity`, `0.5`, `9007199254740992.0`. */
export function formatDouble(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0.0';
  if (Number.isInteger(v)) return `${BigInt(v)}.0`;
  return String(v); // the shortest text that reads back as v (`0.5`, `-0.5`, `1e-7`)
}

/** Two values are the same 64-bit pattern (two's complement: -1 equals 0xffff_ffff_ffff_ffff). */
export function sameBits(a: bigint, b: bigint, width = 64): boolean {
  return BigInt.asUintN(width, a) === BigInt.asUintN(width, b);
}
