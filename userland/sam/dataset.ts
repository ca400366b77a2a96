// A data set in emulated memory: the header dictionary, the records packed one after another in
// their in-memory (BAM) form, optionally a sorted order (one u32 per record: its offset from the
// first record, in 4-byte units) and an index (BAI's binning and linear index). The files design
// builds one in the tool's own heap on every run; the vas design builds it once, in segments of a
// named address space, and every later tool works on it where it is.

import type { Runtime } from '../runtime.js';
import { align4, storeBytes } from './mem.js';
import { R_BLOCK, type SamHeader } from './record.js';

export type SortKind = 'coordinate' | 'queryname';

export interface OrderView {
  /** Address of the u32 offsets (in 4-byte units from the first record). */
  addr: number;
  kind: SortKind;
}

export interface IndexView {
  /** Address of the BAI image in memory. */
  addr: number;
  /** Byte offset (inside the image) of each reference's section. */
  sections: number[];
  /** Where the unplaced reads start (a location in the index's own unit) and how many there are. */
  noCoorStart: number;
  noCoor: number;
  /** 'ordinal': locations are positions in the sorted order; 'voffset': BGZF virtual offsets. */
  unit: 'ordinal' | 'voffset';
}

export interface Dataset {
  header: SamHeader;
  recBase: number;
  recBytes: number;
  count: number;
  order: OrderView | null;
  index: IndexView | null;
}

/**
 * Visit every record in the data set's order: sorted if it has a sorted order, else as stored
 * (walking the records by their block_size words).
 */
export function forEachRecord(rt: Runtime, ds: Dataset, visit: (addr: number, i: number) => void): void {
  if (ds.order) {
    for (let i = 0; i < ds.count; i++) visit(ds.recBase + (rt.load32(ds.order.addr + i * 4) >>> 0) * 4, i);
    return;
  }
  let a = ds.recBase;
  for (let i = 0; i < ds.count; i++) {
    const next = a + align4(4 + (rt.load32(a + R_BLOCK) >>> 0));
    visit(a, i);
    a = next;
  }
}

/** Where converted records go: a growing area of memory written through the CPU. */
export interface RecordSink {
  setHeader(h: SamHeader): void;
  append(rec: Uint8Array): void;
}

/** Appends records at `base`; `grow(end)` must make [base, end) writable or throw. */
export class RecordArea implements RecordSink {
  header: SamHeader | null = null;
  bytes = 0;
  count = 0;
  private mapped: number;

  constructor(readonly rt: Runtime, readonly base: number, initial: number, private readonly grow: (end: number) => number) {
    this.mapped = initial;
  }

  setHeader(h: SamHeader): void { this.header = h; }

  append(rec: Uint8Array): void {
    const need = this.bytes + align4(rec.length);
    if (need > this.mapped) this.mapped = this.grow(this.base + need) - this.base;
    storeBytes(this.rt, this.base + this.bytes, rec);
    this.bytes = need;
    this.count++;
  }
}
