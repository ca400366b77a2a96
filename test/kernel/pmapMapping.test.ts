// The kernel's mapping path after it stopped walking per page: a pmap keeps the level-1 table its
// last creating walk reached, so these tests change windows the way GUPS MAP does (munmap, then
// mmap(MAP_FIXED | MAP_POPULATE) of another part of a file: the window's page tables are freed and
// built again) and check every page against the file's own page list, the invariant checker, and
// loads through the CPU — then free a table under the kept path directly at the pmap.
import { describe, it, expect } from 'vitest';
import { Kernel } from '../../kernel/kernel.js';
import { MAP_SHARED, MAP_FIXED, MAP_POPULATE } from '../../kernel/vm/vmspace.js';
import { PROT_READ, PROT_WRITE } from '../../kernel/vm/vmMap.js';
import { checkKernelInvariants } from '../../kernel/invariants.js';
import { GiB, MiB } from '../../mmu/units.js';

const root = { uid: 0, gid: 0 };

describe('pmap mapping path', () => {
  it('window changes map every page to the file page the window shows (tables freed and rebuilt)', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const p = k.spawn('w', root);
    const cpu = k.enter(p.threads[0]);
    const W = 4 * MiB + 3 * 4096; // not a whole number of level-1 tables: windows straddle them
    const f = k.tmpfs.create('/w', 8 * W, root, 0o644, 12);
    k.tmpfs.preload(f);
    const pages = f.object.pages;
    // Each file page holds its own page number in its first word.
    for (const [pindex, pa] of pages) k.mem.write32(pa, pindex);
    const base = p.primary.mmap({ addr: null, len: W, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_POPULATE, object: f.object, offset: 0 });
    for (const w of [3, 0, 7, 7, 1, 5]) {
      p.primary.munmap(base, W);
      expect(p.primary.pmap.leaves[1]).toBe(0);
      p.primary.mmap({ addr: base, len: W, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_POPULATE | MAP_FIXED, object: f.object, offset: w * W });
      expect(p.primary.pmap.leaves[1]).toBe(W / 4096);
      for (let i = 0; i < W / 4096; i++) {
        const pindex = (w * W) / 4096 + i;
        expect(p.primary.pmap.lookup(base + i * 4096)?.frame).toBe(pages.get(pindex));
      }
      expect(checkKernelInvariants(k)).toEqual([]);
      const faults = cpu.pageFaults;
      expect(cpu.load32(base + W - 4096)).toBe((w * W) / 4096 + W / 4096 - 1);
      expect(cpu.pageFaults).toBe(faults); // populated: no fault
    }
  });

  it('an enter after the table under the kept path was freed builds and registers a new one', () => {
    const k = new Kernel({ memBytes: GiB, cpus: 1 });
    const p = k.spawn('t', root);
    const pm = p.primary.pmap;
    const va = 0x4000_0000;
    const frames = [0, 1, 2].map(() => k.allocFrame(0, 0));
    const rights = { writable: true, user: true, nx: true };
    expect(pm.enter(va, frames[0], rights)).toBe(0);
    expect(pm.enter(va + 4096, frames[1], rights)).toBe(0);
    const table = pm.tableAt(va, 1)!;
    expect(table.live).toBe(2);
    pm.remove(va, va + 2 * 4096); // the level-1 table empties and is freed
    pm.clearPending();
    expect(k.tables.has(table.pa)).toBe(false);
    expect(pm.lookup(va)).toBeNull();
    expect(pm.enter(va + 2 * 4096, frames[2], rights)).toBe(0);
    const again = pm.tableAt(va, 1)!;
    expect(k.tables.get(again.pa)).toBe(again);
    expect(again.live).toBe(1);
    expect(pm.lookup(va + 2 * 4096)?.frame).toBe(frames[2]);
    expect(pm.lookup(va + 4096)).toBeNull();
    for (const pa of frames) k.freeFrame(pa, 0);
    pm.remove(va, va + 4 * 4096);
    pm.clearPending();
    expect(checkKernelInvariants(k)).toEqual([]);
  });
});
