// The modelled cycle costs of the emulated machine. Every figure is a named, documented parameter
// of a profile; reports print the profile name and any overrides. Two clocks never mix: these are
// cycles of the emulated machine, not the emulator's wall-clock time.

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
  /** vas_switch kernel bookkeeping besides the syscall and CR3 load, when tagged (Table 6: 807-357-224). */
  vasSwitchKernel: number;
  /** Extra kernel-side TLB refill after an untagged switch flushes the kernel's own entries
   *  (Table 6: untagged 1127-357-130 = 640 vs tagged 226; the difference, 414). */
  untaggedRefillPenalty: number;
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
}

export interface CostProfile {
  name: string;
  description: string;
  params: CostParams;
}

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
    vasSwitchKernel: 226,
    untaggedRefillPenalty: 414,
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
  },
};

/** Barrelfish on the same machine (Table 6): cheaper syscall path. */
export const PROFILE_M2_BARRELFISH: CostProfile = {
  name: 'm2-barrelfish',
  description: 'M2 with the Barrelfish column of Table 6 (syscall 130, vas_switch 664 / 462)',
  params: {
    ...PROFILE_M2.params,
    syscall: 130,
    vasSwitchKernel: 462 - 130 - 224,
    untaggedRefillPenalty: 664 - 130 - 130 - (462 - 130 - 224),
  },
};

/** Free of costs except accesses: useful to see pure event counts. */
export const PROFILE_ZERO: CostProfile = {
  name: 'zero',
  description: 'every event costs 0 cycles except a data access (1)',
  params: Object.fromEntries(Object.keys(PROFILE_M2.params).map((k) => [k, 0])) as unknown as CostParams,
};
PROFILE_ZERO.params.dataAccess = 1;
PROFILE_ZERO.params.clockGHz = 1;

export const PROFILES: Record<string, CostProfile> = {
  m2: PROFILE_M2,
  'm2-barrelfish': PROFILE_M2_BARRELFISH,
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
  }
  return {
    name: `${base.name}+${keys.map((k) => `${k}=${(over as Record<string, number>)[k]}`).join(',')}`,
    description: base.description + ' (with overrides)',
    params: { ...base.params, ...over },
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
