// Property test of the VM: random sequences of mmap/munmap/mprotect/fork/exit/touch across several
// processes, run against a reference model of what each process must see at one probe word per
// page. After every step the kernel invariant checker must pass; at the end, once every process
// has exited and the files are unlinked, every frame must be free again.

import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Kernel, ProcessKilled } from '../../kernel/kernel.js';
import { checkKernelInvariants } from '../../kernel/invariants.js';
import { MAP_PRIVATE, MAP_SHARED, MAP_FIXED, MAP_EXCL, MAP_POPULATE } from '../../kernel/vm/vmspace.js';
import { PROT_READ, PROT_WRITE } from '../../kernel/vm/vmMap.js';
import { SysError, ERRNO } from '../../kernel/errno.js';
import { HEAP_BASE, MMAP_BASE } from '../../kernel/layout.js';
import type { Process } from '../../kernel/proc/process.js';
import type { TmpFile } from '../../kernel/fs/tmpfs.js';
import { MiB } from '../../mmu/units.js';

const K4 = 4096;
const M2 = 2 * MiB;
/** Fixed and hinted 4 KiB mappings land here; 2 MiB ones in their own arena, far away. */
const ARENA4 = 0x20_0000_0000;
const ARENA2 = 0x30_0000_0000;
const SLOTS4 = 64;
const SLOTS2 = 8;
const PROBE = 0x7f0;
const HEAP_PAGES = 4;
const RW = PROT_READ | PROT_WRITE;
const cred = { uid: 1000, gid: 1000 };

// ------------------------------------------------------------------ the reference model

interface Cell { v: number }
interface PageRef {
  size: number;
  prot: number;
  shared: boolean;
  cell: Cell;
  /** A private view of a file page not written yet: it still shows the file's data. */
  cow: boolean;
}
interface PModel { p: Process; pages: Map<number, PageRef> }

/** The model page containing `va` (4 KiB or 2 MiB), if any. */
function pageAt(m: PModel, va: number): [number, PageRef] | null {
  const a4 = va - (va % K4);
  const r4 = m.pages.get(a4);
  if (r4 && r4.size === K4) return [a4, r4];
  const a2 = va - (va % M2);
  const r2 = m.pages.get(a2);
  if (r2 && r2.size === M2) return [a2, r2];
  return null;
}

/** Model pages overlapping [a, b), and whether any is cut by the range's ends. */
function overlapping(m: PModel, a: number, b: number): { vas: number[]; split: boolean } {
  const vas: number[] = [];
  let split = false;
  for (const [va, r] of m.pages) {
    if (va < b && va + r.size > a) {
      vas.push(va);
      if (va < a || va + r.size > b) split = true;
    }
  }
  return { vas, split };
}

// ------------------------------------------------------------------ operations

type Kind = 'anonP' | 'anonS' | 'fileS' | 'fileP';
type Place = 'any' | 'hint' | 'fixed' | 'excl';
type Bad = 'none' | 'len0' | 'bothFlags' | 'exclNoFixed' | 'misaligned';

type Op =
  | { t: 'mmap'; proc: number; kind: Kind; file: number; place: Place; slot: number; pages: number; prot: number; populate: boolean; trim: number; fileOff: number; bad: Bad }
  | { t: 'munmap'; proc: number; region: boolean; slot: number; pages: number; big: boolean; misalign: boolean }
  | { t: 'mprotect'; proc: number; region: boolean; slot: number; pages: number; big: boolean; prot: number }
  | { t: 'fork'; proc: number }
  | { t: 'exit'; proc: number }
  | { t: 'touch'; proc: number; thread: number; target: 'mapped' | 'arena' | 'heap'; pick: number; write: boolean; value: number }
  | { t: 'thread'; proc: number }
  | { t: 'tag'; proc: number }
  | { t: 'spawn' };

const proc = fc.nat(7);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('mmap' as const), proc, kind: fc.constantFrom<Kind>('anonP', 'anonS', 'fileS', 'fileP'), file: fc.nat(2), place: fc.constantFrom<Place>('any', 'hint', 'fixed', 'excl'), slot: fc.nat(SLOTS4 - 1), pages: fc.integer({ min: 1, max: 6 }), prot: fc.constantFrom(PROT_READ, RW, RW), populate: fc.boolean(), trim: fc.nat(4095), fileOff: fc.nat(7), bad: fc.constantFrom<Bad>('none', 'none', 'none', 'none', 'none', 'none', 'len0', 'bothFlags', 'exclNoFixed', 'misaligned') }), weight: 5 },
  { arbitrary: fc.record({ t: fc.constant('munmap' as const), proc, region: fc.boolean(), slot: fc.nat(SLOTS4 - 1), pages: fc.integer({ min: 1, max: 8 }), big: fc.boolean(), misalign: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('mprotect' as const), proc, region: fc.boolean(), slot: fc.nat(SLOTS4 - 1), pages: fc.integer({ min: 1, max: 4 }), big: fc.boolean(), prot: fc.constantFrom(0, PROT_READ, RW) }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('fork' as const), proc }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('exit' as const), proc }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('touch' as const), proc, thread: fc.nat(3), target: fc.constantFrom('mapped' as const, 'mapped' as const, 'mapped' as const, 'arena' as const, 'heap' as const), pick: fc.nat(1000), write: fc.boolean(), value: fc.integer() }), weight: 10 },
  { arbitrary: fc.record({ t: fc.constant('thread' as const), proc }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('tag' as const), proc }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('spawn' as const) }), weight: 1 },
);

const machineArb = fc.record({ cpus: fc.integer({ min: 2, max: 4 }), tagged: fc.boolean(), seed: fc.nat(1000) });

// ------------------------------------------------------------------ the runner

class World {
  readonly k: Kernel;
  readonly procs: PModel[] = [];
  readonly files: TmpFile[];
  readonly fileCells: Cell[][];
  readonly log: string[] = [];

  constructor(m: { cpus: number; tagged: boolean; seed: number }) {
    this.k = new Kernel({ memBytes: 256 * MiB, cpus: m.cpus, seed: m.seed, tagPolicy: m.tagged ? 'tagged' : 'flush' });
    this.files = [
      this.k.tmpfs.create('/f0', 8 * K4, cred),
      this.k.tmpfs.create('/f1', 8 * K4, cred),
      this.k.tmpfs.create('/huge', 4 * M2, cred, 0o644, 21),
    ];
    this.k.tmpfs.preload(this.files[0]);
    this.k.tmpfs.preload(this.files[2]);
    this.fileCells = this.files.map((f) => Array.from({ length: f.object.pageCount }, () => ({ v: 0 })));
    this.spawn();
    this.spawn();
  }

  live(): PModel[] { return this.procs.filter((m) => m.p.live); }

  pick(i: number): PModel | null {
    const l = this.live();
    return l.length ? l[i % l.length] : null;
  }

  spawn(): void {
    const p = this.k.spawn(`p${this.procs.length}`, cred);
    const pages = new Map<number, PageRef>();
    for (let i = 0; i < HEAP_PAGES; i++) pages.set(HEAP_BASE + i * K4, { size: K4, prot: RW, shared: false, cell: { v: 0 }, cow: false });
    this.procs.push({ p, pages });
    this.log.push(`spawn -> ${p.pid}`);
  }

  entriesOf(m: PModel): string {
    return JSON.stringify(m.p.primary.map.entries.map((e) => [e.start, e.end, e.prot, e.object?.id]));
  }

  /** Run a syscall-like kernel call; a SysError must be exactly the errno the model expects and change nothing. */
  call<T>(m: PModel, expectErr: number[], what: string, fn: () => T): T | null {
    this.k.enter(m.p.threads[0]);
    const before = this.entriesOf(m);
    let r: T;
    try {
      r = fn();
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      expect(expectErr, `${what}: ${e.message}, model expected ${expectErr.length ? expectErr.join('|') : 'success'}`).toContain(e.errno);
      expect(this.entriesOf(m), `${what} failed but changed the map`).toBe(before);
      return null;
    }
    if (expectErr.length) throw new Error(`${what}: succeeded, model expected errno ${expectErr.join('|')}`);
    return r;
  }

  mmap(op: Extract<Op, { t: 'mmap' }>): void {
    const m = this.pick(op.proc);
    if (!m) return;
    const fileIdx = op.kind === 'fileS' || op.kind === 'fileP' ? op.file : -1;
    const f = fileIdx >= 0 ? this.files[fileIdx] : null;
    const ps = f ? f.object.pageSize : K4;
    const big = ps === M2;
    const pages = big ? 1 + (op.pages % 2) : op.pages;
    let len = pages * ps - (op.trim % ps === 0 ? 0 : op.trim);
    const filePages = f ? f.object.pageCount : 0;
    const offset = f ? (op.fileOff % filePages) * ps : 0;
    let flags = op.kind === 'anonS' || op.kind === 'fileS' ? MAP_SHARED : MAP_PRIVATE;
    if (op.populate) flags |= MAP_POPULATE;
    const slot = big ? op.slot % SLOTS2 : op.slot;
    let addr: number | null = op.place === 'any' ? null : (big ? ARENA2 : ARENA4) + slot * ps;
    if (op.place === 'fixed') flags |= MAP_FIXED;
    if (op.place === 'excl') flags |= MAP_FIXED | MAP_EXCL;
    const errs: number[] = [];
    switch (op.bad) {
      case 'len0': len = 0; errs.push(ERRNO.EINVAL); break;
      case 'bothFlags': flags |= MAP_SHARED | MAP_PRIVATE; errs.push(ERRNO.EINVAL); break;
      case 'exclNoFixed': flags = (flags & ~MAP_FIXED) | MAP_EXCL; errs.push(ERRNO.EINVAL); break;
      case 'misaligned': if (op.place === 'fixed' || op.place === 'excl') { addr! += 512; errs.push(ERRNO.EINVAL); } break;
    }
    const rounded = Math.ceil(len / ps) * ps;
    if (errs.length === 0 && f && offset + rounded > f.object.size) errs.push(ERRNO.EINVAL);
    const fixed = (flags & MAP_FIXED) !== 0;
    if (errs.length === 0 && fixed) {
      const ov = overlapping(m, addr!, addr! + rounded);
      if ((flags & MAP_EXCL) !== 0 && ov.vas.length) errs.push(ERRNO.ENOMEM);
      else if (ov.split) errs.push(ERRNO.EINVAL);
    }
    const what = `mmap(pid ${m.p.pid}, ${addr === null ? 'null' : '0x' + addr.toString(16)}, ${len}, prot ${op.prot}, flags 0x${flags.toString(16)}, ${f ? f.path + '@' + offset : 'anon'})`;
    this.log.push(what);
    const got = this.call(m, errs, what, () => m.p.primary.mmap({ addr, len, prot: op.prot, flags, object: f ? f.object : null, offset }));
    if (got === null) return;
    expect(got % ps, `${what}: address alignment`).toBe(0);
    if (fixed) {
      expect(got).toBe(addr);
      for (const va of overlapping(m, got, got + rounded).vas) m.pages.delete(va);
    } else {
      expect(overlapping(m, got, got + rounded).vas, `${what} returned 0x${got.toString(16)}, over a live mapping`).toEqual([]);
      const hint = addr ?? MMAP_BASE;
      expect(got).toBeGreaterThanOrEqual(hint);
      if (overlapping(m, hint, hint + rounded).vas.length === 0) expect(got, `${what}: a free hint is taken`).toBe(hint);
    }
    for (let i = 0; i < rounded / ps; i++) {
      const va = got + i * ps;
      if (!f) {
        m.pages.set(va, { size: ps, prot: op.prot, shared: op.kind === 'anonS', cell: { v: 0 }, cow: false });
      } else {
        const cell = this.fileCells[fileIdx][offset / ps + i];
        m.pages.set(va, { size: ps, prot: op.prot, shared: op.kind === 'fileS', cell, cow: op.kind === 'fileP' });
      }
    }
  }

  /** A range for munmap/mprotect: around an existing page of the process, or in an arena. */
  range(m: PModel, region: boolean, slot: number, pages: number, big: boolean): [number, number] {
    const mine = [...m.pages.keys()].filter((va) => va >= MMAP_BASE).sort((a, b) => a - b);
    if (region && mine.length) {
      const va = mine[slot % mine.length];
      const ps = m.pages.get(va)!.size;
      return [va, va + Math.min(pages, ps === M2 ? 2 : pages) * ps];
    }
    if (big) return [ARENA2 + (slot % SLOTS2) * M2, ARENA2 + (slot % SLOTS2) * M2 + (1 + (pages % 2)) * M2];
    return [ARENA4 + slot * K4, ARENA4 + (slot + pages) * K4];
  }

  munmap(op: Extract<Op, { t: 'munmap' }>): void {
    const m = this.pick(op.proc);
    if (!m) return;
    const [a0, b] = this.range(m, op.region, op.slot, op.pages, op.big);
    const a = op.misalign ? a0 + 8 : a0;
    const ov = overlapping(m, a - (a % K4), b);
    const errs = op.misalign || ov.split ? [ERRNO.EINVAL] : [];
    const what = `munmap(pid ${m.p.pid}, 0x${a.toString(16)}, ${b - a})`;
    this.log.push(what);
    if (this.call(m, errs, what, () => { m.p.primary.munmap(a, b - a); return true; }) === null) return;
    for (const va of ov.vas) m.pages.delete(va);
  }

  mprotect(op: Extract<Op, { t: 'mprotect' }>): void {
    const m = this.pick(op.proc);
    if (!m) return;
    const [a, b] = this.range(m, op.region, op.slot, op.pages, op.big);
    const ov = overlapping(m, a, b);
    let covered = 0;
    for (const va of ov.vas) covered += Math.min(b, va + m.pages.get(va)!.size) - Math.max(a, va);
    const errs: number[] = [];
    if (covered < b - a) errs.push(ERRNO.ENOMEM);
    if (ov.split) errs.push(ERRNO.EINVAL);
    const what = `mprotect(pid ${m.p.pid}, 0x${a.toString(16)}, ${b - a}, ${op.prot})`;
    this.log.push(what);
    if (this.call(m, errs, what, () => { m.p.primary.mprotect(a, b - a, op.prot); return true; }) === null) return;
    for (const va of ov.vas) m.pages.get(va)!.prot = op.prot;
  }

  fork(op: Extract<Op, { t: 'fork' }>): void {
    const m = this.pick(op.proc);
    if (!m || this.live().length >= 5) return;
    this.k.enter(m.p.threads[0]);
    const c = this.k.fork(m.p.threads[0]);
    const pages = new Map<number, PageRef>();
    for (const [va, r] of m.pages) {
      pages.set(va, r.shared || r.cow ? { ...r } : { ...r, cell: { v: r.cell.v } });
    }
    this.procs.push({ p: c, pages });
    this.log.push(`fork(${m.p.pid}) -> ${c.pid}`);
  }

  exit(op: Extract<Op, { t: 'exit' }>): void {
    const m = this.pick(op.proc);
    if (!m) return;
    this.log.push(`exit(${m.p.pid})`);
    this.k.exit(m.p, 0);
  }

  touch(op: Extract<Op, { t: 'touch' }>): void {
    const m = this.pick(op.proc);
    if (!m) return;
    let va: number;
    if (op.target === 'heap') va = HEAP_BASE + (op.pick % HEAP_PAGES) * K4;
    else if (op.target === 'arena') va = op.pick % 2 ? ARENA4 + (op.pick % SLOTS4) * K4 : ARENA2 + (op.pick % SLOTS2) * M2;
    else {
      const keys = [...m.pages.keys()].sort((a, b) => a - b);
      va = keys[op.pick % keys.length];
    }
    va += PROBE;
    const hit = pageAt(m, va);
    const need = op.write ? PROT_WRITE : PROT_READ;
    const mustFault = !hit || (hit[1].prot & need) === 0;
    const threads = m.p.threads.filter((t) => t.state !== 'exited');
    const t = threads[op.thread % threads.length];
    const what = `${op.write ? 'store' : 'load'}(pid ${m.p.pid} tid ${t.tid}, 0x${va.toString(16)})`;
    this.log.push(what);
    const cpu = this.k.enter(t);
    const others = this.live().filter((x) => x !== m);
    try {
      if (op.write) cpu.store32(va, op.value);
      else {
        const got = cpu.load32(va);
        if (!mustFault) expect(got, `${what} in ${m.p.pid}`).toBe(hit![1].cell.v | 0);
      }
    } catch (e) {
      if (!(e instanceof ProcessKilled)) throw e;
      expect(mustFault, `${what} killed the process unexpectedly: ${e.report}`).toBe(true);
      expect(e.process).toBe(m.p);
      expect(m.p.live).toBe(false);
      for (const o of others) expect(o.p.live, 'a kill reaches only the faulting process').toBe(true);
      return;
    }
    expect(mustFault, `${what} should have faulted`).toBe(false);
    if (op.write) {
      const r = hit![1];
      if (r.cow) { r.cell = { v: op.value }; r.cow = false; } else r.cell.v = op.value;
    }
  }

  thread(op: Extract<Op, { t: 'thread' }>): void {
    const m = this.pick(op.proc);
    if (!m || m.p.threads.length >= 3) return;
    this.k.newThread(m.p, `t${m.p.threads.length}`, null);
    this.log.push(`thread(${m.p.pid})`);
  }

  tag(op: Extract<Op, { t: 'tag' }>): void {
    const m = this.pick(op.proc);
    if (!m) return;
    const to = m.p.primary.pmap.pcid === 0 ? 'tagged' : 'flush';
    this.k.setTagPolicy(m.p.primary, to);
    this.log.push(`tag(${m.p.pid}, ${to})`);
  }

  step(op: Op): void {
    switch (op.t) {
      case 'mmap': this.mmap(op); break;
      case 'munmap': this.munmap(op); break;
      case 'mprotect': this.mprotect(op); break;
      case 'fork': this.fork(op); break;
      case 'exit': this.exit(op); break;
      case 'touch': this.touch(op); break;
      case 'thread': this.thread(op); break;
      case 'tag': this.tag(op); break;
      case 'spawn': if (this.live().length < 5) this.spawn(); break;
    }
  }

  check(after: string): void {
    const problems = checkKernelInvariants(this.k);
    if (problems.length) throw new Error(`invariants broken after ${after}:\n  ${problems.join('\n  ')}\nlog:\n  ${this.log.join('\n  ')}`);
  }
}

describe('vm property: random mmap/munmap/mprotect/fork/exit/touch against a model', () => {
  it('agrees with the model, keeps every invariant, and frees every frame at the end', () => {
    fc.assert(
      fc.property(machineArb, fc.array(opArb, { minLength: 5, maxLength: 30 }), (machine, ops) => {
        const w = new World(machine);
        w.check('setup');
        for (const op of ops) {
          try {
            w.step(op);
          } catch (e) {
            if (e instanceof Error) e.message += `\nlog:\n  ${w.log.join('\n  ')}`;
            throw e;
          }
          w.check(w.log[w.log.length - 1] ?? op.t);
        }
        for (const m of w.live()) w.k.exit(m.p, 0);
        for (const f of w.files) w.k.tmpfs.unlink(f.path);
        w.check('teardown');
        expect(w.k.frames.usedBytes(), 'frames still allocated after every process exited').toBe(w.k.kernelHalf.bytes);
        expect(w.k.tables.size).toBe(w.k.kernelHalf.pmap.tablePages); // only the kernel half's
      }),
      // VM_PROPERTY_RUNS widens the search when hunting bugs; the default keeps the suite fast.
      { numRuns: Number(process.env.VM_PROPERTY_RUNS ?? 80) },
    );
  });
});
