// `sjmp image new FILE`, `sjmp image info FILE [--json]`, and the `--image FILE [--read-only]`
// session the machine-building commands use: lock, load (or build a new machine when FILE does
// not exist yet), run, save back on a clean exit, unlock. Image problems are one line, exit 2.

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { Kernel } from '../../kernel/kernel.js';
import { machineFromOptions, type MachineConfig, type MachineOptionsText } from '../../kernel/machineConfig.js';
import { modeString } from '../../kernel/spacejmp/segment.js';
import { protString } from '../../kernel/vm/vmMap.js';
import { formatAddr, formatSize } from '../../mmu/units.js';
import { ImageError, loadImageWithInfo, readImageInfo, saveImage, type ImageContents } from '../../lab/image/image.js';
import { lockImage, type LockWait } from '../../lab/image/lock.js';
import { formatJson, jsonEnvelope, machineJson } from '../../lab/jsonEnvelope.js';
import { textTable } from '../charts.js';
import { UsageError } from '../errors.js';
import { buildMachine, givenMachineOptions, type GlobalOptions } from '../machineOptions.js';

export interface ImageOptions {
  image?: string;
  readOnly?: boolean;
  /** `--wait-lock [SECONDS]`: true (no value) waits DEFAULT_LOCK_WAIT seconds. */
  waitLock?: string | boolean;
  /** Save the image with its DATA compressed (an image loaded compressed stays compressed). */
  imageCompress?: boolean;
}

/** Seconds `--wait-lock` without a value waits for the image's lock. */
export const DEFAULT_LOCK_WAIT = 60;

/**
 * The image options of a machine-building command. `persists` says, for `--help`, what of this
 * command's work the image keeps (docs/image-format.md has the same per command).
 */
export function addImageOptions(cmd: Command, persists: string): Command {
  return cmd
    .option('--image <file>', `machine image: load it if it exists (else start a new machine), run, save back on a clean exit; ${persists}`)
    .option('--read-only', 'with --image: load, never write back')
    .option('--wait-lock [seconds]', `with --image: when another sjmp holds the image, wait for it (default ${DEFAULT_LOCK_WAIT} s) instead of failing at once`)
    .option('--image-compress', 'with --image: save the image with its contents compressed (zlib; format version 2)');
}

/** `--wait-lock` as seconds (0 when not given). */
export function lockWaitSeconds(v: string | boolean | undefined): number {
  if (v === undefined || v === false) return 0;
  if (v === true) return DEFAULT_LOCK_WAIT;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--wait-lock: "${v}" is not a number of seconds`);
  return n;
}

/** The lock wait of `opts`, showing who holds the image on stderr while waiting (on a terminal only). */
export function lockWait(file: string, opts: ImageOptions, stream: NodeJS.WriteStream = process.stderr): LockWait & { clear(): void } {
  const seconds = lockWaitSeconds(opts.waitLock);
  let drawn = false;
  let last = -1;
  return {
    seconds,
    onWait: (pid, waited) => {
      const s = Math.floor(waited / 1000);
      if (!stream.isTTY || s === last) return;
      last = s;
      stream.write(`\rwaiting for image ${file}: in use by pid ${pid} (${s} s of ${seconds} s)\x1b[K`);
      drawn = true;
    },
    clear: () => { if (drawn) stream.write('\r\x1b[K'); drawn = false; },
  };
}

/** Take the lock on `file` as `opts` says (waiting, with progress, when asked). */
export function takeImageLock(file: string, opts: ImageOptions): () => void {
  const w = lockWait(file, opts);
  try {
    return imageCall(() => lockImage(file, w));
  } finally {
    w.clear();
  }
}

/** Run `fn`, turning an ImageError into a UsageError (one line, exit 2). */
export function imageCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ImageError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * Machine options (`given`, from `source`: the command line or a trace's machine line) must agree
 * with the image's machine: an option that would change it is an error naming both values.
 */
export function checkAgainstImage(file: string, image: MachineConfig, given: MachineOptionsText, source: (key: string, value: unknown) => string): void {
  const want = machineJson(image) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    let c: MachineConfig;
    try { c = machineFromOptions({ [key]: value }, image); } catch (e) { throw new UsageError(`${source(key, value)}: ${(e as Error).message}`); }
    const got = machineJson(c) as unknown as Record<string, unknown>;
    for (const field of Object.keys(want)) {
      const a = field === 'profile' ? (want.profile as { name: string }).name : JSON.stringify(want[field]);
      const b = field === 'profile' ? (got.profile as { name: string }).name : JSON.stringify(got[field]);
      if (a === b) continue;
      const shown = field === 'memBytes' ? formatSize(want.memBytes as number) : a;
      throw new UsageError(`${source(key, value)} conflicts with image ${file}, whose ${field} is ${shown}`);
    }
  }
}

export interface ImageSession {
  readonly file: string;
  readonly readOnly: boolean;
  kernel: Kernel;
  /** The image existed and was loaded (false: a new machine, saved on a clean exit). */
  loaded: boolean;
  /** Whether a save compresses the contents (asked for, or the image was loaded compressed). */
  compress: boolean;
  /** Save back (unless read-only) and unlock; call once, on a clean exit. Returns bytes written or 0. */
  finish(save: boolean): number;
  /** Unlock without saving (an error exit); harmless after finish. */
  release(): void;
}

/** Lock and open `opts.image`: load it, or (when it does not exist and not read-only) build a new machine from `config`. */
export function openImageSession(opts: ImageOptions & GlobalOptions, config: () => MachineConfig, scriptMachines: { file: string; given: MachineOptionsText }[] = []): ImageSession {
  const file = opts.image!;
  if (opts.readOnly && opts.imageCompress) throw new UsageError('--image-compress: a --read-only image is never written');
  const release = takeImageLock(file, opts);
  try {
    let kernel: Kernel;
    let loaded = false;
    let compress = !!opts.imageCompress;
    if (existsSync(file)) {
      const l = imageCall(() => loadImageWithInfo(file));
      kernel = l.kernel;
      compress ||= l.compressed;
      loaded = true;
      checkAgainstImage(file, kernel.config, givenMachineOptions(opts), (k, v) => (v === true ? `--${k}` : `--${k} ${String(v)}`));
      for (const s of scriptMachines) checkAgainstImage(file, kernel.config, s.given, (k, v) => `${s.file}: machine ${k}=${String(v)}`);
    } else {
      if (opts.readOnly) throw new UsageError(`image ${file}: no such file (--read-only needs an existing image)`);
      kernel = new Kernel(config());
    }
    return imageSession(file, !!opts.readOnly, kernel, loaded, compress, release);
  } catch (e) {
    release();
    throw e;
  }
}

/** An ImageSession over a machine, holding the lock `release` lets go of. */
export function imageSession(file: string, readOnly: boolean, kernel: Kernel, loaded: boolean, compress: boolean, release: () => void): ImageSession {
  return {
    file, readOnly, kernel, loaded, compress,
    finish(save: boolean): number {
      try {
        return save && !readOnly ? imageCall(() => saveImage(this.kernel, file, { compress: this.compress })) : 0;
      } finally {
        release();
      }
    },
    release,
  };
}

/** Lock and load an existing image (the shell's `load FILE`); UsageError when it cannot. */
export function loadImageSession(file: string, readOnly = false): ImageSession {
  if (!existsSync(file)) throw new UsageError(`image ${file}: no such file`);
  const release = takeImageLock(file, {});
  try {
    const l = imageCall(() => loadImageWithInfo(file));
    return imageSession(file, readOnly, l.kernel, true, l.compressed, release);
  } catch (e) {
    release();
    throw e;
  }
}

// ------------------------------------------------------------------ sjmp image new / info

export function imageNewCommand(file: string, opts: GlobalOptions & { compress?: boolean }): number {
  if (existsSync(file)) throw new UsageError(`image ${file}: already exists (image new does not overwrite)`);
  let config: MachineConfig;
  try { config = buildMachine(opts); } catch (e) { throw new UsageError((e as Error).message); }
  const release = imageCall(() => lockImage(file));
  try {
    const bytes = imageCall(() => saveImage(new Kernel(config), file, { compress: opts.compress }));
    process.stdout.write(`${file}: new image, ${bytes} bytes\n`);
  } finally {
    release();
  }
  return 0;
}

function infoTable(file: string, c: ImageContents): string {
  const m = c.machine;
  const out = [
    `${file}: machine image, format version ${c.version}, ${c.fileBytes} bytes, ${c.blocks} data block${c.blocks === 1 ? '' : 's'} of 4 KiB${c.compressed ? ' (stored compressed)' : ''}`,
    `machine: ${m.cpus} CPUs, ${formatSize(m.memBytes)} in ${m.nodes} node${m.nodes > 1 ? 's' : ''}, ${m.paging}-level paging, profile ${m.profile.name}, seed ${m.seed}, TLB tags: ${m.tagPolicy}${m.aslr ? ', ASLR' : ''}`,
    '',
    `named address spaces (${c.spaces.length}):`,
  ];
  const segName = new Map(c.segments.map((s) => [s.sid, s.name]));
  if (c.spaces.length) {
    out.push(...textTable(['name', 'vid', 'mode', 'uid', 'gid', 'tags', 'pt', 'segments'],
      c.spaces.map((v) => [v.name, v.vid, modeString(v.mode), v.uid, v.gid, v.tags, v.ptPolicy, v.segments.map((r) => `${segName.get(r.sid)}:${protString(r.prot)}`).join(' ') || '-'])));
  }
  out.push('', `segments (${c.segments.length}):`);
  if (c.segments.length) {
    out.push(...textTable(['name', 'sid', 'base', 'size', 'page', 'mode', 'uid', 'gid', 'lockable'],
      c.segments.map((s) => [s.deleted ? `${s.name} (deleted)` : s.name, s.sid, formatAddr(s.base), formatSize(s.size), formatSize(s.pageSize), modeString(s.mode), s.uid, s.gid, s.lockable ? 'yes' : 'no'])));
  }
  out.push('', `tmpfs files (${c.files.length}):`);
  if (c.files.length) out.push(...textTable(['path', 'size', 'page', 'mode', 'uid', 'gid'], c.files.map((f) => [f.path, formatSize(f.size), formatSize(f.pageSize), f.mode.toString(8), f.uid, f.gid])));
  return out.join('\n') + '\n';
}

export function imageInfoCommand(file: string, opts: { json?: boolean }): number {
  const c = imageCall(() => readImageInfo(file));
  if (opts.json) {
    process.stdout.write(formatJson(jsonEnvelope('image info', true, {
      file, formatVersion: c.version, fileBytes: c.fileBytes, dataBlocks: c.blocks, compressed: c.compressed, machine: c.machine,
      namedSpaces: c.spaces, segments: c.segments, files: c.files,
    })));
  } else {
    process.stdout.write(infoTable(file, c));
  }
  return 0;
}
