// Numeric constants the per-access paths read: TLB size classes and entry flags, the
// front cache's geometry, host memory's chunk and slab sizes. They live in a module of their own
// so that the modules using them (tlb.ts, cpu.ts, physicalMemory.ts) can bind them as
// module-local consts (`import * as constants` and a destructuring `const`); those modules
// re-export them under the same names, so importers elsewhere are unchanged.
//
// Why: V8 (Node 20's TurboFan) folds a module-local const into optimised code, but an exported or
// imported binding lives in a Cell, and optimised code loads it from there at every use, then
// checks it for the hole (TDZ) and for a Smi: a load and two branches per use. A 2 MiB STLB hit
// used such bindings about thirty times (SIZE_4K ... in Tlb.lookup, TF_G in every way matched,
// TF_U/TF_W/TF_D/ACCESS_* in the rights test, FC_MASK in the batch loop); folding them took
// 7-11 % off GUPS batch 2M (docs/performance.md, sixth round). A module defining a constant and
// reading it on a hot path must import it from here too, not read its own exported binding.

export const SIZE_4K = 1;
export const SIZE_2M = 2;
export const SIZE_1G = 3;

/** TLB entry flag bits. */
export const TF_W = 1;
export const TF_U = 2;
export const TF_XD = 4;
export const TF_G = 8;
export const TF_D = 16;

/**
 * A TLB array's per-entry record (TlbArray.rec: TLB_REC words per slot): the tag's high half, the
 * PCID, flags | protection key << 8, the PCID epoch. Here rather than in tlb.ts because Cpu's hit
 * path reads the flags word and the frame straight from the arrays (see Cpu.tryTranslate).
 */
export const TLB_REC = 4;
export const TLB_R_HI = 0;
export const TLB_R_PCID = 1;
export const TLB_R_META = 2;
export const TLB_R_EPOCH = 3;

/**
 * 2^10 front entries (4 MiB of contiguous 4 KiB pages without a conflict). The front cache is only
 * a host-side cache of the L1 DTLB, so its size changes no modelled result; it does set how much
 * host cache every fill disturbs: a fill touches about ten front arrays at a random index, and
 * at 2^14 entries those arrays (~0.8 MB) fell out of the host's L2, costing host cache misses of
 * their own (measured: GUPS 4K batched 12-15% slower than at 2^10; see docs/performance.md). Fills
 * now happen on slow-path L1 hits only (see Cpu.tryTranslate), not after every TLB miss.
 */
export const FC_BITS = 10;
export const FC_SIZE = 1 << FC_BITS;
export const FC_MASK = FC_SIZE - 1;
/**
 * The tag of an empty front entry. The fast paths compare a tag with `lo & ~(pageMask & ~alignMask)`,
 * which keeps the low alignment bits (0..2) of the address, so an invalid tag must have a bit set
 * that no compared value can have: bit 11 (a value of 1 would match a misaligned access at offset 1).
 */
export const FC_INVALID = 0x800;

export const CHUNK_SHIFT = 20;
/** The unit of materialisation: memory is touched (and counted, and enumerated) 1 MiB at a time. */
export const CHUNK_SIZE = 1 << CHUNK_SHIFT;
/** Host slab size (see physicalMemory.ts: why 2 GiB). */
export const SLAB_BYTES = 2 ** 31;

/** Access kinds (pageWalker.ts re-exports them with the AccessKind type). */
export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_EXEC = 2;

/** #PF error-code bits (SDM §4.7; pageWalker.ts re-exports them). */
export const PF_P = 1 << 0;
export const PF_WR = 1 << 1;
export const PF_US = 1 << 2;
export const PF_RSVD = 1 << 3;
export const PF_ID = 1 << 4;
export const PF_PK = 1 << 5;
