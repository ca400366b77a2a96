// Files on the in-kernel tmpfs, pipes, and the read/write/close calls shared by both. A file's
// pages are its page cache: read and write go through the same pages every mapping sees.

import type { Kernel, UserAddr } from '../../kernel/kernel.js';
import type { OpenFile, Process, Thread } from '../../kernel/proc/process.js';
import type { TmpFile } from '../../kernel/fs/tmpfs.js';
import { fail } from '../../kernel/errno.js';
import { referenceObject, releaseObject, allocObjectPage, type ObjectHost, type VmObject } from '../../kernel/vm/vmObject.js';
import { createPipe, pipeRead, pipeWrite, PipeEnd, permits } from '../../kernel/proc/ipc.js';
import { O_ACCMODE, O_CREAT, O_EXCL, O_KNOWN, O_RDONLY, O_TRUNC, O_WRONLY, formatOpenFlags } from '../constants.js';
import { defineSyscall, type SysResult } from '../table.js';
import { ACCESS_READ, ACCESS_WRITE } from '../../mmu/pageWalker.js';

/** An open tmpfs file. It holds a reference on the file's object, so an unlinked file lives until closed. */
export class FileHandle implements OpenFile {
  readonly kind = 'file';
  refCount = 1;
  offset = 0;

  constructor(readonly host: ObjectHost, readonly file: TmpFile, readonly readable: boolean, readonly writable: boolean) {
    referenceObject(file.object);
  }

  get object(): VmObject { return this.file.object; }

  close(): void {
    releaseObject(this.host, this.file.object);
  }

  describe(): string {
    return `${this.file.path} (${this.readable ? 'r' : '-'}${this.writable ? 'w' : '-'}, offset ${this.offset})`;
  }
}

function pageShiftOf(pageSize: number): number {
  const shift = { 4096: 12, [2 ** 21]: 21, [2 ** 30]: 30 }[pageSize];
  if (shift === undefined) fail('EINVAL', 'page size must be 4096, 2M or 1G');
  return shift;
}

/** Resize a file; shrinking is refused while it is mapped (its pages could be in use). */
function truncate(k: Kernel, f: TmpFile, len: number): void {
  if (len > MAX_FILE_BYTES) fail('EFBIG', `${len} is beyond the largest file size`);
  const obj = f.object;
  const size = Math.ceil(len / obj.pageSize) * obj.pageSize;
  if (size < obj.size) {
    if (obj.mappers.size > 0 || obj.shadows.size > 0) fail('EBUSY', `${f.path} is mapped: unmap it before shrinking`);
    for (const [pindex, pa] of obj.pages) {
      if (pindex * obj.pageSize >= size) {
        k.freeFrame(pa, obj.order);
        obj.pages.delete(pindex);
      }
    }
  }
  // Bytes past the new end in its last page read as zeros if the file grows again (as Linux zeroes them).
  const old = f.length;
  if (len < old && len % obj.pageSize !== 0) {
    const pa = obj.pages.get(Math.floor(len / obj.pageSize));
    if (pa !== undefined) k.mem.fill(pa + (len % obj.pageSize), obj.pageSize - (len % obj.pageSize), 0);
  }
  obj.size = size;
  f.length = len;
}

/** The lowest `n` free descriptor numbers, without taking them. */
function freeFds(p: Process, n: number): number[] {
  const out: number[] = [];
  for (let fd = 0; out.length < n; fd++) if (!p.fds.has(fd)) out.push(fd);
  return out;
}

function openFile(k: Kernel, t: Thread, path: string, flags: number, mode: number, pageSize: number): number {
  if ((flags & ~O_KNOWN) !== 0 || (flags & O_ACCMODE) === O_ACCMODE) fail('EINVAL', 'unknown open flags');
  const acc = flags & O_ACCMODE;
  const readable = acc !== O_WRONLY;
  const writable = acc !== O_RDONLY;
  const cred = t.process.cred;
  let f = k.tmpfs.files.get(path);
  if (f) {
    if ((flags & O_CREAT) !== 0 && (flags & O_EXCL) !== 0) fail('EEXIST', path);
    if (!permits(cred, f, (readable ? 4 : 0) | (writable ? 2 : 0))) fail('EACCES', `${path} (mode 0${f.mode.toString(8)}, uid ${f.uid})`);
    if ((flags & O_TRUNC) !== 0 && writable) truncate(k, f, 0);
  } else {
    if ((flags & O_CREAT) === 0) fail('ENOENT', path);
    f = k.tmpfs.create(path, 0, cred, mode, pageShiftOf(pageSize));
  }
  return t.process.allocFd(new FileHandle(k, f, readable, writable));
}

/** Linux's MAX_RW_COUNT: one read or write moves at most this many bytes. */
export const MAX_RW_COUNT = 0x7fff_f000;
/** The largest tmpfs file: offsets and lengths stay exact as numbers (offset + MAX_RW_COUNT < 2^53). */
export const MAX_FILE_BYTES = 2 ** 52;

/**
 * Copy between a user buffer and the file's page cache, chunk by chunk (no host buffer): the
 * work is bounded by the pages actually copied. `toUser` reads the file; otherwise it writes,
 * allocating page-cache pages as it goes. Returns the bytes moved (short at a bad user page or,
 * for writes, when memory runs out).
 */
function copyFilePages(k: Kernel, t: Thread, h: FileHandle, va: UserAddr, n: number, toUser: boolean): number {
  const obj = h.file.object;
  const ps = obj.pageSize;
  return k.forEachUserChunk(t, va, n, toUser ? ACCESS_WRITE : ACCESS_READ, (upa, done, m) => {
    let used = 0;
    while (used < m) {
      const off = h.offset + done + used;
      const inPage = off % ps;
      const c = Math.min(m - used, ps - inPage);
      k.charge('vm', k.costs.objectPageLookup);
      let fpa = obj.pages.get(Math.floor(off / ps)) ?? -1;
      if (toUser) {
        if (fpa < 0) k.mem.fill(upa + used, c, 0); // a hole reads as zeros
        else k.mem.copy(upa + used, fpa + inPage, c);
      } else {
        if (fpa < 0) {
          fpa = allocObjectPage(k, obj, off - inPage, true);
          if (fpa < 0) return used;
          if ((off - inPage) + ps > obj.size) obj.size = off - inPage + ps;
        }
        k.mem.copy(fpa + inPage, upa + used, c);
      }
      k.charge('copy', c * k.costs.copyPerByte);
      used += c;
    }
    return used;
  });
}

function fileRead(k: Kernel, t: Thread, h: FileHandle, va: UserAddr, len: number): number {
  if (!h.readable) fail('EBADF', `${h.file.path} is not open for reading`);
  const n = Math.max(0, Math.min(len, MAX_RW_COUNT, h.file.length - h.offset));
  if (n === 0) return 0;
  const done = copyFilePages(k, t, h, va, n, true);
  h.offset += done;
  return done;
}

function fileWrite(k: Kernel, t: Thread, h: FileHandle, va: UserAddr, len: number): number {
  if (!h.writable) fail('EBADF', `${h.file.path} is not open for writing`);
  if (len === 0) return 0;
  if (h.offset >= MAX_FILE_BYTES) fail('EFBIG', `offset ${h.offset} is at the largest file size`);
  const n = Math.min(len, MAX_RW_COUNT, MAX_FILE_BYTES - h.offset);
  const done = copyFilePages(k, t, h, va, n, false);
  if (done === 0) fail('ENOSPC', `no memory for ${h.file.path}`);
  h.offset += done;
  h.file.length = Math.max(h.file.length, h.offset);
  return done;
}

function closeFd(p: Process, fd: number): void {
  const f = p.fds.get(fd)!;
  p.fds.delete(fd);
  if (--f.refCount === 0) f.close();
}

export const fileCalls = [
  defineSyscall({
    number: 2, name: 'open',
    args: [
      { name: 'path', type: 'string' }, { name: 'flags', type: 'flags', default: O_RDONLY, format: formatOpenFlags },
      { name: 'mode', type: 'mode', default: 0o644 }, { name: 'pagesize', type: 'size', default: 4096 },
    ],
    doc: 'open (O_CREAT: create) a tmpfs file; `pagesize` (4096, 2M, 1G) applies when it is created',
    handler: (k, t, [path, flags, mode, pageSize]) => openFile(k, t, path, flags, mode, pageSize),
  }),

  defineSyscall({
    number: 85, name: 'creat', args: [{ name: 'path', type: 'string' }, { name: 'mode', type: 'mode', default: 0o644 }],
    doc: 'open(path, O_CREAT|O_WRONLY|O_TRUNC, mode)',
    handler: (k, t, [path, mode]) => openFile(k, t, path, O_CREAT | O_WRONLY | O_TRUNC, mode, 4096),
  }),

  defineSyscall({
    number: 77, name: 'ftruncate', args: [{ name: 'fd', type: 'fd' }, { name: 'len', type: 'size' }],
    handler: (k, t, [fd, len]) => {
      const h = t.process.fds.get(fd);
      if (!(h instanceof FileHandle)) fail('EINVAL', `descriptor ${fd} is not a file`);
      if (!h.writable) fail('EINVAL', `${h.file.path} is not open for writing`);
      truncate(k, h.file, len);
      return 0;
    },
  }),

  defineSyscall({
    number: 8, name: 'lseek', args: [{ name: 'fd', type: 'fd' }, { name: 'offset', type: 'int' }, { name: 'whence', type: 'int', default: 0 }],
    doc: 'whence 0: from the start, 1: from the current offset, 2: from the end',
    handler: (_k, t, [fd, offset, whence]) => {
      const h = t.process.fds.get(fd);
      if (!(h instanceof FileHandle)) fail('ESPIPE', `descriptor ${fd} cannot seek`);
      const base = whence === 0 ? 0 : whence === 1 ? h.offset : whence === 2 ? h.file.length : fail('EINVAL', 'whence must be 0, 1 or 2');
      if (base + offset < 0) fail('EINVAL', 'negative offset');
      if (base + offset > MAX_FILE_BYTES) fail('EINVAL', 'offset beyond the largest file size');
      h.offset = base + offset;
      return h.offset;
    },
  }),

  defineSyscall({
    number: 87, name: 'unlink', args: [{ name: 'path', type: 'string' }],
    doc: 'remove the name; open descriptors and mappings keep the file alive',
    handler: (k, t, [path]) => {
      const f = k.tmpfs.lookup(path);
      const cred = t.process.cred;
      if (cred.uid !== 0 && cred.uid !== f.uid) fail('EACCES', `${path} belongs to uid ${f.uid}`);
      k.tmpfs.unlink(path);
      return 0;
    },
  }),

  defineSyscall({
    number: 3, name: 'close', args: [{ name: 'fd', type: 'fd' }],
    handler: (_k, t, [fd]) => {
      closeFd(t.process, fd);
      return 0;
    },
  }),

  defineSyscall({
    number: 22, name: 'pipe', args: [{ name: 'fds', type: 'ptr' }],
    doc: 'a pipe: writes the read and write descriptors as two int32 at `fds`',
    handler: (k, t, [fds]) => {
      const p = t.process;
      const [r, w] = freeFds(p, 2);
      const out = new Uint8Array(8);
      const dv = new DataView(out.buffer);
      dv.setInt32(0, r, true);
      dv.setInt32(4, w, true);
      k.copyout(t, fds, out); // EFAULT before any descriptor exists
      const ends = createPipe(k);
      p.fds.set(r, ends.read);
      p.fds.set(w, ends.write);
      return 0;
    },
  }),

  defineSyscall({
    number: 0, name: 'read', args: [{ name: 'fd', type: 'fd' }, { name: 'buf', type: 'ptr' }, { name: 'len', type: 'size' }],
    blocking: true, doc: 'bytes read; 0 at end of file; blocks on an empty pipe that still has a writer',
    handler: (k, t, [fd, buf, len]): SysResult => {
      const f = t.process.fds.get(fd)!;
      if (f instanceof PipeEnd) {
        if (f.end !== 'read') fail('EBADF', `descriptor ${fd} is the write end of a pipe`);
        return pipeRead(k, t, f, buf, len);
      }
      if (f instanceof FileHandle) return fileRead(k, t, f, buf, len);
      return fail('EINVAL', `descriptor ${fd} (${f.kind}) cannot be read`);
    },
  }),

  defineSyscall({
    number: 1, name: 'write', args: [{ name: 'fd', type: 'fd' }, { name: 'buf', type: 'ptr' }, { name: 'len', type: 'size' }],
    blocking: true, doc: 'bytes written (a pipe write over PIPE_BUF may be partial); EPIPE when no reader is left',
    handler: (k, t, [fd, buf, len]): SysResult => {
      const f = t.process.fds.get(fd)!;
      if (f instanceof PipeEnd) {
        if (f.end !== 'write') fail('EBADF', `descriptor ${fd} is the read end of a pipe`);
        return pipeWrite(k, t, f, buf, len);
      }
      if (f instanceof FileHandle) return fileWrite(k, t, f, buf, len);
      return fail('EINVAL', `descriptor ${fd} (${f.kind}) cannot be written`);
    },
  }),
];


