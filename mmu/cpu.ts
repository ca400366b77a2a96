// One emulated CPU core: control registers (CR0.WP, CR3, CR4.PCIDE/LA57/PGE/PKE, EFER.NXE, PKRU),
// its TLB, the page walker, counters, and the per-access load/store path.
//
// The per-access path is a direct-mapped front cache (QEMU/v86 style) indexed by the 4 KiB page
// number. It is kept a strict subset of the modelled L1 DTLB: every front entry names the L1 slot
// it came from, and when that slot is evicted or invalidated the front entries derived from it are
// dropped (off the hot path, through a per-slot list). A front-cache hit therefore is an L1 DTLB
// hit in the model; it refreshes the slot's LRU stamp and touches no BigInt, Map or closure.

import { PhysicalMemory, type RemapListener } from './physicalMemory.js';
import { PageWalker, type AccessKind, type WalkControl, describeFaultCode } from './pageWalker.js';
import * as pageWalker from './pageWalker.js';
import { Tlb, SKYLAKE_TLB, type TlbGeometry, PAGE_BYTES } from './tlb.js';
import { type CostParams, PROFILE_M2 } from './costModel.js';
import { type PagingMode, joinBig, splitBig } from './address.js';
import * as address from './address.js';
import * as constants from './constants.js';
import { formatAddr } from './units.js';
import { type CacheHierarchy, LEVEL_L1, LEVEL_L2, LEVEL_LLC, LEVEL_DRAM } from './cache.js';

// The constants the per-access paths read, as module-local consts: V8 folds those into the code,
// while an imported (or exported) binding is a Cell load, a hole check and a Smi check at every
// use (see constants.ts). The front cache's size: see FC_BITS there.
const { SIZE_4K, SIZE_2M, SIZE_1G, TF_W, TF_U, TF_XD, TF_G, TF_D, FC_SIZE, FC_MASK, FC_INVALID, TLB_REC, TLB_R_META } = constants;
const { ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC } = pageWalker;
const { TWO32 } = address;
export { FC_MASK, FC_INVALID } from './constants.js';
const TWO53N = 2n ** 53n;
/** 2^53: the PCID's weight in a front key. */
export const PCID_KEY = 9007199254740992;

export const VECTOR_PF = 14;
export const VECTOR_GP = 13;

/** A fault the core raises; handed to the installed handler (the kernel). */
export interface Fault {
  vector: typeof VECTOR_PF | typeof VECTOR_GP;
  /** Faulting linear address (CR2 for #PF). */
  va: bigint;
  access: AccessKind;
  userMode: boolean;
  /** #PF error code; 0 for #GP. */
  errorCode: number;
}

/** Returns true when it resolved the fault and the access should be retried. May throw to unwind. */
export type FaultHandler = (cpu: Cpu, fault: Fault) => boolean;

/** Thrown when a fault is not resolved and no handler takes over. */
export class MachineFault extends Error {
  constructor(readonly fault: Fault, readonly cpuId: number) {
    super(`cpu${cpuId}: ${fault.vector === VECTOR_GP ? '#GP (non-canonical address)' : '#PF ' + describeFaultCode(fault.errorCode)} at ${formatAddr(fault.va)}`);
    this.name = 'MachineFault';
  }
}

export interface CpuOptions {
  id?: number;
  node?: number;
  tlb?: TlbGeometry;
  costs?: CostParams;
  paging?: PagingMode;
  maxPhysAddrBits?: number;
  /** The data-cache hierarchy this core looks through (caches on); none = today's flat model. */
  caches?: CacheHierarchy;
}

/**
 * Components charged on the system-call, switch and program paths, counted in an indexed array
 * (Cpu.chargeAt) instead of the string-keyed record, whose keyed updates cost more host time than
 * the rest of a warm kernel reference. `charge(name)` sends these names here too, so a component
 * is counted in one place only; `cyclesBy` shows them under their names.
 */
export const CYC_SYSCALL = 0;
export const CYC_CR3 = 1;
export const CYC_LOCK = 2;
export const CYC_PMAP_ACTIVATE = 3;
export const CYC_COMPUTE = 4;
export const CYC_CONTEXT_SWITCH = 5;
export const CYC_KERNEL_TLB = 6;
export const CYC_KERNEL_CACHE = 7;
/** The kernel's mapping path (per page of an mmap, munmap or fault: object lookup, PTE write,
 *  table page, INVLPG, shootdown IPI), charged by name through Kernel.charge. */
export const CYC_VM = 8;
export const CYC_PTE = 9;
export const CYC_PMAP = 10;
export const CYC_INVLPG = 11;
export const CYC_SHOOTDOWN = 12;
const HOT_NAMES = ['syscall', 'cr3', 'lock', 'pmap-activate', 'compute', 'context-switch', 'kernel-tlb', 'kernel-cache',
  'vm', 'pte', 'pmap', 'invlpg', 'shootdown'] as const;

/** The CYC_* index of a component name, or -1. */
function hotIndex(component: string): number {
  switch (component) {
    case 'compute': return CYC_COMPUTE;
    case 'syscall': return CYC_SYSCALL;
    case 'cr3': return CYC_CR3;
    case 'lock': return CYC_LOCK;
    case 'pmap-activate': return CYC_PMAP_ACTIVATE;
    case 'context-switch': return CYC_CONTEXT_SWITCH;
    case 'kernel-tlb': return CYC_KERNEL_TLB;
    case 'kernel-cache': return CYC_KERNEL_CACHE;
    case 'vm': return CYC_VM;
    case 'pte': return CYC_PTE;
    case 'pmap': return CYC_PMAP;
    case 'invlpg': return CYC_INVLPG;
    case 'shootdown': return CYC_SHOOTDOWN;
    default: return -1;
  }
}

const EMPTY_WORDS = new Int32Array(1);
/** The batches runBatch does (store64Batch, load64Batch, load32Batch). */
const BATCH_STORE64 = 0;
const BATCH_LOAD64 = 1;
const BATCH_LOAD32 = 2;
const EMPTY_BYTES = new Uint8Array(1);

export class Cpu implements RemapListener {
  readonly id: number;
  readonly node: number;
  readonly tlb: Tlb;
  readonly walker: PageWalker;
  costs: CostParams;

  // --- architectural state ---
  /** CR3 table base (physical) and PCID. */
  cr3Base = 0;
  pcid = 0;
  cr0wp = true;
  pcide = false;
  la57 = false;
  pge = true;
  pke = false;
  nxe = true;
  pkru = 0;
  maxPhysAddrBits: number;
  faultHandler: FaultHandler | null = null;

  // --- counters (modelled clock = cycles + accesses * dataAccess) ---
  accesses = 0;
  cycles = 0;
  l1Misses = 0;
  stlbHits = 0;
  walks = 0;
  walkRefs = 0;
  pageFaults = 0;
  /** Accesses that took the slow path, and the L1 hits found there. */
  slowAccesses = 0;
  slowL1Hits = 0;
  cr3Writes = 0;
  tlbFlushes = 0;
  invlpgs = 0;
  /** Paging-structure cache lookups by level (index 2..5) on walks. */
  /** (Swapped for the kernel's own arrays while a kernel reference runs: see kernelRef.) */
  pscHits = new Float64Array(6);
  pscMisses = new Float64Array(6);
  private readonly cyclesByRec: Record<string, number> = Object.create(null);
  /** Hot components kept as plain fields and folded into cyclesBy when it is read. */
  private walkCycles = 0;
  private stlbCycles = 0;
  /**
   * The CYC_* components' totals, each summed from 0 in charge order exactly as the record would
   * sum it, and whether each was charged yet (its key is put in the record at its first charge, so
   * the record's key order stays the order of first charges).
   */
  private readonly hotCycles = new Float64Array(HOT_NAMES.length);
  private readonly hotSeen = new Uint8Array(HOT_NAMES.length);

  // --- data caches (only with caches on) ---
  /**
   * With caches on, every access takes the slow path (the front cache is never filled), where the
   * physical address is known and the hierarchy is consulted; with caches off this is null and the
   * fast paths are exactly today's. Counters: index kind * 4 + level, kind 0 = data, 1 = page-table
   * lines read by the walker; level LEVEL_L1..LEVEL_DRAM is the level that served the access.
   */
  readonly caches: CacheHierarchy | null;
  cacheServed = new Float64Array(8);
  /** DRAM fills from another node's memory, by kind (data, page table). */
  cacheRemote = new Float64Array(2);
  /** Cycles data accesses spent beyond the L1D hit latency (component "cache"). */
  private cacheCycles = 0;

  // --- the kernel's own references (kernelRef), counted apart from user accesses ---
  /** Supervisor references the kernel made through this core (its text, data and stacks). */
  kernelAccesses = 0;
  /** What those references counted (scalars), kept out of the user counters: see KS_* for the layout. */
  readonly kernelStats = new Float64Array(KS_SIZE);
  /** Open beginKernelRefs calls (the user counters are set aside while > 0), and what was set aside. */
  private kDepth = 0;
  private svSlowL1 = 0;
  private svL1Misses = 0;
  private svStlbHits = 0;
  private svWalks = 0;
  private svWalkRefs = 0;
  private svWalkCycles = 0;
  private svStlbCycles = 0;
  private svCacheCycles = 0;
  /** The kernel's own paging-structure-cache and data-cache counters (same layout as the user ones). */
  private kPscHits = new Float64Array(6);
  private kPscMisses = new Float64Array(6);
  private kCacheServed = new Float64Array(8);
  private kCacheRemote = new Float64Array(2);

  // --- front cache (structure of arrays) ---
  protected readonly fcRTag = new Int32Array(FC_SIZE).fill(FC_INVALID);
  protected readonly fcWTag = new Int32Array(FC_SIZE).fill(FC_INVALID);
  protected readonly fcHi = new Float64Array(FC_SIZE);
  protected readonly fcSlot = new Int32Array(FC_SIZE).fill(-1);
  protected readonly fcWord = new Int32Array(FC_SIZE);
  protected readonly fcMem: Int32Array[] = new Array<Int32Array>(FC_SIZE).fill(EMPTY_WORDS);
  protected readonly fcMem8: Uint8Array[] = new Array<Uint8Array>(FC_SIZE).fill(EMPTY_BYTES);
  /** Physical page of each front entry (read only by CachedCpu's hit path, which needs the line). */
  protected readonly fcPa = new Float64Array(FC_SIZE);
  /**
   * Whether the front cache may be filled: always with caches off; with caches on only in a
   * CachedCpu, whose access functions look the line up on a front hit. A plain Cpu with caches
   * sends every access down the slow path instead.
   */
  protected frontOk: boolean;
  /** Per-L1-slot doubly linked lists of the front entries derived from it. */
  private readonly fcNext = new Int32Array(FC_SIZE).fill(-1);
  private readonly fcPrev = new Int32Array(FC_SIZE).fill(-1);
  private readonly l1Head: Int32Array;
  /**
   * Per L1 slot (global index): how many slow-path L1 hits (up to 2) the entry it holds took since
   * it was filled (host-side only: a 2M/1G entry fills the front cache on the third such hit, see
   * tryTranslate).
   */
  private readonly l1Uses: Uint8Array;
  /**
   * The L1 slots whose front list is not empty (an unordered set: list and position in it, -1 =
   * absent). A flushing CR3 write needs to kill, of the flushed PCID's L1 entries, only those with
   * front entries: the others are dead in the model already by their PCID's epoch, which the TLB
   * bumps (see writeCr3), so no scan of the whole L1 is needed.
   */
  private readonly frontSlots: Int32Array;
  private readonly frontSlotPos: Int32Array;
  private frontSlotCount = 0;
  /** The L1 DTLB's LRU stamps (the TLB's own array), refreshed by every front-cache hit. */
  protected readonly l1Stamp: Float64Array;
  /**
   * pcid * 2^53. A front entry's key is (va - lo) + hiKey = hi * 2^32 + pcid * 2^53: exact in a
   * double (every term is a multiple of 2^32 below 2^65), unique per (hi < 2^21, PCID), and the
   * fast path gets it with one subtraction and one addition instead of a division.
   */
  protected hiKey = 0;
  /**
   * The last front entry a fast access hit (a one-entry "micro" cache in fields): the page's VA
   * (exact, -1 = none) for reads and for writes, its host words and word offset. A run of accesses
   * to the same page is served from here without refreshing the L1 LRU stamp: the stamp keeps the
   * run's first access, and because any other access ends the run (a fast hit elsewhere re-arms
   * it, anything slower resets it) ordering slots by run start is ordering them by last use, so
   * LRU stays exact. Reset whenever a front entry or L1 slot dies, and on CR3 writes.
   */
  private mcPageR = -1;
  private mcPageW = -1;
  private mcMem: Int32Array = EMPTY_WORDS;
  private mcWord = 0;
  /** 2 ** maxPhysAddrBits, for writeCr3's check (recomputed when the bits change). */
  private cr3LimitBits = -1;
  private cr3Limit = 0;
  /** High half of the last 64-bit load. */
  hi = 0;
  private readonly ctl: WalkControl;

  constructor(readonly mem: PhysicalMemory, opts: CpuOptions = {}) {
    this.id = opts.id ?? 0;
    this.node = opts.node ?? 0;
    this.tlb = new Tlb(opts.tlb ?? SKYLAKE_TLB);
    this.walker = new PageWalker(mem);
    mem.onRemap(this);
    this.costs = opts.costs ?? PROFILE_M2.params;
    this.la57 = opts.paging === 5;
    this.maxPhysAddrBits = opts.maxPhysAddrBits ?? 46;
    this.caches = opts.caches ?? null;
    this.frontOk = this.caches === null;
    this.l1Head = new Int32Array(this.tlb.l1Stamp.length).fill(-1);
    this.l1Uses = new Uint8Array(this.tlb.l1Stamp.length);
    this.frontSlots = new Int32Array(this.tlb.l1Stamp.length);
    this.frontSlotPos = new Int32Array(this.tlb.l1Stamp.length).fill(-1);
    this.l1Stamp = this.tlb.l1Stamp;
    this.ctl = { wp: true, nxe: true, pke: false, pkru: 0, maxPhysAddrBits: this.maxPhysAddrBits };
    for (const a of this.tlb.l1) {
      a.onKill = (slot: number) => this.dropFrontFor(slot);
      a.frontHead = this.l1Head;
    }
  }

  get paging(): PagingMode { return this.la57 ? 5 : 4; }

  /**
   * Modelled cycles of this core. The kernel's own references (kernelRef) bump `accesses` too, for
   * the TLB's LRU stamps, but are not user loads/stores: their cost is charged as events.
   */
  get clock(): number { return this.cycles + (this.accesses - this.kernelAccesses) * this.costs.dataAccess; }

  /** Read the time-stamp counter: the core's modelled clock. */
  rdtsc(): number { return this.clock; }

  /** Cycles by component, for breakdowns (syscall, cr3, walk, fault, shootdown, ...). */
  get cyclesBy(): Record<string, number> {
    const r = this.cyclesByRec;
    if (this.walkCycles !== 0) { r.walk = (r.walk ?? 0) + this.walkCycles; this.walkCycles = 0; }
    if (this.stlbCycles !== 0) { r.stlb = (r.stlb ?? 0) + this.stlbCycles; this.stlbCycles = 0; }
    if (this.cacheCycles !== 0) { r.cache = (r.cache ?? 0) + this.cacheCycles; this.cacheCycles = 0; }
    for (let i = 0; i < HOT_NAMES.length; i++) if (this.hotSeen[i] !== 0) r[HOT_NAMES[i]] = this.hotCycles[i];
    return r;
  }

  /** Charge modelled cycles to a named component. */
  charge(component: string, cycles: number): void {
    const i = hotIndex(component);
    if (i >= 0) { this.chargeAt(i, cycles); return; }
    this.cycles += cycles;
    this.cyclesByRec[component] = (this.cyclesByRec[component] ?? 0) + cycles;
  }

  /** charge() for a CYC_* component, without the name. */
  chargeAt(component: number, cycles: number): void {
    this.cycles += cycles;
    this.recordAt(component, cycles);
  }

  /** Count cycles already on the clock under a CYC_* component. */
  private recordAt(component: number, cycles: number): void {
    if (this.hotSeen[component] === 0) {
      this.hotSeen[component] = 1;
      this.cyclesByRec[HOT_NAMES[component]] = 0;
    }
    this.hotCycles[component] += cycles;
  }

  // ------------------------------------------------------------------ control registers

  /**
   * MOV to CR3 (SDM §4.10.4.1). With PCIDE=0 the PCID must be 0 and all non-global entries go;
   * with PCIDE=1 the new PCID's non-global entries go unless `noFlush` (bit 63) is set.
   */
  writeCr3(tableBase: number, pcid = 0, noFlush = false): void {
    if (this.maxPhysAddrBits !== this.cr3LimitBits) { this.cr3LimitBits = this.maxPhysAddrBits; this.cr3Limit = 2 ** this.maxPhysAddrBits; }
    // (x - floor(x / 4096) * 4096: x % 4096 without the host's floating-point remainder call; exact.)
    if (!(tableBase >= 0 && tableBase < this.cr3Limit && tableBase - Math.floor(tableBase / 4096) * 4096 === 0)) throw new RangeError(`CR3 base ${formatAddr(tableBase)} is not a 4K-aligned physical address`);
    if (!Number.isInteger(pcid) || pcid < 0 || pcid > 4095) throw new RangeError(`PCID ${pcid} out of range 0..4095`);
    if (!this.pcide && pcid !== 0) throw new RangeError('PCID must be 0 while CR4.PCIDE is clear (#GP)');
    if (!this.pcide && noFlush) throw new RangeError('CR3 bit 63 is reserved while CR4.PCIDE is clear (#GP)');
    this.cr3Base = tableBase;
    this.pcid = pcid;
    this.hiKey = pcid * PCID_KEY;
    this.mcReset(); // its page key carries no PCID
    this.cr3Writes++;
    if (!noFlush) {
      this.tlb.flushPcid(pcid, false); // L1 entries die by epoch; those with front entries here:
      this.killFrontedL1(pcid);
      this.tlbFlushes++;
    }
    // Table 6 prices a load that installs a tag (224) above one that flushes (130).
    this.chargeAt(CYC_CR3, this.pcide && pcid !== 0 ? this.costs.cr3LoadTagged : this.costs.cr3Load);
  }

  /** MOV to CR4 for the bits modelled here (SDM §4.10.4.1 on what it flushes). */
  writeCr4(bits: { pcide?: boolean; la57?: boolean; pge?: boolean; pke?: boolean }): void {
    const pcide = bits.pcide ?? this.pcide;
    const la57 = bits.la57 ?? this.la57;
    const pge = bits.pge ?? this.pge;
    if (pcide && !this.pcide && this.pcid !== 0) throw new RangeError('setting CR4.PCIDE needs CR3[11:0] = 0 (#GP)');
    const flushAll = pge !== this.pge || (this.pcide && !pcide) || la57 !== this.la57;
    if (this.pcide && !pcide) {
      // With PCIDE clear the processor tags everything with PCID 000H (SDM §4.10.1).
      this.pcid = 0;
      this.hiKey = 0;
    }
    this.pcide = pcide;
    this.la57 = la57;
    this.pge = pge;
    this.pke = bits.pke ?? this.pke;
    this.ctl.pke = this.pke;
    if (flushAll) {
      this.tlb.flushAll(true);
      this.tlbFlushes++;
    }
    this.flushFront(); // PKE and mode changes alter what the front cache may serve
  }

  setNxe(on: boolean): void { this.nxe = on; this.ctl.nxe = on; this.flushFront(); }
  setWp(on: boolean): void { this.cr0wp = on; this.ctl.wp = on; }

  /** WRPKRU: protection-key rights change without any TLB invalidation. */
  writePkru(v: number): void { this.pkru = v | 0; this.ctl.pkru = this.pkru; this.flushFront(); }

  /** INVLPG for an address given as halves (or use invlpgAddr). */
  invlpg(lo: number, hi: number): void {
    this.invlpgs++;
    this.tlb.invlpg(lo >>> 0, hi >>> 0, this.pcid);
    this.chargeAt(CYC_INVLPG, this.costs.invlpg);
  }

  /** INVLPG for an address held as an exact non-negative number (as pmaps keep VAs): no BigInt. */
  invlpgAddr(va: number): void {
    this.invlpg(va >>> 0, Math.floor(va / TWO32));
  }

  /** INVPCID types 0..3 (SDM: 0 address, 1 single context, 2 all incl. globals, 3 all but globals). */
  invpcid(type: 0 | 1 | 2 | 3, pcid: number, va: bigint = 0n): void {
    if (pcid < 0 || pcid > 4095) throw new RangeError('INVPCID descriptor PCID out of range (#GP)');
    if (!this.pcide && (type === 0 || type === 1) && pcid !== 0) throw new RangeError('INVPCID type 0/1 needs PCID 0 while CR4.PCIDE is clear (#GP)');
    this.invlpgs++;
    switch (type) {
      case 0: {
        const [lo, hi] = splitBig(va);
        if (!this.isCanonical(hi)) throw new RangeError('INVPCID type 0 with a non-canonical address (#GP)');
        this.tlb.invalidateAddressPcid(lo, hi, pcid);
        break;
      }
      case 1: this.tlb.flushPcid(pcid); break;
      case 2: this.tlb.flushAll(true); break;
      case 3: this.tlb.flushAll(false); break;
      default: throw new RangeError(`INVPCID type ${type as number} is invalid (#GP)`);
    }
    this.charge('invlpg', this.costs.invlpg);
  }

  // ------------------------------------------------------------------ front cache upkeep

  private mcReset(): void {
    this.mcPageR = -1;
    this.mcPageW = -1;
  }

  /** Arm the micro cache with front entry i (just hit) for the page at `page`. */
  private mcArm(i: number, page: number): void {
    this.mcPageR = this.fcRTag[i] !== FC_INVALID ? page : -1;
    this.mcPageW = this.fcWTag[i] !== FC_INVALID ? page : -1;
    this.mcMem = this.fcMem[i];
    this.mcWord = this.fcWord[i];
  }

  /** Kill the flushed PCID's non-global L1 entries that have front entries (see frontSlots). */
  private killFrontedL1(pcid: number): void {
    const [l4, l2, l1g] = this.tlb.l1;
    // Backwards: a kill takes its slot out of the list, moving the last one (already seen) into its place.
    for (let i = this.frontSlotCount - 1; i >= 0; i--) {
      const g = this.frontSlots[i];
      const a = g < l2.base ? l4 : g < l1g.base ? l2 : l1g;
      const s = g - a.base;
      if (a.pcidOf(s) === pcid && (a.flagsOf(s) & TF_G) === 0) a.kill(s);
    }
  }

  private addFrontSlot(l1Slot: number): void {
    this.frontSlotPos[l1Slot] = this.frontSlotCount;
    this.frontSlots[this.frontSlotCount++] = l1Slot;
  }

  private removeFrontSlot(l1Slot: number): void {
    const i = this.frontSlotPos[l1Slot];
    if (i < 0) return;
    const last = this.frontSlots[--this.frontSlotCount];
    this.frontSlots[i] = last;
    this.frontSlotPos[last] = i;
    this.frontSlotPos[l1Slot] = -1;
  }

  private dropFrontFor(l1Slot: number): void {
    this.removeFrontSlot(l1Slot);
    this.mcReset();
    let i = this.l1Head[l1Slot];
    while (i >= 0) {
      const next = this.fcNext[i];
      this.fcRTag[i] = FC_INVALID;
      this.fcWTag[i] = FC_INVALID;
      this.fcSlot[i] = -1;
      this.fcNext[i] = -1;
      this.fcPrev[i] = -1;
      i = next;
    }
    this.l1Head[l1Slot] = -1;
  }

  private unlinkFront(i: number): void {
    const s = this.fcSlot[i];
    if (s < 0) return;
    const p = this.fcPrev[i];
    const n = this.fcNext[i];
    if (p >= 0) this.fcNext[p] = n; else this.l1Head[s] = n;
    if (n >= 0) this.fcPrev[n] = p;
    if (p < 0 && n < 0) this.removeFrontSlot(s);
    this.fcSlot[i] = -1;
    this.fcNext[i] = -1;
    this.fcPrev[i] = -1;
  }

  /** Drop the whole front cache (it is only a cache of L1; the model is untouched). */
  flushFront(): void {
    this.mcReset();
    this.fcRTag.fill(FC_INVALID);
    this.fcWTag.fill(FC_INVALID);
    this.fcSlot.fill(-1);
    this.fcNext.fill(-1);
    this.fcPrev.fill(-1);
    this.l1Head.fill(-1);
    for (let i = 0; i < this.frontSlotCount; i++) this.frontSlotPos[this.frontSlots[i]] = -1;
    this.frontSlotCount = 0;
  }

  /**
   * Memory moved chunks into a slab (their old views are retired): drop the front cache and every
   * view it holds, so nothing writes a retired view. Host-side only, like flushFront. (A batch in
   * flight re-finds its own retired views: see batchViewsCurrent.)
   */
  dropMemoryViews(): void {
    this.flushFront();
    this.fcMem.fill(EMPTY_WORDS);
    this.fcMem8.fill(EMPTY_BYTES);
    this.mcMem = EMPTY_WORDS;
  }

  /** Fill the front entry of page (lo, hi) from L1 slot l1Slot; the page's address is `pa`'s (just translated). */
  private fillFront(lo: number, hi: number, l1Slot: number, readOk: boolean, writeOk: boolean): void {
    if (hi >= 2097152) return; // beyond 2^53: the number path cannot name it
    // A plain Cpu with caches on must send every access to translateHalves, which consults the
    // data caches: no front entry means no fast-path hit (and no micro-cache run, armed only by one).
    if (!this.frontOk) return;
    const i = (lo >>> 12) & FC_MASK;
    this.unlinkFront(i);
    // The page's base: frames are page-aligned (pa % 4096 on a double would be a call to fmod).
    const pagePa = this.pa - (lo & 4095);
    const mem = this.mem;
    mem.viewPa = pagePa;
    mem.views();
    this.fcMem[i] = mem.viewWords;
    this.fcMem8[i] = mem.viewBytes;
    this.fcWord[i] = mem.viewWord;
    this.fcPa[i] = pagePa;
    this.fcHi[i] = hi * TWO32 + this.hiKey;
    this.fcRTag[i] = readOk ? lo & -4096 : FC_INVALID;
    this.fcWTag[i] = writeOk ? lo & -4096 : FC_INVALID;
    this.fcSlot[i] = l1Slot;
    const h = this.l1Head[l1Slot];
    this.fcNext[i] = h;
    this.fcPrev[i] = -1;
    if (h >= 0) this.fcPrev[h] = i; else this.addFrontSlot(l1Slot);
    this.l1Head[l1Slot] = i;
  }

  // ------------------------------------------------------------------ translation (slow path)

  /**
   * Translate (lo, hi) for an access, through the modelled TLB and walker, invoking the fault
   * handler until the access succeeds. Returns the physical address. Counts one access.
   * (Where V8 does not inline it, a returned address of 2^31 or more is a HeapNumber: the
   * per-access paths call translateAt and read `pa` instead; see tryTranslate.)
   */
  translateHalves(lo: number, hi: number, access: AccessKind, userMode: boolean): number {
    this.translateAt(lo | 0, hi, access, userMode); // lo | 0: a Smi argument (see tryTranslate)
    return this.pa;
  }

  /** translateHalves leaving the physical address in `pa` (no return value: see tryTranslate). */
  translateAt(lo: number, hi: number, access: AccessKind, userMode: boolean): void {
    this.accesses++;
    this.slowAccesses++;
    for (let attempt = 0; ; attempt++) {
      if (this.tryTranslate(lo, hi, access, userMode)) {
        if (this.caches !== null && access !== ACCESS_EXEC) this.dataCacheAccess(this.pa);
        return;
      }
      if (attempt >= 8) throw new Error(`cpu${this.id}: fault at ${formatAddr(joinBig(lo, hi))} not resolved after ${attempt} retries`);
      const fault: Fault = this.lastFault!;
      this.pageFaults++;
      if (!this.faultHandler) throw new MachineFault(fault, this.id);
      if (!this.faultHandler(this, fault)) throw new MachineFault(fault, this.id);
    }
  }

  private lastFault: Fault | null = null;

  private isCanonical(hi: number): boolean {
    if (this.la57) return hi < 0x01000000 || hi >= 0xff000000;
    return hi < 0x8000 || hi >= 0xffff8000;
  }

  /**
   * One attempt to translate (lo, hi): true with the physical address in `pa`, or false with
   * lastFault set. No handler is called.
   *
   * The address comes back in a field, not as the return value: a number returned from a function
   * V8 did not inline is a tagged value, so a pa of 2^31 or more (frames above 2 GiB) was a fresh
   * HeapNumber on every translation. Every caller reads `pa` right after the call.
   */
  tryTranslate(lo: number, hi: number, access: AccessKind, userMode: boolean): boolean {
    this.mcReset(); // this access may stamp another L1 slot: the fast run is over
    // lo as an int32 (the same low 32 bits: every use below is bitwise or masks it), so that it
    // stays a Smi when passed on (insertFrom, walkAndFill): an unsigned lo of 2^31 or more would
    // be a HeapNumber per call. hi stays unsigned (the canonical test, the front cache's key).
    lo |= 0;
    hi >>>= 0;
    if (!this.isCanonical(hi)) {
      this.lastFault = { vector: VECTOR_GP, va: joinBig(lo, hi), access, userMode, errorCode: 0 };
      return false;
    }
    // The TLB lookup: the L1 DTLB by size class, then the STLB (4K and 2M, then its 1G array); an
    // STLB hit is a use for the STLB's LRU and is copied into L1 (TlbArray.insertFrom). Written
    // out here rather than as a Tlb method: V8 inlines no function of more than 460 bytes of
    // bytecode, and the lookup is ~700, so as a method it was one more real call on every
    // translation that missed the front cache (measured: docs/performance.md, sixth round).
    // Each level is a loop over the size classes with one lookup call in it, not one call per
    // class: V8 inlines no call site that ran in fewer than 15 % of the caller's invocations when
    // it compiled the caller, so with a call per class, which ones were inlined depended on the
    // page sizes the process had translated before (bench mmu's 2M rows, compiled after its 4K
    // rows, ran their scans and entry reads as real calls: docs/performance.md, seventh round).
    // A loop's one call site runs on every translation, whatever the page size.
    const tlb = this.tlb;
    const l1 = tlb.l1; // by size class - 1 (an element load is cheaper here than two compares)
    const pcid = this.pcid;
    const stamp = this.accesses;
    let arr = tlb.l1_4k;
    let size = SIZE_4K;
    let s = -1;
    for (; size <= SIZE_1G; size++) {
      arr = l1[size - 1];
      s = arr.lookup(lo, hi, size, pcid);
      if (s >= 0) break;
    }
    const stlbHit = s < 0;
    if (stlbHit) {
      this.l1Misses++;
      let src = tlb.stlb;
      for (size = SIZE_4K; size <= SIZE_1G; size++) {
        src = size === SIZE_1G ? tlb.stlb1g : tlb.stlb;
        s = src.lookup(lo, hi, size, pcid);
        if (s >= 0) break;
      }
      if (s < 0) return this.walkAndFill(lo, hi, access, userMode, true);
      this.stlbHits++;
      const c = this.costs.stlbHit;
      this.cycles += c;
      this.stlbCycles += c;
      arr = l1[size - 1];
      s = arr.insertFrom(src, s, lo, hi, pcid, stamp);
      this.l1Uses[arr.base + s] = 0;
    } else {
      this.l1Stamp[arr.base + s] = stamp;
      this.slowL1Hits++;
    }
    // The entry's flags | pkey << 8 and frame, read from the arrays (see TlbArray.rec).
    const meta = arr.rec[s * TLB_REC + TLB_R_META];
    const f = meta & 0xff;
    const pkey = meta >>> 8;
    // The entry's rights as one mask test: a user access needs U; a write needs D (a write through
    // an entry whose D is clear must walk to set D in memory, even when the write is allowed) and
    // W unless it is a supervisor write with CR0.WP = 0; a fetch needs XD clear; then PKRU.
    const need = (userMode ? TF_U : 0) | (access === ACCESS_WRITE ? (userMode || this.cr0wp ? TF_W | TF_D : TF_D) : 0);
    if ((f & need) === need && (access !== ACCESS_EXEC || (f & TF_XD) === 0)
      && !(this.pke && (f & TF_U) !== 0 && access !== ACCESS_EXEC && this.pkeyDenies(pkey, access, userMode))) {
      this.pa = arr.frame[s] + (lo & (size === SIZE_4K ? 4095 : size === SIZE_2M ? 2097151 : 1073741823));
      // The front cache is filled on an L1 hit only, i.e. on a later use of an L1 entry: a
      // translation that missed L1 (STLB hit here, or a walk below) is, in random-access runs,
      // almost never used again before it is evicted, and filling cost ~25 % of such a miss
      // (measured, docs/performance.md). For a 2 MiB or 1 GiB entry only on its third slow-path
      // L1 hit since it was filled (l1Uses, zeroed by the fill above or the walk's; the second
      // until round 5): in random runs over 2 MiB
      // pages a quarter of the accesses hit L1 and then lose the entry, so the fills (and dropping
      // them when the entry is evicted) were waste: ~8 % of such a run with fills on every hit,
      // 4 % still on the second (GUPS batch 2M 114.7 -> 110.6 ns per update, same run), while a
      // sequential run pays one more slow hit per large page's L1 fill (seq-load32 2M unchanged,
      // 3.63-3.82 ns per load either way). 4 KiB entries keep the first hit: there the extra slow
      // hit per page cost more than the fills it saved (pages used 3+ times). The front cache is
      // host-side only: no modelled effect either way.
      if (!stlbHit && userMode) {
        const slot = arr.base + s;
        const u = this.l1Uses[slot];
        if (size === SIZE_4K || u >= 2) this.fillFront(lo, hi, slot, this.frontReadable(f, pkey), this.frontWritable(f, pkey));
        else this.l1Uses[slot] = u + 1;
      }
      return true;
    }
    // A cached entry refuses: drop it and re-walk, so a permission upgrade the kernel made
    // without invalidating is seen, and a real violation faults from the page tables.
    tlb.invalidateAddressPcid(lo, hi, this.pcid);
    if ((f & TF_G) !== 0) tlb.invlpg(lo, hi, this.pcid);
    return this.walkAndFill(lo, hi, access, userMode, false);
  }

  /** The physical address of the last translation that succeeded (tryTranslate, translateAt). */
  pa = 0;

  private pkeyDenies(pkey: number, access: AccessKind, userMode: boolean): boolean {
    const ad = (this.pkru >>> (2 * pkey)) & 1;
    const wd = (this.pkru >>> (2 * pkey + 1)) & 1;
    return ad === 1 || (access === ACCESS_WRITE && wd === 1 && (userMode || this.cr0wp));
  }

  private frontReadable(f: number, pkey: number): boolean {
    return (f & TF_U) !== 0 && (!this.pke || ((this.pkru >>> (2 * pkey)) & 1) === 0);
  }

  private frontWritable(f: number, pkey: number): boolean {
    return (f & (TF_U | TF_W | TF_D)) === (TF_U | TF_W | TF_D) && (!this.pke || ((this.pkru >>> (2 * pkey)) & 3) === 0);
  }

  /** `missed`: the TLB lookup of this access found nothing (no TLB change since): see Tlb.fill. */
  private walkAndFill(lo: number, hi: number, access: AccessKind, userMode: boolean, missed: boolean): boolean {
    const tlb = this.tlb;
    const w = this.walker;
    const stamp = this.accesses;
    // Start as deep as the paging-structure caches allow.
    let level = this.la57 ? 5 : 4;
    let table = this.cr3Base;
    let rights = 7 & ~4; // RW=1, US=1, XD=0
    const pscs = tlb.psc;
    const pcid = this.pcid;
    for (let l = 2; l <= level; l++) {
      const psc = pscs[l];
      if (psc === null) continue;
      const s = psc.lookup(lo, hi, pcid, stamp);
      if (s >= 0) { this.pscHits[l]++; level = l - 1; table = psc.table[s]; rights = psc.rights[s]; break; }
      this.pscMisses[l]++;
    }
    // Stores on the miss path only when something changed (see TlbArray.insert: stores are dearer
    // there than loads).
    if (this.ctl.maxPhysAddrBits !== this.maxPhysAddrBits) this.ctl.maxPhysAddrBits = this.maxPhysAddrBits;
    const ok = w.walk(table, level, rights, lo, hi, access, userMode, this.ctl);
    this.walks++;
    this.walkRefs += w.refs;
    const wc = this.caches === null ? w.refs * this.costs.walkRef : this.walkCacheCycles(w.refPa, w.refs);
    this.cycles += wc;
    this.walkCycles += wc;
    if (!ok) {
      // SDM §4.10.4.1: a #PF invalidates TLB entries for the faulting address.
      tlb.invalidateAddressPcid(lo, hi, this.pcid);
      this.lastFault = { vector: VECTOR_PF, va: joinBig(lo, hi), access, userMode, errorCode: w.errorCode };
      return false;
    }
    for (let k = 0; k < w.nlCount; k++) {
      const psc = tlb.psc[w.nlLevel[k]];
      if (psc) psc.insert(lo, hi, this.pcid, w.nlTable[k], w.nlRights[k], stamp);
    }
    const flags = this.pge ? w.leafFlags : w.leafFlags & ~TF_G;
    const slot = tlb.fill(lo, hi, w.leafLevel, this.pcid, w.frameLo, w.frameHi, flags, w.pkey, stamp, missed);
    if (this.l1Uses[slot] !== 0) this.l1Uses[slot] = 0;
    // No front fill after a walk: see tryTranslate (the next use of this page fills it).
    this.pa = w.frameBase + (lo & (PAGE_BYTES[w.leafLevel] - 1));
    return true;
  }

  /** Latency of a line served by `level` for physical address pa (DRAM: local or remote node). */
  private levelLatency(level: number, pa: number, kind: number): number {
    const c = this.costs;
    if (level === LEVEL_L1) return c.dataAccess;
    if (level === LEVEL_L2) return c.l2Latency;
    if (level === LEVEL_LLC) return c.llcLatency;
    if (this.mem.nodeOf(pa) === this.node) return c.dramLocal;
    this.cacheRemote[kind]++;
    return c.dramRemote;
  }

  /** A data access that translated to pa: look it up, count it, charge what it cost beyond L1D. */
  protected dataCacheAccess(pa: number): void {
    const level = this.caches!.access(pa);
    this.cacheServed[level]++;
    if (level === LEVEL_L1) return;
    const extra = Math.max(0, this.levelLatency(level, pa, 0) - this.costs.dataAccess);
    this.cycles += extra;
    this.cacheCycles += extra;
  }

  /**
   * An access of `bytes` at pa that runs past its 64-byte line also touches the next line (an x86
   * split-line access: two cache lookups for one instruction; translateHalves looked up the first).
   * The second line is priced like any data line, beyond the L1D latency the access already paid.
   * Within a page only: a page-crossing access is split into two translations, one line each.
   */
  protected touchSplitLine(pa: number, bytes: number): void {
    if (this.caches !== null && (pa & 63) + bytes > 64) this.dataCacheAccess(pa - (pa & 63) + 64);
  }

  /** The walker's `n` entry reads at `refPa`: each through the caches; returns their cycles. */
  private walkCacheCycles(refPa: Float64Array, n: number): number {
    const h = this.caches!;
    let cycles = 0;
    for (let k = 0; k < n; k++) {
      const pa = refPa[k];
      const level = h.access(pa);
      this.cacheServed[4 + level]++;
      cycles += this.levelLatency(level, pa, 1);
    }
    return cycles;
  }

  /**
   * One reference the kernel makes in supervisor mode (its text, data, stack) at (lo, hi): through
   * this core's TLB, paging-structure caches, walker and data caches exactly as a user access, so
   * kernel entries compete with user entries and a flushing CR3 write really costs the kernel walks.
   * Its counts are kept apart (kernelStats) and the user counters are left as they were, so user
   * counters stay comparable with and without kernel references. Charged only beyond a warm hit:
   * an STLB hit and walk references as component "kernel-tlb", a data-cache miss beyond the L1D
   * latency as "kernel-cache"; the warm cost of the path is in the measured figures that price it
   * (`syscall`, `atomicRmw`). Returns the physical address. The kernel half is wired, so a fault
   * here is a kernel bug and throws. The halves may be given as uint32 or as int32 (the same bits).
   */
  kernelRef(lo: number, hi: number, access: AccessKind, lines = 1): number {
    this.beginKernelRefs();
    try {
      return this.kernelRefIn(lo, hi, access, lines);
    } finally {
      this.endKernelRefs();
    }
  }

  /**
   * Start a run of kernel references (kernelRefIn, nothing else on this core until endKernelRefs,
   * which must follow in a `finally`): the user counters are set aside once for the run instead of
   * once per reference. Scalars go to fields, arrays are swapped for the kernel's own; the run
   * counts into zeroed fields and endKernelRefs adds what it counted to the kernel's. Nests.
   */
  beginKernelRefs(): void {
    if (this.kDepth++ > 0) return;
    this.svSlowL1 = this.slowL1Hits; this.svL1Misses = this.l1Misses; this.svStlbHits = this.stlbHits;
    this.svWalks = this.walks; this.svWalkRefs = this.walkRefs;
    this.svWalkCycles = this.walkCycles; this.svStlbCycles = this.stlbCycles; this.svCacheCycles = this.cacheCycles;
    this.slowL1Hits = 0; this.l1Misses = 0; this.stlbHits = 0; this.walks = 0; this.walkRefs = 0;
    this.walkCycles = 0; this.stlbCycles = 0; this.cacheCycles = 0;
    const pscH = this.pscHits, pscM = this.pscMisses, served = this.cacheServed, remote = this.cacheRemote;
    this.pscHits = this.kPscHits; this.pscMisses = this.kPscMisses; this.cacheServed = this.kCacheServed; this.cacheRemote = this.kCacheRemote;
    this.kPscHits = pscH; this.kPscMisses = pscM; this.kCacheServed = served; this.kCacheRemote = remote;
  }

  /** End a run of kernel references (see beginKernelRefs). */
  endKernelRefs(): void {
    if (--this.kDepth > 0) return;
    // The counts are whole numbers: one sum per run equals the sum of the per-reference sums.
    const k = this.kernelStats;
    k[KS_SLOW_L1_HITS] += this.slowL1Hits; k[KS_L1_MISSES] += this.l1Misses; k[KS_STLB_HITS] += this.stlbHits;
    k[KS_WALKS] += this.walks; k[KS_WALK_REFS] += this.walkRefs;
    this.slowL1Hits = this.svSlowL1; this.l1Misses = this.svL1Misses; this.stlbHits = this.svStlbHits;
    this.walks = this.svWalks; this.walkRefs = this.svWalkRefs;
    this.walkCycles = this.svWalkCycles; this.stlbCycles = this.svStlbCycles; this.cacheCycles = this.svCacheCycles;
    const pscH = this.pscHits, pscM = this.pscMisses, served = this.cacheServed, remote = this.cacheRemote;
    this.pscHits = this.kPscHits; this.pscMisses = this.kPscMisses; this.cacheServed = this.kCacheServed; this.cacheRemote = this.kCacheRemote;
    this.kPscHits = pscH; this.kPscMisses = pscM; this.kCacheServed = served; this.kCacheRemote = remote;
  }

  /** One reference of a run (between beginKernelRefs and endKernelRefs): see kernelRef. */
  kernelRefIn(lo: number, hi: number, access: AccessKind, lines = 1): number {
    if (this.kDepth === 0) throw new Error('Cpu.kernelRefIn outside beginKernelRefs/endKernelRefs (its counts would land in the user counters)');
    this.accesses++; // the LRU clock: this reference is the most recent use of its entry
    this.kernelAccesses++;
    const ok = this.tryTranslate(lo, hi, access, false);
    if (ok) {
      const pa = this.pa;
      if (this.caches !== null && access !== ACCESS_EXEC) this.dataCacheAccess(pa);
      // The next lines of the same page (`lines` > 1, within the page): L1 hits on the entry just
      // used, with nothing touched in between, so its LRU stamp needs no refresh (the cpu.ts
      // micro-cache argument); each is still an access and, with caches on, a line lookup.
      for (let i = 1; i < lines; i++) {
        this.accesses++;
        this.kernelAccesses++;
        this.slowL1Hits++;
        if (this.caches !== null && access !== ACCESS_EXEC) this.dataCacheAccess(pa + 64 * i);
      }
    }
    // Cycles are summed per reference, in the order they always were (they need not be whole).
    // Cycles stay on the clock; only their component changes.
    const tlbC = this.walkCycles + this.stlbCycles;
    if (tlbC !== 0) {
      this.kernelStats[KS_TLB_CYCLES] += tlbC;
      this.recordAt(CYC_KERNEL_TLB, tlbC);
      this.walkCycles = 0;
      this.stlbCycles = 0;
    }
    if (this.cacheCycles !== 0) {
      this.kernelStats[KS_CACHE_CYCLES] += this.cacheCycles;
      this.recordAt(CYC_KERNEL_CACHE, this.cacheCycles);
      this.cacheCycles = 0;
    }
    if (!ok) throw new MachineFault(this.lastFault!, this.id);
    return this.pa;
  }

  /** What the kernel's own references counted (kernelRef): the same terms as the user counters. */
  kernelCounters(): KernelCounters {
    const k = this.kernelStats;
    const out: KernelCounters = {
      accesses: this.kernelAccesses,
      l1Hits: this.kernelAccesses - k[KS_L1_MISSES],
      l1Misses: k[KS_L1_MISSES],
      stlbHits: k[KS_STLB_HITS],
      stlbMisses: k[KS_L1_MISSES] - k[KS_STLB_HITS],
      walks: k[KS_WALKS],
      walkRefs: k[KS_WALK_REFS],
      tlbCycles: k[KS_TLB_CYCLES],
      cacheCycles: k[KS_CACHE_CYCLES],
      pscHits: this.kPscHits.reduce((a, b) => a + b, 0),
      pscMisses: this.kPscMisses.reduce((a, b) => a + b, 0),
    };
    if (this.caches !== null) {
      out.caches = { data: servedBy(this.kCacheServed, this.kCacheRemote, 0), pageTable: servedBy(this.kCacheServed, this.kCacheRemote, 1) };
    }
    return out;
  }

  /** Data-cache counters (caches on): per level, for data lines and for page-table lines. */
  cacheCounters(): CacheCounters | null {
    if (this.caches === null) return null;
    return { data: servedBy(this.cacheServed, this.cacheRemote, 0), pageTable: servedBy(this.cacheServed, this.cacheRemote, 1), dataCycles: this.cyclesBy.cache ?? 0 };
  }

  /** Translate a user-mode number address (handler runs on faults). */
  translate(va: number, access: AccessKind = ACCESS_READ, userMode = true): number {
    const lo = va >>> 0;
    return this.translateHalves(lo, (va - lo) / TWO32, access, userMode);
  }

  /** Translate any 64-bit address exactly (57-bit user half above 2^53, kernel half). */
  translateBig(va: bigint, access: AccessKind = ACCESS_READ, userMode = true): number {
    const [lo, hi] = splitBig(va);
    return this.translateHalves(lo, hi, access, userMode);
  }

  /** Translate without counting an access or calling the handler: pa, or -1 and `lastFault`. */
  probe(va: bigint, access: AccessKind = ACCESS_READ, userMode = true): number {
    const [lo, hi] = splitBig(va);
    return this.tryTranslate(lo, hi, access, userMode) ? this.pa : -1;
  }

  get lastFaultInfo(): Fault | null { return this.lastFault; }

  // ------------------------------------------------------------------ batched accesses

  /** Largest batch the batch accesses (xor64Batch, load64Batch, load32Batch, store64Batch) take. */
  static readonly BATCH = 256;
  private readonly batchMem: Int32Array[] = new Array<Int32Array>(Cpu.BATCH).fill(EMPTY_WORDS);
  private readonly batchWord = new Int32Array(Cpu.BATCH);

  // Why a batch is exact (xor64Batch, load64Batch, load32Batch, store64Batch). A batch of n accesses
  // runs each access's translation in program order, through the same micro-cache, front-cache and
  // slow-path steps the single call would take — so the same counters, LRU stamps, TLB and PSC
  // fills, A/D-bit writes and cycles, in the same order — and defers only the data words to a
  // second loop, where the host overlaps their cache misses. Deferring changes nothing observable:
  // between an access's translation and its data word only *later translations* run, and a
  // translation that needs no fault handler writes only the modelled TLB state and A/D bits in
  // page-table frames, which the kernel never maps into a user space. So a deferred load reads the
  // word it would have read, and a page translated for writing is still mapped writable when its
  // store lands. A translation that faults applies the deferred words *before* the fault handler
  // runs (batchTranslate / batchResolve), so the kernel sees memory exactly as after the accesses
  // before it, one by one (a copy-on-write copy, say, of a file page the batch also wrote through a
  // shared mapping); if the handler kills the process, those accesses are all that happened. An
  // unaligned access (which may cross a page) ends the batch: it and the rest go one by one.
  // The data words move in program order, so two stores to one word leave the later value. No
  // batch mixes loads and stores, so a load always sees every earlier store. CachedCpu (data
  // caches modelled) runs every batch one access at a time.

  /**
   * The first attempt of translateAt for a user batch element: counts the access, translates
   * (the address in `pa`); false when it faulted (lastFault set), before any fault handler ran.
   * Then call batchResolve.
   */
  private batchTranslate(lo: number, hi: number, access: AccessKind): boolean {
    this.accesses++;
    this.slowAccesses++;
    const ok = this.tryTranslate(lo | 0, hi, access, true); // lo | 0: a Smi argument (see tryTranslate)
    if (ok && this.caches !== null) this.dataCacheAccess(this.pa);
    return ok;
  }

  /** The rest of translateAt after batchTranslate's attempt faulted: the handler, then retries (the address in `pa`). */
  private batchResolve(lo: number, hi: number, access: AccessKind): void {
    for (let attempt = 1; ; attempt++) {
      const fault: Fault = this.lastFault!;
      this.pageFaults++;
      if (!this.faultHandler) throw new MachineFault(fault, this.id);
      if (!this.faultHandler(this, fault)) throw new MachineFault(fault, this.id);
      if (this.tryTranslate(lo, hi, access, true)) {
        if (this.caches !== null) this.dataCacheAccess(this.pa);
        return;
      }
      if (attempt >= 8) throw new Error(`cpu${this.id}: fault at ${formatAddr(joinBig(lo, hi))} not resolved after ${attempt} retries`);
    }
  }

  /** Batch element k translated to pa: its host words, for the data loop. */
  private batchSlot(k: number, pa: number): void {
    this.batchMem[k] = this.mem.wordsFor(pa);
    this.batchWord[k] = this.mem.at;
  }

  /**
   * Before a batch applies its deferred words [from, to): if memory moved chunks into a slab since
   * `remaps` (a translation's front fill, a data chunk materialised, a fault handler), views taken
   * before that are retired (their data was copied into the slab); find those elements' words
   * again. Rare: once per region and machine.
   */
  private batchViewsCurrent(from: number, to: number, remaps: number): void {
    if (this.mem.remaps === remaps) return;
    const mems = this.batchMem;
    const words = this.batchWord;
    for (let j = from; j < to; j++) {
      const pa = this.mem.retiredPa(mems[j]);
      if (pa < 0) continue;
      mems[j] = this.mem.wordsFor(pa + words[j] * 4);
      words[j] = this.mem.at;
    }
  }

  /**
   * xor64Batch's deferred words [from, to): `m0` when every element so far shares that one view
   * (then `mems` was not filled), else null.
   */
  private xorApply(vlo: Int32Array, vhi: Int32Array, from: number, to: number, m0: Int32Array | null, remaps: number): void {
    if (m0 !== null && this.mem.remaps !== remaps) {
      for (let j = from; j < to; j++) this.batchMem[j] = m0;
      m0 = null;
    }
    if (m0 !== null) {
      xorWordsOne(m0, this.batchWord, vlo, vhi, from, to);
      return;
    }
    this.batchViewsCurrent(from, to, remaps);
    xorWords(this.batchMem, this.batchWord, vlo, vhi, from, to);
  }

  /**
   * `n` (<= Cpu.BATCH) accesses `*vas[k] ^= (vlo[k], vhi[k])` in order, with exactly the modelled
   * effects of n xor64 calls (see "Why a batch is exact" above). For unrolled loops like GUPS's.
   */
  xor64Batch(vas: Float64Array, vlo: Int32Array, vhi: Int32Array, n: number): void {
    if (n > Cpu.BATCH) throw new RangeError(`xor64Batch: at most ${Cpu.BATCH} accesses`);
    const mems = this.batchMem;
    const words = this.batchWord;
    // The host view of every element so far, while they all share one (one slab holds the table):
    // then the views are not stored per element, and the data loop indexes that one typed array,
    // whose base and length V8 keeps in registers. `mems` is filled only once views differ.
    let m0: Int32Array = EMPTY_WORDS;
    let mixed = false;
    let remaps = this.mem.remaps;
    let k = 0;
    let done = 0;
    try {
      for (; k < n; k++) {
        const va = vas[k];
        const off = va & 4095;
        if ((off & 7) !== 0) break; // unaligned: the rest go one by one below
        let m: Int32Array;
        if (va - off === this.mcPageW) {
          this.accesses++;
          m = this.mcMem;
          words[k] = this.mcWord + (off >>> 2);
        } else {
          const lo = va >>> 0;
          const i = (lo >>> 12) & FC_MASK;
          if (this.fcWTag[i] === (lo & -4089) && this.fcHi[i] === va - lo + this.hiKey) {
            this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
            this.mcArm(i, va - off);
            m = this.fcMem[i];
            words[k] = this.fcWord[i] + (off >>> 2);
          } else {
            const hi = (va - lo) / TWO32;
            if (!this.batchTranslate(lo, hi, ACCESS_WRITE)) {
              this.xorApply(vlo, vhi, done, k, mixed ? null : m0, remaps);
              done = k;
              this.batchResolve(lo, hi, ACCESS_WRITE);
              remaps = this.mem.remaps; // views of the elements before are applied already
            }
            m = this.mem.wordsFor(this.pa);
            words[k] = this.mem.at;
          }
        }
        // Once views differ, the branch on `mixed` is the predictable one (comparing each view
        // with m0 would mispredict when a batch alternates between a few chunks).
        if (mixed) mems[k] = m;
        else if (m !== m0) {
          if (k === 0) m0 = m;
          else {
            mixed = true;
            for (let j = done; j < k; j++) mems[j] = m0;
            mems[k] = m;
          }
        }
      }
    } finally {
      this.xorApply(vlo, vhi, done, k, mixed ? null : m0, remaps);
    }
    for (; k < n; k++) this.xor64(vas[k], vlo[k], vhi[k]);
  }

  /**
   * The common part of store64Batch, load64Batch and load32Batch: translate elements 0.. of the
   * batch in order (micro cache, front cache, else the slow path), deferring their data words to
   * batchApply — before a fault handler runs, and at the end. Stops at the first element not
   * aligned to its width; returns how many elements it did, the rest go one by one. The kind's
   * arrays are in bA/bB for the call.
   */
  private runBatch(kind: number, vas: Float64Array, n: number): number {
    const write = kind === BATCH_STORE64;
    const align = kind === BATCH_LOAD32 ? 3 : 7;
    const tagMask = -4096 | align; // a front tag equal to the page only when the offset's low bits are clear
    const tags = write ? this.fcWTag : this.fcRTag;
    const access = write ? ACCESS_WRITE : ACCESS_READ;
    const mems = this.batchMem;
    const words = this.batchWord;
    let k = 0;
    let done = 0;
    const remaps = this.mem.remaps;
    try {
      for (; k < n; k++) {
        const va = vas[k];
        const off = va & 4095;
        if ((off & align) !== 0) break;
        if (va - off === (write ? this.mcPageW : this.mcPageR)) {
          this.accesses++;
          mems[k] = this.mcMem;
          words[k] = this.mcWord + (off >>> 2);
          continue;
        }
        const lo = va >>> 0;
        const i = (lo >>> 12) & FC_MASK;
        if (tags[i] === (lo & tagMask) && this.fcHi[i] === va - lo + this.hiKey) {
          this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
          this.mcArm(i, va - off);
          mems[k] = this.fcMem[i];
          words[k] = this.fcWord[i] + (off >>> 2);
          continue;
        }
        const hi = (va - lo) / TWO32;
        if (!this.batchTranslate(lo, hi, access)) {
          this.batchApply(kind, done, k, remaps);
          done = k;
          this.batchResolve(lo, hi, access);
        }
        this.batchSlot(k, this.pa);
      }
    } finally {
      this.batchApply(kind, done, k, remaps);
      if (kind === BATCH_LOAD64 && k > 0) this.hi = this.bB[k - 1]; // as the last load before an unaligned one or a fault leaves it
      this.bA = EMPTY_WORDS;
      this.bB = EMPTY_WORDS;
    }
    return k;
  }

  /** The arrays of the batch runBatch is doing (values to store, or where loads go). */
  private bA: Int32Array = EMPTY_WORDS;
  private bB: Int32Array = EMPTY_WORDS;

  /** runBatch's deferred words [from, to): stored, or loaded into bA (and bB). */
  private batchApply(kind: number, from: number, to: number, remaps: number): void {
    this.batchViewsCurrent(from, to, remaps);
    const mems = this.batchMem;
    const words = this.batchWord;
    if (kind === BATCH_STORE64) storeWords(mems, words, this.bA, this.bB, from, to);
    else if (kind === BATCH_LOAD64) loadWords(mems, words, this.bA, this.bB, from, to);
    else {
      const out = this.bA;
      for (let j = from; j < to; j++) out[j] = mems[j][words[j]];
    }
  }

  /**
   * `n` (<= Cpu.BATCH) stores `*vas[k] = (vlo[k], vhi[k])` in order, with exactly the modelled
   * effects of n store64 calls (see "Why a batch is exact" above). A gather's scatter twin.
   */
  store64Batch(vas: Float64Array, vlo: Int32Array, vhi: Int32Array, n: number): void {
    if (n > Cpu.BATCH) throw new RangeError(`store64Batch: at most ${Cpu.BATCH} accesses`);
    this.bA = vlo;
    this.bB = vhi;
    let k = this.runBatch(BATCH_STORE64, vas, n);
    for (; k < n; k++) this.store64(vas[k], vlo[k], vhi[k]);
  }

  /**
   * Gather: `n` (<= Cpu.BATCH) independent loads, `(outLo[k], outHi[k]) = *vas[k]`, with exactly
   * the modelled effects of n load64 calls in order (see "Why a batch is exact" above); `hi` is
   * left as the last load leaves it. For loads whose addresses do not depend on each other's values.
   */
  load64Batch(vas: Float64Array, outLo: Int32Array, outHi: Int32Array, n: number): void {
    if (n > Cpu.BATCH) throw new RangeError(`load64Batch: at most ${Cpu.BATCH} accesses`);
    this.bA = outLo;
    this.bB = outHi;
    let k = this.runBatch(BATCH_LOAD64, vas, n);
    for (; k < n; k++) {
      outLo[k] = this.load64(vas[k]);
      outHi[k] = this.hi;
    }
  }

  /**
   * Gather: `n` (<= Cpu.BATCH) independent 32-bit loads, `out[k] = *vas[k]`, with exactly the
   * modelled effects of n load32 calls in order (see "Why a batch is exact" above).
   */
  load32Batch(vas: Float64Array, out: Int32Array, n: number): void {
    if (n > Cpu.BATCH) throw new RangeError(`load32Batch: at most ${Cpu.BATCH} accesses`);
    this.bA = out;
    let k = this.runBatch(BATCH_LOAD32, vas, n);
    for (; k < n; k++) out[k] = this.load32(vas[k]);
  }

  /**
   * `words` 64-bit moves `lo = load64(src + 8i); store64(dst + 8i, lo, hi)` for i ascending, with
   * exactly the modelled effects of those calls (a word-at-a-time copy loop; overlapping ranges
   * behave as that loop does). A run of pairs within one source page and one destination page,
   * both in the front cache and different pages, is applied in bulk: each of its loads and stores
   * would be a front-cache hit (the micro cache alternates between the two pages, so it never
   * serves them), i.e. two accesses per pair, the source slot stamped by each load and the
   * destination slot by each store — so the run's effect on the model is `accesses += 2k`, the
   * source slot's stamp = the run's last load, the destination slot's = its last store (in that
   * order: under one 2M L1 entry both are the same slot), and the micro cache armed with the
   * destination, as the last store leaves it. Everything else goes pair by pair.
   */
  copy64(dst: number, src: number, words: number): void {
    while (words > 0) {
      const so = src & 4095;
      const dof = dst & 4095;
      const sPage = src - so;
      const dPage = dst - dof;
      // A source page the micro cache holds would serve the first load there: pair by pair then.
      if (((so | dof) & 7) === 0 && sPage !== dPage && sPage !== this.mcPageR) {
        const slo = src >>> 0;
        const dlo = dst >>> 0;
        const is = (slo >>> 12) & FC_MASK;
        const id = (dlo >>> 12) & FC_MASK;
        if (this.fcRTag[is] === (slo & -4089) && this.fcHi[is] === src - slo + this.hiKey
          && this.fcWTag[id] === (dlo & -4089) && this.fcHi[id] === dst - dlo + this.hiKey) {
          const k = Math.min(words, (4096 - so) >>> 3, (4096 - dof) >>> 3);
          const sm = this.fcMem[is];
          const dm = this.fcMem[id];
          let sw = this.fcWord[is] + (so >>> 2);
          let dw = this.fcWord[id] + (dof >>> 2);
          let h = 0;
          for (let j = 0; j < k; j++, sw += 2, dw += 2) {
            const l = sm[sw];
            h = sm[sw + 1];
            dm[dw] = l;
            dm[dw + 1] = h;
          }
          this.hi = h;
          const acc = this.accesses + 2 * k;
          this.l1Stamp[this.fcSlot[is]] = acc - 1;
          this.l1Stamp[this.fcSlot[id]] = acc;
          this.accesses = acc;
          this.mcArm(id, dPage);
          src += 8 * k;
          dst += 8 * k;
          words -= k;
          continue;
        }
      }
      const lo = this.load64(src);
      this.store64(dst, lo, this.hi);
      src += 8;
      dst += 8;
      words--;
    }
  }

  /**
   * `words` 32-bit moves `store32(dst + 4i, load32(src + 4i))` for i ascending, with exactly the
   * modelled effects of those calls: copy64's argument with 4-byte words (for copies whose two sides
   * differ in alignment modulo 8). A page-pair run moves its words in the same order as the calls.
   */
  copy32(dst: number, src: number, words: number): void {
    while (words > 0) {
      const so = src & 4095;
      const dof = dst & 4095;
      const sPage = src - so;
      const dPage = dst - dof;
      if (((so | dof) & 3) === 0 && sPage !== dPage && sPage !== this.mcPageR) {
        const slo = src >>> 0;
        const dlo = dst >>> 0;
        const is = (slo >>> 12) & FC_MASK;
        const id = (dlo >>> 12) & FC_MASK;
        if (this.fcRTag[is] === (slo & -4093) && this.fcHi[is] === src - slo + this.hiKey
          && this.fcWTag[id] === (dlo & -4093) && this.fcHi[id] === dst - dlo + this.hiKey) {
          const k = Math.min(words, (4096 - so) >>> 2, (4096 - dof) >>> 2);
          const sm = this.fcMem[is];
          const dm = this.fcMem[id];
          const sw = this.fcWord[is] + (so >>> 2);
          const dw = this.fcWord[id] + (dof >>> 2);
          for (let j = 0; j < k; j++) dm[dw + j] = sm[sw + j];
          const acc = this.accesses + 2 * k;
          this.l1Stamp[this.fcSlot[is]] = acc - 1;
          this.l1Stamp[this.fcSlot[id]] = acc;
          this.accesses = acc;
          this.mcArm(id, dPage);
          src += 4 * k;
          dst += 4 * k;
          words -= k;
          continue;
        }
      }
      this.store32(dst, this.load32(src));
      src += 4;
      dst += 4;
      words--;
    }
  }

  /**
   * Whether a sequential run can start at the aligned word va of `page`: the micro cache holds the
   * page for this kind of access, or the front cache does — then the slot is stamped and the micro
   * cache armed, as the run's first call would (the access itself is counted by the caller).
   */
  private seqPageReady(va: number, page: number, write: boolean): boolean {
    if (page === (write ? this.mcPageW : this.mcPageR)) return true;
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if ((write ? this.fcWTag : this.fcRTag)[i] !== (lo & -4093) || this.fcHi[i] !== va - lo + this.hiKey) return false;
    this.l1Stamp[this.fcSlot[i]] = this.accesses + 1;
    this.mcArm(i, page);
    return true;
  }

  /**
   * `words` sequential loads `out[at + i] = load32(va + 4i)`, i ascending, with exactly the modelled
   * effects of those calls (a word-at-a-time read loop). Within one page the calls after the first
   * are micro-cache hits (one access each, no stamp), and the first is one too or a front-cache hit
   * (the slot stamped, the micro cache armed); so a page's run is applied as that first step and
   * `accesses += k`, its words copied in bulk. Anything else goes call by call.
   */
  load32Seq(va: number, out: Int32Array, at: number, words: number): void {
    while (words > 0) {
      const off = va & 4095;
      const page = va - off;
      if ((off & 3) === 0) {
        if (this.seqPageReady(va, page, false)) {
          const k = Math.min(words, (4096 - off) >>> 2);
          const m = this.mcMem;
          const w = this.mcWord + (off >>> 2);
          for (let j = 0; j < k; j++) out[at + j] = m[w + j];
          this.accesses += k;
          va += 4 * k;
          at += k;
          words -= k;
          continue;
        }
      }
      out[at++] = this.load32(va);
      va += 4;
      words--;
    }
  }

  /** `words` sequential stores `store32(va + 4i, src[at + i])`, i ascending: load32Seq's twin. */
  store32Seq(va: number, src: Int32Array, at: number, words: number): void {
    while (words > 0) {
      const off = va & 4095;
      const page = va - off;
      if ((off & 3) === 0) {
        if (this.seqPageReady(va, page, true)) {
          const k = Math.min(words, (4096 - off) >>> 2);
          const m = this.mcMem;
          const w = this.mcWord + (off >>> 2);
          for (let j = 0; j < k; j++) m[w + j] = src[at + j];
          this.accesses += k;
          va += 4 * k;
          at += k;
          words -= k;
          continue;
        }
      }
      this.store32(va, src[at++]);
      va += 4;
      words--;
    }
  }

  // ------------------------------------------------------------------ user loads and stores (fast path)

  load32(va: number): number {
    const off = va & 4095;
    if (va - off === this.mcPageR && (off & 3) === 0) {
      this.accesses++;
      return this.mcMem[this.mcWord + (off >>> 2)];
    }
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcRTag[i] === (lo & -4093) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.mcArm(i, va - off);
      return this.fcMem[i][this.fcWord[i] + (off >>> 2)];
    }
    return this.load32Slow(lo | 0, (va - lo) / TWO32);
  }

  store32(va: number, v: number): void {
    const off = va & 4095;
    if (va - off === this.mcPageW && (off & 3) === 0) {
      this.accesses++;
      this.mcMem[this.mcWord + (off >>> 2)] = v;
      return;
    }
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcWTag[i] === (lo & -4093) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.mcArm(i, va - off);
      this.fcMem[i][this.fcWord[i] + (off >>> 2)] = v;
      return;
    }
    this.store32Slow(lo | 0, (va - lo) / TWO32, v);
  }

  load8(va: number): number {
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcRTag[i] === (lo & -4096) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      return this.fcMem8[i][this.fcWord[i] * 4 + (lo & 4095)];
    }
    return this.mem.read8(this.translate(va, ACCESS_READ));
  }

  store8(va: number, v: number): void {
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcWTag[i] === (lo & -4096) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.fcMem8[i][this.fcWord[i] * 4 + (lo & 4095)] = v;
      return;
    }
    this.mem.write8(this.translate(va, ACCESS_WRITE), v);
  }

  load16(va: number): number {
    if ((va & 4095) === 4095) return this.loadSplitNum(va, 2);
    const pa = this.translate(va, ACCESS_READ);
    this.touchSplitLine(pa, 2);
    return this.mem.read16(pa);
  }

  store16(va: number, v: number): void {
    if ((va & 4095) === 4095) { this.storeSplitNum(va, 2, v, 0); return; }
    const pa = this.translate(va, ACCESS_WRITE);
    this.touchSplitLine(pa, 2);
    this.mem.write16(pa, v);
  }

  /** 64-bit load: returns the low half, the high half is left in `cpu.hi`. */
  load64(va: number): number {
    const off = va & 4095;
    if (va - off === this.mcPageR && (off & 7) === 0) {
      this.accesses++;
      const w = this.mcWord + (off >>> 2);
      this.hi = this.mcMem[w + 1];
      return this.mcMem[w];
    }
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcRTag[i] === (lo & -4089) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.mcArm(i, va - off);
      const m = this.fcMem[i];
      const w = this.fcWord[i] + ((lo & 4095) >>> 2);
      this.hi = m[w + 1];
      return m[w];
    }
    return this.load64Slow(lo | 0, (va - lo) / TWO32);
  }

  store64(va: number, vlo: number, vhi: number): void {
    const off = va & 4095;
    if (va - off === this.mcPageW && (off & 7) === 0) {
      this.accesses++;
      const w = this.mcWord + (off >>> 2);
      this.mcMem[w] = vlo;
      this.mcMem[w + 1] = vhi;
      return;
    }
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcWTag[i] === (lo & -4089) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.mcArm(i, va - off);
      const m = this.fcMem[i];
      const w = this.fcWord[i] + ((lo & 4095) >>> 2);
      m[w] = vlo;
      m[w + 1] = vhi;
      return;
    }
    this.store64Slow(lo | 0, (va - lo) / TWO32, vlo, vhi);
  }

  /** Read-modify-write `*va ^= (vlo, vhi)` as one 64-bit access (the GUPS kernel). */
  xor64(va: number, vlo: number, vhi: number): void {
    const off = va & 4095;
    if (va - off === this.mcPageW && (off & 7) === 0) {
      this.accesses++;
      const w = this.mcWord + (off >>> 2);
      this.mcMem[w] ^= vlo;
      this.mcMem[w + 1] ^= vhi;
      return;
    }
    const lo = va >>> 0;
    const i = (lo >>> 12) & FC_MASK;
    if (this.fcWTag[i] === (lo & -4089) && this.fcHi[i] === va - lo + this.hiKey) {
      this.l1Stamp[this.fcSlot[i]] = ++this.accesses;
      this.mcArm(i, va - off);
      const m = this.fcMem[i];
      const w = this.fcWord[i] + ((lo & 4095) >>> 2);
      m[w] ^= vlo;
      m[w + 1] ^= vhi;
      return;
    }
    this.xor64Slow(lo | 0, (va - lo) / TWO32, vlo, vhi);
  }

  // The slow paths of the 32/64-bit accesses take the address as (lo, hi): lo as an int32, hi
  // below 2^21. Both are Smis, so the call from a fast path passes no HeapNumber where V8 did not
  // inline the slow path, as a user address as one number (2^47 or so) was, per slow access.
  // Their callers pass `lo | 0, (va - lo) / TWO32` for lo = va >>> 0. They translate through
  // translateAt and read `pa` (translateHalves returns it: a HeapNumber when V8 did not inline it).

  protected xor64Slow(lo: number, hi: number, vlo: number, vhi: number): void {
    if ((lo & 4095) > 4088) {
      // A read-modify-write across a page: both parts are translated for writing before any data
      // moves, then the halves are read and written back.
      const rlo = this.readSplit(lo >>> 0, hi, 8, ACCESS_WRITE, true);
      this.writeSplitAgain(8, rlo ^ vlo, this.hi ^ vhi);
      return;
    }
    this.translateAt(lo, hi, ACCESS_WRITE, true);
    const pa = this.pa;
    this.touchSplitLine(pa, 8);
    if ((pa & 3) !== 0) {
      this.mem.write64(pa, this.mem.read32(pa) ^ vlo, this.mem.read32(pa + 4) ^ vhi);
      return;
    }
    const m = this.mem.wordsFor(pa);
    const w = this.mem.at;
    m[w] ^= vlo;
    m[w + 1] ^= vhi;
  }

  protected load32Slow(lo: number, hi: number): number {
    if ((lo & 4095) > 4092) return this.readSplit(lo >>> 0, hi, 4, ACCESS_READ, true);
    this.translateAt(lo, hi, ACCESS_READ, true);
    const pa = this.pa;
    this.touchSplitLine(pa, 4);
    return this.mem.read32(pa);
  }

  protected store32Slow(lo: number, hi: number, v: number): void {
    if ((lo & 4095) > 4092) { this.writeSplit(lo >>> 0, hi, 4, v, 0, true); return; }
    this.translateAt(lo, hi, ACCESS_WRITE, true);
    const pa = this.pa;
    this.touchSplitLine(pa, 4);
    this.mem.write32(pa, v);
  }

  protected load64Slow(lo: number, hi: number): number {
    if ((lo & 4095) > 4088) return this.readSplit(lo >>> 0, hi, 8, ACCESS_READ, true);
    this.translateAt(lo, hi, ACCESS_READ, true);
    const pa = this.pa;
    this.touchSplitLine(pa, 8);
    this.hi = this.mem.read32(pa + 4);
    return this.mem.read32(pa);
  }

  protected store64Slow(lo: number, hi: number, vlo: number, vhi: number): void {
    if ((lo & 4095) > 4088) { this.writeSplit(lo >>> 0, hi, 8, vlo, vhi, true); return; }
    this.translateAt(lo, hi, ACCESS_WRITE, true);
    const pa = this.pa;
    this.touchSplitLine(pa, 8);
    this.mem.write64(pa, vlo, vhi);
  }

  // ------------------------------------------------------------------ page-crossing accesses

  /** Physical addresses and length of the first part of the last split translation. */
  private splitPa1 = 0;
  private splitPa2 = 0;
  private splitFirst = 0;

  /**
   * Translate an access of `bytes` at (lo, hi) that may cross a page, as x86 does: a crossing
   * access is two accesses, one per page, each translated and permission-checked, the lower page
   * first, and all before any data moves — so a fault on the second page leaves memory untouched
   * (no partial write). Leaves the parts in splitPa1/splitPa2/splitFirst.
   */
  private translateSplit(lo: number, hi: number, bytes: number, access: AccessKind, userMode: boolean): void {
    const first = 4096 - (lo & 4095);
    this.translateAt(lo | 0, hi, access, userMode);
    this.splitPa1 = this.pa;
    if (first >= bytes) { this.splitFirst = bytes; this.touchSplitLine(this.splitPa1, bytes); return; }
    this.splitFirst = first;
    const nlo = (lo - (lo & 4095) + 4096) >>> 0;
    const nhi = nlo === 0 ? (hi + 1) >>> 0 : hi;
    this.translateAt(nlo | 0, nhi, access, userMode);
    this.splitPa2 = this.pa;
  }

  private splitByteAt(i: number): number {
    return i < this.splitFirst ? this.splitPa1 + i : this.splitPa2 + i - this.splitFirst;
  }

  /** Read `bytes` (1..8) little-endian at (lo, hi): the low 32 bits returned, the high in `hi`. */
  private readSplit(lo: number, hi: number, bytes: number, access: AccessKind, userMode: boolean): number {
    this.translateSplit(lo, hi, bytes, access, userMode);
    let rlo = 0;
    let rhi = 0;
    for (let i = 0; i < bytes; i++) {
      const b = this.mem.read8(this.splitByteAt(i));
      if (i < 4) rlo |= b << (8 * i); else rhi |= b << (8 * (i - 4));
    }
    this.hi = rhi;
    return rlo;
  }

  /** Write `bytes` (1..8) little-endian at (lo, hi) after translating every part. */
  private writeSplit(lo: number, hi: number, bytes: number, vlo: number, vhi: number, userMode: boolean): void {
    this.translateSplit(lo, hi, bytes, ACCESS_WRITE, userMode);
    this.writeSplitAgain(bytes, vlo, vhi);
  }

  /** Write into the parts the last translateSplit resolved. */
  private writeSplitAgain(bytes: number, vlo: number, vhi: number): void {
    for (let i = 0; i < bytes; i++) {
      const b = i < 4 ? (vlo >>> (8 * i)) & 0xff : (vhi >>> (8 * (i - 4))) & 0xff;
      this.mem.write8(this.splitByteAt(i), b);
    }
  }

  private loadSplitNum(va: number, bytes: number): number {
    const lo = va >>> 0;
    return this.readSplit(lo, (va - lo) / TWO32, bytes, ACCESS_READ, true);
  }

  private storeSplitNum(va: number, bytes: number, vlo: number, vhi: number): void {
    const lo = va >>> 0;
    this.writeSplit(lo, (va - lo) / TWO32, bytes, vlo, vhi, true);
  }

  // ------------------------------------------------------------------ bulk accesses (memset, memcpy)

  /**
   * memset: `len` bytes at `va` set to `byte`, with exactly the modelled effects of this sequence
   * of accesses: store8 up to the first 8-byte boundary, store64 for every whole 8-byte word, store8
   * for the tail. Runs of store64 within one page the fast path serves are applied in bulk (the
   * same counters and LRU state as one call each). A fault stops it where the access faulted.
   */
  fill(va: number, len: number, byte: number): void {
    const b = byte & 0xff;
    const end = va + len;
    let p = va;
    while (p < end && (p & 7) !== 0) this.store8(p++, b);
    const word = Math.imul(b, 0x01010101);
    const bodyEnd = end - (end - p) % 8;
    while (p < bodyEnd) {
      const page = p - (p & 4095);
      if (page === this.mcPageW) {
        // The rest of this page's words: each would be a micro-cache hit (accesses++ and a write).
        const stop = Math.min(bodyEnd, page + 4096);
        const n = (stop - p) / 8;
        this.accesses += n;
        const w = this.mcWord + ((p & 4095) >>> 2);
        this.mcMem.fill(word, w, w + 2 * n);
        p = stop;
        continue;
      }
      this.store64(p, word, word);
      p += 8;
    }
    while (p < end) this.store8(p++, b);
  }

  /**
   * memmove: `len` bytes from `src` to `dst` (overlap allowed), with exactly the modelled effects
   * of this sequence: aligned on the destination, load8/store8 pairs for the head and tail and
   * load64/store64 pairs for each whole 8-byte word, ascending — or descending when the destination
   * overlaps above the source.
   */
  copy(dst: number, src: number, len: number): void {
    const headEnd = Math.min(len, (8 - (dst & 7)) & 7);
    const bodyEnd = headEnd + (len - headEnd) - ((len - headEnd) % 8);
    if (dst > src && dst < src + len) {
      for (let i = len - 1; i >= bodyEnd; i--) this.store8(dst + i, this.load8(src + i));
      for (let i = bodyEnd - 8; i >= headEnd; i -= 8) { const lo = this.load64(src + i); this.store64(dst + i, lo, this.hi); }
      for (let i = headEnd - 1; i >= 0; i--) this.store8(dst + i, this.load8(src + i));
      return;
    }
    for (let i = 0; i < headEnd; i++) this.store8(dst + i, this.load8(src + i));
    for (let i = headEnd; i < bodyEnd; i += 8) { const lo = this.load64(src + i); this.store64(dst + i, lo, this.hi); }
    for (let i = bodyEnd; i < len; i++) this.store8(dst + i, this.load8(src + i));
  }

  /** Instruction fetch check (no code runs, but XD semantics are testable): returns pa. */
  fetch(va: number | bigint): number {
    return this.translateBig(BigInt(va), ACCESS_EXEC, true);
  }

  // ------------------------------------------------------------------ bigint path (57-bit, kernel half)

  /**
   * Load `bytes` (1, 2, 4 or 8) at any 64-bit address, page crossings split as x86 does. For
   * addresses the number path names it is that path (same modelled effects, faster).
   */
  loadBig(va: bigint, bytes: 1 | 2 | 4 | 8, userMode = true): bigint {
    if (userMode && va < TWO53N) {
      const n = Number(va);
      if (bytes === 1) return BigInt(this.load8(n));
      if (bytes === 2) return BigInt(this.load16(n));
      if (bytes === 4) return BigInt(this.load32(n) >>> 0);
      const lo = this.load64(n) >>> 0;
      return (BigInt(this.hi >>> 0) << 32n) | BigInt(lo);
    }
    const [lo, hi] = splitBig(va);
    const rlo = this.readSplit(lo, hi, bytes, ACCESS_READ, userMode) >>> 0;
    return bytes === 8 ? (BigInt(this.hi >>> 0) << 32n) | BigInt(rlo) : BigInt(rlo);
  }

  /** Store the low `bytes` (1, 2, 4 or 8) of v at any 64-bit address, page crossings split as x86 does. */
  storeBig(va: bigint, bytes: 1 | 2 | 4 | 8, v: bigint, userMode = true): void {
    const vlo = Number(v & 0xffffffffn) | 0;
    const vhi = Number((v >> 32n) & 0xffffffffn) | 0;
    if (userMode && va < TWO53N) {
      const n = Number(va);
      if (bytes === 1) this.store8(n, vlo & 0xff);
      else if (bytes === 2) this.store16(n, vlo & 0xffff);
      else if (bytes === 4) this.store32(n, vlo);
      else this.store64(n, vlo, vhi);
      return;
    }
    const [lo, hi] = splitBig(va);
    this.writeSplit(lo, hi, bytes, vlo, vhi, userMode);
  }

  load64Big(va: bigint, userMode = true): bigint { return this.loadBig(va, 8, userMode); }

  store64Big(va: bigint, v: bigint, userMode = true): void { this.storeBig(va, 8, v, userMode); }

  /** fill() for any address: the same sequence of accesses, through the bigint path above 2^53. */
  fillBig(va: bigint, len: number, byte: number): void {
    if (va + BigInt(len) <= TWO53N) { this.fill(Number(va), len, byte); return; }
    const b = BigInt(byte & 0xff);
    const word = b * 0x0101010101010101n;
    const end = va + BigInt(len);
    let p = va;
    while (p < end && (p & 7n) !== 0n) { this.storeBig(p, 1, b); p++; }
    while (end - p >= 8n) { this.storeBig(p, 8, word); p += 8n; }
    while (p < end) { this.storeBig(p, 1, b); p++; }
  }

  /** copy() for any addresses: the same sequence of accesses, through the bigint path above 2^53. */
  copyBig(dst: bigint, src: bigint, len: number): void {
    const n = BigInt(len);
    if (dst + n <= TWO53N && src + n <= TWO53N) { this.copy(Number(dst), Number(src), len); return; }
    const headEnd = BigInt(Math.min(len, Number((8n - (dst & 7n)) & 7n)));
    const bodyEnd = headEnd + (n - headEnd) - ((n - headEnd) % 8n);
    const move = (i: bigint, w: 1 | 8): void => { this.storeBig(dst + i, w, this.loadBig(src + i, w)); };
    if (dst > src && dst < src + n) {
      for (let i = n - 1n; i >= bodyEnd; i--) move(i, 1);
      for (let i = bodyEnd - 8n; i >= headEnd; i -= 8n) move(i, 8);
      for (let i = headEnd - 1n; i >= 0n; i--) move(i, 1);
      return;
    }
    for (let i = 0n; i < headEnd; i++) move(i, 1);
    for (let i = headEnd; i < bodyEnd; i += 8n) move(i, 8);
    for (let i = bodyEnd; i < n; i++) move(i, 1);
  }

  // ------------------------------------------------------------------ reports

  counters(): CpuCounters {
    return {
      cpu: this.id,
      node: this.node,
      modelledCycles: this.clock,
      accesses: this.accesses - this.kernelAccesses,
      // Accesses that never left the fast path hit the L1 by construction; slow-path lookups
      // (retries after a fault included) are counted as they happen. User accesses only: the
      // kernel's own references are in kernelCounters().
      l1Hits: this.accesses - this.kernelAccesses - this.slowAccesses + this.slowL1Hits,
      l1Misses: this.l1Misses,
      stlbHits: this.stlbHits,
      stlbMisses: this.l1Misses - this.stlbHits,
      walks: this.walks,
      walkRefs: this.walkRefs,
      pageFaults: this.pageFaults,
      cr3Writes: this.cr3Writes,
      tlbFlushes: this.tlbFlushes,
      invalidations: this.invlpgs,
      cyclesBy: { access: (this.accesses - this.kernelAccesses) * this.costs.dataAccess, ...this.cyclesBy },
    };
  }

  /**
   * Hit and miss counters per TLB structure, from the same counts as counters(): the L1 DTLB
   * (its 4K, 2M and 1G arrays are looked up together, as in hardware, so they share one count;
   * front-cache hits are L1 hits), the STLB (looked up on every L1 miss) and each
   * paging-structure cache (looked up on walks, most specific level first).
   */
  /** counters() with the per-structure TLB counters: everything this core counted. */
  allCounters(): CoreCounters {
    const caches = this.cacheCounters();
    const base = { ...this.counters(), tlb: this.tlbCounters(), kernel: this.kernelCounters() };
    return caches === null ? base : { ...base, caches };
  }

  tlbCounters(): Record<string, TlbStructureCounters> {
    const c = this.counters();
    const occ = this.tlb.occupancy();
    const sum = (names: string[]): { entries: number; valid: number } => ({
      entries: names.reduce((n, k) => n + (occ[k]?.entries ?? 0), 0),
      valid: names.reduce((n, k) => n + (occ[k]?.valid ?? 0), 0),
    });
    const out: Record<string, TlbStructureCounters> = {
      'L1 DTLB': { ...sum(this.tlb.l1.map((a) => a.name)), hits: c.l1Hits, misses: c.l1Misses },
      STLB: { ...sum([this.tlb.stlb.name, this.tlb.stlb1g.name]), hits: c.stlbHits, misses: c.stlbMisses },
    };
    for (let l = 2; l <= 5; l++) {
      const p = occ[`PSC L${l}`];
      if (p) out[`PSC L${l}`] = { ...p, hits: this.pscHits[l], misses: this.pscMisses[l] };
    }
    return out;
  }
}

/** One TLB structure's counters as the CPU counted them, with its size and occupancy. */
export interface TlbStructureCounters { entries: number; valid: number; hits: number; misses: number }

/**
 * The user counters of a core (CpuCounters: user loads and stores, and the TLB work they caused)
 * with the per-structure TLB counts, the caches (caches on) and, apart, the kernel's own references.
 */
export interface CoreCounters extends CpuCounters { tlb: Record<string, TlbStructureCounters>; caches?: CacheCounters; kernel: KernelCounters }

/**
 * The kernel's own supervisor references (Cpu.kernelRef: syscall entry and exit, vas_switch's
 * handle lookup and pmap activation, ...) — never part of the user counters. tlbCycles and
 * cacheCycles are the modelled cycles charged for them (components "kernel-tlb", "kernel-cache").
 */
export interface KernelCounters {
  accesses: number;
  l1Hits: number; l1Misses: number;
  stlbHits: number; stlbMisses: number;
  walks: number; walkRefs: number;
  tlbCycles: number; cacheCycles: number;
  /** Paging-structure-cache lookups of the kernel's walks (all levels). */
  pscHits: number; pscMisses: number;
  caches?: { data: CacheKindCounters; pageTable: CacheKindCounters };
}

// kernelStats layout: raw counter deltas of kernel references.
const KS_SLOW_L1_HITS = 0;
const KS_L1_MISSES = 1;
const KS_STLB_HITS = 2;
const KS_WALKS = 3;
const KS_WALK_REFS = 4;
const KS_TLB_CYCLES = 5;
const KS_CACHE_CYCLES = 6;
const KS_SIZE = 7;

/**
 * The counters of one kind of line (0 data, 1 page-table) from a served-by-level array (four
 * levels per kind) and its remote-DRAM counts: the one reading of the user's and the kernel's.
 */
function servedBy(served: ArrayLike<number>, remote: ArrayLike<number>, kind: number): CacheKindCounters {
  const b = 4 * kind;
  const total = served[b] + served[b + 1] + served[b + 2] + served[b + 3];
  return {
    accesses: total,
    l1dHits: served[b + LEVEL_L1], l1dMisses: total - served[b + LEVEL_L1],
    l2Hits: served[b + LEVEL_L2], l2Misses: served[b + LEVEL_LLC] + served[b + LEVEL_DRAM],
    llcHits: served[b + LEVEL_LLC], llcMisses: served[b + LEVEL_DRAM],
    dramLocal: served[b + LEVEL_DRAM] - remote[kind], dramRemote: remote[kind],
  };
}

/** Which level served a kind of line (data, or page-table lines the walker read). */
export interface CacheKindCounters {
  accesses: number;
  l1dHits: number; l1dMisses: number;
  l2Hits: number; l2Misses: number;
  llcHits: number; llcMisses: number;
  /** LLC misses filled from the accessing core's node, and from another node. */
  dramLocal: number; dramRemote: number;
}

export interface CacheCounters {
  data: CacheKindCounters;
  pageTable: CacheKindCounters;
  /** Modelled cycles data accesses spent beyond the L1D latency (walk references are in "walk"). */
  dataCycles: number;
}

export interface CpuCounters {
  cpu: number;
  node: number;
  modelledCycles: number;
  accesses: number;
  l1Hits: number;
  l1Misses: number;
  stlbHits: number;
  stlbMisses: number;
  walks: number;
  walkRefs: number;
  pageFaults: number;
  cr3Writes: number;
  tlbFlushes: number;
  invalidations: number;
  cyclesBy: Record<string, number>;
}

export { ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC } from './pageWalker.js';

// The data loops of the batch accesses (Cpu.xor64Batch, store64Batch, load64Batch): elements
// [from, to) of a batch whose host words are in mems/words.
//
// The xor loops read every element's word first (touchWords), then update: a random update's
// store misses the host cache, and misses of stores, committed in order, held the host's store
// buffer full, so the next batch's translation (whose TLB and counter writes queue behind them)
// stalled until the last line arrived. Loads of the same lines overlap freely and leave them in
// the host L1, where the stores then commit at once: GUPS batch 2M 187 -> 149 ns per update, 4K
// 389 -> 353, 5-level 4K 392 -> 370 (process CPU time, same run; docs/performance.md, fifth
// round). Same values: the update loop is the one it was, reading each word again.

/** Sink of touchWords's reads, so the compiler keeps them. */
const touched = new Int32Array(1);

function touchWords(mems: Int32Array[], words: Int32Array, from: number, to: number): void {
  let acc = 0;
  for (let j = from; j < to; j++) acc ^= mems[j][words[j]];
  touched[0] = acc;
}

function touchWordsOne(m: Int32Array, words: Int32Array, from: number, to: number): void {
  let acc = 0;
  for (let j = from; j < to; j++) acc ^= m[words[j]];
  touched[0] = acc;
}

function xorWords(mems: Int32Array[], words: Int32Array, vlo: Int32Array, vhi: Int32Array, from: number, to: number): void {
  touchWords(mems, words, from, to);
  for (let j = from; j < to; j++) {
    const m = mems[j];
    const w = words[j];
    m[w] ^= vlo[j];
    m[w + 1] ^= vhi[j];
  }
}

/** xorWords over one host view that holds every element (the hot case: one slab holds the table). */
function xorWordsOne(m: Int32Array, words: Int32Array, vlo: Int32Array, vhi: Int32Array, from: number, to: number): void {
  touchWordsOne(m, words, from, to);
  for (let j = from; j < to; j++) {
    const w = words[j];
    m[w] ^= vlo[j];
    m[w + 1] ^= vhi[j];
  }
}

function storeWords(mems: Int32Array[], words: Int32Array, vlo: Int32Array, vhi: Int32Array, from: number, to: number): void {
  for (let j = from; j < to; j++) {
    const m = mems[j];
    const w = words[j];
    m[w] = vlo[j];
    m[w + 1] = vhi[j];
  }
}

function loadWords(mems: Int32Array[], words: Int32Array, outLo: Int32Array, outHi: Int32Array, from: number, to: number): void {
  for (let j = from; j < to; j++) {
    const m = mems[j];
    const w = words[j];
    outLo[j] = m[w];
    outHi[j] = m[w + 1];
  }
}
