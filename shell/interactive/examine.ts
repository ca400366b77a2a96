// `x/FMT ADDR` and `xp/FMT ADDR`: memory examination as in the QEMU monitor. `x` reads virtual
// memory through the page tables of a space, `xp` reads physical memory. Both read the tables and
// the bytes directly — no TLB lookup or fill, no accessed/dirty bits, no modelled cycles — so
// looking never changes what is looked at.

import type { Kernel } from '../../kernel/kernel.js';
import { physicalByte, physicalSize, type SpaceRef } from '../../kernel/snapshot.js';
import { formatAddr } from '../../mmu/units.js';
import { walkAddress } from './views/pageTable.js';

export interface ExamineFormat {
  count: number;
  /** Bytes per unit: b 1, h 2, w 4, g 8. */
  size: 1 | 2 | 4 | 8;
  /** x hexadecimal, d signed decimal, u unsigned decimal. */
  format: 'x' | 'd' | 'u';
}

export const EXAMINE_MAX_COUNT = 4096;
const SIZES: Record<string, 1 | 2 | 4 | 8> = { b: 1, h: 2, w: 4, g: 8 };

/**
 * The part after `/`: an optional count, then format and size letters in any order (`16gx`, `4xw`,
 * `d`). Unset parts default to QEMU's: one unit, hexadecimal, 4-byte words.
 */
export function parseExamineFormat(text: string): { ok: true; value: ExamineFormat } | { ok: false; message: string } {
  const m = /^(\d*)([a-z]*)$/.exec(text);
  if (!m) return { ok: false, message: `bad format '/${text}': expected /[COUNT][FORMAT][SIZE], e.g. /16gx` };
  const count = m[1] === '' ? 1 : Number(m[1]);
  if (count < 1 || count > EXAMINE_MAX_COUNT) return { ok: false, message: `count must be 1..${EXAMINE_MAX_COUNT}, got ${m[1]}` };
  let size: 1 | 2 | 4 | 8 = 4;
  let format: 'x' | 'd' | 'u' = 'x';
  for (const c of m[2]) {
    if (SIZES[c]) size = SIZES[c];
    else if (c === 'x' || c === 'd' || c === 'u') format = c;
    else return { ok: false, message: `unknown format letter '${c}' (formats x d u, sizes b h w g)` };
  }
  return { ok: true, value: { count, size, format } };
}

/** Physical address of `va` in `space`, or why there is none (the walk neither faults nor fills the TLB). */
export type Translate = (va: bigint) => { pa: number } | { error: string };

export function virtualReader(k: Kernel, space: SpaceRef): Translate {
  return (va) => {
    const w = walkAddress(k, space, va);
    return w.pa !== null ? { pa: w.pa } : { error: w.stop ?? 'not mapped' };
  };
}

export function physicalReader(k: Kernel): Translate {
  const size = physicalSize(k);
  return (pa) => (pa >= 0n && pa < BigInt(size) ? { pa: Number(pa) } : { error: `beyond physical memory (${formatAddr(size)} bytes)` });
}

function unitText(v: bigint, f: ExamineFormat): string {
  const bits = f.size * 8;
  if (f.format === 'x') return '0x' + v.toString(16).padStart(f.size * 2, '0');
  if (f.format === 'd') return BigInt.asIntN(bits, v).toString();
  return v.toString();
}

/**
 * Lines of `count` units from `addr`, 16 bytes a line, each line led by its address. Stops at the
 * first byte that does not translate with `cannot access memory at ADDR: why`.
 */
export function examine(k: Kernel, translate: Translate, addr: bigint, f: ExamineFormat): { lines: string[]; ok: boolean } {
  const perLine = Math.max(1, 16 / f.size);
  const lines: string[] = [];
  let row: string[] = [];
  let rowAddr = addr;
  const flush = () => {
    if (row.length) lines.push(`${formatAddr(rowAddr)}: ${row.join(' ')}`);
    row = [];
  };
  for (let i = 0; i < f.count; i++) {
    const at = addr + BigInt(i * f.size);
    if (row.length === 0) rowAddr = at;
    let v = 0n;
    // Byte by byte, little-endian: a unit may straddle two pages that map anywhere.
    for (let b = 0; b < f.size; b++) {
      const t = translate(at + BigInt(b));
      if ('error' in t) {
        flush();
        lines.push(`cannot access memory at ${formatAddr(at + BigInt(b))}: ${t.error}`);
        return { lines, ok: false };
      }
      v |= BigInt(physicalByte(k, t.pa) ?? 0) << BigInt(8 * b);
    }
    row.push(unitText(v, f));
    if (row.length === perLine) flush();
  }
  flush();
  return { lines, ok: true };
}
