import { describe, it, expect } from 'vitest';
import { Kernel } from '../../kernel/kernel.js';
import { checkKernelInvariants, assertKernelInvariants, KernelInvariantError } from '../../kernel/invariants.js';
import { MAP_SHARED, MAP_POPULATE } from '../../kernel/vm/vmspace.js';
import { PROT_READ, PROT_WRITE } from '../../kernel/vm/vmMap.js';
import { VmObject, allocObjectPage } from '../../kernel/vm/vmObject.js';
import { HEAP_BASE } from '../../kernel/layout.js';
import { PTE_RW } from '../../mmu/pte.js';
import { SIZE_4K, TF_W, TF_U, TF_D } from '../../mmu/tlb.js';
import { MiB } from '../../mmu/units.js';

const alice = { uid: 1000, gid: 1000 };

/** A busy but healthy machine: forked processes sharing COW pages, a shared file, a tagged space. */
function busyKernel(): { k: Kernel; pids: number[]; fileVa: number } {
  const k = new Kernel({ memBytes: 256 * MiB, cpus: 2 });
  const f = k.tmpfs.create('/f', 64 * 1024, alice);
  k.tmpfs.preload(f);
  const a = k.spawn('a', alice);
  k.setTagPolicy(a.primary, 'tagged');
  const fileVa = a.primary.mmap({ addr: null, len: 64 * 1024, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_POPULATE, object: f.object, offset: 0 });
  let cpu = k.enter(a.threads[0]);
  for (let i = 0; i < 8; i++) cpu.store32(HEAP_BASE + i * 4096, i + 1);
  cpu.store32(fileVa, 5);
  const b = k.fork(a.threads[0]);
  const cb = k.enter(b.threads[0]);
  cb.store32(HEAP_BASE, 100);
  expect(cb.load32(HEAP_BASE + 4096)).toBe(2);
  cpu = k.enter(a.threads[0]);
  expect(cpu.load32(HEAP_BASE)).toBe(1);
  return { k, pids: [a.pid, b.pid], fileVa };
}

function problems(k: Kernel): string {
  return checkKernelInvariants(k).join('\n');
}

describe('kernel invariant checker', () => {
  it('passes on a fresh kernel, a busy one, and after everything exits', () => {
    expect(checkKernelInvariants(new Kernel({ memBytes: 256 * MiB, cpus: 1 }))).toEqual([]);
    const { k, pids } = busyKernel();
    expect(checkKernelInvariants(k)).toEqual([]);
    for (const pid of pids) k.exit(k.process(pid), 0);
    expect(checkKernelInvariants(k)).toEqual([]);
    k.tmpfs.unlink('/f');
    expect(checkKernelInvariants(k)).toEqual([]);
    expect(k.frames.usedBytes()).toBe(k.kernelHalf.bytes); // the kernel half stays for good
  });

  it('catches a leaked frame', () => {
    const { k } = busyKernel();
    const pa = k.frames.alloc(0, 0);
    expect(problems(k)).toContain(`frame 0x${pa.toString(16)} (order 0) is allocated but owned by nothing`);
    expect(() => assertKernelInvariants(k)).toThrow(KernelInvariantError);
  });

  it('catches a frame owned twice and a page owned by no allocation', () => {
    const { k } = busyKernel();
    const heap = k.process(1).primary.map.lookup(HEAP_BASE)!.object!;
    const file = k.tmpfs.lookup('/f').object;
    const filePa = file.pages.get(0)!;
    heap.pages.set(200, filePa);
    expect(problems(k)).toMatch(/owned twice/);
    heap.pages.delete(200);
    const pa = k.frames.alloc(0, 0);
    k.frames.free(pa, 0);
    heap.pages.set(201, pa);
    expect(problems(k)).toMatch(/not an allocated block/);
  });

  it('catches a wrong reference count and a broken reverse map', () => {
    const { k } = busyKernel();
    const file = k.tmpfs.lookup('/f').object;
    file.refCount++;
    expect(problems(k)).toMatch(/file#\d+\(\/f\) refCount 4 but 3 references exist/);
    file.refCount--;
    const e = k.process(1).primary.map.lookup(HEAP_BASE)!;
    e.object!.mappers.delete(e);
    expect(problems(k)).toMatch(/mappers \(\d+\) disagree/);
  });

  it('catches a stale writable PTE over a copy-on-write page', () => {
    const { k } = busyKernel();
    const pm = k.process(1).primary.pmap;
    // Page 1 of the heap is still shared with the child after fork: its leaf must be read-only.
    const leaf = pm.lookup(HEAP_BASE + 4096)!;
    expect(leaf.lo & PTE_RW).toBe(0);
    k.mem.write32(leaf.entryPa, leaf.lo | PTE_RW);
    expect(problems(k)).toMatch(/leaf 0x10001000 \(L1\): writable (while its entry still needs a copy|onto .* copy-on-write backing page)/);
  });

  it('catches a PTE that maps the wrong frame and a miscounted table', () => {
    const { k } = busyKernel();
    const pm = k.process(1).primary.pmap;
    const leaf = pm.lookup(HEAP_BASE + 2 * 4096)!;
    k.mem.write32(leaf.entryPa, (leaf.lo & 0xfff) | ((leaf.frame + 4096 * 64) & 0xfffff000));
    expect(problems(k)).toMatch(/maps frame .* but the object chain supplies/);
    k.mem.write32(leaf.entryPa, 0);
    k.mem.write32(leaf.entryPa + 4, 0);
    expect(problems(k)).toMatch(/records \d+ live entries but holds/);
  });

  it('catches a TLB entry inserted by hand for a page the tables do not map', () => {
    const { k } = busyKernel();
    const cpu = k.cpus[k.process(1).threads[0].cpu];
    const tlb = cpu.tlb;
    tlb.fill(0x7000_0000, 0, SIZE_4K, cpu.pcid, 0x20_0000, 0, TF_W | TF_U | TF_D, 0, cpu.accesses);
    expect(problems(k)).toMatch(/caches 0x200000 but pmap \d+ no longer maps it/);
  });

  it('catches a paging-structure-cache entry pointing at a table the tables no longer use', () => {
    const { k } = busyKernel();
    const a = k.process(1);
    const cpu = k.enter(a.threads[0]);
    const psc = cpu.tlb.psc[2]!;
    psc.insert(HEAP_BASE >>> 0, 0, cpu.pcid, 0x123000, 7, cpu.accesses);
    expect(problems(k)).toMatch(/PSC L2 slot \d+ \(PCID \d+, 0x10000000\): caches table 0x123000 but pmap \d+ now points at 0x/);
  });

  it('catches a TLB entry left writable after the PTE lost write access without a shootdown', () => {
    const { k, fileVa } = busyKernel();
    const a = k.process(1);
    const cpu = k.enter(a.threads[0]);
    cpu.store32(fileVa + 4096, 9); // a writable translation is now cached
    a.primary.pmap.protect(fileVa + 4096, fileVa + 8192, { writable: false, nx: true });
    a.primary.pmap.clearPending(); // the bug under test: no flush
    expect(problems(k)).toMatch(/cached writable but the tables make it read-only/);
  });

  it('catches stale entries of a tagged space that is not loaded but not marked stale', () => {
    const { k, fileVa } = busyKernel();
    const a = k.process(1);
    const cpu = k.enter(a.threads[0]);
    expect(cpu.load32(fileVa + 3 * 4096)).toBe(0);
    const other = k.spawn('other', alice);
    other.threads[0].cpu = cpu.id;
    k.enter(other.threads[0]); // a is switched away, its tagged entries stay in the TLB
    expect(checkKernelInvariants(k)).toEqual([]);
    a.primary.pmap.remove(fileVa + 3 * 4096, fileVa + 4 * 4096);
    a.primary.pmap.clearPending();
    expect(problems(k)).toMatch(/no longer maps it/);
  });

  it('counts frames and references a contributor declares', () => {
    const k = new Kernel({ memBytes: 256 * MiB, cpus: 1 });
    const seg = new VmObject('wired', 2 * 4096, 12, 0, 'seg');
    allocObjectPage(k, seg, 0);
    allocObjectPage(k, seg, 4096);
    expect(problems(k)).toMatch(/owned by nothing/);
    const hook = { invariants: { name: 'module', heldObjects: () => [{ object: seg, refs: 1 }] } };
    k.hooks.push(hook);
    expect(checkKernelInvariants(k)).toEqual([]);
    seg.refCount = 2;
    expect(problems(k)).toMatch(/refCount 2 but 1 references exist/);
    k.hooks.splice(k.hooks.indexOf(hook), 1);
    seg.refCount = 1;
    k.hooks.push({ invariants: { name: 'hook', heldObjects: () => [{ object: seg, refs: 1 }], check: () => ['custom'] } });
    expect(checkKernelInvariants(k)).toEqual(['hook: custom']);
  });
});
