import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../mmu/physicalMemory.js';
import {
  PageWalker, ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC, type AccessKind, type WalkControl,
  PF_P, PF_WR, PF_US, PF_RSVD, PF_ID, PF_PK, describeFaultCode,
} from '../../mmu/pageWalker.js';
import { Cpu, VECTOR_GP, VECTOR_PF, MachineFault } from '../../mmu/cpu.js';
import { splitBig } from '../../mmu/address.js';
import { PTE_A, PTE_D } from '../../mmu/pte.js';
import { MiB } from '../../mmu/units.js';
import { PtBuilder, type PageSize, LEAF_LEVEL } from './ptBuilder.js';

const TABLES = { base: 1 * MiB, limit: 8 * MiB };
const FRAME_4K = 16 * MiB + 0x5000;
const FRAME_2M = 32 * MiB;
const FRAME_1G = 1024 * MiB;

function setup(levels: 4 | 5): { mem: PhysicalMemory; pt: PtBuilder; w: PageWalker } {
  const mem = new PhysicalMemory({ bytes: 2048 * MiB });
  return { mem, pt: new PtBuilder(mem, levels, TABLES), w: new PageWalker(mem) };
}

function ctl(over: Partial<WalkControl> = {}): WalkControl {
  return { wp: true, nxe: true, pke: false, pkru: 0, maxPhysAddrBits: 46, ...over };
}

/** A full walk from the root, as the CPU starts one with cold paging-structure caches. */
function walk(w: PageWalker, pt: PtBuilder, va: bigint, access: AccessKind, user: boolean, c: WalkControl = ctl()): boolean {
  const [lo, hi] = splitBig(va);
  return w.walk(pt.root, pt.levels, 3, lo, hi, access, user, c);
}

// An address with distinct indices at every level, so a wrong index lands on an empty entry.
const VA4 = 0x0000_5a5a_c3c3_e000n + 0x1f0n;
const VA5 = (0x0000_5a5a_c3c3_e000n | (0x0abn << 48n)) + 0x1f0n;

describe('PageWalker: translations', () => {
  for (const levels of [4, 5] as const) {
    for (const size of ['4K', '2M', '1G'] as PageSize[]) {
      it(`${levels}-level, ${size} page: frame, leaf level, reference count`, () => {
        const { pt, w } = setup(levels);
        const va = levels === 5 ? VA5 : VA4;
        const frame = size === '4K' ? FRAME_4K : size === '2M' ? FRAME_2M : FRAME_1G;
        pt.map(va, frame, { size, writable: true, user: true });
        expect(walk(w, pt, va, ACCESS_READ, true)).toBe(true);
        const leaf = LEAF_LEVEL[size];
        expect(w.leafLevel).toBe(leaf);
        expect(w.frameBase).toBe(frame);
        expect(w.frameHi * 2 ** 32 + (w.frameLo >>> 0)).toBe(frame); // the halves the fill takes
        // one memory reference per level from the root down to the leaf
        expect(w.refs).toBe(levels - leaf + 1);
        expect(w.nlCount).toBe(levels - leaf);
        expect(Array.from(w.nlLevel.subarray(0, w.nlCount))).toEqual(Array.from({ length: levels - leaf }, (_, k) => levels - k));
        // the CPU resolves the whole address, offset included
        const mask = BigInt(size === '4K' ? 4095 : size === '2M' ? 2 ** 21 - 1 : 2 ** 30 - 1);
        const cpu = new Cpu(pt.mem, { paging: levels });
        cpu.writeCr3(pt.root);
        expect(cpu.probe(va)).toBe(frame + Number(va & mask));
        expect(cpu.translateBig(va)).toBe(frame + Number(va & mask));
      });
    }
  }

  it('a 4-level walk never looks at bits 48..56 while a 5-level walk indexes PML5 with them', () => {
    const { pt, w } = setup(5);
    pt.map(0x1000n, FRAME_4K, { user: true });
    expect(walk(w, pt, 0x1000n, ACCESS_READ, true)).toBe(true);
    expect(walk(w, pt, 0x1000n | (1n << 48n), ACCESS_READ, true)).toBe(false);
    expect(w.errorCode).toBe(PF_US);
    expect(w.refs).toBe(1); // PML5 entry 1 is empty
  });
});

// ------------------------------------------------------------------ permissions

interface Rights { rw: boolean; us: boolean; xd: boolean }

/** The SDM §4.6 rules, written independently of the walker. 0 = allowed. */
function expectedCode(leaf: Rights, upper: Rights, access: AccessKind, user: boolean, wp: boolean, nxe: boolean): number {
  const base = (access === ACCESS_WRITE ? PF_WR : 0) | (user ? PF_US : 0) | (access === ACCESS_EXEC && nxe ? PF_ID : 0);
  if (!nxe && (leaf.xd || upper.xd)) return base | PF_P | PF_RSVD; // bit 63 is reserved without NXE
  const rw = leaf.rw && upper.rw;
  const us = leaf.us && upper.us;
  const xd = nxe && (leaf.xd || upper.xd);
  if (user && !us) return base | PF_P;
  if (access === ACCESS_WRITE && !rw && (user || wp)) return base | PF_P;
  if (access === ACCESS_EXEC && xd) return base | PF_P;
  return 0;
}

describe('PageWalker: every permission combination', () => {
  const bools = [false, true];
  for (const levels of [4, 5] as const) {
    it(`${levels}-level: leaf x upper-level rights x mode x access x CR0.WP x EFER.NXE`, () => {
      let checked = 0;
      for (const size of ['4K', '2M'] as PageSize[]) {
        for (const [lrw, lus, lxd, urw, uus, uxd] of cartesian6(bools)) {
          const leaf = { rw: lrw, us: lus, xd: lxd };
          const upper = { rw: urw, us: uus, xd: uxd };
          for (const access of [ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC] as AccessKind[]) {
            for (const user of bools) {
              for (const wp of bools) {
                for (const nxe of bools) {
                  const { pt, w } = setup(levels);
                  const va = levels === 5 ? VA5 : VA4;
                  // the restriction sits on the PDPTE, two levels above a 4K leaf
                  pt.map(va, size === '4K' ? FRAME_4K : FRAME_2M, {
                    size, writable: lrw, user: lus, xd: lxd,
                    upper: { 3: { present: true, writable: urw, user: uus, xd: uxd } },
                  });
                  const want = expectedCode(leaf, upper, access, user, wp, nxe);
                  const ok = walk(w, pt, va, access, user, ctl({ wp, nxe }));
                  const what = `${size} leaf=${JSON.stringify(leaf)} upper=${JSON.stringify(upper)} access=${access} user=${user} wp=${wp} nxe=${nxe}`;
                  expect(ok, what).toBe(want === 0);
                  if (!ok) expect(w.errorCode, what + ' -> ' + describeFaultCode(w.errorCode)).toBe(want);
                  else {
                    expect(w.writable, what).toBe(lrw && urw);
                    expect(w.user, what).toBe(lus && uus);
                    expect(w.xd, what).toBe(nxe && (lxd || uxd));
                  }
                  checked++;
                }
              }
            }
          }
        }
      }
      expect(checked).toBe(2 * 64 * 3 * 8);
    });
  }
});

function cartesian6(v: boolean[]): boolean[][] {
  const out: boolean[][] = [];
  for (let i = 0; i < 64; i++) out.push([0, 1, 2, 3, 4, 5].map((b) => v[(i >> b) & 1]));
  return out;
}

// ------------------------------------------------------------------ error codes

describe('PageWalker: #PF error codes', () => {
  it('not-present at each level: P=0 with W/R, U/S and I/D', () => {
    for (const levels of [4, 5] as const) {
      for (let missing = levels; missing >= 1; missing--) {
        const { pt, w } = setup(levels);
        const va = levels === 5 ? VA5 : VA4;
        pt.map(va, FRAME_4K, { writable: true, user: true });
        pt.unmap(va, missing);
        for (const [access, user, code] of [
          [ACCESS_READ, false, 0],
          [ACCESS_READ, true, PF_US],
          [ACCESS_WRITE, true, PF_WR | PF_US],
          [ACCESS_WRITE, false, PF_WR],
          [ACCESS_EXEC, true, PF_US | PF_ID],
        ] as [AccessKind, boolean, number][]) {
          expect(walk(w, pt, va, access, user)).toBe(false);
          expect(w.errorCode).toBe(code);
          expect(w.refs).toBe(levels - missing + 1);
        }
        // an instruction fetch reports I/D only when NXE is on (no SMEP modelled)
        expect(walk(w, pt, va, ACCESS_EXEC, true, ctl({ nxe: false }))).toBe(false);
        expect(w.errorCode).toBe(PF_US);
      }
    }
  });

  it('reserved bits: RSVD with P=1, at the level where they are found', () => {
    const rsvd = (levels: 4 | 5, edit: (pt: PtBuilder, va: bigint) => void, c = ctl(), size: PageSize = '4K'): number => {
      const { pt, w } = setup(levels);
      const va = levels === 5 ? VA5 : VA4;
      pt.map(va, size === '4K' ? FRAME_4K : size === '2M' ? FRAME_2M : FRAME_1G, { size, writable: true, user: true });
      edit(pt, va);
      expect(walk(w, pt, va, ACCESS_WRITE, true, c)).toBe(false);
      return w.errorCode;
    };
    const orHi = (pt: PtBuilder, va: bigint, level: number, bits: number): void => {
      const [lo, hi] = pt.read(va, level);
      pt.writeRaw(va, level, lo, hi | bits);
    };
    const orLo = (pt: PtBuilder, va: bigint, level: number, bits: number): void => {
      const [lo, hi] = pt.read(va, level);
      pt.writeRaw(va, level, lo | bits, hi);
    };
    const want = PF_P | PF_RSVD | PF_WR | PF_US;
    for (const levels of [4, 5] as const) {
      // PS in the PML4E (and PML5E)
      expect(rsvd(levels, (pt, va) => orLo(pt, va, 4, 0x80))).toBe(want);
      if (levels === 5) expect(rsvd(5, (pt, va) => orLo(pt, va, 5, 0x80))).toBe(want);
      // misaligned large-page frames: bits 13..20 of a 2M PDE, 13..29 of a 1G PDPTE
      expect(rsvd(levels, (pt, va) => orLo(pt, va, 2, 1 << 13), ctl(), '2M')).toBe(want);
      expect(rsvd(levels, (pt, va) => orLo(pt, va, 2, 1 << 20), ctl(), '2M')).toBe(want);
      expect(rsvd(levels, (pt, va) => orLo(pt, va, 3, 1 << 29), ctl(), '1G')).toBe(want);
      expect(rsvd(levels, (pt, va) => orLo(pt, va, 3, 1 << 13), ctl(), '1G')).toBe(want);
      // address bits 46..51 (above MAXPHYADDR = 46), at every level
      for (let level = 1; level <= levels; level++) {
        expect(rsvd(levels, (pt, va) => orHi(pt, va, level, 1 << (46 - 32)))).toBe(want);
        expect(rsvd(levels, (pt, va) => orHi(pt, va, level, 1 << (51 - 32)))).toBe(want);
        // bit 63 is reserved when NXE is off
        expect(rsvd(levels, (pt, va) => orHi(pt, va, level, 0x80000000 | 0), ctl({ nxe: false }))).toBe(want);
      }
    }
    // with MAXPHYADDR = 52 nothing in 46..51 is reserved
    const { pt, w } = setup(4);
    pt.map(VA4, FRAME_4K, { writable: true, user: true });
    const [lo, hi] = pt.read(VA4, 2);
    pt.writeRaw(VA4, 2, lo, hi); // unchanged pointer, sanity
    expect(walk(w, pt, VA4, ACCESS_READ, true, ctl({ maxPhysAddrBits: 52 }))).toBe(true);
    // bits 52..58 are ignored, not reserved; PK bits are ignored without PKE
    const [llo, lhi] = pt.read(VA4, 1);
    pt.writeRaw(VA4, 1, llo, lhi | (0x7f << 20) | (0xf << 27));
    expect(walk(w, pt, VA4, ACCESS_READ, true)).toBe(true);
    expect(w.frameBase).toBe(FRAME_4K);
    // PAT (bit 7) in a 4K PTE is not a page size
    pt.writeRaw(VA4, 1, llo | 0x80, lhi);
    expect(walk(w, pt, VA4, ACCESS_READ, true)).toBe(true);
    expect(w.leafLevel).toBe(1);
  });

  it('protection keys: PK with P=1 for data accesses to user pages when PKE is on', () => {
    const { pt, w } = setup(4);
    pt.map(VA4, FRAME_4K, { writable: true, user: true, protectionKey: 6 });
    const ad = 1 << 12;
    const wd = 1 << 13;
    expect(walk(w, pt, VA4, ACCESS_READ, true, ctl({ pke: true, pkru: ad }))).toBe(false);
    expect(w.errorCode).toBe(PF_P | PF_PK | PF_US);
    expect(walk(w, pt, VA4, ACCESS_READ, true, ctl({ pke: true, pkru: wd }))).toBe(true);
    expect(walk(w, pt, VA4, ACCESS_WRITE, true, ctl({ pke: true, pkru: wd }))).toBe(false);
    expect(w.errorCode).toBe(PF_P | PF_PK | PF_US | PF_WR);
    // another key's rights do not matter; nor does PKRU without PKE; nor for fetches
    expect(walk(w, pt, VA4, ACCESS_WRITE, true, ctl({ pke: true, pkru: ~(3 << 12) }))).toBe(true);
    expect(walk(w, pt, VA4, ACCESS_WRITE, true, ctl({ pke: false, pkru: ad | wd }))).toBe(true);
    expect(walk(w, pt, VA4, ACCESS_EXEC, true, ctl({ pke: true, pkru: ad | wd }))).toBe(true);
    // supervisor data accesses to user pages are checked too (SDM §4.6.2); WD binds them only with WP
    expect(walk(w, pt, VA4, ACCESS_READ, false, ctl({ pke: true, pkru: ad }))).toBe(false);
    expect(w.errorCode).toBe(PF_P | PF_PK);
    expect(walk(w, pt, VA4, ACCESS_WRITE, false, ctl({ pke: true, pkru: wd, wp: true }))).toBe(false);
    expect(w.errorCode).toBe(PF_P | PF_PK | PF_WR);
    expect(walk(w, pt, VA4, ACCESS_WRITE, false, ctl({ pke: true, pkru: wd, wp: false }))).toBe(true);
    // supervisor pages are not subject to PKRU
    const s = setup(4);
    s.pt.map(VA4, FRAME_4K, { writable: true, user: false, protectionKey: 6 });
    expect(walk(s.w, s.pt, VA4, ACCESS_WRITE, false, ctl({ pke: true, pkru: ad | wd }))).toBe(true);
  });
});

describe('PageWalker: accessed and dirty flags', () => {
  for (const levels of [4, 5] as const) {
    it(`${levels}-level: a read sets A everywhere, a write also sets D in the leaf only; a fault sets nothing`, () => {
      const { pt, w } = setup(levels);
      const va = levels === 5 ? VA5 : VA4;
      pt.map(va, FRAME_4K, { writable: true, user: true });
      const flags = (l: number): number => pt.read(va, l)[0] & (PTE_A | PTE_D);
      for (let l = 1; l <= levels; l++) expect(flags(l)).toBe(0);
      // a failing walk (user write to a supervisor leaf) leaves A/D untouched
      pt.protect(va, 1, { writable: true, user: false });
      expect(walk(w, pt, va, ACCESS_WRITE, true)).toBe(false);
      for (let l = 1; l <= levels; l++) expect(flags(l)).toBe(0);
      pt.protect(va, 1, { writable: true, user: true });
      expect(walk(w, pt, va, ACCESS_READ, true)).toBe(true);
      expect(w.dirty).toBe(false);
      for (let l = 1; l <= levels; l++) expect(flags(l)).toBe(PTE_A);
      expect(walk(w, pt, va, ACCESS_WRITE, true)).toBe(true);
      expect(w.dirty).toBe(true);
      expect(flags(1)).toBe(PTE_A | PTE_D);
      for (let l = 2; l <= levels; l++) expect(flags(l)).toBe(PTE_A);
      // the frame and other bits are preserved by the update
      expect(pt.readBig(va, 1) & 0x000f_ffff_ffff_f000n).toBe(BigInt(FRAME_4K));
    });
  }

  it('a 2M leaf gets D; its PDPTE does not', () => {
    const { pt, w } = setup(4);
    pt.map(VA4, FRAME_2M, { size: '2M', writable: true, user: true });
    expect(walk(w, pt, VA4, ACCESS_WRITE, true)).toBe(true);
    expect(pt.read(VA4, 2)[0] & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(pt.read(VA4, 3)[0] & (PTE_A | PTE_D)).toBe(PTE_A);
  });

  it('through the CPU: a read fill then a write sets D in memory (re-walk), also for supervisor writes with WP=0', () => {
    for (const user of [true, false]) {
      const { pt } = setup(4);
      pt.map(VA4, FRAME_4K, { writable: !user ? false : true, user });
      const cpu = new Cpu(pt.mem, { paging: 4 });
      cpu.writeCr3(pt.root);
      cpu.setWp(false);
      cpu.translateBig(VA4, ACCESS_READ, user);
      expect(pt.read(VA4, 1)[0] & PTE_D).toBe(0);
      const walks = cpu.walks;
      cpu.translateBig(VA4, ACCESS_WRITE, user);
      expect(pt.read(VA4, 1)[0] & PTE_D).toBe(PTE_D);
      expect(cpu.walks).toBe(walks + 1);
      // now D is cached: the next write needs no walk
      cpu.translateBig(VA4, ACCESS_WRITE, user);
      expect(cpu.walks).toBe(walks + 1);
    }
  });
});

describe('CPU: canonical addresses, #GP and reference counts', () => {
  it('non-canonical addresses raise #GP (vector 13), not #PF', () => {
    for (const [levels, va] of [
      [4, 0x0000_8000_0000_0000n], [4, 0xffff_7fff_ffff_f000n], [4, 0x0001_0000_0000_0000n],
      [5, 0x0100_0000_0000_0000n], [5, 0xfeff_ffff_ffff_f000n],
    ] as [4 | 5, bigint][]) {
      const { pt } = setup(levels);
      const cpu = new Cpu(pt.mem, { paging: levels });
      cpu.writeCr3(pt.root);
      expect(cpu.probe(va)).toBe(-1);
      expect(cpu.lastFaultInfo?.vector).toBe(VECTOR_GP);
      expect(cpu.lastFaultInfo?.errorCode).toBe(0);
      expect(cpu.walks).toBe(0);
      expect(() => cpu.translateBig(va)).toThrow(MachineFault);
    }
    // canonical high-half and LA57-only addresses walk (and fault with #PF when unmapped)
    for (const [levels, va] of [[4, 0xffff_8000_0000_0000n], [5, 0x0080_0000_0000_0000n], [5, 0xff00_0000_0000_0000n]] as [4 | 5, bigint][]) {
      const { pt } = setup(levels);
      const cpu = new Cpu(pt.mem, { paging: levels });
      cpu.writeCr3(pt.root);
      expect(cpu.probe(va, ACCESS_READ, false)).toBe(-1);
      expect(cpu.lastFaultInfo?.vector).toBe(VECTOR_PF);
      expect(cpu.lastFaultInfo?.va).toBe(va);
    }
  });

  it('the kernel half and 57-bit user addresses above 2^53 translate exactly', () => {
    const { pt } = setup(5);
    const hiUser = 0x00ff_ffff_ffff_f000n + 0x18n;
    const kernel = 0xff80_0000_0000_1000n + 0x20n;
    pt.map(hiUser, FRAME_4K, { writable: true, user: true });
    pt.map(kernel, FRAME_4K + 4096, { writable: true, user: false });
    const cpu = new Cpu(pt.mem, { paging: 5 });
    cpu.writeCr3(pt.root);
    cpu.store64Big(hiUser, 0x1122334455667788n);
    expect(pt.mem.read64Big(FRAME_4K + 0x18)).toBe(0x1122334455667788n);
    expect(cpu.load64Big(hiUser)).toBe(0x1122334455667788n);
    cpu.store64Big(kernel, 0xdeadbeefn, false);
    expect(cpu.load64Big(kernel, false)).toBe(0xdeadbeefn);
    // a repeated kernel-half access is a TLB hit, like any other
    const walks = cpu.walks;
    expect(cpu.load64Big(kernel, false)).toBe(0xdeadbeefn);
    expect(cpu.walks).toBe(walks);
    expect(() => cpu.load64Big(kernel, true)).toThrow(MachineFault);
    // the #PF dropped the entry for that address (SDM §4.10.4.1), so the next access walks
    expect(cpu.load64Big(kernel, false)).toBe(0xdeadbeefn);
    expect(cpu.walks).toBe(walks + 2);
  });

  it('counts memory references per walk: 4 vs 5 levels cold, fewer with warm paging-structure caches', () => {
    for (const levels of [4, 5] as const) {
      const { pt } = setup(levels);
      const base = levels === 5 ? VA5 - 0x1f0n : VA4 - 0x1f0n;
      const samePt = base + 0x1000n; // same PT (PDE cache hit)
      const samePd = base + 0x20_0000n; // same PD, other PT (PDPTE cache hit)
      const samePdpt = base + 0x4000_0000n; // same PDPT, other PD (PML4E cache hit)
      for (const va of [base, samePt, samePd, samePdpt]) pt.map(va, FRAME_4K, { writable: true, user: true });
      const cpu = new Cpu(pt.mem, { paging: levels });
      cpu.writeCr3(pt.root);
      const refs = (va: bigint): number => { const r = cpu.walkRefs; cpu.translateBig(va); return cpu.walkRefs - r; };
      expect(refs(base)).toBe(levels);
      expect(refs(base)).toBe(0); // TLB hit
      expect(refs(samePt)).toBe(1);
      expect(refs(samePd)).toBe(2);
      expect(refs(samePdpt)).toBe(3);
      // CR3 reload flushes the PSCs of the PCID: cold again
      cpu.writeCr3(pt.root);
      expect(refs(samePt)).toBe(levels);
      // without paging-structure caches every walk is a full one
      const nopsc = new Cpu(pt.mem, { paging: levels, tlb: { ...cpu.tlb.geometry, psc: null } });
      nopsc.writeCr3(pt.root);
      nopsc.translateBig(base);
      const r = nopsc.walkRefs;
      nopsc.translateBig(samePt);
      expect(nopsc.walkRefs - r).toBe(levels);
    }
  });
});
