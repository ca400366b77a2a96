// The runtime seen as Nibble's memory port. The runtime re-reads the thread's CPU whenever the
// thread resumes, so every access goes through `rt.cpu` as it is at that moment.

import type { Runtime } from '../runtime.js';
import type { MemPort } from './mem.js';
import type { ProgramCosts } from '../../syscalls/abi.js';

export class RtPort implements MemPort {
  constructor(readonly rt: Runtime) {}
  load32(va: number): number { return this.rt.cpu.load32(va); }
  store32(va: number, v: number): void { this.rt.cpu.store32(va, v); }
  load64(va: number): number { return this.rt.cpu.load64(va); }
  store64(va: number, lo: number, hi: number): void { this.rt.cpu.store64(va, lo, hi); }
  get hi(): number { return this.rt.cpu.hi; }
  copy64(dst: number, src: number, words: number): void { this.rt.cpu.copy64(dst, src, words); }
  copy32(dst: number, src: number, words: number): void { this.rt.cpu.copy32(dst, src, words); }
  rdtsc(): number { return this.rt.cpu.rdtsc(); }
  charge(component: string, cycles: number): void { this.rt.cpu.charge(component, cycles); }
  get costs(): ProgramCosts { return this.rt.costs; }
  get id(): number { return this.rt.cpu.id; }
  get node(): number { return this.rt.cpu.node; }
}
