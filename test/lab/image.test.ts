// Machine images (lab/image): a machine built with random named spaces, segments (4 KiB and
// 2 MiB pages), modes, lockable flags, page-table and tag policies, contents and a tmpfs file is
// saved and loaded into a new Kernel; what the test itself made (a plain model, built alongside
// the system calls) is then read back through the loaded machine's system calls and loads, and
// the invariant checker is clean. Corrupt images (truncated, bit-flipped, foreign, newer) are
// refused with one line naming the file, the file untouched; a fuzz over mutated images never
// crashes the loader and never loads a machine different from the saved one. The lock.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { Kernel } from '../../kernel/kernel.js';
import type { Thread } from '../../kernel/proc/process.js';
import { syscall } from '../../syscalls/dispatch.js';
import { MAP_SHARED, MAP_PRIVATE, MAP_ANON, PROT_READ, PROT_WRITE, O_RDWR, O_CREAT } from '../../syscalls/index.js';
import { RESERVED_START, SEG_2M, SEG_CTL_LOCKABLE, SEG_CTL_DELETE, VAS_CTL_TAGS, VAS_CTL_PTPOLICY, VAS_PRIMARY } from '../../syscalls/abi.js';
import { namedSpaces, segments } from '../../kernel/snapshot.js';
import { checkKernelInvariants } from '../../kernel/invariants.js';
import { GiB, MiB } from '../../mmu/units.js';
import { saveImage, loadImage, readImageInfo, ImageError } from '../../lab/image/image.js';
import { lockImage, lockPath } from '../../lab/image/lock.js';

function call(k: Kernel, t: Thread, name: string, ...args: (number | bigint | string)[]): number {
  const r = syscall(k, t, name, args);
  if (typeof r !== 'number' && typeof r !== 'bigint') throw new Error(`${name} would block`);
  if (Number(r) < 0) throw new Error(`${name}(${args.join(', ')}) failed: ${r}`);
  return Number(r);
}

/** What the test made, in plain data: the oracle. */
interface Model {
  segs: { name: string; base: number; size: number; pageSize: number; mode: number; uid: number; lockable: boolean; writes: Map<number, number> }[];
  spaces: { name: string; mode: number; uid: number; tags: string; ptPolicy: string; segs: Map<string, number> }[];
  file: { path: string; size: number; writes: Map<number, number> };
}

const USERS = [{ uid: 0, gid: 0 }, { uid: 1000, gid: 100 }, { uid: 1001, gid: 100 }];

/** A machine built from `seed` through system calls and stores, and the model of what it holds. */
function build(seed: number): { k: Kernel; model: Model } {
  let s = seed >>> 0 || 1;
  const rnd = (n: number) => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return (s >>> 8) % n; };
  const k = new Kernel({ memBytes: 1 * GiB, cpus: 2 });
  const procs = USERS.map((u) => k.spawn(`u${u.uid}`, u).threads[0]);
  const root = procs[0];
  const model: Model = { segs: [], spaces: [], file: { path: '/data/f', size: 3 * 4096, writes: new Map() } };
  const nseg = 1 + rnd(5);
  for (let i = 0; i < nseg; i++) {
    const big = rnd(3) === 0;
    const pageSize = big ? 2 * MiB : 4096;
    const size = (1 + rnd(big ? 2 : 16)) * pageSize;
    const u = rnd(USERS.length);
    const mode = rnd(0o1000);
    const name = `seg-${i}-${rnd(1000)}`;
    const base = RESERVED_START + i * GiB;
    const sid = call(k, procs[u], 'seg_alloc', name, base, size, mode, big ? SEG_2M : 0);
    const lockable = rnd(2) === 0;
    if (lockable) call(k, root, 'seg_ctl', sid, SEG_CTL_LOCKABLE, 1);
    // Contents: root maps it into its primary and stores words at random offsets.
    call(k, root, 'seg_attach', VAS_PRIMARY, sid, PROT_READ | PROT_WRITE);
    const cpu = k.enter(root);
    const writes = new Map<number, number>();
    for (let w = rnd(40); w > 0; w--) {
      const off = rnd(size / 4) * 4;
      const v = (rnd(0xffffff) + 1) | 0;
      cpu.store32(base + off, v);
      writes.set(off, v);
    }
    call(k, root, 'seg_detach', VAS_PRIMARY, sid);
    model.segs.push({ name, base, size, pageSize, mode, uid: USERS[u].uid, lockable, writes });
  }
  const nsp = rnd(4);
  for (let i = 0; i < nsp; i++) {
    const u = rnd(USERS.length);
    const name = `space-${i}`;
    const mode = rnd(0o1000);
    const vid = call(k, procs[u], 'vas_create', name, mode);
    const tags = rnd(2) ? 'tagged' : 'flush';
    const ptPolicy = rnd(2) ? 'shared' : 'copy';
    if (tags === 'tagged') call(k, root, 'vas_ctl', VAS_CTL_TAGS, vid, 1);
    if (ptPolicy === 'shared') call(k, root, 'vas_ctl', VAS_CTL_PTPOLICY, vid, 1);
    const segsIn = new Map<string, number>();
    model.segs.forEach((sg, j) => {
      if (rnd(2)) return;
      const prot = rnd(2) ? PROT_READ : PROT_READ | PROT_WRITE;
      call(k, root, 'seg_attach', vid, j + 1, prot);
      segsIn.set(sg.name, prot);
    });
    model.spaces.push({ name, mode, uid: USERS[u].uid, tags, ptPolicy, segs: segsIn });
  }
  // A tmpfs file with contents written through a shared mapping.
  // Its length in bytes need not be a whole number of pages, and must survive as it is.
  model.file.size = 3 * 4096 - rnd(4000);
  const fd = call(k, root, 'open', model.file.path, O_RDWR | O_CREAT, 0o640);
  call(k, root, 'ftruncate', fd, model.file.size);
  const va = call(k, root, 'mmap', 0, model.file.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const cpu = k.enter(root);
  for (let w = 1 + rnd(10); w > 0; w--) {
    const off = rnd(Math.floor(model.file.size / 4)) * 4; // whole words inside the file: a word past its end is not file data
    const v = rnd(1000) + 1;
    cpu.store32(va + off, v);
    model.file.writes.set(off, v);
  }
  return { k, model };
}

/** Check `k` holds exactly what the model says, reading through snapshot, system calls and loads. */
function expectMachine(k: Kernel, model: Model): void {
  const segs = segments(k)!;
  expect(segs.map((s) => s.name).sort()).toEqual(model.segs.map((s) => s.name).sort());
  const spaces = namedSpaces(k)!;
  expect(spaces.map((v) => v.name).sort()).toEqual(model.spaces.map((v) => v.name).sort());
  const reader = k.spawn('checker', { uid: 0, gid: 0 }).threads[0];
  for (const m of model.segs) {
    const s = segs.find((x) => x.name === m.name)!;
    expect({ base: s.base, size: s.size, pageSize: s.pageSize, mode: s.mode, uid: s.uid, lockable: s.lockable, deleted: s.deleted })
      .toEqual({ base: m.base, size: m.size, pageSize: m.pageSize, mode: m.mode, uid: m.uid, lockable: m.lockable, deleted: false });
    const sid = call(k, reader, 'seg_find', m.name);
    call(k, reader, 'seg_attach', VAS_PRIMARY, sid, PROT_READ);
    const cpu = k.enter(reader);
    for (const [off, v] of m.writes) expect(cpu.load32(m.base + off)).toBe(v);
    // Some words never written read zero.
    for (let off = 0; off < m.size; off += 4092 * 4) if (!m.writes.has(off)) expect(cpu.load32(m.base + off)).toBe(0);
    call(k, reader, 'seg_detach', VAS_PRIMARY, sid);
  }
  for (const m of model.spaces) {
    const v = spaces.find((x) => x.name === m.name)!;
    expect({ mode: v.mode, uid: v.uid, tags: v.tags, ptPolicy: v.ptPolicy }).toEqual({ mode: m.mode, uid: m.uid, tags: m.tags, ptPolicy: m.ptPolicy });
    expect(new Map(v.segments.map((x) => [x.name, x.prot]))).toEqual(m.segs);
  }
  const fd = call(k, reader, 'open', model.file.path, 0);
  expect(call(k, reader, 'lseek', fd, 0, 2)).toBe(model.file.size);
  const va = call(k, reader, 'mmap', 0, model.file.size, PROT_READ, MAP_SHARED, fd, 0);
  const cpu = k.enter(reader);
  for (const [off, v] of model.file.writes) expect(cpu.load32(va + off)).toBe(v);
  k.exit(reader.process, 0);
  expect(checkKernelInvariants(k)).toEqual([]);
}

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'sjmp-image-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe('machine images: round trip', () => {
  it('every name, attribute and byte survives save and load into a new Kernel', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (seed) => {
      const { k, model } = build(seed);
      const file = join(dir, `rt-${seed}.img`);
      saveImage(k, file);
      expect(checkKernelInvariants(k)).toEqual([]);
      const loaded = loadImage(file);
      expectMachine(loaded, model);
      // Loaded and saved again: the same machine (names are the contract, ids renumbered in order).
      saveImage(loaded, file);
      expectMachine(loadImage(file), model);
      rmSync(file);
    }), { numRuns: 12 });
  });

  it('is sparse: a 64 MiB segment with two written words stores two 4 KiB blocks', () => {
    const k = new Kernel({ memBytes: 1 * GiB });
    const t = k.spawn('a', { uid: 0, gid: 0 }).threads[0];
    const sid = call(k, t, 'seg_alloc', 'big', RESERVED_START, 64 * MiB, 0o600, SEG_2M);
    call(k, t, 'seg_attach', VAS_PRIMARY, sid, PROT_READ | PROT_WRITE);
    const cpu = k.enter(t);
    cpu.store32(RESERVED_START + 5, 1);
    cpu.store32(RESERVED_START + 40 * MiB, 2);
    const file = join(dir, 'sparse.img');
    const bytes = saveImage(k, file);
    const info = readImageInfo(file);
    expect(info.blocks).toBe(2);
    expect(bytes).toBeLessThan(3 * 4096 + 4096);
    expect(info.segments).toMatchObject([{ name: 'big', size: 64 * MiB, pageSize: 2 * MiB, mode: 0o600 }]);
  });

  it('a deleted segment still held by a named space survives, nameless in the registry', () => {
    const k = new Kernel({ memBytes: 1 * GiB });
    const t = k.spawn('a', { uid: 1000, gid: 100 }).threads[0];
    const sid = call(k, t, 'seg_alloc', 'gone', RESERVED_START, 4096, 0o600, 0);
    const vid = call(k, t, 'vas_create', 'holder', 0o600);
    call(k, t, 'seg_attach', vid, sid, PROT_READ);
    call(k, t, 'seg_ctl', sid, SEG_CTL_DELETE);
    call(k, t, 'seg_alloc', 'gone', RESERVED_START + GiB, 4096, 0o600, 0); // the name is free again
    const file = join(dir, 'deleted.img');
    saveImage(k, file);
    const l = loadImage(file);
    const segs = segments(l)!;
    expect(segs.map((s) => [s.name, s.deleted, s.base])).toEqual([['gone', true, RESERVED_START], ['gone', false, RESERVED_START + GiB]]);
    expect(namedSpaces(l)![0].segments.map((s) => s.base)).toEqual([RESERVED_START]);
    expect(checkKernelInvariants(l)).toEqual([]);
  });

  it('save is atomic: no temporary file is left, and the old image is replaced whole', () => {
    const file = join(dir, 'atomic.img');
    saveImage(build(7).k, file);
    const first = readFileSync(file);
    saveImage(build(8).k, file);
    expect(readFileSync(file).equals(first)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('atomic.img.tmp'))).toEqual([]);
  });
});

/** Rewrite the header's version and fix its CRC: a well-formed image from a newer sjmp. */
function withVersion(img: Buffer, version: number): Buffer {
  const b = Buffer.from(img);
  b.writeUInt32LE(version, 8);
  b.writeUInt32LE(crc32(b.subarray(0, 24)) >>> 0, 24);
  return b;
}

describe('machine images: corrupt files are refused', () => {
  let good: Buffer;
  let model: Model;
  beforeAll(() => {
    const b = build(12345);
    model = b.model;
    const file = join(dir, 'good.img');
    saveImage(b.k, file);
    good = readFileSync(file);
  });

  function refused(bytes: Buffer, problem: RegExp): void {
    const file = join(dir, 'bad.img');
    writeFileSync(file, bytes);
    let err: unknown;
    try { loadImage(file); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ImageError);
    const msg = (err as Error).message;
    expect(msg).toContain(file);
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(problem);
    expect(readFileSync(file).equals(bytes)).toBe(true); // untouched
  }

  it('truncated', () => {
    refused(good.subarray(0, good.length - 1), /truncated/);
    refused(good.subarray(0, 10), /truncated/);
    refused(Buffer.alloc(0), /truncated/);
  });
  it('bit-flipped in the data', () => {
    const b = Buffer.from(good);
    b[b.length - 100] ^= 0x10;
    refused(b, /checksum mismatch/);
  });
  it('foreign', () => refused(Buffer.from('#!/bin/sh\necho this is not an image, but it is long enough\n'), /bad magic/));
  it('a newer format version', () => refused(withVersion(good, 3), /format version 3 is newer/));
  it('trailing data', () => refused(Buffer.concat([good, Buffer.alloc(5)]), /trailing data/));

  it('fuzz: a mutated image never crashes the loader and never loads a different machine', () => {
    const file = join(dir, 'fuzz.img');
    fc.assert(fc.property(
      fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
        fc.record({ kind: fc.constant('cut' as const), pos: fc.nat(), bit: fc.constant(0) }),
        fc.record({ kind: fc.constant('byte' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 255 }) }),
      ),
      ({ kind, pos, bit }) => {
        const b = Buffer.from(good);
        const at = pos % b.length;
        const m = kind === 'cut' ? b.subarray(0, at) : b;
        if (kind === 'flip') m[at] ^= 1 << bit;
        if (kind === 'byte') m[at] = bit;
        writeFileSync(file, m);
        let k: Kernel | null = null;
        try { k = loadImage(file); } catch (e) { expect(e).toBeInstanceOf(ImageError); }
        if (k) expectMachine(k, model); // only an unchanged file (a no-op mutation) may load
        if (k) expect(m.equals(good)).toBe(true);
      },
    ), { numRuns: 150 });
  });
});

describe('machine images: the lock', () => {
  it('a lock held by a live pid refuses with "image FILE is in use by pid N"; a stale one is taken over', () => {
    const file = join(dir, 'locked.img');
    writeFileSync(lockPath(file), `${process.ppid}\n`);
    expect(() => lockImage(file)).toThrow(`image ${file} is in use by pid ${process.ppid}`);
    writeFileSync(lockPath(file), '2147483646\n'); // no such process
    const release = lockImage(file);
    expect(readFileSync(lockPath(file), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(lockPath(file))).toBe(false);
  });
});

describe('machine images: compressed (format version 2)', () => {
  it('round trip: every name, attribute and byte; version 2 with a compressed DATA section, smaller than plain', () => {
    for (const seed of [3, 99, 4242]) {
      const { k, model } = build(seed);
      // Compressible contents beyond the model's words: a page of a repeating pattern in a new segment.
      const plain = join(dir, `plain-${seed}.img`);
      const packed = join(dir, `packed-${seed}.img`);
      saveImage(k, plain, { live: true });
      saveImage(k, packed, { compress: true });
      const info = readImageInfo(packed);
      expect(info.compressed).toBe(true);
      expect(info.version).toBe(2);
      expect(readImageInfo(plain)).toMatchObject({ compressed: false, version: 1, blocks: info.blocks });
      expect(readFileSync(packed).length).toBeLessThan(readFileSync(plain).length);
      expectMachine(loadImage(packed), model);
    }
  });

  it('many frames: a 3 MiB segment of varied words spans several compressed frames and loads back', () => {
    const k = new Kernel({ memBytes: 1 * GiB });
    const t = k.spawn('a', { uid: 0, gid: 0 }).threads[0];
    const sid = call(k, t, 'seg_alloc', 'big', RESERVED_START, 4 * MiB, 0o600, SEG_2M);
    call(k, t, 'seg_attach', VAS_PRIMARY, sid, PROT_READ | PROT_WRITE);
    const cpu = k.enter(t);
    for (let off = 0; off < 3 * MiB; off += 64) cpu.store32(RESERVED_START + off, ((off * 2654435761) | 0) || 1);
    const file = join(dir, 'frames.img');
    saveImage(k, file, { compress: true });
    const l = loadImage(file);
    const r = l.spawn('r', { uid: 0, gid: 0 }).threads[0];
    call(l, r, 'seg_attach', VAS_PRIMARY, call(l, r, 'seg_find', 'big'), PROT_READ);
    const c = l.enter(r);
    for (let off = 0; off < 4 * MiB; off += 64 * 97) expect(c.load32(RESERVED_START + off) | 0).toBe(off % 64 === 0 && off < 3 * MiB ? (((off * 2654435761) | 0) || 1) : 0);
    expect(readImageInfo(file).blocks).toBe(768);
  });

  it('a version-1 reader\'s rule holds: flags on a version-1 image are refused', () => {
    const file = join(dir, 'v1flags.img');
    saveImage(build(5).k, file, { compress: true });
    const b = withVersion(readFileSync(file), 1);
    writeFileSync(file, b);
    expect(() => loadImage(file)).toThrow(/section DATA has unknown flags 1/);
  });

  it('fuzz: a mutated compressed image never crashes the loader and never loads a different machine', () => {
    const { k, model } = build(777);
    const src = join(dir, 'zgood.img');
    saveImage(k, src, { compress: true });
    const good = readFileSync(src);
    const file = join(dir, 'zfuzz.img');
    fc.assert(fc.property(fc.nat(), fc.integer({ min: 0, max: 7 }), fc.boolean(), (pos, bit, cut) => {
      const at = pos % good.length;
      const m = cut ? Buffer.from(good.subarray(0, at)) : Buffer.from(good);
      if (!cut) m[at] ^= 1 << bit;
      writeFileSync(file, m);
      let l: Kernel | null = null;
      try { l = loadImage(file); } catch (e) { expect(e).toBeInstanceOf(ImageError); expect((e as Error).message).not.toContain('\n'); }
      if (l) { expect(m.equals(good)).toBe(true); expectMachine(l, model); }
    }), { numRuns: 100 });
  });
});

describe('machine images: a loaded machine is as a fresh boot leaves it', () => {
  it.each([false, true])('pids start at 1, every CPU counter and clock is zero, and the same work has the same results as on a fresh machine (caches %s)', (caches) => {
    const config = { memBytes: 1 * GiB, cpus: 2, aslr: true, seed: 9, tagPolicy: 'tagged' as const, caches };
    const file = join(dir, `boot-${caches}.img`);
    // An image holding named objects (so loading runs loader processes with several credentials).
    const k0 = new Kernel(config);
    const t0 = k0.spawn('maker', { uid: 1000, gid: 100 }).threads[0];
    const t1 = k0.spawn('root', { uid: 0, gid: 0 }).threads[0];
    call(k0, t0, 'seg_alloc', 'kept', RESERVED_START, 2 * MiB, 0o644, SEG_2M);
    call(k0, t1, 'vas_create', 'space', 0o644);
    saveImage(k0, file);
    const loaded = loadImage(file);
    const fresh = new Kernel(config);
    for (const k of [loaded, fresh]) {
      expect(k.processes.size).toBe(0);
      for (const c of k.cpus) expect({ clock: c.clock, cycles: c.cycles, accesses: c.accesses, walks: c.walks, cr3Writes: c.cr3Writes }).toEqual({ clock: 0, cycles: 0, accesses: 0, walks: 0, cr3Writes: 0 });
      expect(k.events).toEqual([]);
    }
    // The same work on both: same pids, same ASLR bases (the seeded stream restarted), same modelled cycles.
    const run = (k: Kernel) => {
      const t = k.spawn('p', { uid: 0, gid: 0 }).threads[0];
      const va = call(k, t, 'mmap', 0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0);
      const cpu = k.enter(t);
      for (let i = 0; i < 16; i++) cpu.store32(va + i * 4096, i);
      const vid = call(k, t, 'vas_create', 'mine', 0o600);
      const vh = call(k, t, 'vas_attach', vid);
      call(k, t, 'vas_switch', vh);
      call(k, t, 'vas_switch', VAS_PRIMARY);
      return { pid: t.process.pid, va, cycles: k.cpus.map((c) => c.clock), walks: k.cpus.map((c) => c.walks), faults: k.cpus.map((c) => c.pageFaults) };
    };
    expect(run(loaded)).toEqual(run(fresh));
    expect(checkKernelInvariants(loaded)).toEqual([]);
  });
});

describe('machine images: a live save (the shell\'s save)', () => {
  it('leaves the processes running and stores what a clean shutdown would', () => {
    const { k } = build(31);
    const live = join(dir, 'live.img');
    const down = join(dir, 'down.img');
    const before = [...k.processes.values()].filter((p) => p.live).length;
    saveImage(k, live, { live: true });
    expect([...k.processes.values()].filter((p) => p.live).length).toBe(before);
    expect(before).toBeGreaterThan(0);
    saveImage(k, down);
    expect(readFileSync(live).equals(readFileSync(down))).toBe(true);
  });
});

describe('machine images: no byte outside a check', () => {
  it('a bit flip at every byte of a small compressed image is refused (END!\'s CRC, section flags included)', () => {
    const k = new Kernel({ memBytes: 1 * GiB });
    const t = k.spawn('a', { uid: 0, gid: 0 }).threads[0];
    const sid = call(k, t, 'seg_alloc', 's', RESERVED_START, 8192, 0o644, 0);
    call(k, t, 'seg_attach', VAS_PRIMARY, sid, PROT_READ | PROT_WRITE);
    k.enter(t).store32(RESERVED_START + 100, 0x1234);
    const src = join(dir, 'flip-src.img');
    saveImage(k, src, { compress: true });
    const good = readFileSync(src);
    const file = join(dir, 'flip.img');
    const loaded: string[] = [];
    for (let at = 0; at < good.length; at++) {
      // Bit 0 (every flag is bit 0) and one other bit per byte: all of them would take ~8x longer.
      for (const bit of [0, 1 + (at % 7)]) {
        const m = Buffer.from(good);
        m[at] ^= 1 << bit;
        writeFileSync(file, m);
        try { loadImage(file); loaded.push(`${at}:${bit}`); } catch (e) { expect(e).toBeInstanceOf(ImageError); }
      }
    }
    expect(loaded).toEqual([]);
  });
});
