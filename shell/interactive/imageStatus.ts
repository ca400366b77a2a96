// What the shell knows about its machine image, and the rule that decides "unsaved changes".
//
// The persistent state is what an image holds: the registry (named spaces, segments, their
// attributes), the tmpfs files, and the contents of segments and files. A line changes it when
//   (1) the registry fingerprint (lab/image registryFingerprint: every name, attribute and size)
//       differs after the line from before it — this catches seg_alloc, vas_create, seg_ctl,
//       seg_attach to a named space, unlink, a process exit that frees a deleted segment ...; or
//   (2) the line could have written memory or a file: a store, memset or memcpy statement (or a
//       fault, which may end a page-crossing store halfway), or a call that writes into memory or
//       a file (write, read, msgq_recv, pipe, wait, waitpid, ftruncate).
// (2) does not look at where the bytes went, so a store to a process's private memory also
// counts: the rule may say "unsaved" when nothing persistent changed, never the other way round.

import type { TranscriptEntry } from '../../syscalls/trace/runner.js';

export interface ImageStatus {
  /** The image file as the user named it. */
  readonly file: string;
  /** The machine differs (or may differ) from the file. */
  readonly dirty: boolean;
  readonly readOnly: boolean;
}

/** Calls that copy bytes into emulated memory or a file. */
const WRITING_CALLS = new Set(['write', 'read', 'msgq_recv', 'pipe', 'wait', 'waitpid', 'ftruncate']);

/** Whether any of `entries` may have changed segment or file contents (rule (2) above). */
export function mayWriteContents(entries: readonly TranscriptEntry[]): boolean {
  return entries.some((e) => e.kind === 'store' || e.kind === 'fault' || ((e.kind === 'call' || e.kind === 'blocked') && WRITING_CALLS.has(e.name)));
}

/** The status line's text: `image m.img  [+] unsaved changes` and the like. */
export function imageStatusText(s: ImageStatus): string {
  if (s.readOnly) return `image ${s.file} (read-only)${s.dirty ? '  [+] changed, not saved on exit' : ''}`;
  return `image ${s.file}${s.dirty ? '  [+] unsaved changes (saved on exit, or type save)' : '  saved'}`;
}
