// An in-kernel tmpfs: files are vm objects of type 'file', and their pages are the page cache —
// every mapping of a file shares them. Names are flat paths ("/gups/table").

import { VmObject, allocObjectPage, releaseObject, type ObjectHost } from '../vm/vmObject.js';
import { fail } from '../errno.js';
import type { Credentials } from '../proc/process.js';

export interface TmpFile {
  path: string;
  object: VmObject;
  mode: number;
  uid: number;
  gid: number;
  /** The file's length in bytes (its object's size is whole pages): what read, lseek and fstat see. */
  length: number;
  /** Open descriptors and mappings keep the object alive after unlink. */
  unlinked: boolean;
}

export class Tmpfs {
  readonly files = new Map<string, TmpFile>();

  constructor(private readonly host: ObjectHost) {}

  /** Create file `path` of `size` bytes (its object rounded up to the page size) owned by `cred`. Returns it;
   *  EINVAL for a bad path or size, EEXIST when the path is taken — nothing created then. */
  create(path: string, size: number, cred: Credentials, mode = 0o644, pageShift = 12, node = 0): TmpFile {
    if (!path.startsWith('/') || path.length > 255) fail('EINVAL', `bad path "${path}"`);
    if (this.files.has(path)) fail('EEXIST', path);
    if (size < 0 || !Number.isSafeInteger(size)) fail('EINVAL', 'bad size');
    const ps = 2 ** pageShift;
    const obj = new VmObject('file', Math.ceil(size / ps) * ps, pageShift, node, path);
    const f: TmpFile = { path, object: obj, mode, uid: cred.uid, gid: cred.gid, length: size, unlinked: false };
    this.files.set(path, f);
    return f;
  }

  /** The file at `path`; ENOENT when there is none. */
  lookup(path: string): TmpFile {
    const f = this.files.get(path);
    if (!f) fail('ENOENT', path);
    return f;
  }

  /** Bring every page of the file into the page cache (zeroed), as a warm cache would have it. */
  preload(f: TmpFile): number {
    const obj = f.object;
    let n = 0;
    for (let off = 0; off < obj.size; off += obj.pageSize) {
      if (obj.pages.has(off / obj.pageSize)) continue;
      if (allocObjectPage(this.host, obj, off, true) < 0) fail('ENOMEM', `page cache for ${f.path}`);
      n++;
    }
    return n;
  }

  /** Remove `path` from the namespace and drop the namespace's reference on its object (mappings
   *  keep the pages alive until they go). ENOENT when there is none. */
  unlink(path: string): void {
    const f = this.lookup(path);
    this.files.delete(path);
    f.unlinked = true;
    releaseObject(this.host, f.object);
  }
}
