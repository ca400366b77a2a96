// The open view as data: which view, its arguments and navigation state (ViewSpec), turned into
// lines for the current kernel state (renderView) and moved by keys (navigateView, scrollView).
// Re-rendered after every command, so views always show the machine as it is now.

import type { Kernel } from '../../kernel/kernel.js';
import type { ViewSpec } from './commands.js';
import { note, type ViewLine, type ViewModel } from './views/format.js';
import { processesView } from './views/processes.js';
import { spacesView } from './views/spaces.js';
import { segmentsView } from './views/segments.js';
import { vmmapView } from './views/vmmap.js';
import { ptView, ptRows, navigatePt, type PtMove } from './views/pageTable.js';
import { tlbView } from './views/tlb.js';
import { statsView } from './views/stats.js';
import { resolveSpace } from './views/target.js';

export type ViewMove = PtMove;

/**
 * The view's lines now; a target that went away (process exited) becomes a note, and so does a
 * view that fails on a state it did not expect: the screen must keep working.
 */
export function renderView(k: Kernel, v: ViewSpec, width: number): ViewModel {
  try {
    return buildView(k, v, width);
  } catch (e) {
    return { title: v.kind, lines: [note(`cannot show this view: ${e instanceof Error ? e.message : String(e)}`, 'warn')] };
  }
}

function buildView(k: Kernel, v: ViewSpec, width: number): ViewModel {
  switch (v.kind) {
    case 'processes': return processesView(k, width);
    case 'spaces': return spacesView(k, width);
    case 'segments': return segmentsView(k, width);
    case 'stats': return statsView(k, width);
    case 'tlb': return tlbView(k, v.cpu, width);
    case 'vmmap': case 'pt': {
      const t = resolveSpace(k, v.words);
      if (!t.ok) return { title: `${v.kind} ${v.words.join(' ')}`, lines: [note(`${t.message}`, 'warn')] };
      return v.kind === 'vmmap' ? vmmapView(t.value, width) : ptView(k, t.value, v.state, width);
    }
  }
}

/** New spec after a cursor move in a navigable view (the page-table tree); null for other views. */
export function navigateView(k: Kernel, v: ViewSpec, move: ViewMove, page: number): ViewSpec | null {
  if (v.kind !== 'pt') return null;
  const t = resolveSpace(k, v.words);
  if (!t.ok) return v;
  return { ...v, state: navigatePt(v.state, ptRows(k, t.value.space, v.state.expanded), move, page) };
}

/** Scroll offset after a move in a plain view (clamped when windowed). */
export function scrollView(scroll: number, move: ViewMove, page: number): number {
  switch (move) {
    case 'up': return Math.max(0, scroll - 1);
    case 'down': return scroll + 1;
    case 'pageUp': return Math.max(0, scroll - page);
    case 'pageDown': return scroll + page;
    case 'top': return 0;
    case 'bottom': return Number.MAX_SAFE_INTEGER;
    default: return scroll;
  }
}

/**
 * The `height` lines of a view to show: around the cursor when there is one, else from `scroll`
 * (clamped). Returns the lines, the index of the selected one among them, and the clamped scroll.
 */
export function viewWindow(m: ViewModel, height: number, scroll: number): { lines: ViewLine[]; selected: number; scroll: number; total: number } {
  const total = m.lines.length;
  const h = Math.max(1, height);
  let top: number;
  if (m.cursor !== undefined) top = Math.max(0, Math.min(m.cursor - Math.floor(h / 2), total - h));
  else top = Math.max(0, Math.min(scroll, total - h));
  return { lines: m.lines.slice(top, top + h), selected: m.cursor === undefined ? -1 : m.cursor - top, scroll: top, total };
}
