// The SpaceJMP calls of the reference's Figure 40, plus vas_current. Identifiers: a vid names a
// named address space (global), a vh an attached shadow (per process, carries VH_BIT), 0 is the
// primary and -1 the space the calling thread is in (CURRENT) — so seg_attach/seg_detach take
// either kind in one argument.

import { WouldBlock } from '../../kernel/proc/ipc.js';
import '../../kernel/spacejmp/spacejmp.js'; // installs SpaceJMP into every kernel (kernel.spacejmp)
import { defineSyscall } from '../table.js';
import { pageAddr } from './memory.js';
import {
  formatSegAllocFlags, formatSegCtlArg, formatSegCtlCmd, formatSegProt, formatVasCtlArg, formatVasCtlCmd, formatVasHandle, formatVasSwitchFlags,
} from './spacejmpConstants.js';
import { formatAddr } from '../../mmu/units.js';

const sj = (k: import('../../kernel/kernel.js').Kernel) => k.spacejmp;
const hex = (r: number | bigint): string => (r < 0 ? String(r) : formatAddr(r));
/** vh values (VH_BIT set) read best in hex, vids in decimal, 0 and -1 as PRIMARY and CURRENT. */
const handle = formatVasHandle;

export const spacejmpCalls = [
  defineSyscall({
    name: 'vas_create', args: [{ name: 'name', type: 'string' }, { name: 'mode', type: 'mode' }],
    doc: 'create a named address space; returns its vid',
    handler: (k, t, [name, mode]) => sj(k).vasCreate(t, name, mode),
  }),
  defineSyscall({
    name: 'vas_find', args: [{ name: 'name', type: 'string' }],
    doc: 'look up a named address space by name; returns its vid',
    handler: (k, t, [name]) => sj(k).vasFind(t, name),
  }),
  defineSyscall({
    name: 'vas_clone', args: [{ name: 'vid', type: 'int' }],
    doc: 'a new named address space with the same segments; returns its vid',
    handler: (k, t, [vid]) => sj(k).vasClone(t, vid),
  }),
  defineSyscall({
    name: 'vas_attach', args: [{ name: 'vid', type: 'int' }],
    doc: 'attach a named address space: a shadow with its segments at your rights plus this process\'s one private region (shared with the primary and every other shadow); returns a vh',
    formatResult: hex,
    handler: (k, t, [vid]) => sj(k).vasAttach(t, vid),
  }),
  defineSyscall({
    name: 'vas_detach', args: [{ name: 'vh', type: 'int', format: handle }],
    doc: 'detach an attached address space (EBUSY while a thread is in it)',
    handler: (k, t, [vh]) => { sj(k).vasDetach(t, vh); return 0; },
  }),
  defineSyscall({
    name: 'vas_switch', args: [{ name: 'vh', type: 'int', format: handle }, { name: 'flags', type: 'flags', default: 0, format: formatVasSwitchFlags }],
    blocking: true,
    doc: 'switch the calling thread into vh (0 = primary); blocks on a lockable segment unless VAS_NOWAIT',
    handler: (k, t, [vh, flags]) => {
      const r = sj(k).vasSwitch(t, vh, flags);
      return r === 0 ? 0 : new WouldBlock(r, r.name);
    },
  }),
  defineSyscall({
    name: 'vas_current', args: [],
    doc: 'the handle of the address space the calling thread is in (0 = primary)',
    formatResult: hex,
    handler: (k, t) => sj(k).vasCurrent(t),
  }),
  defineSyscall({
    name: 'vas_ctl', args: [
      { name: 'cmd', type: 'int', format: formatVasCtlCmd }, { name: 'vid', type: 'int' },
      { name: 'arg', type: 'int', default: 0, format: (arg: number, all) => formatVasCtlArg(all[0] as number, arg) },
    ],
    doc: 'VAS_CTL_INFO (returns the number of segments), VAS_CTL_DELETE, VAS_CTL_TAGS 0|1, VAS_CTL_CHMOD mode, VAS_CTL_PTPOLICY 0 (copy) | 1 (shared)',
    handler: (k, t, [cmd, vid, arg]) => {
      const r = sj(k).vasCtl(t, cmd, vid, arg);
      return typeof r === 'number' ? r : (r.segments as unknown[]).length;
    },
  }),
  defineSyscall({
    name: 'seg_alloc',
    args: [{ name: 'name', type: 'string' }, { name: 'base', type: 'addr' }, { name: 'size', type: 'size' }, { name: 'mode', type: 'mode' }, { name: 'flags', type: 'flags', default: 0, format: formatSegAllocFlags }],
    doc: 'allocate a segment of wired memory at base (in the segment region); SEG_2M for 2 MiB pages; returns its sid',
    handler: (k, t, [name, base, size, mode, flags]) => sj(k).segAlloc(t, name, pageAddr(base, 'segment base'), size, mode, flags),
  }),
  defineSyscall({
    name: 'seg_find', args: [{ name: 'name', type: 'string' }],
    doc: 'look up a segment by name; returns its sid',
    handler: (k, t, [name]) => sj(k).segFind(t, name),
  }),
  defineSyscall({
    name: 'seg_attach', args: [{ name: 'target', type: 'int', format: handle }, { name: 'sid', type: 'int' }, { name: 'prot', type: 'int', default: -1, format: formatSegProt }, { name: 'flags', type: 'flags', default: 0, format: formatVasSwitchFlags }],
    blocking: true,
    doc: 'map a segment into a named space (vid, and all its shadows, each at its attacher\'s rights), an attached space (vh), PRIMARY or CURRENT; threads running there take a lockable segment\'s lock first: blocks, or EBUSY with VAS_NOWAIT',
    handler: (k, t, [target, sid, prot, flags]) => {
      const r = sj(k).segAttach(t, target, sid, prot, flags);
      return typeof r === 'number' ? r : new WouldBlock(r, r.name);
    },
  }),
  defineSyscall({
    name: 'seg_detach', args: [{ name: 'target', type: 'int', format: handle }, { name: 'sid', type: 'int' }],
    doc: 'unmap a segment from a named space (and its shadows, with TLB shootdown), a vh, PRIMARY or CURRENT',
    handler: (k, t, [target, sid]) => sj(k).segDetach(t, target, sid),
  }),
  defineSyscall({
    name: 'seg_clone', args: [{ name: 'sid', type: 'int' }],
    doc: 'a new segment with a copy of the contents; returns its sid',
    handler: (k, t, [sid]) => sj(k).segClone(t, sid),
  }),
  defineSyscall({
    name: 'seg_ctl', args: [
      { name: 'sid', type: 'int' }, { name: 'cmd', type: 'int', format: formatSegCtlCmd },
      { name: 'arg', type: 'int', default: 0, format: (arg: number, all) => formatSegCtlArg(all[1] as number, arg) },
    ],
    doc: 'SEG_CTL_INFO (returns the size), SEG_CTL_DELETE, SEG_CTL_LOCKABLE 0|1, SEG_CTL_CHMOD mode',
    handler: (k, t, [sid, cmd, arg]) => {
      const r = sj(k).segCtl(t, sid, cmd, arg);
      return typeof r === 'number' ? r : (r.size as number);
    },
  }),
];
