// Checks the CPU's private front cache against the modelled L1 DTLB: every live front entry must
// be derived from a valid L1 entry that still covers that page, in that PCID (or globally), with
// the same frame and no more rights than the entry grants. Reaches into private fields on purpose.

import { type Cpu, FC_INVALID, PCID_KEY } from '../../mmu/cpu.js';
import { CHUNK_SIZE } from '../../mmu/physicalMemory.js';
import { tagLoFor, TF_D, TF_G, TF_U, TF_W, PAGE_BYTES } from '../../mmu/tlb.js';

interface FrontView {
  fcRTag: Int32Array; fcWTag: Int32Array; fcHi: Float64Array; fcSlot: Int32Array; fcWord: Int32Array;
  fcMem: Int32Array[]; hiKey: number;
  mcPageR: number; mcPageW: number; mcMem: Int32Array; mcWord: number;
  l1Head: Int32Array; frontSlots: Int32Array; frontSlotPos: Int32Array; frontSlotCount: number;
}

const INVALID = FC_INVALID;

/** Returns a list of violations (empty when the front cache is a subset of L1). */
export function frontViolations(cpu: Cpu): string[] {
  const f = cpu as unknown as FrontView;
  const out: string[] = [];
  // Which physical address a (view, word index) names: chunks share a view when they lie in one slab.
  const chunksOf = new Map<Int32Array, { pa: number; first: number }[]>();
  for (const c of cpu.mem.touched()) {
    const list = chunksOf.get(c.words) ?? [];
    list.push({ pa: c.pa, first: c.first });
    chunksOf.set(c.words, list);
  }
  const paOf = (view: Int32Array, word: number): number => {
    for (const c of chunksOf.get(view) ?? []) if (word >= c.first && word < c.first + CHUNK_SIZE / 4) return c.pa + (word - c.first) * 4;
    return -1;
  };
  for (let i = 0; i < f.fcRTag.length; i++) {
    const r = f.fcRTag[i];
    const w = f.fcWTag[i];
    if (r === INVALID && w === INVALID) continue;
    if (r !== INVALID && w !== INVALID && r !== w) { out.push(`front ${i}: read/write tags disagree`); continue; }
    const lo = (r !== INVALID ? r : w) >>> 0;
    const key = f.fcHi[i];
    const pcid = Math.floor(key / PCID_KEY);
    const hi = (key - pcid * PCID_KEY) / 4294967296;
    const slot = f.fcSlot[i];
    if (slot < 0) { out.push(`front ${i}: live but names no L1 slot`); continue; }
    const [arr, s] = cpu.tlb.l1Array(slot);
    if (!arr.isValid(s)) { out.push(`front ${i} (va ${hi}:${lo.toString(16)}): L1 slot ${slot} is no longer valid`); continue; }
    const size = arr.sizeOf(s);
    if (arr.tagLoOf(s) !== tagLoFor(lo, size) || arr.tagHiOf(s) !== (hi | 0)) out.push(`front ${i}: L1 slot ${slot} holds another page`);
    const global = (arr.flagsOf(s) & TF_G) !== 0;
    if (!global && arr.pcidOf(s) !== pcid) out.push(`front ${i}: PCID ${pcid} but L1 entry has PCID ${arr.pcidOf(s)}`);
    const pagePa = arr.frameOf(s) + (lo & (PAGE_BYTES[size] - 1) & -4096);
    const frontPa = paOf(f.fcMem[i], f.fcWord[i]);
    if (frontPa !== pagePa) out.push(`front ${i}: maps pa ${frontPa} but L1 says ${pagePa}`);
    const fl = arr.flagsOf(s);
    if (r !== INVALID && (fl & TF_U) === 0) out.push(`front ${i}: user-readable but L1 entry is supervisor`);
    if (w !== INVALID && (fl & (TF_U | TF_W | TF_D)) !== (TF_U | TF_W | TF_D)) out.push(`front ${i}: writable but L1 entry lacks U/W/D`);
  }
  // The list of L1 slots with front entries (what a flushing CR3 write kills) must be exactly them.
  const listed = new Set<number>();
  for (let i = 0; i < f.frontSlotCount; i++) {
    const slot = f.frontSlots[i];
    if (f.frontSlotPos[slot] !== i) out.push(`front-slot list: slot ${slot} at ${i} records position ${f.frontSlotPos[slot]}`);
    listed.add(slot);
  }
  for (let slot = 0; slot < f.l1Head.length; slot++) {
    if ((f.l1Head[slot] >= 0) !== listed.has(slot)) out.push(`front-slot list: slot ${slot} ${listed.has(slot) ? 'listed without' : 'has'} front entries${listed.has(slot) ? '' : ' but is not listed'}`);
    if (!listed.has(slot) && f.frontSlotPos[slot] !== -1) out.push(`front-slot list: slot ${slot} not listed but records position ${f.frontSlotPos[slot]}`);
  }
  // The one-entry micro cache must be a copy of a live front entry of the current PCID.
  for (const [page, tags, what] of [[f.mcPageR, f.fcRTag, 'read'], [f.mcPageW, f.fcWTag, 'write']] as const) {
    if (page === -1) continue;
    const lo = page % 4294967296;
    const i = (lo / 4096) & (f.fcRTag.length - 1);
    if (tags[i] !== (lo | 0) || f.fcHi[i] !== page - lo + f.hiKey || f.fcMem[i] !== f.mcMem || f.fcWord[i] !== f.mcWord) {
      out.push(`micro cache (${what}) names page ${page.toString(16)} that its front entry no longer holds`);
    }
  }
  return out;
}
