// Golden tests: every case of samGolden/cases.tsv (outputs of real samtools 1.16.1, made by
// samGolden/make.sh) run in both designs; stdout must match byte for byte, and the exit status too.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SamMachine, type SamDesign } from '../../lab/sam/machine.js';
import { DEFAULT_MACHINE } from '../../kernel/machineConfig.js';

const DIR = join(import.meta.dirname, 'samGolden');

interface Case { id: string; prep: 'raw' | 'sorted' | 'bam'; input: string; code: number; args: string[] }

const cases: Case[] = readFileSync(join(DIR, 'cases.tsv'), 'latin1').split('\n').filter(Boolean).map((l) => {
  const [id, prep, input, code, ...args] = l.split('\t');
  return { id, prep: prep as Case['prep'], input, code: Number(code), args };
});

const stem = (f: string): string => f.replace(/\.sam$/, '');

function runCases(design: SamDesign): { id: string; got: string; want: string; code: number; wantCode: number; err: string; wantErr: string }[] {
  const m = new SamMachine(DEFAULT_MACHINE);
  for (const f of new Set(cases.map((c) => c.input))) m.putFile(`/g/${f}`, readFileSync(join(DIR, f)));
  for (const f of new Set(cases.filter((c) => c.prep === 'bam').map((c) => `${stem(c.input)}.bam`))) m.putFile(`/g/${f}`, readFileSync(join(DIR, f)));
  const sortedFiles = new Set<string>();
  const out = [];
  let n = 0;
  for (const c of cases) {
    const sortCl = `samtools sort -o ${stem(c.input)}.sorted.bam ${c.input}`;
    const typedInput = c.prep === 'sorted' ? `${stem(c.input)}.sorted.bam` : c.prep === 'bam' ? `${stem(c.input)}.bam` : c.input;
    const commandLine = ['samtools', ...c.args.map((a) => (a === '@IN' ? typedInput : a))].join(' ');
    let input: string;
    if (design === 'files') {
      if (c.prep === 'sorted' && !sortedFiles.has(c.input)) {
        const s = `/g/${stem(c.input)}.sorted.bam`;
        expect(m.tool('files', ['sort', '-o', s, `/g/${c.input}`], { commandLine: sortCl }).code).toBe(0);
        expect(m.tool('files', ['index', s]).code).toBe(0);
        sortedFiles.add(c.input);
      }
      input = `/g/${typedInput}`;
    } else {
      input = `d${++n}`;
      expect(m.importDataset(input, c.prep === 'bam' ? `/g/${typedInput}` : `/g/${c.input}`).code).toBe(0);
      if (c.prep === 'sorted') {
        expect(m.tool('vas', ['sort', input], { commandLine: sortCl }).code).toBe(0);
        expect(m.tool('vas', ['index', input]).code).toBe(0);
      }
    }
    const r = m.tool(design, c.args.map((a) => (a === '@IN' ? input : a)), { commandLine });
    out.push({
      id: c.id, got: Buffer.from(r.stdout).toString('latin1'), want: readFileSync(join(DIR, 'expected', `${c.id}.out`), 'latin1'),
      code: r.code, wantCode: c.code, err: r.stderr, wantErr: readFileSync(join(DIR, 'expected', `${c.id}.err`), 'latin1'),
    });
  }
  return out;
}

describe.each(['files', 'vas'] as SamDesign[])('samtools 1.16.1 golden outputs, %s design', (design) => {
  it(`all ${cases.length} cases match byte for byte`, () => {
    const results = runCases(design);
    for (const r of results) {
      expect({ id: r.id, out: r.got, code: r.code }).toEqual({ id: r.id, out: r.want, code: r.wantCode });
      if (r.id.endsWith('idxstats-unsorted')) expect(r.err).toBe(r.wantErr);
    }
  }, 120_000);
});
