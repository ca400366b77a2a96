// The modelled cycle costs of the emulated machine. Every figure is a named, documented parameter
// of a profile; reports print the profile name and any overrides. Two clocks never mix: these are
// cycles of the emulated machine, not the emulator's wall-clock time.

import type { CacheGeometry } from './cache.js';

export interface CostParams {
  /** Core clock, GHz: converts modelled cycles to modelled seconds. */
  clockGHz: number;
  /** Every data load/store: the L1D hit latency (Intel optimisation manual: 4-5 cycles). */
  dataAccess: number;
  /** Extra cycles when the L1 DTLB misses and the STLB hits (Haswell measured ~9-12). */
  stlbHit: number;
  /** Each memory reference a page walk makes (a page-table line mostly hits L2/L3: ~20-40). */
  walkRef: number;
  /** Exception delivery and return for a #PF, before the handler's own work. */
  pageFaultEntry: number;
  /** Kernel work to resolve a fault once its page is found (map lookup, pmap_enter). */
  pageFaultHandler: number;
  /** Zero-fill one 4 KiB page (~16 B/cycle streaming stores). */
  pageZero4K: number;
  /** Copy one 4 KiB page for copy-on-write. */
  pageCopy4K: number;
  /** System call entry and exit (Table 6, DragonFly BSD on M2: 357). */
  syscall: number;
  /** MOV to CR3 that flushes (untagged; Table 6: 130). */
  cr3Load: number;
  /** MOV to CR3 with PCIDs on (tagged; Table 6: 224 — extra circuitry checks tagged state). */
  cr3LoadTagged: number;
  /**
   * A LOCK-prefixed read-modify-write (lock acquire, pm_active bit set/clear) beyond a plain L1D
   * hit: Agner Fog's instruction tables put LOCK CMPXCHG / XCHG m,r at ~20 cycles on Ivy Bridge.
   */
  atomicRmw: number;
  /**
   * 1 when the kernel half's leaves are global (PTE.G: they survive a flushing CR3 write), 0 when
   * not. Not a cost: how the OS maps itself. M2 is 0: Table 6's untagged switch pays for refilling
   * "shared OS entries", so its kernel entries were flushed by CR3 writes.
   */
  kernelGlobal: number;
  /** INVLPG / single-page INVPCID (Skylake ~350 per page, Hansen 2017). */
  invlpg: number;
  /** Sending a TLB-shootdown IPI to one remote CPU and waiting for its ack (initiator side). */
  shootdownInitiator: number;
  /** Taking a shootdown interrupt on the remote CPU (handler entry, flush, ack). */
  shootdownRemote: number;
  /** Writing one page-table entry from the kernel, with its bookkeeping (pv entry, counters). */
  pteWrite: number;
  /** Allocating (and zeroing) a page-table page. */
  ptPageAlloc: number;
  /** Finding a page in a vm object (radix lookup). */
  objectPageLookup: number;
  /** vm map entry insert/remove/split (tree update). */
  mapEntryOp: number;
  /** Scheduler context switch between threads of different processes, excluding the CR3 load. */
  contextSwitch: number;
  /** Waking a thread blocked on another CPU (IPI + scheduler). */
  wakeup: number;
  /** Copying one byte between user and kernel (IPC, copyin/copyout): ~4 bytes/cycle. */
  copyPerByte: number;
  /** With caches on: load-to-use latency of an L2 hit (an L1D hit costs `dataAccess`). */
  l2Latency: number;
  /** With caches on: latency of a hit in the socket's shared LLC. */
  llcLatency: number;
  /** With caches on: latency of a line from DRAM of the accessing core's own NUMA node. */
  dramLocal: number;
  /** With caches on: latency of a line from another node's DRAM (one interconnect hop). */
  dramRemote: number;
  // ---- Program-side costs: CPU work a program (or a harness's client loop) charges that it does not
  // spell out as loads and stores. Programs read these through the runtime (syscalls/abi.ts
  // ProgramCosts); the values are estimates of the instructions involved, not measurements.
  /** GUPS, per update besides its memory accesses: the LFSR step, index and window arithmetic, the
   *  pending-set bookkeeping (a handful of ALU ops and a branch). */
  gupsUpdate: number;
  /** Nibble: hashing one 8-byte key with FNV-1a (8 xor-multiply steps) and picking table and bucket. */
  nibbleHash: number;
  /** Nibble: one spin on a held bucket lock before yielding to the scheduler. */
  nibbleSpin: number;
  /** Nibble compaction: scoring one candidate segment (a division and two multiplications). */
  nibbleScore: number;
  /** Nibble: what a compaction thread idles between polls of its socket's free blocks. */
  nibblePoll: number;
  /** Nibble: what a writer waits before trying again for space that compaction is about to release. */
  nibbleSpaceWait: number;
  /** RDTSC as Nibble's epochs read it, priced as the reference does on Haswell. */
  rdtsc: number;
  /** SAM: parsing one byte of SAM text (htslib's sam_parse1 runs at ~150 MB/s). */
  samParsePerByte: number;
  /** SAM: formatting one byte of SAM text output (number to text, table lookups). */
  samFormatPerByte: number;
  /** SAM sort: one comparison (the compare call, branches, the swap). */
  samSortCompare: number;
  /** BGZF: zlib inflate per output byte (~400 MB/s on a 2.5 GHz core). */
  bgzfInflatePerByte: number;
  /** BGZF: zlib deflate (level 6, the htslib default) per input byte (~60 MB/s). */
  bgzfDeflatePerByte: number;
  /** Redis: per command besides the dataset's own loads and stores (table lookup, arity check). */
  redisCommand: number;
  /** Redis: hashing a key, fixed part (finalisation); plus redisHashPerByte per key byte. */
  redisHashBase: number;
  /** Redis: hashing a key, per byte (one FNV-1a round). */
  redisHashPerByte: number;
  /** Redis KEYS: matching one key against the pattern. */
  redisKeysPerKey: number;
  /** YCSB client (lab/nibble): choosing the next operation and key (two xorshift draws, Zipf). */
  ycsbChoose: number;
  /** YCSB client: one poll while waiting at the starting line for the other clients. */
  ycsbStartPoll: number;
}

/** The program-side parameters of a profile: the ones programs read through the runtime. */
export const PROGRAM_COST_KEYS = [
  'gupsUpdate', 'nibbleHash', 'nibbleSpin', 'nibbleScore', 'nibblePoll', 'nibbleSpaceWait', 'rdtsc',
  'samParsePerByte', 'samFormatPerByte', 'samSortCompare', 'bgzfInflatePerByte', 'bgzfDeflatePerByte',
  'redisCommand', 'redisHashBase', 'redisHashPerByte', 'redisKeysPerKey', 'ycsbChoose', 'ycsbStartPoll',
] as const satisfies readonly (keyof CostParams)[];

export type ProgramCostName = (typeof PROGRAM_COST_KEYS)[number];

/**
 * Waits a thread spends before looking again. They must cost at least a cycle: at 0 a waiting
 * thread's clock would not move, the scheduler (earliest clock first) would pick it again and
 * again, and the machine would livelock instead of letting the thread it waits for run.
 */
export const WAIT_COST_KEYS = ['nibbleSpin', 'nibblePoll', 'nibbleSpaceWait', 'ycsbStartPoll'] as const satisfies readonly ProgramCostName[];

/** What a program may read of the active profile: its own costs, read-only. */
export type ProgramCosts = Readonly<Pick<CostParams, ProgramCostName>>;

/** The program-side parameters of `p` as a frozen object (the view the runtime hands programs). */
export function programCostsOf(p: CostParams): ProgramCosts {
  const out = {} as Record<ProgramCostName, number>;
  for (const k of PROGRAM_COST_KEYS) out[k] = p[k];
  return Object.freeze(out);
}

export interface CostProfile {
  name: string;
  description: string;
  params: CostParams;
  /** Data-cache geometry of the machine, used when it runs with caches on (latencies are params). */
  caches: CacheGeometry;
  /** The TLB geometry this machine has (mmu/tlb.ts TLB_GEOMETRIES name), unless --tlb says otherwise. */
  tlb?: string;
}

/**
 * Ivy Bridge EP (M2) caches: 32 KiB 8-way L1D and 256 KiB 8-way L2 per core, 25 MiB 20-way LLC per
 * socket (Intel Xeon E5-2670 v2 datasheet / ark; optimisation manual §2.3 for the Sandy/Ivy Bridge
 * L1D and L2 organisation).
 */
export const IVY_BRIDGE_EP_CACHES: CacheGeometry = {
  l1d: { bytes: 32 * 1024, ways: 8 },
  l2: { bytes: 256 * 1024, ways: 8 },
  llc: { bytes: 25 * 2 ** 20, ways: 20 },
};

/**
 * Haswell EP (M3, Xeon E5-2699 v3): 32 KiB 8-way L1D and 256 KiB 8-way L2 per core, 45 MiB 20-way
 * LLC per socket (18 slices of 2.5 MiB; Intel ark, optimisation manual §2.4 Table 2-10).
 */
export const HASWELL_EP_CACHES: CacheGeometry = {
  l1d: { bytes: 32 * 1024, ways: 8 },
  l2: { bytes: 256 * 1024, ways: 8 },
  llc: { bytes: 45 * 2 ** 20, ways: 20 },
};

/** The reference's M2: 2x10-core Xeon E5-2670v2 (Ivy Bridge EP) at 2.5 GHz (Table 5 / Table 6). */
export const PROFILE_M2: CostProfile = {
  name: 'm2',
  description: 'Xeon E5-2670v2 @ 2.5 GHz (reference Table 6, DragonFly BSD figures) with typical x86 latencies',
  params: {
    clockGHz: 2.5,
    dataAccess: 4,
    stlbHit: 9,
    walkRef: 30,
    pageFaultEntry: 700,
    pageFaultHandler: 800,
    pageZero4K: 256,
    pageCopy4K: 512,
    syscall: 357,
    cr3Load: 130,
    cr3LoadTagged: 224,
    atomicRmw: 20,
    kernelGlobal: 0,
    invlpg: 350,
    shootdownInitiator: 1500,
    shootdownRemote: 1000,
    pteWrite: 40,
    ptPageAlloc: 300,
    objectPageLookup: 60,
    mapEntryOp: 200,
    contextSwitch: 1500,
    wakeup: 2000,
    copyPerByte: 0.25,
    l2Latency: 12,
    llcLatency: 38,
    dramLocal: 200,
    dramRemote: 330,
    gupsUpdate: 8,
    nibbleHash: 30,
    nibbleSpin: 40,
    nibbleScore: 20,
    nibblePoll: 5000,
    nibbleSpaceWait: 2000,
    rdtsc: 30,
    samParsePerByte: 16,
    samFormatPerByte: 8,
    samSortCompare: 20,
    bgzfInflatePerByte: 6,
    bgzfDeflatePerByte: 40,
    redisCommand: 40,
    redisHashBase: 8,
    redisHashPerByte: 1,
    redisKeysPerKey: 10,
    ycsbChoose: 20,
    ycsbStartPoll: 100,
  },
  caches: IVY_BRIDGE_EP_CACHES,
};

/** Barrelfish on the same machine (Table 6): cheaper syscall path. */
export const PROFILE_M2_BARRELFISH: CostProfile = {
  name: 'm2-barrelfish',
  description: 'M2 with the Barrelfish column of Table 6 (syscall 130, vas_switch 664 / 462)',
  params: {
    ...PROFILE_M2.params,
    syscall: 130,
  },
  caches: IVY_BRIDGE_EP_CACHES,
};

/**
 * The reference's M3, the machine of Figure 48: 2 x 18-core Xeon E5-2699 v3 (Haswell EP) at 2.3 GHz,
 * Haswell TLB (STLB 1024 x 8) and caches. Latencies from Molka et al., "Cache coherence protocol
 * and memory performance of the Intel Haswell-EP architecture" (ICPP 2015), converted to cycles at
 * 2.3 GHz: L3 ~21 ns, local DRAM ~96 ns, remote ~146 ns; L1D 4 and L2 12 cycles from the
 * optimisation manual. The kernel-path figures (syscall, CR3, vas_switch) are M2's: the reference
 * gives Table 6 only for M2.
 */
export const PROFILE_M3: CostProfile = {
  name: 'm3',
  description: '2x Xeon E5-2699v3 (Haswell EP, 18 cores) @ 2.3 GHz; kernel-path costs as M2 (reference Table 6 is M2 only)',
  params: {
    ...PROFILE_M2.params,
    clockGHz: 2.3,
    dataAccess: 4,
    stlbHit: 9,
    l2Latency: 12,
    llcLatency: 49,
    dramLocal: 222,
    dramRemote: 336,
  },
  caches: HASWELL_EP_CACHES,
  tlb: 'haswell',
};

/** Free of costs except accesses: useful to see pure event counts. */
export const PROFILE_ZERO: CostProfile = {
  name: 'zero',
  description: 'every event costs 0 cycles except a data access (1) and a wait (1), program-side work included',
  params: Object.fromEntries(Object.keys(PROFILE_M2.params).map((k) => [k, 0])) as unknown as CostParams,
  caches: IVY_BRIDGE_EP_CACHES,
};
PROFILE_ZERO.params.dataAccess = 1;
PROFILE_ZERO.params.clockGHz = 1;
for (const k of WAIT_COST_KEYS) PROFILE_ZERO.params[k] = 1;

export const PROFILES: Record<string, CostProfile> = {
  m2: PROFILE_M2,
  'm2-barrelfish': PROFILE_M2_BARRELFISH,
  m3: PROFILE_M3,
  zero: PROFILE_ZERO,
};

/**
 * Resolve a profile by name and apply overrides such as "syscall=500,walkRef=20".
 * Throws with a clear message on an unknown profile or parameter.
 */
export function resolveProfile(name: string = 'm2', overrides: string | Partial<CostParams> = {}): CostProfile {
  const base = PROFILES[name];
  if (!base) throw new RangeError(`unknown cost profile "${name}" (known: ${Object.keys(PROFILES).join(', ')})`);
  const over: Partial<CostParams> = typeof overrides === 'string' ? parseOverrides(overrides) : overrides;
  const keys = Object.keys(over);
  if (keys.length === 0) return base;
  for (const k of keys) {
    if (!(k in base.params)) throw new RangeError(`unknown cost parameter "${k}"`);
    const v = (over as Record<string, number>)[k];
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`cost parameter ${k} must be a non-negative number`);
    if (v < 1 && (WAIT_COST_KEYS as readonly string[]).includes(k)) throw new RangeError(`cost parameter ${k} is a wait: it must be at least 1 cycle (at 0 a waiting thread would never let modelled time pass)`);
    if (k === 'kernelGlobal' && v !== 0 && v !== 1) throw new RangeError('cost parameter kernelGlobal must be 0 (kernel entries flushed by CR3 writes) or 1 (global)');
  }
  return {
    name: `${base.name}+${keys.map((k) => `${k}=${(over as Record<string, number>)[k]}`).join(',')}`,
    description: base.description + ' (with overrides)',
    params: { ...base.params, ...over },
    caches: base.caches,
    ...(base.tlb !== undefined ? { tlb: base.tlb } : {}),
  };
}

function parseOverrides(text: string): Partial<CostParams> {
  const out: Record<string, number> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9]+)=([0-9.]+)$/.exec(part);
    if (!m) throw new RangeError(`bad cost override "${part}" (want name=number)`);
    out[m[1]] = Number(m[2]);
  }
  return out as Partial<CostParams>;
}

/** Modelled seconds of `cycles` at the profile's clock rate. */
export function cyclesToSeconds(cycles: number, p: CostParams): number {
  return cycles / (p.clockGHz * 1e9);
}
