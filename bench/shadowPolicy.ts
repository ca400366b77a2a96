// `npm run bench -- shadow-policy`: what keeping shadows consistent costs, for the two ways a
// shadow gets a segment's page tables (copied entries vs shared page-table subtrees):
//   1. vas_attach: modelled cycles and page-table pages, as the segment grows;
//   2. seg_attach / seg_detach on a named space with N shadows (each with a thread in it on its
//      own CPU), including the TLB shootdown to every CPU running a shadow, as N grows.
// Modelled cycles are of the emulated machine (profile m2); wall-clock is the emulator's.
// Baseline in the same run: the same operation on a named space with no shadows.

import { Kernel } from '../kernel/kernel.js';
import { syscall } from '../syscalls/dispatch.js';
import { RESERVED_START } from '../kernel/layout.js';
import { VAS_CTL_PTPOLICY } from '../kernel/spacejmp/spacejmp.js';
import { GiB, MiB, formatSize } from '../mmu/units.js';
import type { Thread } from '../kernel/proc/process.js';

function call(k: Kernel, t: Thread, name: string, ...args: (number | bigint | string)[]): number {
  const r = syscall(k, t, name, args);
  if (typeof r === 'object' || Number(r) < 0) throw new Error(`${name}(${args.join(', ')}) = ${String(r)}`);
  return Number(r);
}

/** Cycles of all CPUs together: shootdowns charge the remote side too. */
const total = (k: Kernel) => k.cpus.reduce((s, c) => s + c.clock, 0);

function attachCost(policy: 0 | 1, segBytes: number) {
  const k = new Kernel({ memBytes: 4 * GiB, cpus: 2 });
  const owner = k.spawn('owner', { uid: 0, gid: 0 }).threads[0];
  const vid = call(k, owner, 'vas_create', 'v', 0o666);
  call(k, owner, 'vas_ctl', VAS_CTL_PTPOLICY, vid, policy);
  const sid = call(k, owner, 'seg_alloc', 's', BigInt(RESERVED_START), segBytes, 0o666);
  call(k, owner, 'seg_attach', vid, sid);
  const p = k.spawn('p', { uid: 0, gid: 0 }).threads[0];
  k.enter(p);
  const tables = k.tables.size;
  const c0 = total(k);
  const t0 = performance.now();
  call(k, p, 'vas_attach', vid);
  return { cycles: total(k) - c0, wallUs: (performance.now() - t0) * 1e3, tablePages: k.tables.size - tables };
}

function consistencyCost(policy: 0 | 1, shadows: number) {
  const k = new Kernel({ memBytes: 4 * GiB, cpus: shadows + 1 });
  const owner = k.spawn('owner', { uid: 0, gid: 0 }, { affinity: 0 }).threads[0];
  const vid = call(k, owner, 'vas_create', 'v', 0o666);
  call(k, owner, 'vas_ctl', VAS_CTL_PTPOLICY, vid, policy);
  const base = call(k, owner, 'seg_alloc', 'base', BigInt(RESERVED_START), 2 * MiB, 0o666);
  call(k, owner, 'seg_attach', vid, base);
  for (let i = 0; i < shadows; i++) {
    const t = k.spawn(`p${i}`, { uid: 0, gid: 0 }, { affinity: i + 1 }).threads[0];
    const vh = call(k, t, 'vas_attach', vid);
    call(k, t, 'vas_switch', vh);
    k.enter(t).load32(RESERVED_START); // a TLB entry for the shootdown to remove
  }
  const sid = call(k, owner, 'seg_alloc', 'extra', BigInt(RESERVED_START + 64 * MiB), 1 * MiB, 0o666);
  k.enter(owner);
  let c0 = total(k);
  call(k, owner, 'seg_attach', vid, sid);
  const attach = total(k) - c0;
  c0 = total(k);
  const t0 = performance.now();
  call(k, owner, 'seg_detach', vid, sid);
  const wallUs = (performance.now() - t0) * 1e3;
  const detach = total(k) - c0;
  c0 = total(k);
  call(k, owner, 'seg_detach', vid, base); // the one whose entries sit in every CPU's TLB
  const detachCached = total(k) - c0;
  const shootdown = k.cpus.reduce((s, c) => s + (c.cyclesBy.shootdown ?? 0), 0);
  return { segAttachCycles: attach, segDetachCycles: detach, detachWithTlbEntriesCycles: detachCached, shootdownCyclesBothDetaches: shootdown, detachWallUs: wallUs };
}

export function main(argv: string[]): void {
  if (argv.length > 0) throw new RangeError(`bench shadow-policy: unknown argument "${argv[0]}" (it takes none)`);
  const names = ['copy', 'shared'] as const;
  const attach = [];
  for (const bytes of [64 * 1024, 2 * MiB, 32 * MiB, 256 * MiB, GiB]) {
    process.stderr.write(`attach ${formatSize(bytes)}\n`);
    const row: Record<string, unknown> = { segment: formatSize(bytes) };
    for (const p of [0, 1] as const) row[names[p]] = attachCost(p, bytes);
    attach.push(row);
  }
  const consistency = [];
  for (const n of [0, 1, 2, 4, 8, 16]) {
    process.stderr.write(`consistency with ${n} shadows\n`);
    const row: Record<string, unknown> = { shadows: n };
    for (const p of [0, 1] as const) row[names[p]] = consistencyCost(p, n);
    consistency.push(row);
  }
  process.stdout.write(JSON.stringify({
    benchmark: 'shadow-policy',
    clocks: { cycles: 'modelled cycles of the emulated machine (all CPUs summed), profile m2', wallUs: 'emulator wall-clock, microseconds' },
    baseline: 'the rows with 0 shadows: the same seg_attach/seg_detach on a named space nobody has attached',
    vasAttach: attach,
    namedSpaceChanges: consistency,
  }, null, 2) + '\n');
}
