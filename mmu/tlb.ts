// The modelled TLB of one CPU core: set-associative structures per page size (an L1 DTLB and a
// second-level STLB), PCID tags, global entries, LRU replacement driven by the core's access
// counter (deterministic), optional paging-structure caches, and the invalidation semantics of
// MOV to CR3, INVLPG and INVPCID (SDM Vol. 3A §4.10). Packed typed arrays; a lookup allocates nothing.

import * as constants from './constants.js';

// Size classes and entry flag bits (defined in constants.ts); read here through module-local
// consts, which V8 folds into the code (an imported binding is a Cell load and checks at every use).
export { SIZE_4K, SIZE_2M, SIZE_1G, TF_W, TF_U, TF_XD, TF_G, TF_D } from './constants.js';
const { SIZE_4K, SIZE_2M, SIZE_1G, TF_G } = constants;
// Per-entry record of a TlbArray (Int32Array, REC words per entry; see TlbArray.rec).
const { TLB_REC: REC, TLB_R_HI: R_HI, TLB_R_PCID: R_PCID, TLB_R_META: R_META, TLB_R_EPOCH: R_EPOCH } = constants;

export const PAGE_BYTES = [0, 4096, 2097152, 1073741824];

export interface TlbArrayGeometry { entries: number; ways: number }

export interface TlbGeometry {
  l1_4k: TlbArrayGeometry;
  l1_2m: TlbArrayGeometry;
  l1_1g: TlbArrayGeometry;
  /** Unified second level for 4 KiB and 2 MiB pages. */
  stlb: TlbArrayGeometry;
  stlb_1g: TlbArrayGeometry;
  /** Paging-structure caches (fully associative, entries per level), or null for none. */
  psc: { pml5: number; pml4: number; pdpt: number; pd: number } | null;
}

/** Skylake (Intel optimisation manual, Table 2-15), with PSC sizes from reverse-engineering work. */
export const SKYLAKE_TLB: TlbGeometry = {
  l1_4k: { entries: 64, ways: 4 },
  l1_2m: { entries: 32, ways: 4 },
  l1_1g: { entries: 4, ways: 4 },
  stlb: { entries: 1536, ways: 12 },
  stlb_1g: { entries: 16, ways: 4 },
  psc: { pml5: 2, pml4: 4, pdpt: 8, pd: 32 },
};

/** Tag of the page holding (lo, hi) for a size class: the page-aligned low half. */
export function tagLoFor(lo: number, size: number): number {
  return lo & (-1 << (size * 9 + 3)); // size 1, 2, 3 (4K, 2M, 1G): the page's offset bits 12, 21, 30
}

/** The set of a page of size class `size` (the 1G class also takes bits of hi). */
function setIndex(lo: number, hi: number, size: number, mask: number): number {
  // The mask in each arm: a `>>>` result is a uint32, and merged with the int32 of the other arm
  // before the mask, V8 made it a double and checked it back to an int32 (measured, a tenth of
  // tryTranslate's samples).
  return size === SIZE_1G ? ((lo >>> 30) | (hi << 2)) & mask : (lo >>> (size * 9 + 3)) & mask;
}

function checkGeometry(name: string, g: TlbArrayGeometry): void {
  const sets = g.entries / g.ways;
  if (!Number.isInteger(g.entries) || !Number.isInteger(g.ways) || g.entries < 1 || g.ways < 1 || !Number.isInteger(sets) || (sets & (sets - 1)) !== 0) {
    throw new RangeError(`TLB ${name}: ${g.entries} entries / ${g.ways} ways must give a power-of-two number of sets`);
  }
}

/**
 * One set-associative structure. An entry is valid when pcid >= 0 and either global or its epoch
 * equals the current epoch of its PCID (so flushing a PCID is O(1) for the big structures).
 *
 * Host layout (packed: a lookup or insert touches three arrays, not nine): `key` holds
 * tagLo | size class per slot (the tag's low 12 bits are zero, size is 1..3) and 0 for a slot that
 * holds nothing (killed or never filled) — so one int compare checks page and size, and a key
 * match implies pcid >= 0; `rec` holds tagHi, pcid, flags | pkey << 8 and the epoch, REC words
 * per slot; `frame` the physical base. Read entries through the *Of(s) accessors (but see `rec`).
 */
export class TlbArray {
  readonly sets: number;
  readonly ways: number;
  readonly setMask: number;
  private readonly key: Int32Array;
  /**
   * Read-only outside this class. Cpu.tryTranslate reads an entry's flags word and frame from here
   * rather than through flagsOf/frameOf: a call V8 saw rarely when it compiled tryTranslate (in a
   * run that walked 4 KiB pages before it used 2 MiB ones) is not inlined, whatever its size.
   */
  readonly rec: Int32Array;
  readonly frame: Float64Array;
  /**
   * Host-side index beside the modelled state: cnt[set * 4 + size] counts the slots of the set
   * whose key holds that size class (valid or not yet noticed stale). A lookup whose set holds no
   * entry of its size class returns -1 without scanning (what the scan would find: nothing).
   */
  private readonly cnt: Int32Array;
  /** Told the global slot index whenever an entry is evicted or invalidated (the CPU's front cache). */
  onKill: ((globalSlot: number) => void) | null = null;
  /**
   * When set (by the CPU), the heads of the front-cache lists per global slot: onKill is called
   * only for a slot that has front entries derived from it (a slot without any has nothing to drop).
   */
  frontHead: Int32Array | null = null;

  /**
   * Host-side knowledge beside the modelled state: setClean[set] === flushSerial[0] means every way
   * of the set held a valid entry of a current epoch when last seen, and nothing was killed or
   * flushed since — so a victim search can skip the per-way validity checks and find what the
   * full scan would find (the first way of the same page, else the least recently used).
   */
  private readonly setClean: Int32Array;
  /**
   * Host-side recency order of each set's ways (only when `ordered`: the array owns its stamps, so
   * every stamp it holds was written through insert() or touch()): per-set doubly linked lists over
   * the slots, least recent at the head. Stamps come from the core's access counter, which never
   * decreases, so appending a slot when it is stamped keeps each list in stamp order, and the LRU
   * way of a clean set is found at the head instead of by comparing every way's stamp. A stamp
   * older than the newest the array holds (only tests write such) turns the lists off for good.
   * Each list is a ring: rPrev of the head is the tail (so there is no tail array), and rNext of
   * the tail is -1 (so "is s the most recent?" is one load, without knowing s's set). A fill
   * replaces the head and makes it the tail: with the ring that is a rotation, three stores
   * (rMoveToTail), where an open list took six.
   */
  private ordered: boolean;
  /**
   * The newest stamp written into this array while `ordered` (see rMoveToTail). Host-side only.
   */
  private newest = 0;
  private readonly rNext: Int32Array;
  private readonly rPrev: Int32Array;
  private readonly rHead: Int32Array;

  constructor(
    readonly name: string,
    g: TlbArrayGeometry,
    private readonly pcidEpoch: Uint32Array,
    /** LRU stamps may be shared with the CPU's front cache (the L1 arrays share one stamp space). */
    readonly stamp: Float64Array = new Float64Array(g.entries),
    readonly base: number = 0,
    /** Bumped on every epoch change (a PCID flush): clean sets become unknown again. */
    private readonly flushSerial: Int32Array = new Int32Array(1),
    /** False when `stamp` is shared with writers outside this class (see `ordered`). */
    ownStamps = false,
  ) {
    checkGeometry(name, g);
    this.ways = g.ways;
    this.sets = g.entries / g.ways;
    this.setMask = this.sets - 1;
    this.setClean = new Int32Array(this.sets).fill(-1);
    const n = g.entries;
    this.key = new Int32Array(n);
    this.rec = new Int32Array(n * REC);
    for (let s = 0; s < n; s++) this.rec[s * REC + R_PCID] = -1;
    this.frame = new Float64Array(n);
    this.cnt = new Int32Array(this.sets * 4); // Int32: a set may have more than 255 ways (e.g. stlb=1536/1536)
    // Shared stamps (the L1 arrays) are also written by the CPU's front cache: no order kept there.
    this.ordered = ownStamps;
    this.rNext = new Int32Array(ownStamps ? n : 0);
    this.rPrev = new Int32Array(ownStamps ? n : 0);
    this.rHead = new Int32Array(ownStamps ? this.sets : 0);
    if (ownStamps) {
      // All stamps start equal (0): any order is stamp order; index order is the scan's tie order.
      for (let set = 0; set < this.sets; set++) {
        const first = set * this.ways;
        const last = first + this.ways - 1;
        this.rHead[set] = first;
        for (let s = first; s <= last; s++) {
          this.rPrev[s] = s === first ? last : s - 1;
          this.rNext[s] = s === last ? -1 : s + 1;
        }
      }
    }
  }

  // --- entry fields of slot s (an invalid slot reads pcid -1; its other fields mean nothing) ---
  /** The tag's low half (the page-aligned low 32 bits of the address, as int32). */
  tagLoOf(s: number): number { return this.key[s] & -4096; }
  /** The tag's high half, as int32. */
  tagHiOf(s: number): number { return this.rec[s * REC + R_HI]; }
  /** Size class (SIZE_4K, SIZE_2M, SIZE_1G); 0 for a slot holding nothing. */
  sizeOf(s: number): number { return this.key[s] & 3; }
  pcidOf(s: number): number { return this.rec[s * REC + R_PCID]; }
  flagsOf(s: number): number { return this.rec[s * REC + R_META] & 0xff; }
  pkeyOf(s: number): number { return this.rec[s * REC + R_META] >>> 8; }
  epochOf(s: number): number { return this.rec[s * REC + R_EPOCH] >>> 0; }
  frameOf(s: number): number { return this.frame[s]; }

  /** Stamp slot s (an STLB hit is a use for its LRU too), keeping the recency order. */
  touch(s: number, stamp: number): void {
    this.stamp[this.base + s] = stamp;
    if (this.ordered) this.rMoveToTail(s, -1, stamp);
  }

  /** Slot s was stamped: it becomes its set's most recent. `set`: s's set, or -1 to compute it. */
  private rMoveToTail(s: number, set: number, stamp: number): void {
    // The lists stay in stamp order as long as no stamp is older than one already written. That is
    // checked against the newest stamp of the whole array, a field, rather than the set's tail (or
    // its predecessor), two dependent loads on every STLB hit. The array-wide check is stricter
    // (a stamp between the set's newest and the array's newest also turns the lists off); both are
    // exact, since without lists the victim is found by the scan, and stamps from the core's
    // counter never decrease, so only tests that write older stamps ever see either.
    if (stamp < this.newest) { this.ordered = false; return; }
    this.newest = stamp;
    const next = this.rNext;
    const n = next[s];
    if (n < 0) return; // s is its set's tail already (every STLB hit of a set used by one page)
    if (set < 0) set = (s / this.ways) | 0; // an integer division: only for a touch that moves the slot
    const prev = this.rPrev;
    const head = this.rHead[set];
    const tail = prev[head];
    next[tail] = s;
    next[s] = -1;
    if (s === head) {
      // The head (a fill's LRU victim): the ring turns by one, its links stay as they are.
      this.rHead[set] = n;
      return;
    }
    // A slot in the middle: out of the ring, then back in between the tail and the head.
    const p = prev[s];
    next[p] = n;
    prev[n] = p;
    prev[s] = tail;
    prev[head] = s;
  }

  /** The LRU way of a set from the recency list: among equal stamps the lowest index, as a scan finds. */
  private rVictim(set: number): number {
    const stamps = this.stamp;
    const base = this.base;
    let victim = this.rHead[set];
    const oldest = stamps[base + victim];
    for (let s = this.rNext[victim]; s >= 0 && stamps[base + s] === oldest; s = this.rNext[s]) if (s < victim) victim = s;
    return victim;
  }

  get entries(): number { return this.sets * this.ways; }

  isValid(s: number): boolean {
    const r = s * REC;
    const p = this.rec[r + R_PCID];
    return p >= 0 && ((this.rec[r + R_META] & TF_G) !== 0 || this.rec[r + R_EPOCH] === (this.pcidEpoch[p] | 0));
  }

  /**
   * Find the entry translating (lo, hi) at page size `size` for `pcid`; -1 if none. One path for
   * every size class, so that Cpu.tryTranslate calls it from one place per TLB level (see there
   * why), and small enough that V8 inlines it there twice.
   */
  lookup(lo: number, hi: number, size: number, pcid: number): number {
    const set = setIndex(lo, hi, size, this.setMask);
    // The per-set size index: a set holding no key of this size class has nothing to find.
    if (this.cnt[(set << 2) | size] === 0) return -1;
    const k = tagLoFor(lo, size) | size;
    const h = hi | 0;
    const key = this.key;
    const rec = this.rec;
    const end = (set + 1) * this.ways;
    for (let s = set * this.ways; s < end; s++) {
      if (key[s] !== k) continue; // a match holds an entry: pcid >= 0
      const r = s * REC;
      if (rec[r + R_HI] !== h) continue;
      if ((rec[r + R_META] & TF_G) !== 0 || (rec[r + R_PCID] === pcid && rec[r + R_EPOCH] === (this.pcidEpoch[pcid] | 0))) return s;
    }
    return -1;
  }

  /**
   * Insert, replacing an invalid way or else the least recently used one; returns the slot.
   * `missed`: the caller looked this page up in this array (same lo, hi, size class, pcid) and
   * found nothing, and nothing changed the array since. In a clean set (every way valid and
   * current) a lookup miss means no way holds the same page and tag context, so the victim search
   * skips that comparison and goes straight to the LRU way: the same victim as the full scan.
   * `then`: a second array to insert the same entry into next (a walk's fill: the STLB, then L1),
   * in this one call; the slot returned is then the one in `then`. The frame comes as halves
   * (`frameLo` its low 32 bits, any int32 form; `frameHi` the bits above): an argument of 2^31 or
   * more would be boxed into a new HeapNumber on every call (see PageWalker.frameLo).
   */
  insert(
    lo: number, hi: number, size: number, pcid: number, frameLo: number, frameHi: number, flags: number, pkey: number,
    stamp: number, missed = false, then: TlbArray | null = null,
  ): number {
    const frame = frameHi * 4294967296 + (frameLo >>> 0);
    const h = hi | 0;
    const meta = flags | (pkey << 8);
    // One pass per array (the same code for both, in one call: V8 does not inline an insert into
    // its caller, and each real call on the fill path of every walk costs).
    let slot = -1;
    for (let pass = 0; pass < 2; pass++) {
      const a = pass === 0 ? this : then;
      if (a === null) break;
      let k: number;
      let set: number;
      if (size === SIZE_4K) { k = (lo & -4096) | SIZE_4K; set = (lo >>> 12) & a.setMask; }
      else if (size === SIZE_2M) { k = (lo & -2097152) | SIZE_2M; set = (lo >>> 21) & a.setMask; }
      else { k = (lo & -1073741824) | SIZE_1G; set = ((lo >>> 30) | (hi << 2)) & a.setMask; }
      const victim = missed && a.setClean[set] === a.flushSerial[0]
        ? (a.ordered ? a.rVictim(set) : a.lruWay(set))
        : a.victimScan(set, k, h, pcid);
      // The entry is written here and in insertFrom, not in a shared helper: V8 did not inline one
      // on the fill path of every walk.
      const key = a.key;
      const base = a.base;
      const old = key[victim];
      if (old !== 0) {
        const fh = a.frontHead;
        if (a.onKill !== null && (fh === null || fh[base + victim] >= 0)) a.onKill(base + victim);
      }
      // The per-set size count changes only when the victim held another size class (or nothing):
      // an L1 array holds one class, and a full STLB set mostly replaces like with like.
      if ((old & 3) !== size) {
        if (old !== 0) a.cnt[(set << 2) | (old & 3)]--;
        a.cnt[(set << 2) | size]++;
      }
      key[victim] = k;
      const rec = a.rec;
      const r = victim * REC;
      // Fields the victim already holds are not written again (a full set mostly replaces an entry
      // of the same tag-high half, PCID, flags and epoch): on a walk's fill each store waits for
      // its line at commit, in order, and the STLB's lines are mostly not in the host L1 then,
      // while a load is issued as soon as its address is known. Even the frame, which always
      // changes, is read first for that reason. Measured per step: docs/performance.md, seventh
      // round (the four record fields: 4K batch 0.95-0.97 of the time before).
      const epoch = a.pcidEpoch[pcid] | 0;
      if (rec[r + R_HI] !== h) rec[r + R_HI] = h;
      if (rec[r + R_PCID] !== pcid) rec[r + R_PCID] = pcid;
      if (rec[r + R_META] !== meta) rec[r + R_META] = meta;
      if (rec[r + R_EPOCH] !== epoch) rec[r + R_EPOCH] = epoch;
      if (a.frame[victim] !== frame) a.frame[victim] = frame;
      a.stamp[base + victim] = stamp;
      if (a.ordered) a.rMoveToTail(victim, set, stamp);
      slot = victim;
    }
    return slot;
  }

  /** The way with the oldest stamp (the first of equals) in a set. */
  private lruWay(set: number): number {
    const stamps = this.stamp;
    const base = this.base;
    const first = set * this.ways;
    if (this.ways === 4) {
      // The L1 DTLB's 4 ways without data-dependent branches (their order is random in
      // random-access runs): all six comparisons as 0/1 numbers, then way w is the victim when it is
      // older than every way before it and not newer than any after it (the first of equals). V8
      // compiles `+(a < b)` to a flag-to-register move; the ternary tournament this replaces
      // compiled to jumps, ~10 ns apart in isolation (17.5 vs 7.4 ns per call).
      const b = base + first;
      const s0 = stamps[b];
      const s1 = stamps[b + 1];
      const s2 = stamps[b + 2];
      const s3 = stamps[b + 3];
      const c10 = +(s1 < s0);
      const c20 = +(s2 < s0);
      const c30 = +(s3 < s0);
      const c21 = +(s2 < s1);
      const c31 = +(s3 < s1);
      const c32 = +(s3 < s2);
      return first + (c10 & (c21 ^ 1) & (c31 ^ 1)) + 2 * (c20 & c21 & (c32 ^ 1)) + 3 * (c30 & c31 & c32);
    }
    const end = first + this.ways;
    let victim = first;
    let oldest = stamps[base + first];
    for (let s = first + 1; s < end; s++) {
      const st = stamps[base + s];
      if (st < oldest) { oldest = st; victim = s; }
    }
    return victim;
  }

  /**
   * The victim search of insert() when the set is not known clean, or the caller did not just miss:
   * every way, in order. In a clean set that did not just miss this finds what the clean rule
   * would (the first way of the same page and tag context, else the LRU way, the first of equals),
   * so there is no second path for it here: that path, with a second copy of the LRU search
   * inlined into it, made insert()'s inlinees exceed V8's cumulative budget (920 bytes of
   * bytecode), and then rVictim, on the fill path of every walk, became a real call.
   */
  private victimScan(set: number, k: number, h: number, pcid: number): number {
    const first = set * this.ways;
    const end = first + this.ways;
    const base = this.base;
    const key = this.key;
    const rec = this.rec;
    const pe = this.pcidEpoch;
    const stamps = this.stamp;
    let victim = -1;
    let oldest = Infinity;
    const serial = this.flushSerial[0];
    let clean = true;
    for (let s = first; s < end; s++) {
      const r = s * REC;
      const p = rec[r + R_PCID];
      if (p < 0) { victim = s; clean = false; break; } // invalid way
      const g = (rec[r + R_META] & TF_G) !== 0;
      if (!g && rec[r + R_EPOCH] !== (pe[p] | 0)) { victim = s; clean = false; break; } // invalid way (flushed epoch)
      // an existing entry for the same page and tag context is replaced in place
      if (key[s] === k && rec[r + R_HI] === h && (p === pcid || g)) { victim = s; clean = false; break; }
      const st = stamps[base + s];
      if (st < oldest) { oldest = st; victim = s; }
    }
    // Replacing the LRU way of a set whose every way was valid and current leaves it so.
    if (clean) this.setClean[set] = serial;
    return victim;
  }

  /**
   * Promote slot s of `src` (the STLB entry a lookup of (lo, hi, pcid) just hit, after missing in
   * every L1 array): stamp it there (an STLB hit is a use for its LRU too), and copy it into this
   * array (L1): insert() with the fields read from the source record. Returns the slot here.
   */
  insertFrom(src: TlbArray, s: number, lo: number, hi: number, lookupPcid: number, stamp: number): number {
    // Every read of the source entry first, the STLB's recency upkeep last: its arrays are ~66 KiB
    // that the data stream keeps pushing out of the host L1, and a load issued here overlaps with
    // the victim search below instead of stalling the write of the copy (the frame's load was 16 %
    // of this function's samples when read at the write).
    const sr = s * REC;
    const k = src.key[s];
    const size = k & 3;
    const pcid = src.rec[sr + R_PCID];
    const meta = src.rec[sr + R_META];
    const frame = src.frame[s];
    // The lookup's L1 miss is insert()'s `missed` when the entry's pcid is the lookup's (a global
    // entry of another PCID was not the question the lookup asked).
    const missed = pcid === lookupPcid;
    const set = size === SIZE_4K ? (lo >>> 12) & this.setMask : size === SIZE_2M ? (lo >>> 21) & this.setMask : ((lo >>> 30) | (hi << 2)) & this.setMask;
    const h = hi | 0;
    const victim = missed && this.setClean[set] === this.flushSerial[0]
      ? (this.ordered ? this.rVictim(set) : this.lruWay(set))
      : this.victimScan(set, k, h, pcid);
    const key = this.key;
    const rec = this.rec;
    const base = this.base;
    const old = key[victim];
    if (old !== 0) {
      const fh = this.frontHead;
      if (this.onKill !== null && (fh === null || fh[base + victim] >= 0)) this.onKill(base + victim);
    }
    // The per-set size count changes only when the victim held another size class (or nothing):
    // an L1 array holds one class, and a full STLB set mostly replaces like with like.
    if ((old & 3) !== size) {
      if (old !== 0) this.cnt[(set << 2) | (old & 3)]--;
      this.cnt[(set << 2) | size]++;
    }
    key[victim] = k;
    const r = victim * REC;
    rec[r + R_HI] = h;
    rec[r + R_PCID] = pcid;
    rec[r + R_META] = meta;
    rec[r + R_EPOCH] = this.pcidEpoch[pcid] | 0;
    this.frame[victim] = frame;
    this.stamp[base + victim] = stamp;
    if (this.ordered) this.rMoveToTail(victim, set, stamp);
    src.touch(s, stamp); // an STLB hit is a use for its LRU too
    return victim;
  }


  kill(s: number): void {
    const set = (s / this.ways) | 0;
    this.setClean[set] = -1;
    const old = this.key[s];
    if (old !== 0) this.cnt[(set << 2) | (old & 3)]--;
    this.key[s] = 0;
    this.rec[s * REC + R_PCID] = -1;
    this.rec[s * REC + R_META] = 0;
    const fh = this.frontHead;
    if (this.onKill !== null && (fh === null || fh[this.base + s] >= 0)) this.onKill(this.base + s);
  }

  /** Drop entries for the page holding (lo, hi), of every size held here, in `pcid` (and globals if asked). */
  invalidateAddress(lo: number, hi: number, pcid: number, includeGlobal: boolean, onlyGlobal = false): void {
    const rec = this.rec;
    const key = this.key;
    const h = hi | 0;
    for (let size = SIZE_4K; size <= SIZE_1G; size++) {
      const set = setIndex(lo, hi, size, this.setMask);
      // A set with no key of this size class has nothing to drop (the scan would match nothing).
      // Unmapping a range invalidates every page of it in every array and size class, and an L1
      // array holds one class: without this test most of those scans found nothing
      // (Cpu.invlpgAddr was 4.5 % of `sjmp gups --design all`, MAP's remaps).
      if (this.cnt[(set << 2) | size] === 0) continue;
      const k = tagLoFor(lo, size) | size;
      const first = set * this.ways;
      for (let s = first; s < first + this.ways; s++) {
        if (key[s] !== k || rec[s * REC + R_HI] !== h) continue; // a key match holds an entry
        const g = (rec[s * REC + R_META] & TF_G) !== 0;
        if (g ? includeGlobal : !onlyGlobal && rec[s * REC + R_PCID] === pcid) this.kill(s);
      }
    }
  }

  /** Eagerly drop non-global entries of one PCID (the epoch bump does it lazily too). */
  invalidatePcidEager(pcid: number): void {
    const rec = this.rec;
    for (let s = 0, r = 0; s < this.key.length; s++, r += REC) {
      if (rec[r + R_PCID] === pcid && (rec[r + R_META] & TF_G) === 0) this.kill(s);
    }
  }

  invalidateAll(includeGlobal: boolean): void {
    const rec = this.rec;
    for (let s = 0, r = 0; s < this.key.length; s++, r += REC) {
      if (rec[r + R_PCID] >= 0 && (includeGlobal || (rec[r + R_META] & TF_G) === 0)) this.kill(s);
    }
  }

  /** Number of valid entries (for views and tests). */
  occupancy(): number {
    let n = 0;
    for (let s = 0; s < this.key.length; s++) if (this.isValid(s)) n++;
    return n;
  }

  /**
   * Check the host-side per-set size counts against a plain count of the slots (tests): returns
   * what disagrees, empty when the index is exact.
   */
  checkIndex(): string[] {
    const out: string[] = [];
    for (let set = 0; set < this.sets; set++) {
      for (let size = 0; size < 4; size++) {
        let n = 0;
        for (let s = set * this.ways; s < (set + 1) * this.ways; s++) {
          if ((this.rec[s * REC + R_PCID] >= 0) !== (this.key[s] !== 0)) out.push(`${this.name} slot ${s}: key ${this.key[s]} but pcid ${this.rec[s * REC + R_PCID]}`);
          if (this.key[s] !== 0 && (this.key[s] & 3) === size) n++;
        }
        if (size > 0 && this.cnt[(set << 2) | size] !== n) out.push(`${this.name} set ${set} size ${size}: index ${this.cnt[(set << 2) | size]}, slots ${n}`);
      }
      if (this.ordered) this.checkRing(set, out);
    }
    return out;
  }

  /**
   * The recency ring of a set (tests, through checkIndex): from the head, rNext visits every way
   * of the set once and ends at -1; rPrev links back, the head's to the tail; and the stamps never
   * decrease along it (the order rVictim relies on).
   */
  private checkRing(set: number, out: string[]): void {
    const first = set * this.ways;
    const head = this.rHead[set];
    const seen = new Set<number>();
    let prev = -1;
    for (let s = head; s >= 0; s = this.rNext[s]) {
      if (s < first || s >= first + this.ways || seen.has(s)) { out.push(`${this.name} set ${set}: ring reaches slot ${s}`); return; }
      if (prev >= 0 && this.rPrev[s] !== prev) out.push(`${this.name} set ${set}: rPrev[${s}] ${this.rPrev[s]}, want ${prev}`);
      if (prev >= 0 && this.stamp[this.base + s] < this.stamp[this.base + prev]) out.push(`${this.name} set ${set}: slot ${s} older than slot ${prev} before it`);
      seen.add(s);
      prev = s;
    }
    if (seen.size !== this.ways) out.push(`${this.name} set ${set}: ring holds ${seen.size} of ${this.ways} ways`);
    else if (this.rPrev[head] !== prev) out.push(`${this.name} set ${set}: rPrev of the head ${this.rPrev[head]}, want the tail ${prev}`);
  }
}

/**
 * A small fully-associative paging-structure cache for one level: maps the VA bits above a level's
 * span (plus PCID) to the physical address of the next table and the rights accumulated so far.
 * Replacement is LRU over `stamp` (empty entries first, lowest index first among equals). At most
 * one valid entry exists per (tag, PCID), so lookups go through a small hash index of bucket
 * chains over the valid entries instead of scanning every entry: the same answers as a scan,
 * found in O(1). The arrays (tagLo, tagHi, pcid, table, rights, stamp) are the model's state.
 */
export class PagingStructureCache {
  readonly tagLo: Int32Array;
  readonly tagHi: Int32Array;
  readonly pcid: Int32Array;
  readonly table: Float64Array;
  readonly rights: Int32Array;
  readonly stamp: Float64Array;
  /** The VA bits that select an entry: everything above the span of one entry at `level`. */
  private readonly loMask: number;
  private readonly hiMask: number;
  private readonly loShift: number;
  /** Hash index: bucket heads, per-entry chain links and the bucket each valid entry is in. */
  private readonly bHead: Int32Array;
  private readonly bShift: number;
  private readonly sNext: Int32Array;
  private readonly sPrev: Int32Array;
  private readonly sBucket: Int32Array;
  /** Bit s set when entry s is empty (only used when entries <= 32). */
  private emptyMask: number;
  private valid = 0;
  /**
   * The valid entries in order of last use, least recent first (a host-side index beside the
   * modelled stamps). Stamps come from the core's access counter, which never decreases, so this
   * order is the order of the stamps: the LRU victim is found at the head instead of by a scan.
   */
  private readonly rNext: Int32Array;
  private readonly rPrev: Int32Array;
  private rHead = -1;
  private rTail = -1;

  /** `level` is the level of the cached entry (2 = PDE cache ... 5 = PML5E cache). */
  constructor(readonly level: number, readonly entries: number) {
    this.loMask = level === 2 ? -2097152 : level === 3 ? -1073741824 : 0;
    this.hiMask = level <= 3 ? -1 : level === 4 ? -128 : -65536;
    this.loShift = level === 2 ? 21 : 30;
    this.tagLo = new Int32Array(entries);
    this.tagHi = new Int32Array(entries);
    this.pcid = new Int32Array(entries).fill(-1);
    this.table = new Float64Array(entries);
    this.rights = new Int32Array(entries);
    // An empty entry has stamp -1, older than any use, so LRU picks empty entries first.
    this.stamp = new Float64Array(entries).fill(-1);
    let bits = 2;
    while ((1 << bits) < entries * 4) bits++;
    this.bShift = 32 - bits;
    this.bHead = new Int32Array(1 << bits).fill(-1);
    this.sNext = new Int32Array(entries).fill(-1);
    this.sPrev = new Int32Array(entries).fill(-1);
    this.sBucket = new Int32Array(entries).fill(-1);
    this.emptyMask = entries >= 32 ? -1 : (1 << entries) - 1;
    this.rNext = new Int32Array(entries).fill(-1);
    this.rPrev = new Int32Array(entries).fill(-1);
  }

  private rRemove(s: number): void {
    const p = this.rPrev[s];
    const n = this.rNext[s];
    if (p >= 0) this.rNext[p] = n; else this.rHead = n;
    if (n >= 0) this.rPrev[n] = p; else this.rTail = p;
    this.rPrev[s] = -1;
    this.rNext[s] = -1;
  }

  private rAppend(s: number): void {
    this.rPrev[s] = this.rTail;
    this.rNext[s] = -1;
    if (this.rTail >= 0) this.rNext[this.rTail] = s; else this.rHead = s;
    this.rTail = s;
  }

  /** Entry s was just used: it becomes the most recent. */
  private rTouch(s: number): void {
    if (this.rTail === s) return;
    this.rRemove(s);
    this.rAppend(s);
  }

  /** The least recently used entry; among equal stamps the lowest index, as a scan would find. */
  private rVictim(): number {
    const stamps = this.stamp;
    let victim = this.rHead;
    const oldest = stamps[victim];
    for (let s = this.rNext[victim]; s >= 0 && stamps[s] === oldest; s = this.rNext[s]) if (s < victim) victim = s;
    return victim;
  }

  private bucketOf(tl: number, th: number, pcid: number): number {
    return Math.imul((tl >>> this.loShift) ^ Math.imul(th, 0x2c1b3c6d) ^ Math.imul(pcid, 0x297a2d39), 0x9e3779b1) >>> this.bShift;
  }

  lookup(lo: number, hi: number, pcid: number, stamp: number): number {
    const tl = lo & this.loMask;
    const th = hi & this.hiMask;
    if (this.valid !== 0) {
      const tagLo = this.tagLo;
      const tagHi = this.tagHi;
      const pc = this.pcid;
      const next = this.sNext;
      for (let s = this.bHead[this.bucketOf(tl, th, pcid)]; s >= 0; s = next[s]) {
        if (tagLo[s] === tl && tagHi[s] === th && pc[s] === pcid) {
          this.stamp[s] = stamp;
          this.rTouch(s);
          return s;
        }
      }
    }
    return -1;
  }

  insert(lo: number, hi: number, pcid: number, table: number, rights: number, stamp: number): void {
    const tl = lo & this.loMask;
    const th = hi & this.hiMask;
    const b = this.bucketOf(tl, th, pcid);
    const tagLo = this.tagLo;
    const tagHi = this.tagHi;
    const pc = this.pcid;
    let victim = -1;
    // The same entry is replaced in place ...
    for (let s = this.bHead[b]; s >= 0; s = this.sNext[s]) {
      if (tagLo[s] === tl && tagHi[s] === th && pc[s] === pcid) { victim = s; break; }
    }
    if (victim < 0) {
      const n = this.entries;
      if (this.valid < n) {
        // ... else the lowest-numbered empty entry (empties tie at stamp -1, below any use) ...
        if (n <= 32) {
          const m = this.emptyMask;
          victim = 31 - Math.clz32(m & -m);
        } else {
          victim = 0;
          while (pc[victim] >= 0) victim++;
        }
      } else {
        // ... else the least recently used (the first of equals).
        victim = this.rVictim();
      }
      if (pc[victim] >= 0) this.unlink(victim);
      else { this.valid++; if (victim < 32) this.emptyMask &= ~(1 << victim); this.rAppend(victim); }
      this.link(victim, b);
    }
    this.rTouch(victim);
    tagLo[victim] = tl;
    tagHi[victim] = th;
    pc[victim] = pcid;
    this.table[victim] = table;
    this.rights[victim] = rights;
    this.stamp[victim] = stamp;
  }

  private link(s: number, b: number): void {
    const h = this.bHead[b];
    this.sNext[s] = h;
    this.sPrev[s] = -1;
    if (h >= 0) this.sPrev[h] = s;
    this.bHead[b] = s;
    this.sBucket[s] = b;
  }

  private unlink(s: number): void {
    const b = this.sBucket[s];
    if (b < 0) return;
    const p = this.sPrev[s];
    const n = this.sNext[s];
    if (p >= 0) this.sNext[p] = n; else this.bHead[b] = n;
    if (n >= 0) this.sPrev[n] = p;
    this.sNext[s] = -1;
    this.sPrev[s] = -1;
    this.sBucket[s] = -1;
  }

  private empty(s: number): void {
    this.unlink(s);
    this.pcid[s] = -1;
    this.stamp[s] = -1;
    this.rRemove(s);
    this.valid--;
    if (s < 32) this.emptyMask |= 1 << s;
  }

  invalidatePcid(pcid: number): void {
    // Through the recency list, which holds exactly the valid entries (the same ones the index
    // scan finds; emptying them in another order leaves the same state).
    for (let s = this.rHead; s >= 0;) {
      const next = this.rNext[s];
      if (this.pcid[s] === pcid) this.empty(s);
      s = next;
    }
  }

  invalidateAll(): void {
    this.pcid.fill(-1);
    this.stamp.fill(-1);
    this.bHead.fill(-1);
    this.sNext.fill(-1);
    this.sPrev.fill(-1);
    this.sBucket.fill(-1);
    this.rNext.fill(-1);
    this.rPrev.fill(-1);
    this.rHead = -1;
    this.rTail = -1;
    this.valid = 0;
    this.emptyMask = this.entries >= 32 ? -1 : (1 << this.entries) - 1;
  }

  occupancy(): number {
    let n = 0;
    for (let s = 0; s < this.entries; s++) if (this.pcid[s] >= 0) n++;
    return n;
  }
}


/**
 * The TLB of one core: L1 DTLB (per size) backed by the STLB, plus paging-structure caches.
 * The L1 arrays share one stamp space (global slot indices) so the CPU's direct-mapped front cache can name
 * an L1 slot by a single index and notice when it is evicted or invalidated.
 */
export class Tlb {
  readonly pcidEpoch = new Uint32Array(4096);
  /** Bumped whenever an epoch changes (see TlbArray.setClean). */
  private readonly flushSerial = new Int32Array(1);
  readonly l1Stamp: Float64Array;
  readonly l1: [TlbArray, TlbArray, TlbArray]; // indexed by size - 1
  /** The same three arrays as fields (the lookup path reads them without a tuple index). */
  readonly l1_4k: TlbArray;
  readonly l1_2m: TlbArray;
  readonly l1_1g: TlbArray;
  readonly stlb: TlbArray;
  readonly stlb1g: TlbArray;
  /** Every array above (L1 by size, STLB, STLB 1G), built once: an INVLPG walks them per page unmapped. */
  private readonly all: TlbArray[];
  /** Paging-structure caches by level (index 2..5), or empty. */
  readonly psc: (PagingStructureCache | null)[] = [null, null, null, null, null, null];

  constructor(readonly geometry: TlbGeometry = SKYLAKE_TLB) {
    const n4 = geometry.l1_4k.entries;
    const n2 = geometry.l1_2m.entries;
    const n1 = geometry.l1_1g.entries;
    this.l1Stamp = new Float64Array(n4 + n2 + n1);
    this.l1 = [
      new TlbArray('L1 DTLB 4K', geometry.l1_4k, this.pcidEpoch, this.l1Stamp, 0, this.flushSerial),
      new TlbArray('L1 DTLB 2M', geometry.l1_2m, this.pcidEpoch, this.l1Stamp, n4, this.flushSerial),
      new TlbArray('L1 DTLB 1G', geometry.l1_1g, this.pcidEpoch, this.l1Stamp, n4 + n2, this.flushSerial),
    ];
    [this.l1_4k, this.l1_2m, this.l1_1g] = this.l1;
    this.stlb = new TlbArray('STLB 4K+2M', geometry.stlb, this.pcidEpoch, undefined, 0, this.flushSerial, true);
    this.stlb1g = new TlbArray('STLB 1G', geometry.stlb_1g, this.pcidEpoch, undefined, 0, this.flushSerial, true);
    this.all = [...this.l1, this.stlb, this.stlb1g];
    if (geometry.psc) {
      this.psc[2] = new PagingStructureCache(2, geometry.psc.pd);
      this.psc[3] = new PagingStructureCache(3, geometry.psc.pdpt);
      this.psc[4] = new PagingStructureCache(4, geometry.psc.pml4);
      this.psc[5] = new PagingStructureCache(5, geometry.psc.pml5);
    }
  }

  /**
   * Fill after a successful walk: into the STLB and L1 (the frame as halves: see TlbArray.insert).
   * Returns the L1 global slot. `missed`: the
   * walk followed a lookup() of the same (lo, hi, pcid) that found nothing, with no change to the
   * TLB since (see TlbArray.insert).
   */
  fill(
    lo: number, hi: number, size: number, pcid: number, frameLo: number, frameHi: number, flags: number, pkey: number,
    stamp: number, missed = false,
  ): number {
    const l1 = this.l1[size - 1];
    const s = (size === SIZE_1G ? this.stlb1g : this.stlb).insert(lo, hi, size, pcid, frameLo, frameHi, flags, pkey, stamp, missed, l1);
    return l1.base + s;
  }

  /** Entry data of the L1 slot last found/filled. */
  l1Array(globalSlot: number): [TlbArray, number] {
    const [a, b, c] = this.l1;
    if (globalSlot < b.base) return [a, globalSlot];
    if (globalSlot < c.base) return [b, globalSlot - b.base];
    return [c, globalSlot - c.base];
  }

  private structures(): TlbArray[] {
    return this.all;
  }

  /**
   * Non-global entries of one PCID (MOV to CR3 without no-flush; INVPCID type 1). The epoch bump
   * is the flush for the model; `l1Eager` also kills the L1 entries now, which tells the front
   * cache (onKill). A caller that tells its front cache itself (Cpu.writeCr3) passes false.
   */
  flushPcid(pcid: number, l1Eager = true): void {
    this.pcidEpoch[pcid] = (this.pcidEpoch[pcid] + 1) >>> 0;
    this.flushSerial[0] = (this.flushSerial[0] + 1) | 0;
    if (l1Eager) for (const a of this.l1) a.invalidatePcidEager(pcid);
    this.flushPscPcid(pcid);
  }

  flushPscPcid(pcid: number): void {
    for (let l = 2; l <= 5; l++) this.psc[l]?.invalidatePcid(pcid);
  }

  /** Everything (includeGlobal) or all non-global entries of every PCID (INVPCID 2 / 3, CR4 changes). */
  flushAll(includeGlobal: boolean): void {
    for (const a of this.structures()) a.invalidateAll(includeGlobal);
    for (let l = 2; l <= 5; l++) this.psc[l]?.invalidateAll();
  }

  /** INVLPG: the page in the current PCID, global entries for it, and this PCID's PSC entries. */
  invlpg(lo: number, hi: number, pcid: number): void {
    for (const a of this.structures()) a.invalidateAddress(lo, hi, pcid, true);
    this.flushPscPcid(pcid);
  }

  /** INVPCID type 0: one address in one PCID (not globals), and that PCID's PSC entries. */
  invalidateAddressPcid(lo: number, hi: number, pcid: number): void {
    for (const a of this.structures()) a.invalidateAddress(lo, hi, pcid, false);
    this.flushPscPcid(pcid);
  }

  /**
   * Entries and valid entries per structure, for views. Hit and miss counters are the CPU's
   * (Cpu.tlbCounters): only it sees the hits its front cache serves.
   */
  occupancy(): Record<string, { entries: number; valid: number }> {
    const out: Record<string, { entries: number; valid: number }> = {};
    for (const a of this.structures()) out[a.name] = { entries: a.entries, valid: a.occupancy() };
    for (let l = 2; l <= 5; l++) {
      const p = this.psc[l];
      if (p) out[`PSC L${l}`] = { entries: p.entries, valid: p.occupancy() };
    }
    return out;
  }
}

/** Haswell: STLB 1024 entries, 8-way (Intel optimisation manual). */
export const HASWELL_TLB: TlbGeometry = { ...SKYLAKE_TLB, stlb: { entries: 1024, ways: 8 } };

/** A deliberately small TLB: capacity effects show with a handful of pages (demos, tests). */
export const SMALL_TLB: TlbGeometry = {
  l1_4k: { entries: 8, ways: 2 },
  l1_2m: { entries: 4, ways: 2 },
  l1_1g: { entries: 2, ways: 2 },
  stlb: { entries: 32, ways: 4 },
  stlb_1g: { entries: 4, ways: 2 },
  psc: { pml5: 1, pml4: 2, pdpt: 2, pd: 4 },
};

export const TLB_GEOMETRIES: Record<string, TlbGeometry> = { skylake: SKYLAKE_TLB, haswell: HASWELL_TLB, small: SMALL_TLB };

/**
 * A geometry by name ("skylake", "haswell", "small"), optionally followed by overrides:
 * "skylake,stlb=2048/16,l1_4k=64/4,psc=off". Throws a RangeError naming what is wrong.
 */
export function parseTlbGeometry(spec: string): TlbGeometry {
  const [name, ...parts] = spec.split(',').map((s) => s.trim());
  const base = TLB_GEOMETRIES[name.toLowerCase()];
  if (!base) throw new RangeError(`unknown TLB geometry "${name}" (known: ${Object.keys(TLB_GEOMETRIES).join(', ')})`);
  const g: TlbGeometry = { ...base };
  for (const p of parts) {
    if (p === 'psc=off') { g.psc = null; continue; }
    const m = /^(l1_4k|l1_2m|l1_1g|stlb|stlb_1g)=(\d+)\/(\d+)$/.exec(p);
    if (!m) throw new RangeError(`bad TLB override "${p}" (want e.g. stlb=1536/12 or psc=off)`);
    const arr = { entries: Number(m[2]), ways: Number(m[3]) };
    const sets = arr.entries / arr.ways;
    if (!Number.isInteger(sets) || sets < 1 || (sets & (sets - 1)) !== 0) throw new RangeError(`TLB ${m[1]}: ${arr.entries}/${arr.ways} must give a power-of-two number of sets`);
    (g as unknown as Record<string, unknown>)[m[1]] = arr;
  }
  return g;
}
