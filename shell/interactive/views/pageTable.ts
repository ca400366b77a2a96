// pt: the page-table tree of one address space, read from emulated physical memory through the
// machine snapshot's page-table reader (no A/D bits set, no TLB touched, no cycles charged). The tree is navigable:
// the caller keeps which entries are expanded and where the cursor is (PtState) and moves it with
// navigatePt. walkAddress shows where one virtual address leads, level by level.

import type { Kernel } from '../../../kernel/kernel.js';
import { pageTableEntries, pageTableRoot, spaceInfo, walkSpace, type PageTableEntryInfo, type SpaceRef } from '../../../kernel/snapshot.js';
import type { WalkStep } from '../../../mmu/pageTableReader.js';
import { LEVEL_NAMES, pteFlagString } from '../../../mmu/pte.js';
import { LEVEL_SPAN } from '../../../mmu/address.js';
import { formatSize } from '../../../mmu/units.js';
import { clip, hex, note, type ViewLine, type ViewModel } from './format.js';
import type { SpaceTarget } from './target.js';

/** One present entry of some table in the tree: the snapshot's entry, placed in the tree. */
export interface PtRow extends PageTableEntryInfo {
  /** `${level}:${va}`: unique within one tree. */
  key: string;
  level: number;
  depth: number;
}

export interface PtState {
  readonly expanded: ReadonlySet<string>;
  readonly cursor: number;
  /** The address of the last `walk`, kept so the view can redraw it after every command. */
  readonly walkVa: bigint | null;
}

export type PtMove = 'up' | 'down' | 'pageUp' | 'pageDown' | 'top' | 'bottom' | 'expand' | 'collapse' | 'toggle';

function tableRows(k: Kernel, space: SpaceRef, table: number, level: number, base: number, depth: number, expanded: ReadonlySet<string>, out: PtRow[]): void {
  for (const e of pageTableEntries(k, space, table, level, base)) {
    const row: PtRow = { ...e, key: `${level}:${e.va}`, level, depth };
    out.push(row);
    if (!e.leaf && expanded.has(row.key)) tableRows(k, space, e.target, level - 1, e.va, depth + 1, expanded, out);
  }
}

/** The visible rows: the root's present entries and, under each expanded entry, its table's. */
export function ptRows(k: Kernel, space: SpaceRef, expanded: ReadonlySet<string>): PtRow[] {
  const out: PtRow[] = [];
  const { root, levels } = pageTableRoot(space);
  tableRows(k, space, root, levels, 0, 0, expanded, out);
  return out;
}

/**
 * A first view worth looking at: chains of tables with a single entry are opened down to the
 * page tables, so a small process shows its text, heap and stack pages without any keys pressed.
 */
export function initialPtState(k: Kernel, space: SpaceRef): PtState {
  const expanded = new Set<string>();
  const { levels } = pageTableRoot(space);
  for (let pass = 0; pass < levels; pass++) {
    for (const r of ptRows(k, space, expanded)) {
      if (!r.leaf && !expanded.has(r.key) && r.children <= (r.level === 2 ? 8 : 2)) expanded.add(r.key);
    }
  }
  return { expanded, cursor: 0, walkVa: null };
}

function parentIndex(rows: readonly PtRow[], i: number): number {
  for (let j = i - 1; j >= 0; j--) if (rows[j].depth < rows[i].depth) return j;
  return i;
}

/** Move the cursor or open/close the entry under it; `page` is how many rows a page holds. */
export function navigatePt(state: PtState, rows: readonly PtRow[], move: PtMove, page = 10): PtState {
  const last = Math.max(0, rows.length - 1);
  const at = Math.min(state.cursor, last);
  const row = rows[at];
  const go = (cursor: number): PtState => ({ ...state, cursor: Math.max(0, Math.min(last, cursor)) });
  const setOpen = (open: boolean): PtState => {
    const expanded = new Set(state.expanded);
    if (open) expanded.add(row.key); else expanded.delete(row.key);
    return { ...state, expanded, cursor: at };
  };
  switch (move) {
    case 'up': return go(at - 1);
    case 'down': return go(at + 1);
    case 'pageUp': return go(at - page);
    case 'pageDown': return go(at + page);
    case 'top': return go(0);
    case 'bottom': return go(last);
    case 'expand':
      if (!row || row.leaf) return go(at);
      return state.expanded.has(row.key) ? go(at + 1) : setOpen(true);
    case 'collapse':
      if (row && !row.leaf && state.expanded.has(row.key)) return setOpen(false);
      return row ? go(parentIndex(rows, at)) : go(at);
    case 'toggle':
      return !row || row.leaf ? go(at) : setOpen(!state.expanded.has(row.key));
  }
}

// ------------------------------------------------------------------ walk

export type { WalkStep };

export interface WalkResult {
  va: bigint;
  steps: WalkStep[];
  /** Physical address the VA translates to, when it does. */
  pa: number | null;
  pageSize: number;
  /** Why it does not translate. */
  stop: string | null;
}

/** Follow `va` from the root as the MMU would, reading entries without changing them. */
export function walkAddress(k: Kernel, space: SpaceRef, va: bigint): WalkResult {
  const w = walkSpace(k, space, va);
  const levels = pageTableRoot(space).levels;
  const stop = w.stop === null ? null
    : w.stop.reason === 'noncanonical' ? `${hex(BigInt.asUintN(64, va))} is not canonical in ${levels}-level paging (#GP)`
    : `not present at ${LEVEL_NAMES[w.stop.level]}[${w.stop.index}]: a page fault (the kernel maps on demand if the vm map allows)`;
  return { va, steps: w.steps, pa: w.pa, pageSize: w.pageSize, stop };
}

/** Tree key of a step's entry (as PtRow.key). */
function stepKey(w: WalkResult, s: WalkStep): string {
  const span = BigInt(LEVEL_SPAN[s.level]);
  return `${s.level}:${Number(w.va - (w.va % span))}`;
}

/** Keys of the entries on the walk's path, to open the tree along it. */
export function walkPathKeys(w: WalkResult): string[] {
  return w.steps.filter((s) => s.present && !s.leaf).map((s) => stepKey(w, s));
}

/** Row index of the deepest present entry on the walk's path, or 0. */
export function walkCursor(rows: readonly PtRow[], w: WalkResult): number {
  const present = w.steps.filter((s) => s.present);
  if (present.length === 0) return 0;
  const i = rows.findIndex((r) => r.key === stepKey(w, present[present.length - 1]));
  return Math.max(0, i);
}

export function walkLines(w: WalkResult, width: number): ViewLine[] {
  const out: ViewLine[] = [{ text: `walk ${hex(w.va)}`, tone: 'accent' }];
  for (const s of w.steps) {
    const entry = `${LEVEL_NAMES[s.level].padEnd(4)} table ${hex(s.table)} [${String(s.index).padStart(3)}] = ${hex(((BigInt(s.hi >>> 0) << 32n) | BigInt(s.lo >>> 0)))}`;
    const what = !s.present ? 'not present' : s.leaf ? `${pteFlagString(s.lo, s.hi, s.level)} page ${formatSize(LEVEL_SPAN[s.level])}` : `${pteFlagString(s.lo, s.hi, s.level)} -> next table`;
    out.push({ text: clip(`  ${entry}  ${what}`, width), tone: s.present ? 'normal' : 'warn' });
  }
  if (w.pa !== null) out.push({ text: clip(`  => physical ${hex(w.pa)} (${formatSize(w.pageSize)} page)`, width), tone: 'good' });
  else if (w.stop) out.push({ text: clip(`  => ${w.stop}`, width), tone: 'warn' });
  return out;
}

// ------------------------------------------------------------------ rendering

function rowText(r: PtRow, expanded: ReadonlySet<string>, width: number): string {
  const mark = r.leaf ? '·' : expanded.has(r.key) ? '▾' : '▸';
  const name = `${LEVEL_NAMES[r.level]}[${r.index}]`;
  const flags = pteFlagString(r.lo, r.hi, r.level);
  const where = r.leaf
    ? `-> ${hex(r.target)} ${formatSize(LEVEL_SPAN[r.level])}`
    : `-> table ${hex(r.target)} (${r.children} present)${r.linked ? ' shared' : ''}`;
  return clip(`${'  '.repeat(r.depth)}${mark} ${name.padEnd(10)} ${hex(r.va).padEnd(16)} ${flags}  ${where}`, width);
}

export function ptView(k: Kernel, t: SpaceTarget, state: PtState, width: number): ViewModel {
  const space = t.space;
  const rows = ptRows(k, space, state.expanded);
  const info = spaceInfo(space);
  const leaves = info.leaves;
  const head: ViewLine[] = [
    { text: clip(`${t.label}: root ${hex(info.root)}, ${info.levels} levels, PCID ${info.pcid}, leaves 4K ${leaves[1]} / 2M ${leaves[2]} / 1G ${leaves[3]}`, width), tone: 'accent' },
    note(clip('flags: P present, W/R writable, U/S user, A accessed, D dirty, L large page, G global, X no-execute', width)),
  ];
  const walk = state.walkVa === null ? [] : walkLines(walkAddress(k, space, state.walkVa), width);
  const body = rows.length === 0 ? [note('  (no entries: nothing mapped yet)')] : rows.map((r) => ({ text: rowText(r, state.expanded, width) }));
  const cursor = rows.length === 0 ? undefined : head.length + walk.length + Math.min(state.cursor, rows.length - 1);
  return { title: `pt ${t.label}`, lines: [...head, ...walk, ...body], cursor };
}
