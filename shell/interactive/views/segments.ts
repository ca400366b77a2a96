// segments: every SpaceJMP segment like a file listing — where it sits, its size and page size,
// mode and owner, whether it is lockable and who holds its lock, and how many spaces map it.

import type { Kernel } from '../../../kernel/kernel.js';
import { segments } from '../../../kernel/snapshot.js';
import { modeString } from '../../../kernel/spacejmp/segment.js';
import { formatSize } from '../../../mmu/units.js';
import { table, hex, note, type ViewModel } from './format.js';

export function segmentsView(k: Kernel, width: number): ViewModel {
  const segs = segments(k);
  if (!segs) return { title: 'segments', lines: [note('SpaceJMP is not installed on this machine')] };
  if (segs.length === 0) return { title: 'segments', lines: [note('no segments yet: seg_alloc("name", base, size, 0660) makes one')] };
  const rows = segs.map((s) => [
    String(s.sid), s.name + (s.deleted ? ' (deleted)' : ''), hex(s.base), formatSize(s.size) + (s.pageSize !== 4096 ? ` (${formatSize(s.pageSize)} pages)` : ''),
    modeString(s.mode), `${s.uid}:${s.gid}`, s.lockable ? 'yes' : 'no', s.lockable || s.lockHeld ? s.lock : '-', String(s.maps),
  ]);
  return {
    title: `segments (${segs.length})`,
    lines: table([
      { title: 'SID', align: 'right' }, { title: 'NAME', flex: true }, { title: 'BASE' }, { title: 'SIZE', align: 'right' },
      { title: 'MODE' }, { title: 'OWNER' }, { title: 'LOCKABLE' }, { title: 'LOCK', flex: true }, { title: 'MAPS', align: 'right' },
    ], rows, width),
  };
}
