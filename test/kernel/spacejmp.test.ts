import { describe, it, expect } from 'vitest';
import { Kernel, ProcessKilled } from '../../kernel/kernel.js';
import { VAS_CURRENT, VAS_PRIMARY, VAS_NOWAIT, SEG_CTL_LOCKABLE, SEG_CTL_DELETE, VAS_CTL_TAGS, VAS_CTL_PTPOLICY, VAS_CTL_DELETE, SEG_2M } from '../../kernel/spacejmp/spacejmp.js';
import { MAP_FIXED, MAP_EXCL, MAP_PRIVATE } from '../../kernel/vm/vmspace.js';
import { PROT_READ, PROT_WRITE } from '../../kernel/vm/vmMap.js';
import { SysError, ERRNO } from '../../kernel/errno.js';
import { RESERVED_START } from '../../kernel/layout.js';
import { GiB, MiB } from '../../mmu/units.js';
import { assertKernelInvariants } from '../../kernel/invariants.js';
import { afterEach } from 'vitest';
import type { Thread } from '../../kernel/proc/process.js';

const ALICE = { uid: 1000, gid: 100 };
const BOB = { uid: 1001, gid: 100 };
const EVE = { uid: 1002, gid: 200 };
const BASE = RESERVED_START + 0x1000_0000;

function errno(fn: () => unknown): number {
  try { fn(); } catch (e) { if (e instanceof SysError) return e.errno; throw e; }
  return 0;
}

const kernels: Kernel[] = [];
// Every scenario must leave the kernel consistent: frames, references, page tables and TLBs.
afterEach(() => {
  for (const k of kernels.splice(0)) assertKernelInvariants(k);
});

function machine(opts: { cpus?: number; paging?: 4 | 5 } = {}) {
  const k = new Kernel({ memBytes: 2 * GiB, cpus: opts.cpus ?? 2, paging: opts.paging ?? 4 });
  kernels.push(k);
  const sj = k.spacejmp;
  return { k, sj };
}

function main(p: { threads: Thread[] }): Thread { return p.threads[0]; }

describe('SpaceJMP', () => {
  it('Alice and Bob: a segment at a base that collides in Bob is reachable by switching; confused pointers', () => {
    const { k, sj } = machine();
    const alice = k.spawn('alice', ALICE);
    const bob = k.spawn('bob', BOB);
    const a = main(alice);
    const b = main(bob);
    // Bob already has something at BASE in his primary.
    bob.primary.mmap({ addr: BASE, len: 4096, prot: PROT_READ | PROT_WRITE, flags: MAP_FIXED | MAP_PRIVATE, object: null, offset: 0, label: 'bob-data' });
    k.enter(b).store32(BASE, 7);

    const sid = sj.segAlloc(a, 'data', BASE, 1 * MiB, 0o660);
    sj.segAttach(a, VAS_CURRENT, sid);
    k.enter(a).store32(BASE, 0xa11ce);
    sj.segDetach(a, VAS_CURRENT, sid);
    const vid = sj.vasCreate(a, 'shared', 0o660);
    sj.segAttach(a, vid, sid);

    expect(errno(() => sj.segAttach(b, VAS_CURRENT, sid))).toBe(ERRNO.EEXIST);
    expect(errno(() => bob.primary.mmap({ addr: BASE, len: MiB, prot: PROT_READ, flags: MAP_FIXED | MAP_EXCL | MAP_PRIVATE, object: null, offset: 0 }))).toBe(ERRNO.ENOMEM);
    const bvid = sj.vasFind(b, 'shared');
    expect(bvid).toBe(vid);
    const vh = sj.vasAttach(b, bvid);
    expect(sj.vasSwitch(b, vh)).toBe(0);
    expect(k.enter(b).load32(BASE)).toBe(0xa11ce);
    k.enter(b).store32(BASE + 4, 42);
    expect(sj.vasCurrent(b)).toBe(vh);
    sj.vasSwitch(b, VAS_PRIMARY);
    expect(k.enter(b).load32(BASE)).toBe(7); // same pointer, different data
    expect(k.enter(b).load32(BASE + 4)).toBe(0);
    // Bob's heap is the same memory in both spaces.
    const heap = 0x1000_0000;
    k.enter(b).store32(heap, 55);
    sj.vasSwitch(b, vh);
    expect(k.enter(b).load32(heap)).toBe(55);
    expect(k.enter(b).load32(BASE + 4)).toBe(42);
  });

  it('vas_detach of a space a thread is in is EBUSY', () => {
    const { k, sj } = machine();
    const a = main(k.spawn('a', ALICE));
    const vid = sj.vasCreate(a, 'v', 0o600);
    const vh = sj.vasAttach(a, vid);
    sj.vasSwitch(a, vh);
    expect(errno(() => sj.vasDetach(a, vh))).toBe(ERRNO.EBUSY);
    sj.vasSwitch(a, VAS_PRIMARY);
    sj.vasDetach(a, vh);
    expect(errno(() => sj.vasSwitch(a, vh))).toBe(ERRNO.EINVAL);
  });

  it('lockable segments: writer excludes; NOWAIT gives EBUSY; blocking waits until release', () => {
    const { k, sj } = machine();
    const a = main(k.spawn('alice', ALICE));
    const b = main(k.spawn('bob', BOB));
    const sid = sj.segAlloc(a, 'locked', BASE, 64 * 1024, 0o660);
    sj.segCtl(a, sid, SEG_CTL_LOCKABLE, 1);
    const vid = sj.vasCreate(a, 'lk', 0o660);
    sj.segAttach(a, vid, sid);
    const va = sj.vasAttach(a, vid);
    const vb = sj.vasAttach(b, vid);
    expect(sj.vasSwitch(a, va)).toBe(0);
    expect(errno(() => sj.vasSwitch(b, vb, VAS_NOWAIT))).toBe(ERRNO.EBUSY);
    const ch = sj.vasSwitch(b, vb);
    expect(ch).not.toBe(0);
    expect(b.space).toBe(b.process.primary);
    sj.vasSwitch(a, VAS_PRIMARY);
    expect(sj.vasSwitch(b, vb)).toBe(0);
    expect(sj.segments.get(sid)!.lock.writer).toBe(b);
    // Exit releases the lock.
    k.exit(b.process, 0);
    expect(sj.segments.get(sid)!.lock.held).toBe(false);
  });

  it('permissions: EACCES across users and EPERM for non-owners', () => {
    const { k, sj } = machine();
    const a = main(k.spawn('alice', ALICE));
    const b = main(k.spawn('bob', BOB));
    const e = main(k.spawn('eve', EVE));
    const sid = sj.segAlloc(a, 'ro-for-group', BASE, 4096, 0o640);
    const vid = sj.vasCreate(a, 'private', 0o600);
    expect(errno(() => sj.vasFind(b, 'private'))).toBe(ERRNO.EACCES);
    expect(errno(() => sj.vasAttach(b, vid))).toBe(ERRNO.EACCES);
    expect(errno(() => sj.segAttach(b, VAS_CURRENT, sid, PROT_READ | PROT_WRITE))).toBe(ERRNO.EACCES);
    expect(sj.segAttach(b, VAS_CURRENT, sid, PROT_READ)).toBe(0);
    expect(errno(() => sj.segFind(e, 'ro-for-group'))).toBe(ERRNO.EACCES);
    expect(errno(() => sj.segCtl(b, sid, SEG_CTL_DELETE))).toBe(ERRNO.EPERM);
    expect(errno(() => sj.vasCreate(a, 'private', 0o600))).toBe(ERRNO.EEXIST);
    expect(errno(() => sj.segAlloc(a, 'low', 0x1000_0000, 4096, 0o600))).toBe(ERRNO.EINVAL);
    expect(errno(() => sj.vasFind(a, 'nope'))).toBe(ERRNO.ENOENT);
    // Read-only attachment really is read-only: a store kills Bob with a report.
    const cpu = k.enter(b);
    expect(cpu.load32(BASE)).toBe(0);
    expect(() => cpu.store32(BASE, 1)).toThrow(ProcessKilled);
    expect(b.process.killedBy).toMatch(/write not permitted/);
  });

  it('a segment and its address space outlive their creator', () => {
    const { k, sj } = machine();
    const alice = k.spawn('alice', ALICE);
    const a = main(alice);
    const sid = sj.segAlloc(a, 'persist', BASE, 8192, 0o644);
    sj.segAttach(a, VAS_CURRENT, sid);
    k.enter(a).store32(BASE + 4096, 1234);
    const vid = sj.vasCreate(a, 'keep', 0o644);
    sj.segAttach(a, vid, sid);
    k.exit(alice, 0);
    const c = main(k.spawn('carol', BOB));
    const vh = sj.vasAttach(c, sj.vasFind(c, 'keep'));
    sj.vasSwitch(c, vh);
    expect(k.enter(c).load32(BASE + 4096)).toBe(1234);
    // Deleting a segment in use keeps it until the last user goes.
    const root = main(k.spawn('root', { uid: 0, gid: 0 }));
    const used = k.frames.usedBytes();
    sj.segCtl(root, sid, SEG_CTL_DELETE);
    expect(k.enter(c).load32(BASE + 4096)).toBe(1234);
    expect(k.frames.usedBytes()).toBe(used);
  });

  it('5-level paging: a segment above 2^47 (and above 2^53 through the exact path)', () => {
    const { k, sj } = machine({ paging: 5 });
    const a = main(k.spawn('a', ALICE));
    const high = 2 ** 50;
    const sid = sj.segAlloc(a, 'high', high, 2 * MiB, 0o600, SEG_2M);
    const vid = sj.vasCreate(a, 'big', 0o600);
    sj.segAttach(a, vid, sid);
    const vh = sj.vasAttach(a, vid);
    sj.vasSwitch(a, vh);
    const cpu = k.enter(a);
    cpu.store32(high + 8, 99);
    expect(cpu.load32(high + 8)).toBe(99);
    const veryHigh = 2 ** 54;
    const sid2 = sj.segAlloc(a, 'veryhigh', veryHigh, 4096, 0o600);
    sj.segAttach(a, VAS_CURRENT, sid2);
    const addr = BigInt(veryHigh) + 24n;
    cpu.store64Big(addr, 0x1122334455667788n);
    expect(cpu.load64Big(addr)).toBe(0x1122334455667788n);
    const four = machine({ paging: 4 });
    expect(errno(() => four.sj.segAlloc(main(four.k.spawn('b', ALICE)), 'x', high, 4096, 0o600))).toBe(ERRNO.EINVAL);
  });

  for (const policy of ['copy', 'shared'] as const) {
    it(`changing a named space updates every shadow (${policy} page tables), with TLB invalidation`, () => {
      const { k, sj } = machine({ cpus: 3 });
      const owner = main(k.spawn('owner', ALICE));
      const vid = sj.vasCreate(owner, 'live', 0o666);
      sj.vasCtl(owner, VAS_CTL_PTPOLICY, vid, policy === 'shared' ? 1 : 0);
      const s1 = sj.segAlloc(owner, 's1', BASE, 64 * 1024, 0o666);
      sj.segAttach(owner, vid, s1);
      const p1 = main(k.spawn('p1', BOB));
      const p2 = main(k.spawn('p2', BOB));
      const h1 = sj.vasAttach(p1, vid);
      const h2 = sj.vasAttach(p2, vid);
      sj.vasSwitch(p1, h1);
      sj.vasSwitch(p2, h2);
      k.enter(p1).store32(BASE, 11);
      expect(k.enter(p2).load32(BASE)).toBe(11); // p2's TLB now holds BASE
      // A segment attached to the named space later appears in both shadows.
      const s2 = sj.segAlloc(owner, 's2', BASE + 0x100_0000, 4096, 0o666);
      sj.segAttach(owner, vid, s2);
      k.enter(p1).store32(BASE + 0x100_0000, 22);
      expect(k.enter(p2).load32(BASE + 0x100_0000)).toBe(22);
      // Detaching s1 from the named space removes it everywhere, TLBs included.
      sj.segDetach(owner, vid, s1);
      expect(() => k.enter(p2).load32(BASE)).toThrow(ProcessKilled);
      expect(() => k.enter(p1).load32(BASE)).toThrow(ProcessKilled);
      expect(sj.stats.shadowUpdates).toBe(4);
    });
  }

  it('shared page tables cost less to attach than copied ones', () => {
    const cost = (policy: 0 | 1) => {
      const { k, sj } = machine();
      const o = main(k.spawn('o', ALICE));
      const vid = sj.vasCreate(o, 'v', 0o666);
      sj.vasCtl(o, VAS_CTL_PTPOLICY, vid, policy);
      const sid = sj.segAlloc(o, 's', BASE, 16 * MiB, 0o666);
      sj.segAttach(o, vid, sid);
      const p = main(k.spawn('p', BOB));
      k.enter(p);
      const before = k.cpus[p.cpu].clock;
      const tables = k.tables.size;
      sj.vasAttach(p, vid);
      return { cycles: k.cpus[p.cpu].clock - before, tables: k.tables.size - tables };
    };
    const copy = cost(0);
    const shared = cost(1);
    expect(shared.cycles).toBeLessThan(copy.cycles / 10);
    expect(shared.tables).toBeLessThan(copy.tables);
  });

  it('vas_switch is charged for its events: locks, pm_active, the CR3 load, and the refills a flush causes', () => {
    const walks: number[] = [];
    for (const [tags, cr3] of [[0, 'cr3Load'], [1, 'cr3LoadTagged']] as const) {
      const { k, sj } = machine();
      const a = main(k.spawn('a', ALICE));
      const vid = sj.vasCreate(a, 'v', 0o600);
      sj.vasCtl(a, VAS_CTL_TAGS, vid, tags);
      sj.vasCtl(a, VAS_CTL_TAGS, VAS_PRIMARY, tags);
      const vh = sj.vasAttach(a, vid);
      sj.vasSwitch(a, vh);
      sj.vasSwitch(a, VAS_PRIMARY);
      const cpu = k.enter(a);
      const before = cpu.clock;
      const by0 = { ...cpu.cyclesBy };
      const k0 = cpu.kernelCounters();
      const user0 = cpu.counters();
      sj.vasSwitch(a, vh);
      const by = cpu.cyclesBy;
      const d = (c: string): number => (by[c] ?? 0) - (by0[c] ?? 0);
      const k1 = cpu.kernelCounters();
      const c = k.costs;
      expect([d('cr3'), d('lock'), d('pmap-activate')]).toEqual([c[cr3], c.atomicRmw, 2 * c.atomicRmw]);
      expect(d('kernel-tlb')).toBe((k1.walkRefs - k0.walkRefs) * c.walkRef + (k1.stlbHits - k0.stlbHits) * c.stlbHit);
      // the syscall entry and exit are charged by the syscall layer; here the switch itself
      expect(cpu.clock - before).toBe(d('cr3') + d('lock') + d('pmap-activate') + d('kernel-tlb'));
      // The kernel's references are counted apart: the user counters did not move.
      const user1 = cpu.counters();
      expect([user1.accesses, user1.walks, user1.l1Misses]).toEqual([user0.accesses, user0.walks, user0.l1Misses]);
      expect(k1.accesses - k0.accesses).toBeGreaterThan(0);
      walks.push(k1.walks - k0.walks);
    }
    // Untagged, the previous switch flushed the kernel's entries: this one walks for them again.
    expect(walks[0]).toBeGreaterThan(0);
    expect(walks[1]).toBe(0);
  });

  it('vas_ctl delete is EBUSY while attached; exit detaches everything', () => {
    const { k, sj } = machine();
    const alice = k.spawn('a', ALICE);
    const a = main(alice);
    const vid = sj.vasCreate(a, 'v', 0o600);
    const sid = sj.segAlloc(a, 's', BASE, 4096, 0o600);
    sj.segAttach(a, vid, sid);
    sj.vasAttach(a, vid);
    expect(errno(() => sj.vasCtl(a, VAS_CTL_DELETE, vid))).toBe(ERRNO.EBUSY);
    const usedBefore = k.frames.usedBytes();
    k.exit(alice, 0);
    expect(sj.vases.get(vid)!.shadows.size).toBe(0);
    expect(k.frames.usedBytes()).toBeLessThan(usedBefore);
    const b = main(k.spawn('b', ALICE));
    sj.vasCtl(b, VAS_CTL_DELETE, vid);
    sj.segCtl(b, sid, SEG_CTL_DELETE);
    k.exit(b.process, 0);
    expect(k.frames.usedBytes()).toBe(k.kernelHalf.bytes); // the kernel half stays for good
  });
});

describe('SpaceJMP under pressure and under the shared page-table policy (issue 13)', () => {
  /** Take every free frame (returned by the caller) so the next allocation fails. */
  function exhaust(k: Kernel): number[] {
    const taken: number[] = [];
    for (let pa = k.frames.alloc(0, 0); pa >= 0; pa = k.frames.alloc(0, 0)) taken.push(pa);
    return taken;
  }

  it('out of frames, vas_create and vas_attach fail with ENOMEM and change nothing', () => {
    const { k, sj } = machine();
    const a = main(k.spawn('a', ALICE));
    const vid = sj.vasCreate(a, 'v', 0o600);
    const sid = sj.segAlloc(a, 's', BASE, 4096, 0o600);
    sj.segAttach(a, vid, sid);
    a.process.primary.mmap({ addr: 0x2000_0000, len: 4096, prot: PROT_READ | PROT_WRITE, flags: MAP_FIXED | MAP_PRIVATE, object: null, offset: 0 });
    k.enter(a).store32(0x2000_0000, 1);
    const taken = exhaust(k);
    const spaces = k.spaces.size;
    expect(errno(() => sj.vasCreate(a, 'w', 0o600))).toBe(ERRNO.ENOMEM);
    expect(errno(() => sj.vasAttach(a, vid))).toBe(ERRNO.ENOMEM);
    expect(errno(() => sj.segAlloc(a, 't', BASE + 0x10_0000, 4096, 0o600))).toBe(ERRNO.ENOMEM);
    expect(k.spaces.size).toBe(spaces);
    expect(sj.attachments(a.process)).toEqual([]);
    for (const pa of taken) k.frames.free(pa, 0);
    const vh = sj.vasAttach(a, vid);
    sj.vasSwitch(a, vh);
    expect(k.enter(a).load32(0x2000_0000)).toBe(1);
  });

  it('munmap and MAP_FIXED over a segment are EINVAL in a shared-policy shadow, never a throw', () => {
    const { k, sj } = machine();
    const a = main(k.spawn('a', ALICE));
    const b = main(k.spawn('b', BOB));
    const vid = sj.vasCreate(a, 'v', 0o666);
    sj.vasCtl(a, VAS_CTL_PTPOLICY, vid, 1);
    const sid = sj.segAlloc(a, 's', BASE, 2 * 4096, 0o666);
    sj.segAttach(a, vid, sid);
    const vh = sj.vasAttach(b, vid);
    sj.vasSwitch(b, vh);
    k.enter(b).store32(BASE, 7);
    expect(errno(() => b.space.munmap(BASE, 4096))).toBe(ERRNO.EINVAL);
    expect(errno(() => b.space.mmap({ addr: BASE, len: 4096, prot: PROT_READ | PROT_WRITE, flags: MAP_FIXED | MAP_PRIVATE, object: null, offset: 0 }))).toBe(ERRNO.EINVAL);
    // A mapping of his own next to it, in the same linked table: his own copy, unseen by Alice's shadow.
    b.space.mmap({ addr: BASE + 0x20_0000, len: 4096, prot: PROT_READ | PROT_WRITE, flags: MAP_FIXED | MAP_PRIVATE, object: null, offset: 0 });
    k.enter(b).store32(BASE + 0x20_0000, 9);
    const avh = sj.vasAttach(a, vid);
    sj.vasSwitch(a, avh);
    expect(k.enter(a).load32(BASE)).toBe(7);
    expect(() => k.catchingFaults(() => k.enter(a).load32(BASE + 0x20_0000))).toThrow();
    b.space.munmap(BASE + 0x20_0000, 4096);
    expect(k.enter(b).load32(BASE)).toBe(7);
  });
});
