// mmap, munmap, mprotect on the calling thread's current address space (its primary, or the
// SpaceJMP space it switched into).

import type { Thread } from '../../kernel/proc/process.js';
import { fail } from '../../kernel/errno.js';
import { MAP_ANON, MAP_FIXED, MAP_SHARED } from '../../kernel/vm/vmspace.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE, PROT_ALL } from '../../kernel/vm/vmMap.js';
import { formatAddr } from '../../mmu/units.js';
import { defineSyscall } from '../table.js';
import { FileHandle } from './files.js';

/** A page-aligned address as a number (every 4K-aligned 64-bit value is exact as a double). */
export function pageAddr(a: number | bigint, what = 'address'): number {
  if (typeof a === 'number') {
    // An `addr` argument given as a number: a non-negative safe integer (args.ts).
    if (a % 4096 !== 0) fail('EINVAL', `${what} ${formatAddr(a)} is not page-aligned`);
    return a;
  }
  if (a % 4096n !== 0n) fail('EINVAL', `${what} ${formatAddr(a)} is not page-aligned`);
  return Number(a);
}

function mapFile(t: Thread, fd: number, flags: number, prot: number) {
  const f = t.process.fds.get(fd)!;
  if (!(f instanceof FileHandle)) fail('ENODEV', `descriptor ${fd} (${f.kind}) cannot be mapped`);
  if (!f.readable) fail('EACCES', `${f.file.path} is not open for reading`);
  const shared = (flags & MAP_SHARED) !== 0;
  if (shared && (prot & PROT_WRITE) !== 0 && !f.writable) fail('EACCES', `${f.file.path} is not open for writing`);
  // A shared mapping of a read-only descriptor may never become writable (mprotect: EACCES).
  return { object: f.file.object, label: f.file.path, maxProt: shared && !f.writable ? PROT_READ | PROT_EXEC : PROT_ALL };
}

const hexResult = (r: number | bigint): string => (r < 0 ? String(r) : formatAddr(r));

export const memoryCalls = [
  defineSyscall({
    number: 9, name: 'mmap',
    args: [
      { name: 'addr', type: 'addr' }, { name: 'len', type: 'size' }, { name: 'prot', type: 'prot' },
      { name: 'flags', type: 'mapflags' }, { name: 'fd', type: 'fd', orNone: true, default: -1 }, { name: 'offset', type: 'size', default: 0 },
    ],
    doc: 'map anonymous memory (MAP_ANON, fd -1) or a tmpfs file; MAP_FIXED replaces, MAP_FIXED|MAP_EXCL fails on overlap',
    formatResult: hexResult,
    handler: (_k, t, [addr, len, prot, flags, fd, offset]) => {
      const fixed = (flags & MAP_FIXED) !== 0;
      let file = null;
      if ((flags & MAP_ANON) !== 0) {
        if (fd !== -1) fail('EINVAL', 'MAP_ANON takes fd -1');
        if (offset !== 0) fail('EINVAL', 'MAP_ANON takes offset 0');
      } else {
        if (fd === -1) fail('EBADF', 'a file mapping needs a descriptor (or MAP_ANON)');
        file = mapFile(t, fd, flags, prot);
      }
      const at = fixed ? pageAddr(addr) : addr === 0 || addr === 0n ? null : Number(addr);
      return t.space.mmap({ addr: at, len, prot, flags, object: file?.object ?? null, offset, label: file?.label, maxProt: file?.maxProt });
    },
  }),

  defineSyscall({
    number: 11, name: 'munmap', args: [{ name: 'addr', type: 'addr' }, { name: 'len', type: 'size' }],
    handler: (_k, t, [addr, len]) => {
      t.space.munmap(pageAddr(addr), len);
      return 0;
    },
  }),

  defineSyscall({
    number: 10, name: 'mprotect', args: [{ name: 'addr', type: 'addr' }, { name: 'len', type: 'size' }, { name: 'prot', type: 'prot' }],
    handler: (_k, t, [addr, len, prot]) => {
      t.space.mprotect(pageAddr(addr), len, prot);
      return 0;
    },
  }),
];
