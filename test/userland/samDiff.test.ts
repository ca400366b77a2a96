// Differential test against real samtools (Debian's samtools 1.16.1) on generated data sets: the
// same commands through ours, in both designs, must print the same bytes. Skipped (with the reason)
// when samtools is not installed. Also: real samtools reads the BAM and .bai our files design wrote.

import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SamMachine, type SamDesign } from '../../lab/sam/machine.js';
import { synthSam, synthRefs } from '../../lab/sam/synth.js';
import { DEFAULT_MACHINE } from '../../kernel/machineConfig.js';

function samtoolsVersion(): string | null {
  try {
    return execFileSync('samtools', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return null;
  }
}

const version = samtoolsVersion();
const why = version === null ? 'samtools is not installed (apt-get install samtools)' : version !== 'samtools 1.16.1' ? `samtools is "${version}", not 1.16.1` : '';
if (why) console.warn(`sam differential test skipped: ${why}`);

const READS = 3000;
const refs = synthRefs(READS);
const region = `chr1:${Math.floor(refs[0].length / 3)}-${Math.floor(refs[0].length / 3) + 4000}`;
/** [args with @IN, prep]: raw runs on the SAM, sorted on the sorted BAM + index. */
const COMMANDS: [string[], 'raw' | 'sorted' | 'bam'][] = [
  [['flagstat', '@IN'], 'raw'],
  [['flagstat', '-O', 'tsv', '@IN'], 'raw'],
  [['flagstat', '-O', 'json', '@IN'], 'raw'],
  [['view', '-c', '-F', '0x904', '-q', '20', '@IN'], 'raw'],
  [['view', '-c', '-f', '0x42', '-G', '0x30', '@IN'], 'raw'],
  [['view', '-h', '-F', '4', '@IN'], 'raw'],
  [['sort', '-O', 'sam', '@IN'], 'raw'],
  [['sort', '-n', '-O', 'sam', '@IN'], 'raw'],
  [['idxstats', '@IN'], 'sorted'],
  [['view', '@IN', region], 'sorted'],
  [['view', '-c', '@IN', 'chr2', 'chr3:100-5000', '*'], 'sorted'],
  [['depth', '-r', region, '@IN'], 'sorted'],
  [['depth', '@IN'], 'sorted'],
  [['flagstat', '@IN'], 'bam'],
  [['view', '-F', '0x10', '@IN'], 'bam'],
];

describe.skipIf(!!why)(`differential vs real samtools 1.16.1 on generated data${why ? ` (skipped: ${why})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sjmp-sam-'));
  const data = synthSam({ reads: READS, seed: 7 });
  writeFileSync(join(dir, 'gen.sam'), data.text);
  const sh = (args: string[]): Buffer => execFileSync('samtools', args, { cwd: dir, maxBuffer: 1 << 28 });
  sh(['sort', '-o', 'gen.sorted.bam', 'gen.sam']);
  sh(['index', 'gen.sorted.bam']);
  sh(['view', '-b', '-o', 'gen.bam', 'gen.sam']);
  const FILES = { raw: 'gen.sam', sorted: 'gen.sorted.bam', bam: 'gen.bam' } as const;
  const typed = (args: string[], prep: keyof typeof FILES): string[] => args.map((a) => (a === '@IN' ? FILES[prep] : a));

  it.each(['files', 'vas'] as SamDesign[])('%s design prints what samtools prints', (design) => {
    const m = new SamMachine(DEFAULT_MACHINE);
    m.putFile('/g/gen.sam', data.text);
    m.putFile('/g/gen.bam', readFileSync(join(dir, 'gen.bam')));
    const sortCl = 'samtools sort -o gen.sorted.bam gen.sam';
    if (design === 'files') {
      expect(m.tool('files', ['sort', '-o', '/g/gen.sorted.bam', '/g/gen.sam'], { commandLine: sortCl }).code).toBe(0);
      expect(m.tool('files', ['index', '/g/gen.sorted.bam']).code).toBe(0);
    } else {
      expect(m.importDataset('raw', '/g/gen.sam').code).toBe(0);
      expect(m.importDataset('sorted', '/g/gen.sam').code).toBe(0);
      expect(m.importDataset('bam', '/g/gen.bam').code).toBe(0);
      expect(m.tool('vas', ['sort', 'sorted'], { commandLine: sortCl }).code).toBe(0);
      expect(m.tool('vas', ['index', 'sorted']).code).toBe(0);
    }
    let fresh = 0;
    for (const [args, prep] of COMMANDS) {
      const want = sh(typed(args, prep)).toString('latin1');
      let input = design === 'files' ? `/g/${FILES[prep]}` : prep;
      if (design === 'vas' && args[0] === 'sort') {
        // a vas sort changes the data set (it adds the order); each sort starts from the import
        input = `fresh${++fresh}`;
        expect(m.importDataset(input, '/g/gen.sam').code).toBe(0);
      }
      const r = m.tool(design, args.map((a) => (a === '@IN' ? input : a)), { commandLine: ['samtools', ...typed(args, prep)].join(' ') });
      expect({ args, code: r.code, out: Buffer.from(r.stdout).toString('latin1') }).toEqual({ args, code: 0, out: want });
    }
    if (design === 'files') {
      // our BAM and .bai, read by real samtools, give what its own give
      writeFileSync(join(dir, 'ours.bam'), m.getFile('/g/gen.sorted.bam'));
      writeFileSync(join(dir, 'ours.bam.bai'), m.getFile('/g/gen.sorted.bam.bai'));
      expect(sh(['view', 'ours.bam', region]).toString('latin1')).toBe(sh(['view', 'gen.sorted.bam', region]).toString('latin1'));
      expect(sh(['idxstats', 'ours.bam']).toString('latin1')).toBe(sh(['idxstats', 'gen.sorted.bam']).toString('latin1'));
    }
  }, 180_000);

  it('cleans up', () => { rmSync(dir, { recursive: true, force: true }); });
});
