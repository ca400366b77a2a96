// One invocation's worth of samtools work on one machine, for the command line: host files copied
// onto the tmpfs (at /h + their absolute path), tools run in either design with the command line
// the user typed (so @PG lines match samtools'), files the tools wrote copied back to the host.
// Data sets live as long as the machine: this invocation, or, on a machine from an image, as long
// as the image (the staged copies of host files and the tools' output files are removed first).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { MachineConfig } from '../../kernel/machineConfig.js';
import type { Kernel } from '../../kernel/kernel.js';
import { SamMachine, type SamDesign, type ToolRun } from './machine.js';
import { machineForReads } from './pipeline.js';

/** Options of each tool that take a value (so the input can be placed before the first operand). */
const VALUE_OPTS = new Set(['-O', '-f', '-F', '-G', '-q', '-o', '-r']);

/** Insert `input` where samtools expects its input: before the first operand. */
export function insertInput(argv: readonly string[], input: string): string[] {
  const out = [...argv];
  for (let i = 1; i < out.length; i++) {
    if (VALUE_OPTS.has(out[i])) { i++; continue; }
    if (out[i].startsWith('-') && out[i] !== '-') continue;
    out.splice(i, 0, input);
    return out;
  }
  out.push(input);
  return out;
}

export function tmpfsPath(hostPath: string): string {
  return `/h${resolve(hostPath)}`;
}

export function datasetNameFor(file: string): string {
  return basename(file).replace(/\.(sam|bam)$/i, '').replace(/[^A-Za-z0-9_.-]/g, '_') || 'data';
}

export class SamSession {
  readonly machine: SamMachine;
  private copiedIn = new Set<string>();

  /** `kernel`: run on this machine (one loaded from an image) instead of a fresh one sized for `sizeHint` bytes of input. */
  constructor(config: MachineConfig, sizeHint = 0, kernel?: Kernel) {
    this.machine = kernel ? new SamMachine(kernel.config, kernel) : new SamMachine(machineForReads(config, sizeHint));
  }

  /**
   * Before the machine is saved to an image: the staging files (host files copied in under /h,
   * tools' output under /sam/out) go, so the image keeps the data sets and nothing of the host.
   */
  dropStaging(): void {
    const fs = this.machine.kernel.tmpfs;
    for (const path of [...fs.files.keys()]) if (path.startsWith('/h/') || path.startsWith('/sam/out/')) fs.unlink(path);
  }

  /** Copy a host file (and its .bai if there is one) onto the tmpfs; returns the tmpfs path. */
  copyIn(hostPath: string): string {
    if (!existsSync(hostPath)) throw new Error(`${hostPath}: no such file`);
    const p = tmpfsPath(hostPath);
    if (!this.copiedIn.has(p)) {
      this.machine.putFile(p, readFileSync(hostPath));
      this.copiedIn.add(p);
      if (existsSync(`${hostPath}.bai`)) {
        this.machine.putFile(`${p}.bai`, readFileSync(`${hostPath}.bai`));
        this.copiedIn.add(`${p}.bai`);
      }
    }
    return p;
  }

  /** Files under /h the tools wrote (not copied in), copied back to their host paths. */
  copyOut(): string[] {
    const written: string[] = [];
    for (const path of this.machine.kernel.tmpfs.files.keys()) {
      if (!path.startsWith('/h/') || this.copiedIn.has(path)) continue;
      const host = path.slice(2);
      writeFileSync(host, this.machine.getFile(path));
      this.copiedIn.add(path);
      written.push(host);
    }
    return written;
  }

  importFile(name: string, hostPath: string, progress?: (n: number) => void): ToolRun {
    return this.machine.importDataset(name, this.copyIn(hostPath), { progress });
  }

  /**
   * `samtools ARGV` as typed (input given as the user wrote it). files: the input is a host file.
   * vas: the input is a data set name, or a host file that is imported first under its base name.
   */
  tool(design: SamDesign, argv: string[], input: string, progress?: (n: number) => void): { run: ToolRun; imported?: ToolRun } {
    const typed = insertInput(argv, input);
    const commandLine = ['samtools', ...typed].join(' ');
    const mapOut = (a: string[]): string[] => a.map((x, i) => (a[i - 1] === '-o' ? tmpfsPath(x) : x));
    if (design === 'files') {
      const args = mapOut(insertInput(argv, this.copyIn(input)));
      if (args[0] === 'index' && args.length > 2) args[args.length - 1] = tmpfsPath(args[args.length - 1]);
      return { run: this.machine.tool('files', args, { progress, commandLine }) };
    }
    let name = input;
    let imported: ToolRun | undefined;
    if (!this.machine.datasets().some((d) => d.name === input)) {
      if (!existsSync(input)) throw new Error(`"${input}" is neither a data set on this machine nor a file (a data set lasts one invocation unless it is in a machine image: \`sjmp sam import NAME FILE --image M\`, or chain steps with \`sjmp sam run FILE -- ...\`)`);
      name = datasetNameFor(input);
      if (!this.machine.datasets().some((d) => d.name === name)) {
        imported = this.importFile(name, input, progress);
        if (imported.code !== 0) return { run: imported, imported };
      }
    }
    return { run: this.machine.tool('vas', mapOut(insertInput(argv, name)), { progress, commandLine }), imported };
  }
}
