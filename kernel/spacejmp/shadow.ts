// Named address spaces and their shadows (reference §8.2): a shadow is one process's attached view
// of a named space. Its private region (everything outside the segment region) is the process's
// primary, linked (see kernel/vm/vmspace.ts); its segment region holds the named space's segments
// at the attacher's own rights, plus segments and mappings of its own.
//
// How a shadow gets the named space's segment translations (its page-table policy):
//   copy    its own page-table entries, written when the segment arrives (cost per page)
//   shared  the named space's top-level tables linked into the shadow's root where a slot lies
//           wholly in the segment region and the shadow has nothing of its own there (cost per
//           slot); used only while the attacher's rights equal the named space's, converted to
//           copy otherwise, since a linked table grants the named space's rights. A named space's
//           tables hold nothing but its own segments; a process-local edit that meets a linked
//           table unlinks it first (kernel/vm/pmap.ts), so it is never published.

import type { Process, Thread, Credentials } from '../proc/process.js';
import type { Vmspace } from '../vm/vmspace.js';
import { PROT_WRITE, ENTRY_SEGMENT, type MapEntry } from '../vm/vmMap.js';
import type { TagPolicy } from '../machineConfig.js';
import { LEVEL_SPAN } from '../../mmu/address.js';
import { type Segment, mayAccess } from './segment.js';
import type { PtPolicy } from './constants.js';
import { SmallSet } from '../smallSet.js';

export interface SegRef { seg: Segment; prot: number }

export class NamedVas {
  /** Its segments and the protection each was attached with. */
  readonly segments = new Map<number, SegRef>();
  readonly shadows = new Set<Attachment>();
  deleted = false;
  tags: TagPolicy;
  /** Policy new attachments get (existing ones keep theirs). */
  ptPolicy: PtPolicy;
  constructor(readonly vid: number, public name: string, public mode: number, readonly uid: number, readonly gid: number, readonly space: Vmspace, tags: TagPolicy, ptPolicy: PtPolicy) {
    this.tags = tags;
    this.ptPolicy = ptPolicy;
  }
}

export class Attachment {
  /** The threads in this space (see SmallSet: every vas_switch moves one). */
  readonly threads = new SmallSet<Thread>();
  /** The named space's segments as mapped here, with the rights this attacher got (absent: no read right). */
  readonly named = new Map<number, number>();
  /** Segments attached to this shadow only (seg_attach(vh, ...)). */
  readonly privateSegs = new Map<number, SegRef>();
  constructor(readonly vh: number, readonly process: Process, readonly vas: NamedVas, readonly space: Vmspace, public ptPolicy: PtPolicy, readonly writable: boolean) {}
}

/**
 * The rights `cred` gets on `seg` reached through a space attached at `prot`: write only when it
 * may write both the space (`spaceWritable`) and the segment; null when it may not read the segment.
 */
export function rightsFor(cred: Credentials, spaceWritable: boolean, seg: Segment, prot: number): number | null {
  if (!mayAccess(cred, seg, 'r')) return null;
  return !spaceWritable || !mayAccess(cred, seg, 'w') ? prot & ~PROT_WRITE : prot;
}

function segmentEntry(seg: Segment, prot: number): Omit<MapEntry, 'map'> {
  return {
    start: seg.base, end: seg.end, prot, maxProt: prot, inheritance: 'none', object: seg.object, offset: 0,
    flags: ENTRY_SEGMENT, segment: seg.sid, label: seg.name,
  };
}

/** Map `seg` into `space` (its range must be free there) with its pages entered now. */
export function mapSegment(space: Vmspace, seg: Segment, prot: number): void {
  space.populate(space.insertEntry(segmentEntry(seg, prot)));
}

/** The top-level slots (VA bases) covering [start, end). */
function topSlots(space: Vmspace, start: number, end: number): number[] {
  const span = LEVEL_SPAN[space.paging];
  const out: number[] = [];
  for (let slot = start - (start % span); slot < end; slot += span) out.push(slot);
  return out;
}

/** Whether a whole top-level slot lies in the segment region (only those may be linked). */
function linkable(space: Vmspace, slot: number): boolean {
  return space.inSegmentRegion(slot) && space.inSegmentRegion(slot + LEVEL_SPAN[space.paging] - 1);
}

/**
 * Map a named-space segment into a shared-policy shadow: link the named space's tables slot by
 * slot where possible, enter the pages into the shadow's own tables elsewhere (a slot that is not
 * wholly in the segment region, one where the shadow has its own table, or no memory to link).
 */
export function shareSegment(att: Attachment, seg: SegRef): void {
  const space = att.space;
  const e = space.insertEntry(segmentEntry(seg.seg, seg.prot));
  const named = att.vas.space.pmap;
  const level = space.paging - 1;
  for (const slot of topSlots(space, seg.seg.base, seg.seg.end)) {
    const t = named.tableAt(slot, level);
    if (t && linkable(space, slot) && space.pmap.linkSubtree(slot, t) === 0) continue;
    space.populate(e, slot, slot + LEVEL_SPAN[space.paging]);
  }
}

/** Stop linking the named space's tables: the shadow's own entries for every segment it maps. */
export function convertToCopy(att: Attachment, flush: (s: Vmspace) => void): void {
  if (att.ptPolicy === 'copy') return;
  att.ptPolicy = 'copy';
  const space = att.space;
  const segs = space.map.entries.filter((e) => (e.flags & ENTRY_SEGMENT) !== 0);
  for (const e of segs) for (const slot of topSlots(space, e.start, e.end)) space.pmap.unlinkSubtree(slot, space.paging - 1);
  flush(space);
  for (const e of segs) space.populate(e);
}
