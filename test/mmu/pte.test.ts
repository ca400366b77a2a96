import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodePte, encodePte, pteFlagString, pteFromBigInt, pteToBigInt, pteFrame, type PteFields,
} from '../../mmu/pte.js';

// Expected values are computed independently with BigInt bit arithmetic from the SDM layout.
const bit = (n: number): bigint => 1n << BigInt(n);

interface Case { name: string; level: number; fields: Partial<PteFields> & { frame: number }; expected: bigint }

const cases: Case[] = [
  { name: 'P', level: 1, fields: { frame: 0, present: true }, expected: bit(0) },
  { name: 'RW', level: 1, fields: { frame: 0, writable: true }, expected: bit(1) },
  { name: 'US', level: 1, fields: { frame: 0, user: true }, expected: bit(2) },
  { name: 'PWT', level: 1, fields: { frame: 0, pwt: true }, expected: bit(3) },
  { name: 'PCD', level: 1, fields: { frame: 0, pcd: true }, expected: bit(4) },
  { name: 'A', level: 1, fields: { frame: 0, accessed: true }, expected: bit(5) },
  { name: 'D', level: 1, fields: { frame: 0, dirty: true }, expected: bit(6) },
  { name: 'PAT (4K) at bit 7', level: 1, fields: { frame: 0, pat: true }, expected: bit(7) },
  { name: 'G', level: 1, fields: { frame: 0, global: true }, expected: bit(8) },
  { name: 'avail 9..11', level: 1, fields: { frame: 0, avail: 5 }, expected: bit(9) | bit(11) },
  { name: 'XD at bit 63', level: 1, fields: { frame: 0, xd: true }, expected: bit(63) },
  { name: 'PK 59..62', level: 1, fields: { frame: 0, protectionKey: 0b1010 }, expected: bit(60) | bit(62) },
  { name: 'PK 15', level: 1, fields: { frame: 0, protectionKey: 15 }, expected: 0xfn << 59n },
  { name: 'frame bit 12', level: 1, fields: { frame: 4096 }, expected: bit(12) },
  { name: 'frame bit 51', level: 1, fields: { frame: 2 ** 51 }, expected: bit(51) },
  { name: 'frame bits 12..51', level: 1, fields: { frame: 2 ** 52 - 4096 }, expected: 0x000f_ffff_ffff_f000n },
  { name: 'PS in PD (2M)', level: 2, fields: { frame: 2 ** 21, pageSize: true }, expected: bit(7) | bit(21) },
  { name: 'PAT (2M) at bit 12', level: 2, fields: { frame: 0, pageSize: true, pat: true }, expected: bit(7) | bit(12) },
  { name: 'PS in PDPT (1G)', level: 3, fields: { frame: 2 ** 30 * 3, pageSize: true }, expected: bit(7) | bit(30) | bit(31) },
  { name: 'PAT (1G) at bit 12', level: 3, fields: { frame: 2 ** 30, pageSize: true, pat: true }, expected: bit(7) | bit(12) | bit(30) },
  { name: 'PD pointer (no PS, PAT ignored)', level: 2, fields: { frame: 0x1234000, present: true, pat: false }, expected: 0x1234000n | 1n },
  { name: 'PML4E', level: 4, fields: { frame: 0xabcde000, present: true, writable: true, user: true }, expected: 0xabcde007n },
  { name: 'PML5E', level: 5, fields: { frame: 2 ** 45, present: true, xd: true }, expected: bit(45) | 1n | bit(63) },
];

describe('PTE encoding', () => {
  for (const c of cases) {
    it(`encodes ${c.name} at level ${c.level}`, () => {
      const [lo, hi] = encodePte(c.fields, c.level);
      expect(pteToBigInt(lo, hi)).toBe(c.expected);
      // halves are int32, as stored in Int32Array physical memory
      expect(lo).toBe(lo | 0);
      expect(hi).toBe(hi | 0);
      const [blo, bhi] = pteFromBigInt(c.expected);
      expect([blo, bhi]).toEqual([lo, hi]);
    });
  }

  it('encodes a full leaf at each level bit-exactly', () => {
    const all = { present: true, writable: true, user: true, pwt: true, pcd: true, accessed: true, dirty: true, global: true, pat: true, avail: 7, protectionKey: 9, xd: true };
    const common = 0x1ffn | (7n << 9n) | (9n << 59n) | bit(63); // bits 0..8 (incl. 7), avail, PK, XD
    expect(pteToBigInt(...encodePte({ ...all, frame: 0x0000_0123_4567_8000 }, 1))).toBe(common | 0x0000_0123_4567_8000n);
    expect(pteToBigInt(...encodePte({ ...all, pageSize: true, frame: 0x0000_0123_4560_0000 }, 2))).toBe(common | bit(12) | 0x0000_0123_4560_0000n);
    expect(pteToBigInt(...encodePte({ ...all, pageSize: true, frame: 0x0000_0123_4000_0000 }, 3))).toBe(common | bit(12) | 0x0000_0123_4000_0000n);
  });

  it('decodes every field', () => {
    const v = 0x000f_ffff_ffff_f000n | 0x1ffn | (2n << 9n) | (0xcn << 59n) | bit(63);
    const f = decodePte(...pteFromBigInt(v), 1);
    expect(f).toEqual({
      present: true, writable: true, user: true, pwt: true, pcd: true, accessed: true, dirty: true,
      pageSize: false, global: true, pat: true, avail: 2, frame: 2 ** 52 - 4096, protectionKey: 0xc, xd: true,
    });
    // a 2M leaf: bit 12 is PAT, not address; bit 7 is PS
    const l2 = decodePte(...pteFromBigInt(bit(7) | bit(12) | bit(21) | 1n), 2);
    expect(l2.pageSize).toBe(true);
    expect(l2.pat).toBe(true);
    expect(l2.frame).toBe(2 ** 21);
    const l3 = decodePte(...pteFromBigInt(bit(7) | bit(12) | bit(30) | 1n), 3);
    expect(l3.pat).toBe(true);
    expect(l3.frame).toBe(2 ** 30);
    // a PD pointer: bit 12 is an address bit and there is no PAT
    const ptr = decodePte(...pteFromBigInt(bit(12) | 1n), 2);
    expect(ptr.pageSize).toBe(false);
    expect(ptr.pat).toBe(false);
    expect(ptr.frame).toBe(4096);
    // bit 7 of a 4K PTE is PAT, never a page size
    const pte = decodePte(...pteFromBigInt(bit(7) | 1n), 1);
    expect(pte.pageSize).toBe(false);
    expect(pte.pat).toBe(true);
    expect(pteFrame(...pteFromBigInt(0x000a_bcde_f012_3fffn))).toBe(0x000a_bcde_f012_3000);
  });

  it('round-trips random fields at every level', () => {
    const fields = fc.record({
      present: fc.boolean(), writable: fc.boolean(), user: fc.boolean(), pwt: fc.boolean(), pcd: fc.boolean(),
      accessed: fc.boolean(), dirty: fc.boolean(), global: fc.boolean(), pat: fc.boolean(),
      avail: fc.integer({ min: 0, max: 7 }), protectionKey: fc.integer({ min: 0, max: 15 }), xd: fc.boolean(),
    });
    fc.assert(fc.property(fields, fc.integer({ min: 1, max: 5 }), fc.boolean(), fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), (f, level, large, pfn) => {
      const pageSize = large && (level === 2 || level === 3);
      const align = pageSize ? (level === 2 ? 2n ** 21n : 2n ** 30n) : 4096n;
      const frameBig = ((pfn * 4096n) / align) * align;
      const frame = Number(frameBig);
      const pat = level === 1 || pageSize ? f.pat : false; // no PAT in a pointer entry
      const [lo, hi] = encodePte({ ...f, pat, pageSize, frame }, level);
      const expected = frameBig
        | (f.present ? bit(0) : 0n) | (f.writable ? bit(1) : 0n) | (f.user ? bit(2) : 0n) | (f.pwt ? bit(3) : 0n)
        | (f.pcd ? bit(4) : 0n) | (f.accessed ? bit(5) : 0n) | (f.dirty ? bit(6) : 0n)
        | (pageSize ? bit(7) : 0n) | (f.global ? bit(8) : 0n) | (BigInt(f.avail) << 9n)
        | (pat ? (level === 1 ? bit(7) : bit(12)) : 0n) | (BigInt(f.protectionKey) << 59n) | (f.xd ? bit(63) : 0n);
      expect(pteToBigInt(lo, hi)).toBe(expected);
      expect(decodePte(lo, hi, level)).toEqual({ ...f, pat, pageSize, frame });
    }), { numRuns: 500 });
  });

  it('rejects misaligned and out-of-range frames and PS above the PDPT', () => {
    expect(() => encodePte({ frame: 4095 }, 1)).toThrow(RangeError);
    expect(() => encodePte({ frame: 2 ** 21 + 4096, pageSize: true }, 2)).toThrow(/aligned/);
    expect(() => encodePte({ frame: 2 ** 30 + 2 ** 21, pageSize: true }, 3)).toThrow(/aligned/);
    expect(() => encodePte({ frame: 2 ** 52 }, 1)).toThrow(RangeError);
    expect(() => encodePte({ frame: -4096 }, 1)).toThrow(RangeError);
    expect(() => encodePte({ frame: 4096.5 }, 1)).toThrow(RangeError);
    expect(() => encodePte({ frame: 0, pageSize: true }, 4)).toThrow(/PS/);
    expect(() => encodePte({ frame: 0, pageSize: true }, 5)).toThrow(/PS/);
    // a 4K-aligned frame is fine for a pointer entry at level 2/3
    expect(() => encodePte({ frame: 2 ** 21 + 4096 }, 2)).not.toThrow();
  });

  it('formats a flag string', () => {
    expect(pteFlagString(...encodePte({ frame: 0, present: true, writable: true, user: true, accessed: true, dirty: true, global: true, xd: true }, 1), 1)).toBe('PWUAD-GX');
    expect(pteFlagString(...encodePte({ frame: 0, pageSize: true }, 2), 2)).toBe('-RS--L--');
  });
});
