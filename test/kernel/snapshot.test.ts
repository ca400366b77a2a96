// The read-only machine snapshot: it reports what the syscalls made (checked against what the test
// itself did, not against the kernel's fields), it is plain JSON, and reading it changes nothing —
// no counter, no TLB entry, no page-table byte (no accessed/dirty bits).

import { describe, it, expect } from 'vitest';
import { Kernel } from '../../kernel/kernel.js';
import type { Thread } from '../../kernel/proc/process.js';
import { syscall } from '../../syscalls/dispatch.js';
import { MAP_PRIVATE, MAP_ANON, PROT_READ, PROT_WRITE } from '../../syscalls/index.js';
import { RESERVED_START, SEG_2M } from '../../syscalls/abi.js';
import {
  machineSnapshot, processes, shadows, namedSpaces, segments, vmMap, spaceInfo, tlbContents, counters, pageTableRoot,
  pageTableEntries, walkSpace,
} from '../../kernel/snapshot.js';
import { MiB, GiB } from '../../mmu/units.js';

function call(k: Kernel, t: Thread, name: string, ...args: (number | bigint | string)[]): number {
  const r = syscall(k, t, name, args);
  if (typeof r !== 'number' && typeof r !== 'bigint') throw new Error(`${name} would block`);
  if (Number(r) < 0) throw new Error(`${name} failed: ${r}`);
  return Number(r);
}

function scene() {
  const k = new Kernel({ memBytes: 1 * GiB, cpus: 2, tagPolicy: 'tagged' });
  const a = k.spawn('alice', { uid: 1000, gid: 1000 });
  const b = k.spawn('bob', { uid: 1000, gid: 1000 });
  const ta = a.threads[0];
  const tb = b.threads[0];
  const va = call(k, ta, 'mmap', 0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0);
  const cpu = k.enter(ta);
  for (let i = 0; i < 8; i++) cpu.store32(va + i * 4096, i);
  const vid = call(k, ta, 'vas_create', 'shared', 0o666);
  const sid = call(k, ta, 'seg_alloc', 'data', RESERVED_START, 1 * MiB, 0o666, 0);
  call(k, ta, 'seg_attach', vid, sid);
  const big = call(k, ta, 'seg_alloc', 'big', RESERVED_START + GiB, 4 * MiB, 0o666, SEG_2M);
  call(k, ta, 'seg_attach', vid, big);
  const vh = call(k, tb, 'vas_attach', call(k, tb, 'vas_find', 'shared'));
  call(k, tb, 'vas_switch', vh, 0);
  const cb = k.enter(tb);
  cb.store32(RESERVED_START + 4096, 7);
  cb.store32(RESERVED_START + GiB + 8, 9);
  return { k, va, vh, cpuA: cpu.id, cpuB: cb.id };
}

describe('machine snapshot', () => {
  it('reports processes, spaces, segments and maps as the syscalls made them', () => {
    const { k, va, vh } = scene();
    const ps = processes(k);
    expect(ps.map((p) => [p.pid, p.name, p.live])).toEqual([[1, 'alice', true], [2, 'bob', true]]);
    expect(ps[1].threads[0]).toMatchObject({ vh, inNamedSpace: 'shared' });
    expect(ps[0].threads[0]).toMatchObject({ vh: 0, inNamedSpace: null });
    const anon = vmMap(ps[0].primary).find((e) => e.start === va);
    expect(anon).toMatchObject({ end: va + 8 * 4096, prot: PROT_READ | PROT_WRITE, wired: false });
    expect(anon!.object!.resident).toBe(8);
    expect(segments(k)!.map((s) => [s.name, s.base, s.size, s.pageSize])).toEqual([
      ['data', RESERVED_START, MiB, 4096], ['big', RESERVED_START + GiB, 4 * MiB, 2 * MiB],
    ]);
    const named = namedSpaces(k)!;
    expect(named.map((v) => [v.name, v.segments.map((s) => s.name), v.shadows.map((a) => [a.processName, a.vh])]))
      .toEqual([['shared', ['data', 'big'], [['bob', vh]]]]);
    const sh = shadows(k);
    expect(sh.map((a) => [a.processName, a.vh, a.of, a.threads])).toEqual([['bob', vh, 'shared', ['main']]]);
    expect(vmMap(sh[0].space).filter((e) => e.wired).map((e) => e.start)).toEqual([RESERVED_START, RESERVED_START + GiB]);
    expect(spaceInfo(sh[0].space).leaves[2]).toBe(2);
  });

  it('reads page tables and walks without side effects, and agrees with the CPU on translations', () => {
    const { k, va } = scene();
    const alice = processes(k)[0].primary;
    const w = walkSpace(k, alice, BigInt(va + 5));
    expect(w.stop).toBeNull();
    expect(w.steps.length).toBe(4);
    const cpu = k.cpus[0];
    k.enter(k.processes.get(1)!.threads[0]);
    expect(w.pa).toBe(cpu.probe(BigInt(va + 5)));
    expect(walkSpace(k, alice, 1n << 60n).stop).toEqual({ reason: 'noncanonical' });
    expect(walkSpace(k, alice, BigInt(RESERVED_START)).stop).toMatchObject({ reason: 'not-present' });
    const { root, levels } = pageTableRoot(alice);
    const top = pageTableEntries(k, alice, root, levels, 0);
    expect(top.length).toBeGreaterThan(0);
    expect(top.every((e) => !e.leaf && e.children > 0)).toBe(true);
  });

  it('is plain JSON and reading it changes nothing', () => {
    const { k, cpuB } = scene();
    const mem = () => { const out: number[] = []; for (const t of k.tables.keys()) for (let o = 0; o < 4096; o += 4) out.push(k.mem.read32(t + o)); return out; };
    const before = { counters: JSON.stringify(counters(k)), tlb: JSON.stringify(tlbContents(k, cpuB)), mem: mem() };
    const snap = machineSnapshot(k);
    const json = JSON.parse(JSON.stringify(snap));
    expect(json.processes.length).toBe(2);
    expect(json.spaces.length).toBe(snap.spaces.length);
    expect(json.counters.profile).toBe('m2');
    for (const s of shadows(k)) walkSpace(k, s.space, BigInt(RESERVED_START + GiB + 8));
    expect(JSON.stringify(counters(k))).toBe(before.counters);
    expect(JSON.stringify(tlbContents(k, cpuB))).toBe(before.tlb);
    expect(mem()).toEqual(before.mem);
    const t = tlbContents(k, cpuB);
    expect(t.structures.some((s) => s.entries.some((e) => e.va === RESERVED_START + 4096))).toBe(true);
  });
});
