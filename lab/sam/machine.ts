// A machine for the samtools programs: files go onto its tmpfs through an emulated writer, each
// tool runs as its own process pinned to CPU 0 (so CPU 0's clock advance is that process's
// modelled time), and what a tool printed is read back from the tmpfs afterwards.

import { Kernel } from '../../kernel/kernel.js';
import type { MachineConfig } from '../../kernel/machineConfig.js';
import { lookupPage } from '../../kernel/vm/vmObject.js';
import { type ProgramMain, type Runtime } from '../../userland/runtime.js';
import { runProgram, runUntilDone } from '../launch.js';
import { O_CREAT, O_TRUNC, O_WRONLY } from '../../syscalls/constants.js';
import { storeBytes } from '../../userland/sam/mem.js';
import { filesSamtools, vasImport, vasSamtools, type SamIo, type SamRunReport } from '../../userland/sam/programs.js';
import type { Credentials } from '../../kernel/proc/process.js';

export type SamDesign = 'files' | 'vas';

export interface ToolRun {
  argv: string[];
  design: SamDesign;
  code: number;
  stdout: Uint8Array;
  stderr: string;
  /** Modelled cycles of the process (CPU 0's clock advance while it ran). */
  cycles: number;
  /** Of which converting the input into records (reading, inflating, parsing, storing). */
  convertCycles: number;
  /** Emulator wall-clock of the run. */
  wallMs: number;
  records: number;
  killedBy: string | null;
}

export interface DatasetInfo {
  name: string;
  owner: number;
  mode: string;
  segments: { name: string; bytes: number; base: string }[];
  bytes: number;
}

const USER: Credentials = { uid: 1000, gid: 1000 };

export class SamMachine {
  readonly kernel: Kernel;
  private seq = 0;

  /** `kernel`: a machine to run on (one loaded from an image, with its data sets); default a fresh one. */
  constructor(readonly config: MachineConfig, kernel?: Kernel) {
    this.kernel = kernel ?? new Kernel(config);
  }

  get profile(): string { return this.config.profile.name; }

  /** Run one program to the end as its own process on CPU 0. */
  run(main: ProgramMain, name: string, cred: Credentials = USER): { status: number; cycles: number; wallMs: number; killedBy: string | null } {
    const cpu = this.kernel.cpus[0];
    const c0 = cpu.clock;
    const t0 = performance.now();
    const p = runProgram(this.kernel, { main, name }, { cpu: 0, cred });
    const r = runUntilDone(this.kernel);
    const wallMs = performance.now() - t0;
    if (r.deadlock) throw new Error(`${name}: deadlock`);
    const status = p.killedBy ? 128 + 11 : (p.exitStatus >> 8) & 0xff || (p.exitStatus & 0xff);
    return { status, cycles: cpu.clock - c0, wallMs, killedBy: p.killedBy };
  }

  /** Write `data` to `path` on the tmpfs through an emulated writer process (setup, not measured). */
  putFile(path: string, data: Uint8Array, cred: Credentials = USER): void {
    const res = this.run(function* writer(rt: Runtime) {
      yield* rt.yield();
      const chunk = 256 * 1024;
      const buf = rt.mmap(chunk);
      const fd = rt.open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644);
      for (let p = 0; p < data.length; p += chunk) {
        const n = Math.min(chunk, data.length - p);
        storeBytes(rt, buf, data, p, p + n);
        rt.call('write', fd, buf, n);
      }
      rt.close(fd);
      return 0;
    }, 'put', cred);
    if (res.status !== 0) throw new Error(`writing ${path} on the tmpfs failed${res.killedBy ? `: ${res.killedBy}` : ''}`);
  }

  hasFile(path: string): boolean {
    return this.kernel.tmpfs.files.has(path);
  }

  /** The bytes of a tmpfs file (host-side read, for results). */
  getFile(path: string): Uint8Array {
    const f = this.kernel.tmpfs.files.get(path);
    if (!f) return new Uint8Array(0);
    const len = f.length;
    const obj = f.object;
    const out = new Uint8Array(len);
    for (let off = 0; off < len;) {
      const n = Math.min(len - off, obj.pageSize - (off % obj.pageSize));
      const pa = lookupPage(obj, off);
      if (pa >= 0) out.set(this.kernel.mem.readBytes(pa + (off % obj.pageSize), n), off);
      off += n;
    }
    return out;
  }

  private io(extra: Partial<SamIo> = {}): SamIo & { report: SamRunReport } {
    const n = ++this.seq;
    return { stdout: `/sam/out/${n}.stdout`, stderr: `/sam/out/${n}.stderr`, report: { convertCycles: 0, records: 0, inputBytes: 0 }, ...extra };
  }

  private finish(argv: string[], design: SamDesign, io: SamIo & { report: SamRunReport }, r: ReturnType<SamMachine['run']>): ToolRun {
    const stdout = this.getFile(io.stdout);
    const stderr = Buffer.from(this.getFile(io.stderr)).toString('latin1');
    for (const p of [io.stdout, io.stderr]) if (this.hasFile(p)) this.kernel.tmpfs.unlink(p);
    return {
      argv, design, code: r.status, stdout, stderr: r.killedBy ? `${stderr}killed: ${r.killedBy}\n` : stderr,
      cycles: r.cycles, convertCycles: io.report.convertCycles, wallMs: r.wallMs, records: io.report.records, killedBy: r.killedBy,
    };
  }

  /** `samtools ARGV` in the given design (for vas the input argument is a data set name). */
  tool(design: SamDesign, argv: string[], opts: { progress?: (n: number) => void; maxLine?: number; cred?: Credentials; commandLine?: string } = {}): ToolRun {
    const io = this.io({ progress: opts.progress, maxLine: opts.maxLine, commandLine: opts.commandLine });
    const main = design === 'files' ? filesSamtools(argv, io) : vasSamtools(argv, io);
    return this.finish(argv, design, io, this.run(main, `samtools-${argv[0] ?? ''}`, opts.cred));
  }

  /** Convert `path` (on the tmpfs) once into the named data set `name`. */
  importDataset(name: string, path: string, opts: { progress?: (n: number) => void; maxLine?: number; cred?: Credentials; mode?: number } = {}): ToolRun {
    const io = this.io({ progress: opts.progress, maxLine: opts.maxLine });
    return this.finish(['import', name, path], 'vas', io, this.run(vasImport(name, path, io, opts.mode), 'samtools-import', opts.cred));
  }

  /** The data sets (named spaces holding a `.hdr` segment) and their segments. */
  datasets(): DatasetInfo[] {
    const out: DatasetInfo[] = [];
    for (const v of this.kernel.spacejmp.vases.values()) {
      if (v.deleted) continue;
      const segs = [...v.segments.values()].map(({ seg }) => ({ name: seg.name, bytes: seg.object.size, base: `0x${seg.base.toString(16)}` }));
      if (!segs.some((s) => s.name === `${v.name}.hdr`)) continue;
      out.push({ name: v.name, owner: v.uid, mode: `0${v.mode.toString(8)}`, segments: segs, bytes: segs.reduce((s, x) => s + x.bytes, 0) });
    }
    return out;
  }

  /** Free physical memory (to check that a failed import gave its frames back). */
  freeBytes(): number {
    return this.kernel.frames.freeBytes();
  }
}
