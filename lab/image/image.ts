// Machine images: what survives a reboot of the emulated machine — its configuration, the
// SpaceJMP registry (named address spaces, segments with their attributes and contents) and the
// tmpfs files — saved atomically to a file and loaded into a new Kernel. The layout is in
// format.ts and docs/image-format.md.
//
// Names are the contract: ids (vid, sid) are renumbered on load, in the order of the saved ids.
// Running processes do not survive: saving is a clean shutdown (every live process is ended
// first, releasing its attachments) — or, for the shell's `save`, a copy of what such a shutdown
// would leave, taken while the processes run on. Loading re-creates everything through SpaceJMP's
// own calls, made by short-lived loader processes with the owners' credentials, then writes the
// contents into the segments' wired frames and the files' page cache, and finally resets what the
// loaders touched (pids, CPUs, counters, clocks) so the machine is as a fresh boot leaves it.

import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Kernel } from '../../kernel/kernel.js';
import type { MachineConfig } from '../../kernel/machineConfig.js';
import type { Process } from '../../kernel/proc/process.js';
// Imported from spacejmp.js (not constants.js): importing it installs SpaceJMP in every Kernel.
import { SEG_2M, SEG_CTL_DELETE, SEG_CTL_LOCKABLE, VAS_CTL_PTPOLICY, VAS_CTL_TAGS, type SpaceJmp } from '../../kernel/spacejmp/spacejmp.js';
import { allocObjectPage, type VmObject } from '../../kernel/vm/vmObject.js';
import { resolveProfile } from '../../mmu/costModel.js';
import { machineJson, type MachineJson } from '../jsonEnvelope.js';
import {
  BLOCK_BYTES, ImageError, ImageReader, ImageWriter, RECORD_BYTES, RECORD_HEADER_BYTES, REC_FILE, REC_SEGMENT, FORMAT_VERSION,
} from './format.js';

export interface SegmentRecord {
  sid: number;
  name: string;
  /** Deleted but still held by a named space: it has no name in the registry. */
  deleted: boolean;
  base: number;
  size: number;
  pageSize: number;
  mode: number;
  uid: number;
  gid: number;
  lockable: boolean;
}

export interface SpaceRecord {
  vid: number;
  name: string;
  mode: number;
  uid: number;
  gid: number;
  tags: string;
  ptPolicy: string;
  segments: { sid: number; prot: number }[];
}

export interface FileRecord {
  id: number;
  path: string;
  size: number;
  pageSize: number;
  mode: number;
  uid: number;
  gid: number;
}

export interface ImageContents {
  version: number;
  machine: MachineJson;
  segments: SegmentRecord[];
  spaces: SpaceRecord[];
  files: FileRecord[];
  /** Stored 4 KiB blocks (the image is sparse: only blocks holding a nonzero byte). */
  blocks: number;
  fileBytes: number;
  /** The DATA section is stored compressed (format version 2). */
  compressed: boolean;
}

export interface SaveOptions {
  /** Store the DATA section as zlib-compressed frames (format version 2). */
  compress?: boolean;
  /**
   * Keep the processes running: the image holds what a clean shutdown would leave (no process
   * state; a deleted segment only while a named space still holds it), and the machine goes on.
   */
  live?: boolean;
}

function spacejmpOf(k: Kernel): SpaceJmp {
  const sj = k.spacejmp;
  if (!sj) throw new Error('machine image: SpaceJMP is not installed in this kernel');
  return sj;
}

// ------------------------------------------------------------------ save

/** End every live process: a save is a clean shutdown (attachments and locks are released). */
export function shutdownProcesses(k: Kernel): void {
  for (const p of [...k.processes.values()]) if (p.live) k.exit(p, 0);
  for (const p of [...k.processes.values()]) if (p.state === 'zombie') k.reap(p);
}

/** Calls fn(offset, block) for every 4 KiB block of `obj` that holds a nonzero byte. */
function forEachNonzeroBlock(k: Kernel, obj: VmObject, fn: (offset: number, pa: number) => void): void {
  const ps = obj.pageSize;
  for (const [pindex, pa] of [...obj.pages].sort((a, b) => a[0] - b[0])) {
    for (let b = 0; b < ps; b += BLOCK_BYTES) {
      const addr = pa + b;
      const words = k.mem.words(addr);
      if (!words) continue; // an untouched host chunk reads as zero
      const w0 = k.mem.at;
      let nonzero = false;
      for (let i = 0; i < BLOCK_BYTES / 4; i++) if (words[w0 + i] !== 0) { nonzero = true; break; }
      if (nonzero) fn(pindex * ps + b, addr);
    }
  }
}

/** Temporary files a save killed midway left next to `file` (their pid no longer runs): removed. */
function removeStaleTemps(file: string): void {
  const prefix = `.${basename(file)}.tmp-`;
  let names: string[];
  try { names = readdirSync(dirname(file)); } catch { return; }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue; // a live process is saving
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EPERM') continue;
    }
    try { unlinkSync(join(dirname(file), n)); } catch { /* gone meanwhile */ }
  }
}

/**
 * Save `k` to `file` atomically: processes are ended, the image is written to a temporary file in
 * the same folder, fsynced, renamed over `file`, and the folder fsynced. A crash at any moment
 * leaves `file` either the complete old image or the complete new one. Returns the bytes written.
 */
export function saveImage(k: Kernel, file: string, opts: SaveOptions = {}): number {
  if (!opts.live) shutdownProcesses(k);
  const { segs, segRecs, spaceRecs, files, fileRecs } = imageRecords(k);
  return writeImage(k, file, opts, segs, segRecs, spaceRecs, files, fileRecs);
}

/**
 * What an image of `k` would hold besides contents, as one string: two machines with the same
 * fingerprint have the same registry and files (names, attributes, sizes). The shell compares it
 * before and after each line to see whether the persistent state changed.
 */
export function registryFingerprint(k: Kernel): string {
  const { segRecs, spaceRecs, fileRecs } = imageRecords(k);
  return JSON.stringify([segRecs, spaceRecs, fileRecs]);
}

function imageRecords(k: Kernel) {
  const sj = spacejmpOf(k);
  const spaces = [...sj.vases.values()].filter((v) => !v.deleted);
  // A deleted segment outlives a shutdown only while a named space holds it.
  const heldByNamed = new Set(spaces.flatMap((v) => [...v.segments.values()].map(({ seg }) => seg)));
  const segs = [...sj.segments.values()].filter((s) => !s.deleted || heldByNamed.has(s)).sort((a, b) => a.sid - b.sid);
  const segRecs: SegmentRecord[] = segs.map((s) => ({
    sid: s.sid, name: s.name, deleted: s.deleted, base: s.base, size: s.size, pageSize: s.pageSize, mode: s.mode, uid: s.uid, gid: s.gid, lockable: s.lockable,
  }));
  const spaceRecs: SpaceRecord[] = spaces.sort((a, b) => a.vid - b.vid).map((v) => ({
    vid: v.vid, name: v.name, mode: v.mode, uid: v.uid, gid: v.gid, tags: v.tags, ptPolicy: v.ptPolicy,
    segments: [...v.segments.values()].map(({ seg, prot }) => ({ sid: seg.sid, prot })),
  }));
  const files = [...k.tmpfs.files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  const fileRecs: FileRecord[] = files.map((f, i) => ({ id: i + 1, path: f.path, size: f.length, pageSize: f.object.pageSize, mode: f.mode, uid: f.uid, gid: f.gid }));
  return { segs, segRecs, spaceRecs, files, fileRecs };
}

type Records = ReturnType<typeof imageRecords>;

function writeImage(k: Kernel, file: string, opts: SaveOptions, segs: Records['segs'], segRecs: SegmentRecord[], spaceRecs: SpaceRecord[], files: Records['files'], fileRecs: FileRecord[]): number {
  removeStaleTemps(file);
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  let fd: number;
  try { fd = openSync(tmp, 'w', 0o644); } catch (e) { throw new ImageError(file, `cannot save: ${(e as Error).message}`); }
  let bytes: number;
  try {
    const w = new ImageWriter(fd);
    w.json('MACH', machineJson(k.config));
    w.json('SEGS', segRecs);
    w.json('SPCS', spaceRecs);
    w.json('FILE', fileRecs);
    w.begin('DATA', !!opts.compress);
    const rec = Buffer.alloc(RECORD_HEADER_BYTES);
    const emit = (kind: number, id: number) => (offset: number, pa: number) => {
      rec.writeUInt32LE(kind, 0);
      rec.writeUInt32LE(id, 4);
      rec.writeBigUInt64LE(BigInt(offset), 8);
      w.write(rec);
      w.write(k.mem.readBytes(pa, BLOCK_BYTES));
    };
    for (const s of segs) forEachNonzeroBlock(k, s.object, emit(REC_SEGMENT, s.sid));
    files.forEach((f, i) => forEachNonzeroBlock(k, f.object, emit(REC_FILE, i + 1)));
    w.end();
    bytes = w.finish();
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e instanceof ImageError ? e : new ImageError(file, `cannot save: ${(e as Error).message}`);
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
    const dfd = openSync(dirname(file), 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch (e) {
    throw new ImageError(file, `cannot save: ${(e as Error).message}`);
  }
  return bytes;
}

// ------------------------------------------------------------------ read and validate

const isInt = (v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(file: string, what: string): never {
  throw new ImageError(file, `malformed ${what}`);
}

function checkMachine(file: string, m: unknown): MachineJson {
  if (!isObj(m)) bad(file, 'MACH section');
  if (!isInt(m.paging, 4, 5) || !isInt(m.memBytes, 1) || !isInt(m.nodes, 1, 64) || !isInt(m.cpus, 1, 256) || !isInt(m.seed)) bad(file, 'machine configuration');
  if (typeof m.aslr !== 'boolean' || (m.tagPolicy !== 'flush' && m.tagPolicy !== 'tagged') || !isObj(m.tlb)) bad(file, 'machine configuration');
  if (!isObj(m.profile) || !isStr(m.profile.name) || !isObj(m.profile.params)) bad(file, 'machine profile');
  return m as unknown as MachineJson;
}

function checkSegments(file: string, v: unknown): SegmentRecord[] {
  if (!Array.isArray(v)) bad(file, 'SEGS section');
  for (const s of v as unknown[]) {
    if (!isObj(s) || !isInt(s.sid, 1) || !isStr(s.name) || typeof s.deleted !== 'boolean' || !isInt(s.base) || !isInt(s.size, 1)
      || (s.pageSize !== 4096 && s.pageSize !== 2 ** 21) || !isInt(s.mode, 0, 0o777) || !isInt(s.uid) || !isInt(s.gid) || typeof s.lockable !== 'boolean') bad(file, 'segment record');
  }
  const recs = v as SegmentRecord[];
  if (new Set(recs.map((s) => s.sid)).size !== recs.length) bad(file, 'SEGS section (duplicate sid)');
  return recs;
}

function checkSpaces(file: string, v: unknown, sids: Set<number>): SpaceRecord[] {
  if (!Array.isArray(v)) bad(file, 'SPCS section');
  for (const s of v as unknown[]) {
    if (!isObj(s) || !isInt(s.vid, 1) || !isStr(s.name) || !isInt(s.mode, 0, 0o777) || !isInt(s.uid) || !isInt(s.gid)
      || (s.tags !== 'flush' && s.tags !== 'tagged') || (s.ptPolicy !== 'copy' && s.ptPolicy !== 'shared') || !Array.isArray(s.segments)) bad(file, 'address-space record');
    for (const r of s.segments as unknown[]) if (!isObj(r) || !isInt(r.sid, 1) || !sids.has(r.sid) || !isInt(r.prot, 0, 7)) bad(file, 'address-space segment reference');
  }
  return v as SpaceRecord[];
}

function checkFiles(file: string, v: unknown): FileRecord[] {
  if (!Array.isArray(v)) bad(file, 'FILE section');
  for (const f of v as unknown[]) {
    if (!isObj(f) || !isInt(f.id, 1) || !isStr(f.path) || !isInt(f.size) || (f.pageSize !== 4096 && f.pageSize !== 2 ** 21 && f.pageSize !== 2 ** 30) || !isInt(f.mode, 0, 0o7777) || !isInt(f.uid) || !isInt(f.gid)) bad(file, 'file record');
  }
  return v as FileRecord[];
}

interface Parsed { reader: ImageReader; machine: MachineJson; segments: SegmentRecord[]; spaces: SpaceRecord[]; files: FileRecord[] }

function parse(file: string): Parsed {
  const reader = ImageReader.open(file);
  try {
    const machine = checkMachine(file, reader.json('MACH'));
    const segments = checkSegments(file, reader.json('SEGS'));
    const spaces = checkSpaces(file, reader.json('SPCS'), new Set(segments.map((s) => s.sid)));
    const files = checkFiles(file, reader.json('FILE'));
    return { reader, machine, segments, spaces, files };
  } catch (e) {
    reader.close();
    throw e;
  }
}

/** Stream the DATA section's records (CRC checked at the end: the caller discards what it built on an error). */
function forEachRecord(p: Parsed, fn: (kind: number, id: number, offset: number, block: Buffer) => void): number {
  const s = p.reader.section('DATA');
  if (!s.compressed && s.length % RECORD_BYTES !== 0) throw new ImageError(p.reader.file, `DATA section length ${s.length} is not a whole number of records`);
  let n = 0;
  p.reader.stream(s, RECORD_BYTES * 256, (chunk) => {
    if (chunk.length % RECORD_BYTES !== 0) throw new ImageError(p.reader.file, `DATA frame of ${chunk.length} bytes is not a whole number of records`);
    for (let off = 0; off < chunk.length; off += RECORD_BYTES) {
      const offset = chunk.readBigUInt64LE(off + 8);
      if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new ImageError(p.reader.file, `data record ${n} has offset ${offset}`);
      fn(chunk.readUInt32LE(off), chunk.readUInt32LE(off + 4), Number(offset), chunk.subarray(off + RECORD_HEADER_BYTES, off + RECORD_BYTES));
      n++;
    }
  });
  return n;
}

/** What an image holds, every section's checksum verified; ImageError when it is not a good image. */
export function readImageInfo(file: string): ImageContents {
  const p = parse(file);
  try {
    p.reader.verifyAll();
    const blocks = Math.floor(p.reader.rawLength(p.reader.section('DATA')) / RECORD_BYTES);
    return { version: p.reader.version, machine: p.machine, segments: p.segments, spaces: p.spaces, files: p.files, blocks, fileBytes: p.reader.fileBytes, compressed: p.reader.compressed };
  } finally {
    p.reader.close();
  }
}

// ------------------------------------------------------------------ load

/** The machine configuration an image was saved with. */
export function configFromJson(file: string, m: MachineJson): MachineConfig {
  let profile;
  try {
    const base = resolveProfile(m.profile.name.split('+')[0]);
    profile = { ...base, name: m.profile.name, params: { ...base.params, ...m.profile.params } };
  } catch (e) {
    throw new ImageError(file, `machine profile: ${(e as Error).message}`);
  }
  return {
    paging: m.paging as 4 | 5, memBytes: m.memBytes, nodes: m.nodes, cpus: m.cpus, profile, seed: m.seed,
    tlb: m.tlb, aslr: m.aslr, tagPolicy: m.tagPolicy as 'flush' | 'tagged',
    // Images written before the cache model have no `caches` field: they ran with caches off.
    caches: m.caches === 'on',
  };
}

/** The machine configuration stored in `file` (header, section table and MACH checked). */
export function readImageConfig(file: string): MachineConfig {
  const p = parse(file);
  p.reader.close();
  return configFromJson(file, p.machine);
}

/**
 * A new Kernel holding what `file` holds. Any problem — a bad header, a checksum, a record that
 * names nothing, a segment SpaceJMP refuses — is an ImageError naming the file; nothing partial
 * is returned. The machine is left as a fresh boot would be (Kernel.resetToBoot: pids from 1, zero counters).
 */
export function loadImage(file: string): Kernel {
  return loadImageWithInfo(file).kernel;
}

/** loadImage, and whether the image's DATA is compressed (a session saves it back the same way). */
export function loadImageWithInfo(file: string): { kernel: Kernel; compressed: boolean } {
  try {
    return load(file);
  } catch (e) {
    // Never a crash: whatever a crafted file provokes below is reported as a bad image.
    throw e instanceof ImageError ? e : new ImageError(file, `cannot load: ${(e as Error).message}`);
  }
}

function load(file: string): { kernel: Kernel; compressed: boolean } {
  const p = parse(file);
  try {
    const config = configFromJson(file, p.machine);
    let k: Kernel;
    try { k = new Kernel(config); } catch (e) { throw new ImageError(file, `machine configuration: ${(e as Error).message}`); }
    const sj = spacejmpOf(k);
    const loaders = new Map<string, Process>();
    const as = (uid: number, gid: number) => {
      const key = `${uid}:${gid}`;
      let pr = loaders.get(key);
      if (!pr) loaders.set(key, (pr = k.spawn('image-loader', { uid, gid })));
      return pr.threads[0];
    };
    const root = as(0, 0);
    const call = <T>(what: string, fn: () => T): T => {
      try { return fn(); } catch (e) { throw new ImageError(file, `${what}: ${(e as Error).message}`); }
    };
    // Segments first (live names, then deleted ones under a placeholder name deleted once attached).
    const newSid = new Map<number, number>();
    const byNewSid = new Map<number, SegmentRecord>();
    for (const s of p.segments) {
      const name = s.deleted ? `\u0001image-deleted-${s.sid}` : s.name;
      const sid = call(`segment "${s.name}"`, () => sj.segAlloc(as(s.uid, s.gid), name, s.base, s.size, s.mode, s.pageSize === 2 ** 21 ? SEG_2M : 0));
      if (sj.segments.get(sid)!.size !== s.size) throw new ImageError(file, `segment "${s.name}" size ${s.size} is not a whole number of pages`);
      if (s.lockable) call(`segment "${s.name}"`, () => sj.segCtl(root, sid, SEG_CTL_LOCKABLE, 1));
      newSid.set(s.sid, sid);
      byNewSid.set(sid, s);
    }
    for (const v of p.spaces) {
      const vid = call(`address space "${v.name}"`, () => sj.vasCreate(as(v.uid, v.gid), v.name, v.mode));
      if (v.tags === 'tagged') call(`address space "${v.name}"`, () => sj.vasCtl(root, VAS_CTL_TAGS, vid, 1));
      if (v.ptPolicy === 'shared') call(`address space "${v.name}"`, () => sj.vasCtl(root, VAS_CTL_PTPOLICY, vid, 1));
      for (const r of v.segments) {
        const res = call(`segment in "${v.name}"`, () => sj.segAttach(root, vid, newSid.get(r.sid)!, r.prot));
        if (res !== 0) throw new ImageError(file, `segment in "${v.name}" could not be attached (locked)`);
      }
    }
    for (const [sid, s] of byNewSid) {
      if (!s.deleted) continue;
      call(`segment "${s.name}"`, () => sj.segCtl(root, sid, SEG_CTL_DELETE));
      const seg = sj.segments.get(sid);
      if (seg) seg.name = s.name; // out of the namespace now: the name is only what it shows
    }
    const fileObjs = new Map<number, VmObject>();
    for (const f of p.files) {
      const tf = call(`file "${f.path}"`, () => k.tmpfs.create(f.path, f.size, { uid: f.uid, gid: f.gid }, f.mode, Math.log2(f.pageSize)));
      fileObjs.set(f.id, tf.object);
    }
    forEachRecord(p, (kind, id, offset, block) => {
      let obj: VmObject | undefined;
      if (kind === REC_SEGMENT) {
        const sid = newSid.get(id);
        obj = sid === undefined ? undefined : sj.segments.get(sid)?.object;
      } else if (kind === REC_FILE) obj = fileObjs.get(id);
      if (!obj) throw new ImageError(file, `data record for unknown ${kind === REC_FILE ? 'file' : kind === REC_SEGMENT ? 'segment' : `kind ${kind}`} ${id}`);
      if (offset % BLOCK_BYTES !== 0 || offset + BLOCK_BYTES > obj.size) throw new ImageError(file, `data record at offset ${offset} outside its ${obj.size}-byte owner`);
      let pa = obj.pages.get(Math.floor(offset / obj.pageSize));
      if (pa === undefined) {
        if (allocObjectPage(k, obj, offset, true) < 0) throw new ImageError(file, 'out of emulated memory loading file contents');
        pa = obj.pages.get(Math.floor(offset / obj.pageSize))!;
      }
      k.mem.writeBytes(pa + (offset % obj.pageSize), block);
    });
    for (const pr of loaders.values()) k.exit(pr, 0);
    shutdownProcesses(k);
    // Nothing of the loading shows: pids from 1, CPUs and counters as at power-on.
    k.resetToBoot();
    return { kernel: k, compressed: p.reader.compressed };
  } finally {
    p.reader.close();
  }
}

export { ImageError, FORMAT_VERSION };
