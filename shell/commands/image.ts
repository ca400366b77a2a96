// `sjmp image new FILE`, `sjmp image info FILE [--json]`, and the `--image FILE [--read-only]`
// session the machine-building commands use: lock, load (or build a new machine when FILE does
// not exist yet), run, save back on a clean exit, unlock. Image problems are one line, exit 2.

import { existsSync } from 'node:fs';
import { Kernel } from '../../kernel/kernel.js';
import { machineFromOptions, type MachineConfig, type MachineOptionsText } from '../../kernel/machineConfig.js';
import { modeString } from '../../kernel/spacejmp/segment.js';
import { protString } from '../../kernel/vm/vmMap.js';
import { formatAddr, formatSize } from '../../mmu/units.js';
import { ImageError, loadImage, readImageInfo, saveImage, type ImageContents } from '../../lab/image/image.js';
import { lockImage } from '../../lab/image/lock.js';
import { formatJson, jsonEnvelope, machineJson } from '../../lab/jsonEnvelope.js';
import { textTable } from '../charts.js';
import { UsageError } from '../errors.js';
import { buildMachine, givenMachineOptions, type GlobalOptions } from '../machineOptions.js';

export interface ImageOptions {
  image?: string;
  readOnly?: boolean;
}

/** Run `fn`, turning an ImageError into a UsageError (one line, exit 2). */
function imageCall<T>(fn: () => T): T {
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
  kernel: Kernel;
  /** The image existed and was loaded (false: a new machine, saved on a clean exit). */
  loaded: boolean;
  /** Save back (unless read-only) and unlock; call once, on a clean exit. Returns bytes written or 0. */
  finish(save: boolean): number;
}

/** Lock and open `opts.image`: load it, or (when it does not exist and not read-only) build a new machine from `config`. */
export function openImageSession(opts: ImageOptions & GlobalOptions, config: () => MachineConfig, scriptMachines: { file: string; given: MachineOptionsText }[] = []): ImageSession {
  const file = opts.image!;
  const release = imageCall(() => lockImage(file));
  try {
    let kernel: Kernel;
    let loaded = false;
    if (existsSync(file)) {
      kernel = imageCall(() => loadImage(file));
      loaded = true;
      checkAgainstImage(file, kernel.config, givenMachineOptions(opts), (k, v) => (v === true ? `--${k}` : `--${k} ${String(v)}`));
      for (const s of scriptMachines) checkAgainstImage(file, kernel.config, s.given, (k, v) => `${s.file}: machine ${k}=${String(v)}`);
    } else {
      if (opts.readOnly) throw new UsageError(`image ${file}: no such file (--read-only needs an existing image)`);
      kernel = new Kernel(config());
    }
    return {
      kernel, loaded,
      finish(save: boolean): number {
        try {
          return save && !opts.readOnly ? imageCall(() => saveImage(kernel, file)) : 0;
        } finally {
          release();
        }
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}

// ------------------------------------------------------------------ sjmp image new / info

export function imageNewCommand(file: string, opts: GlobalOptions): number {
  if (existsSync(file)) throw new UsageError(`image ${file}: already exists (image new does not overwrite)`);
  let config: MachineConfig;
  try { config = buildMachine(opts); } catch (e) { throw new UsageError((e as Error).message); }
  const release = imageCall(() => lockImage(file));
  try {
    const bytes = imageCall(() => saveImage(new Kernel(config), file));
    process.stdout.write(`${file}: new image, ${bytes} bytes\n`);
  } finally {
    release();
  }
  return 0;
}

function infoTable(file: string, c: ImageContents): string {
  const m = c.machine;
  const out = [
    `${file}: machine image, format version ${c.version}, ${c.fileBytes} bytes, ${c.blocks} data block${c.blocks === 1 ? '' : 's'} of 4 KiB`,
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
      file, formatVersion: c.version, fileBytes: c.fileBytes, dataBlocks: c.blocks, machine: c.machine,
      namedSpaces: c.spaces, segments: c.segments, files: c.files,
    })));
  } else {
    process.stdout.write(infoTable(file, c));
  }
  return 0;
}
