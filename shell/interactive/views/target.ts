// Which address space a view argument names: a process (pid or name: its primary space), a
// process and a handle (its shadow of a named space), a handle alone when only one process has
// it, or a named space by its name. Errors say which argument is wrong, so the shell can point at it.

import type { Kernel } from '../../../kernel/kernel.js';
import { processes, shadows, namedSpaces, type ProcessInfo, type SpaceRef } from '../../../kernel/snapshot.js';
import { VH_BIT } from '../../../kernel/spacejmp/spacejmp.js';
import { parseNumberText } from '../../../syscalls/trace/lexer.js';
import { hex } from './format.js';

export interface SpaceTarget {
  /** The space, for the snapshot's readers (vmMap, pageTableEntries, walkSpace). */
  space: SpaceRef;
  /** "bob[3] primary", "bob[3] vh 0x1_0001 (shadow of shared)", "named space shared". */
  label: string;
  process: ProcessInfo | null;
}

export type Resolved<T> = { ok: true; value: T } | { ok: false; message: string; arg: number };

/** A number as the trace language writes it (decimal, 0x, 0o, 0b, leading-0 octal, `_`), or null. */
export function parseNumber(word: string): bigint | null {
  const r = parseNumberText(word);
  return 'error' in r ? null : r.value;
}

function processByWord(procs: readonly ProcessInfo[], word: string): ProcessInfo | null {
  const n = parseNumber(word);
  if (n !== null) return procs.find((p) => p.pid === Number(n)) ?? null;
  const named = procs.filter((p) => p.name === word);
  return named.find((p) => p.live) ?? named[0] ?? null;
}

function shadowOf(k: Kernel, p: ProcessInfo, vh: number): SpaceTarget | null {
  const a = shadows(k).find((x) => x.pid === p.pid && x.vh === vh);
  return a ? { space: a.space, label: `${p.name}[${p.pid}] vh ${hex(vh)} (shadow of ${a.of})`, process: p } : null;
}

/** Resolve `PID|NAME [VH]` or `VH`. */
export function resolveSpace(k: Kernel, words: readonly string[]): Resolved<SpaceTarget> {
  if (words.length === 0) return { ok: false, message: 'expected a process (pid or name) or a handle', arg: 0 };
  if (words.length > 2) return { ok: false, message: 'expected at most PID and VH', arg: 2 };
  const first = words[0];
  const n = parseNumber(first);
  const procs = processes(k);
  const p = processByWord(procs, first);
  if (words.length === 2) {
    if (!p) return { ok: false, message: `no process ${first}`, arg: 0 };
    const vh = parseNumber(words[1]);
    if (vh === null) return { ok: false, message: `not a number: '${words[1]}'`, arg: 1 };
    if (vh === 0n) return { ok: true, value: { space: p.primary, label: `${p.name}[${p.pid}] primary`, process: p } };
    const t = shadowOf(k, p, Number(vh));
    return t ? { ok: true, value: t } : { ok: false, message: `${p.name}[${p.pid}] has no handle ${hex(vh)}`, arg: 1 };
  }
  if (p && (n === null || n < BigInt(VH_BIT))) {
    if (!p.live) return { ok: false, message: `${p.name}[${p.pid}] has exited`, arg: 0 };
    return { ok: true, value: { space: p.primary, label: `${p.name}[${p.pid}] primary`, process: p } };
  }
  if (n !== null && n >= BigInt(VH_BIT)) {
    const hits = procs.map((q) => shadowOf(k, q, Number(n))).filter((t): t is SpaceTarget => t !== null);
    if (hits.length === 1) return { ok: true, value: hits[0] };
    if (hits.length > 1) return { ok: false, message: `handle ${hex(n)} is attached in ${hits.map((h) => h.process!.name).join(' and ')}: give PID VH`, arg: 0 };
    return { ok: false, message: `no process has handle ${hex(n)}`, arg: 0 };
  }
  const v = (namedSpaces(k) ?? []).find((x) => x.name === first);
  if (v) return { ok: true, value: { space: v.space, label: `named space ${v.name} (vid ${v.vid})`, process: null } };
  return { ok: false, message: n !== null ? `no process ${first}` : `unknown process or address space '${first}'`, arg: 0 };
}
