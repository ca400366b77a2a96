// Property: whatever sequence of page-table edits software makes, as long as it follows each edit
// with the invalidation the architecture requires (none for a new mapping or a pure permission
// upgrade; INVLPG / INVPCID type 0 for one page; CR3 reload / INVPCID type 1 or 3 when a whole
// page table goes away), every translation the CPU serves through its TLB, paging-structure caches
// and front cache equals a fresh walk of the page tables in memory by an independent walker, or
// both fault with the same error code. And the front cache stays a subset of the modelled L1.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PhysicalMemory } from '../../mmu/physicalMemory.js';
import { Cpu, MachineFault, ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC } from '../../mmu/cpu.js';
import { PageWalker, type AccessKind } from '../../mmu/pageWalker.js';
import { splitBig } from '../../mmu/address.js';
import { PTE_A, PTE_D, PTE_P, PTE_PS } from '../../mmu/pte.js';
import { MiB } from '../../mmu/units.js';
import { PtBuilder } from './ptBuilder.js';
import { frontViolations } from './frontCheck.js';

// A small playground so that edits, accesses and address-space switches keep meeting each other.
const REGIONS = 2; // 2 MiB regions the edits play in
const PAGES = [0, 1, 16, 511]; // 4 KiB pages inside a region; 0 and 16 share an L1 set
const FRAMES_4K = 24; // 4 KiB frames at 16 MiB
const FRAMES_2M = 4; // 2 MiB frames at 32 MiB

interface Perms { writable: boolean; user: boolean; xd: boolean }
// Mostly permissive, so that most accesses succeed and a stale translation would show.
const likely = (p: number): fc.Arbitrary<boolean> => fc.integer({ min: 0, max: 99 }).map((n) => n < p);
const perms = fc.record({ writable: likely(75), user: likely(90), xd: likely(20) });
const space = fc.integer({ min: 0, max: 1 });
const region = fc.integer({ min: 0, max: REGIONS - 1 });
const page = fc.constantFrom(...PAGES);

type Op =
  | { op: 'map4k'; s: number; r: number; p: number; f: number; perms: Perms; inval: number }
  | { op: 'map2m'; s: number; r: number; f: number; perms: Perms; inval: number }
  | { op: 'unmap4k'; s: number; r: number; p: number; inval: number }
  | { op: 'unmap2m'; s: number; r: number; inval: number }
  | { op: 'protect'; s: number; r: number; p: number; perms: Perms; inval: number }
  | { op: 'switch' }
  | { op: 'load32' | 'store32' | 'xor64'; r: number; p: number; off: number; v: number }
  | { op: 'probe'; r: number; p: number; off: number; access: AccessKind; user: boolean };

const inval = fc.integer({ min: 0, max: 3 }); // which of the allowed invalidation forms to use
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('map4k' as const), s: space, r: region, p: page, f: fc.integer({ min: 0, max: FRAMES_4K - 1 }), perms, inval }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('map2m' as const), s: space, r: region, f: fc.integer({ min: 0, max: FRAMES_2M - 1 }), perms, inval }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unmap4k' as const), s: space, r: region, p: page, inval }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unmap2m' as const), s: space, r: region, inval }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('protect' as const), s: space, r: region, p: page, perms, inval }) },
  { weight: 2, arbitrary: fc.constant({ op: 'switch' as const }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constantFrom('load32' as const, 'store32' as const, 'xor64' as const), r: region, p: page, off: fc.integer({ min: 0, max: 4088 }), v: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('probe' as const), r: region, p: page, off: fc.integer({ min: 0, max: 4095 }), access: fc.constantFrom<AccessKind>(ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC), user: fc.boolean() }) },
);

interface Config { levels: 4 | 5; pcide: boolean; spaces: 1 | 2; nxe: boolean; wp: boolean }

function run(cfg: Config, ops: Op[]): void {
  const mem = new PhysicalMemory({ bytes: 64 * MiB });
  const pts = [
    new PtBuilder(mem, cfg.levels, { base: 1 * MiB, limit: 7 * MiB }),
    new PtBuilder(mem, cfg.levels, { base: 7 * MiB, limit: 13 * MiB }),
  ];
  const pcidOf = (s: number): number => (cfg.pcide ? s + 1 : 0);
  // 5-level: a VA only LA57 reaches (bit 52 set), still an exact JS number
  const base = cfg.levels === 5 ? 2 ** 52 + 0x7f00_0000_0000 : 0x7f00_0000_0000;
  const vaOf = (r: number, p: number): number => base + r * 2 * MiB + p * 4096;
  const cpu = new Cpu(mem, { paging: cfg.levels });
  cpu.setNxe(cfg.nxe);
  cpu.setWp(cfg.wp);
  if (cfg.pcide) cpu.writeCr4({ pcide: true });
  let cur = 0;
  cpu.writeCr3(pts[0].root, pcidOf(0));
  const oracle = new PageWalker(mem);
  const ctl = { wp: cfg.wp, nxe: cfg.nxe, pke: false, pkru: 0, maxPhysAddrBits: cpu.maxPhysAddrBits };

  /** One page's translations may be cached: drop them as software must. */
  const invalidatePage = (s: number, va: number, how: number): void => {
    if (s === cur) {
      if (how === 0 || !cfg.pcide) cpu.invlpgAddr(va);
      else cpu.invpcid(0, pcidOf(s), BigInt(va));
    } else if (cfg.pcide) {
      if (how === 0) cpu.invpcid(0, pcidOf(s), BigInt(va));
      else cpu.invpcid(1, pcidOf(s));
    } // PCIDE off: the other space is flushed when it is switched to
  };
  /**
   * A page table went away. Either drop everything of that space, or drop each page it mapped
   * (INVLPG / INVPCID 0 also drop all of the PCID's paging-structure-cache entries, which is what
   * makes a per-page flush enough: the PDE-cache entry pointing at the old table goes with them).
   */
  const invalidateTable = (s: number, how: number, regionVa: number, mapped: number[]): void => {
    const pages = mapped.length > 0 ? mapped : [regionVa];
    if (s === cur) {
      if (how === 0) cpu.writeCr3(pts[s].root, pcidOf(s));
      else if (how === 1 && cfg.pcide) cpu.invpcid(1, pcidOf(s));
      else if (how === 2 && cfg.pcide) cpu.invpcid(3, 0);
      else for (const va of pages) cpu.invlpgAddr(va);
    } else if (cfg.pcide) {
      if (how === 0) cpu.invpcid(1, pcidOf(s));
      else if (how === 1) cpu.invpcid(3, 0);
      else for (const va of pages) cpu.invpcid(0, pcidOf(s), BigInt(va));
    }
  };
  /** 4 KiB pages currently present under the region's page table. */
  const mappedPages = (s: number, r: number): number[] => PAGES.map((p) => vaOf(r, p)).filter((va) => leafOf(s, va)?.level === 1);

  /** The leaf currently covering va in space s: level and raw low half, or null. */
  const leafOf = (s: number, va: number): { level: number; lo: number } | null => {
    const pde = pts[s].entryPa(va, 2);
    if (pde < 0) return null;
    const dlo = mem.read32(pde);
    if ((dlo & PTE_P) === 0) return null;
    if ((dlo & PTE_PS) !== 0) return { level: 2, lo: dlo };
    const pte = pts[s].entryPa(va, 1);
    const tlo = mem.read32(pte);
    return (tlo & PTE_P) === 0 ? null : { level: 1, lo: tlo };
  };

  const check = (va: number, access: AccessKind, user: boolean, act: () => void, after: (pa: number) => void): void => {
    const [lo, hi] = splitBig(BigInt(va));
    const ok = oracle.walk(pts[cur].root, cfg.levels, 3, lo, hi, access, user, ctl);
    const pa = ok ? oracle.frameBase + (va % (oracle.leafLevel === 2 ? 2 * MiB : 4096)) : -1;
    if (ok) {
      act();
      after(pa);
      stats.ok++;
    } else {
      stats.faults++;
      let fault: MachineFault | null = null;
      try { act(); } catch (e) { if (e instanceof MachineFault) fault = e; else throw e; }
      expect(fault, `expected #PF ${oracle.errorCode} at ${va.toString(16)}`).not.toBeNull();
      expect(fault!.fault.errorCode).toBe(oracle.errorCode);
    }
  };

  for (const o of ops) {
    switch (o.op) {
      case 'map4k': {
        const va = vaOf(o.r, o.p);
        const before = leafOf(o.s, va);
        pts[o.s].map(va, 16 * MiB + o.f * 4096, { ...o.perms });
        if (before) invalidatePage(o.s, va, o.inval); // a 2M leaf in the way is dropped by any address in it
        break;
      }
      case 'map2m': {
        const va = vaOf(o.r, 0);
        const pde = pts[o.s].entryPa(va, 2);
        const dlo = pde < 0 ? 0 : mem.read32(pde);
        const mapped = mappedPages(o.s, o.r);
        pts[o.s].map(va, 32 * MiB + o.f * 2 * MiB, { size: '2M', ...o.perms });
        if ((dlo & PTE_P) !== 0) {
          if ((dlo & PTE_PS) !== 0) invalidatePage(o.s, va + o.inval * 4096, o.inval);
          else invalidateTable(o.s, o.inval, va, mapped);
        }
        break;
      }
      case 'unmap4k': {
        const va = vaOf(o.r, o.p);
        const before = leafOf(o.s, va);
        if (before?.level === 1 && pts[o.s].unmap(va, 1)) invalidatePage(o.s, va, o.inval);
        break;
      }
      case 'unmap2m': {
        const va = vaOf(o.r, 0);
        const pde = pts[o.s].entryPa(va, 2);
        if (pde < 0) break;
        const dlo = mem.read32(pde);
        const mapped = mappedPages(o.s, o.r);
        pts[o.s].unmap(va, 2);
        if ((dlo & PTE_P) !== 0) {
          if ((dlo & PTE_PS) !== 0) invalidatePage(o.s, va, o.inval);
          else invalidateTable(o.s, o.inval, va, mapped);
        }
        break;
      }
      case 'protect': {
        const va = vaOf(o.r, o.p);
        const before = leafOf(o.s, va);
        if (!before) break;
        const [, ehi] = pts[o.s].read(va, before.level);
        const old = { writable: (before.lo & 2) !== 0, user: (before.lo & 4) !== 0, xd: ehi < 0 };
        // keep A and D: clearing D is itself a change that needs an invalidation
        pts[o.s].protect(va, before.level, { ...o.perms, accessed: (before.lo & PTE_A) !== 0, dirty: (before.lo & PTE_D) !== 0 });
        const upgradeOnly = (o.perms.writable || !old.writable) && (o.perms.user || !old.user) && (!o.perms.xd || old.xd);
        if (!upgradeOnly) invalidatePage(o.s, va, o.inval);
        break;
      }
      case 'switch': {
        if (cfg.spaces === 1) break;
        cur ^= 1;
        // with PCIDs the other space's entries stayed coherent (invalidated by PCID), so keep them
        cpu.writeCr3(pts[cur].root, pcidOf(cur), cfg.pcide);
        break;
      }
      case 'load32': {
        const va = vaOf(o.r, o.p) + o.off;
        let got = 0;
        check(va, ACCESS_READ, true, () => { got = cpu.load32(va); }, (pa) => expect(got).toBe(mem.read32(pa)));
        break;
      }
      case 'store32': {
        const va = vaOf(o.r, o.p) + o.off;
        check(va, ACCESS_WRITE, true, () => cpu.store32(va, o.v), (pa) => expect(mem.read32(pa)).toBe(o.v | 0));
        break;
      }
      case 'xor64': {
        const va = vaOf(o.r, o.p) + (o.off & ~7);
        let prev = 0n;
        check(va, ACCESS_WRITE, true, () => {
          // read the old value through the oracle's translation first
          const [lo, hi] = splitBig(BigInt(va));
          if (oracle.walk(pts[cur].root, cfg.levels, 3, lo, hi, ACCESS_WRITE, true, ctl)) prev = mem.read64Big(oracle.frameBase + (va % (oracle.leafLevel === 2 ? 2 * MiB : 4096)));
          cpu.xor64(va, o.v, ~o.v);
        }, (pa) => {
          const x = BigInt.asUintN(64, (BigInt(~o.v >>> 0) << 32n) | BigInt(o.v >>> 0));
          expect(mem.read64Big(pa)).toBe(prev ^ x);
        });
        break;
      }
      case 'probe': {
        const va = vaOf(o.r, o.p) + o.off;
        const [lo, hi] = splitBig(BigInt(va));
        const ok = oracle.walk(pts[cur].root, cfg.levels, 3, lo, hi, o.access, o.user, ctl);
        const got = cpu.probe(BigInt(va), o.access, o.user);
        if (ok) expect(got).toBe(oracle.frameBase + (va % (oracle.leafLevel === 2 ? 2 * MiB : 4096)));
        else {
          expect(got).toBe(-1);
          expect(cpu.lastFaultInfo!.errorCode).toBe(oracle.errorCode);
        }
        break;
      }
    }
    const bad = frontViolations(cpu);
    expect(bad, `after ${JSON.stringify(o)}`).toEqual([]);
  }
  // The TLB arrays' host-side per-set size counts (which lookups trust to skip scans) against a
  // plain count of their slots, after whatever the ops filled, promoted or dropped.
  for (const a of [...cpu.tlb.l1, cpu.tlb.stlb, cpu.tlb.stlb1g]) expect(a.checkIndex(), a.name).toEqual([]);
}

const stats = { ok: 0, faults: 0 };

const configs: Config[] = [];
for (const levels of [4, 5] as const) {
  configs.push({ levels, pcide: false, spaces: 1, nxe: true, wp: true });
  configs.push({ levels, pcide: false, spaces: 2, nxe: false, wp: true });
  configs.push({ levels, pcide: true, spaces: 2, nxe: true, wp: false });
}

describe('TLB coherence with the page tables (property)', () => {
  for (const cfg of configs) {
    it(`${cfg.levels}-level, PCIDE ${cfg.pcide ? 'on' : 'off'}, ${cfg.spaces} space(s), NXE ${cfg.nxe ? 'on' : 'off'}, WP ${cfg.wp ? 'on' : 'off'}`, () => {
      stats.ok = 0;
      stats.faults = 0;
      fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 150, size: 'max' }), (ops) => run(cfg, ops)), { numRuns: 200 });
      // the runs exercised both outcomes substantially
      expect(stats.ok).toBeGreaterThan(800);
      expect(stats.faults).toBeGreaterThan(300);
    });
  }

  it('catches a missing invalidation (the property is not vacuous)', () => {
    // Downgrading a cached page to read-only without INVLPG must be observable as a mismatch.
    const cfg: Config = { levels: 4, pcide: false, spaces: 1, nxe: true, wp: true };
    const mem = new PhysicalMemory({ bytes: 64 * MiB });
    const pt = new PtBuilder(mem, 4, { base: 1 * MiB, limit: 7 * MiB });
    const cpu = new Cpu(mem, { paging: cfg.levels });
    cpu.writeCr3(pt.root);
    pt.map(0x7f00_0000_0000, 16 * MiB, { writable: true, user: true });
    cpu.store32(0x7f00_0000_0000, 1);
    pt.protect(0x7f00_0000_0000, 1, { writable: false, user: true, accessed: true, dirty: true });
    const oracle = new PageWalker(mem);
    const [lo, hi] = splitBig(0x7f00_0000_0000n);
    expect(oracle.walk(pt.root, 4, 3, lo, hi, ACCESS_WRITE, true, { wp: true, nxe: true, pke: false, pkru: 0, maxPhysAddrBits: 46 })).toBe(false);
    expect(() => cpu.store32(0x7f00_0000_0000, 2)).not.toThrow(); // stale TLB entry: allowed by the architecture
    cpu.invlpgAddr(0x7f00_0000_0000);
    expect(() => cpu.store32(0x7f00_0000_0000, 3)).toThrow(MachineFault);
  });
});
