// `sjmp demo`: a short tour of the emulated MMU on a built-in default — a page walk level by
// level through real entries in emulated memory, TLB misses then hits, and the cost of a
// vas_switch with and without TLB tags. With --image the tour's named space `demo` and its
// segment `demo-seg` persist: a later run finds them, and a run counter kept in the segment says
// how many tours this machine has seen.

import { Kernel } from '../../kernel/kernel.js';
import { describeMachine } from '../../kernel/machineConfig.js';
import { syscall } from '../../syscalls/dispatch.js';
import { TRACE_CONSTANTS } from '../../syscalls/trace/runner.js';
import { LEVEL_NAMES, pteFlagString } from '../../mmu/pte.js';
import { LEVEL_SPAN } from '../../mmu/address.js';
import { softWalkVa } from '../../mmu/pageTableReader.js';
import { formatAddr } from '../../mmu/units.js';
import { RESERVED_START } from '../../kernel/layout.js';
import { buildMachine, type GlobalOptions } from '../machineOptions.js';
import type { Thread } from '../../kernel/proc/process.js';
import { openImageSession, type ImageOptions } from './image.js';

const C = TRACE_CONSTANTS;

function call(k: Kernel, t: Thread, name: string, ...args: (number | bigint | string)[]): number {
  const r = syscall(k, t, name, args);
  if (typeof r !== 'number' && typeof r !== 'bigint') throw new Error(`${name} blocked`);
  if (r < 0) throw new Error(`${name} failed: ${r}`);
  return Number(r);
}

/** The walk for `va` in the thread's page tables, one line per level (read without side effects). */
function walkLines(k: Kernel, t: Thread, va: number): string[] {
  const pm = t.space.pmap;
  const out: string[] = [`CR3 -> ${formatAddr(pm.root)} (PCID ${pm.pcid})`];
  const w = softWalkVa(k.mem, pm.root, pm.levels, va, { steps: true });
  for (const s of w.steps!) {
    const raw = ((BigInt(s.hi >>> 0) << 32n) | BigInt(s.lo >>> 0)).toString(16).padStart(16, '0');
    out.push(`  ${LEVEL_NAMES[s.level].padEnd(4)}[${String(s.index).padStart(3)}] @ ${formatAddr(s.entryPa).padEnd(14)} = 0x${raw}  ${pteFlagString(s.lo, s.hi, s.level)}`);
  }
  if (!w.present) out.push('  not present');
  else out.push(`  => physical ${formatAddr(w.frame + (va % LEVEL_SPAN[w.level]))}`);
  return out;
}

/** The demo's named objects: found on a machine from an image, made otherwise. */
function findOrMake(k: Kernel, t: Thread): { sid: number; vid: number; found: boolean } {
  const sid = Number(syscall(k, t, 'seg_find', ['demo-seg']));
  const vid = Number(syscall(k, t, 'vas_find', ['demo']));
  if (sid >= 0 && vid >= 0) return { sid, vid, found: true };
  if (sid >= 0 || vid >= 0) throw new Error('the machine has only one of `demo` and `demo-seg`: delete the other (seg_ctl / vas_ctl) for a fresh tour');
  const made = call(k, t, 'seg_alloc', 'demo-seg', BigInt(RESERVED_START), 2 ** 21, 0o600);
  const v = call(k, t, 'vas_create', 'demo', 0o600);
  call(k, t, 'seg_attach', v, made);
  return { sid: made, vid: v, found: false };
}

export function demoCommand(opts: GlobalOptions & ImageOptions & { json?: boolean }): number {
  const session = opts.image ? openImageSession(opts, () => buildMachine(opts)) : null;
  try {
    const code = demo(session?.kernel ?? new Kernel(buildMachine(opts)), opts);
    session?.finish(code === 0);
    return code;
  } finally {
    session?.release();
  }
}

function demo(k: Kernel, opts: { json?: boolean }): number {
  const config = k.config;
  const p = k.spawn('demo', { uid: 1000, gid: 1000 });
  const t = p.threads[0];
  const pages = 64;
  const va = call(k, t, 'mmap', 0, pages * 4096, C.RW, C.MAP_PRIVATE | C.MAP_ANON, -1, 0);
  const cpu = k.enter(t);
  const snap = () => ({ ...cpu.counters() });
  const s0 = snap();
  for (let i = 0; i < pages; i++) cpu.store32(va + i * 4096, i);
  const s1 = snap();
  for (let i = 0; i < pages; i++) cpu.load32(va + i * 4096);
  const s2 = snap();
  const target = va + 5 * 4096 + 0x123;
  const walk = walkLines(k, t, target);

  // One segment in a named space; switch in and out, untagged then tagged.
  const { vid, found } = findOrMake(k, t);
  const vh = call(k, t, 'vas_attach', vid);
  const switchCost = (tags: number) => {
    call(k, t, 'vas_ctl', C.VAS_CTL_TAGS, vid, tags);
    call(k, t, 'vas_ctl', C.VAS_CTL_TAGS, C.PRIMARY, tags);
    call(k, t, 'vas_switch', vh);
    call(k, t, 'vas_switch', C.PRIMARY);
    for (let i = 0; i < pages; i++) cpu.load32(va + i * 4096); // warm
    const c0 = cpu.clock;
    const w0 = cpu.walks;
    call(k, t, 'vas_switch', vh);
    const sw = cpu.clock - c0;
    call(k, t, 'vas_switch', C.PRIMARY);
    const c1 = cpu.clock;
    for (let i = 0; i < pages; i++) cpu.load32(va + i * 4096);
    return { switchCycles: sw, reloadWalks: cpu.walks - w0, reloadCycles: cpu.clock - c1 };
  };
  const untagged = switchCost(0);
  const tagged = switchCost(1);
  // The run counter in the segment's first word (after the measurements, so they do not see it).
  call(k, t, 'vas_switch', vh);
  const runs = cpu.load32(RESERVED_START) + 1;
  cpu.store32(RESERVED_START, runs);
  call(k, t, 'vas_switch', C.PRIMARY);
  const result = {
    machine: describeMachine(config),
    clock: `modelled cycles, profile ${config.profile.name}`,
    firstTouch: { pages, walks: s1.walks - s0.walks, pageFaults: s1.pageFaults - s0.pageFaults, cycles: s1.modelledCycles - s0.modelledCycles },
    secondTouch: { pages, walks: s2.walks - s1.walks, l1Hits: s2.l1Hits - s1.l1Hits, stlbHits: s2.stlbHits - s1.stlbHits, cycles: s2.modelledCycles - s1.modelledCycles },
    walk: { va: formatAddr(target), levels: walk },
    vasSwitch: { untagged, tagged },
    namedObjects: { found, runs },
  };
  if (opts.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return 0;
  }
  const out = [
    `spacejmp-emu MMU demo — ${result.machine}`,
    `(all cycle figures are ${result.clock})`,
    '',
    `Touching ${pages} fresh pages: ${result.firstTouch.pageFaults} page faults, ${result.firstTouch.walks} page walks, ${Math.round(result.firstTouch.cycles)} cycles`,
    `Touching them again:       ${result.secondTouch.walks} page walks, ${result.secondTouch.l1Hits} L1 DTLB hits, ${result.secondTouch.stlbHits} STLB hits, ${Math.round(result.secondTouch.cycles)} cycles`,
    '',
    `Page walk for ${result.walk.va} (real entries read from emulated physical memory):`,
    ...walk,
    '',
    'vas_switch into a named address space and back, then re-touching the pages:',
    `  untagged (tag 0 flushes): switch ${Math.round(untagged.switchCycles)} cycles (syscall included), then ${untagged.reloadWalks} walks / ${Math.round(untagged.reloadCycles)} cycles to re-touch`,
    `  tagged (per-space PCID):  switch ${Math.round(tagged.switchCycles)} cycles (syscall included), then ${tagged.reloadWalks} walks / ${Math.round(tagged.reloadCycles)} cycles to re-touch`,
    '',
    found
      ? `Named space "demo" and segment "demo-seg" were already on this machine (from its image): tour ${runs} on it (the count lives in the segment).`
      : `Made named space "demo" and segment "demo-seg"; with --image FILE they outlive this run (tour ${runs}).`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
