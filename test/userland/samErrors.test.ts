// Bad input: a clear error naming the file and the line (or the byte offset of the BGZF block),
// exit status 1, nothing killed; a failed import leaves no named space or segment behind and gives
// its frames back; a reader without write rights cannot change a data set.

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SamMachine } from '../../lab/sam/machine.js';
import { DEFAULT_MACHINE } from '../../kernel/machineConfig.js';

const toy = readFileSync(join(import.meta.dirname, 'samGolden', 'toy.sam'), 'latin1');
const HEADER = '@SQ\tSN:chr1\tLN:1000\n';
const GOOD = 'r1\t0\tchr1\t5\t60\t4M\t*\t0\t0\tACGT\tIIII\n';

function sam(m: SamMachine, path: string, text: string): string {
  m.putFile(path, Buffer.from(text, 'latin1'));
  return path;
}

describe('bad SAM input', () => {
  const m = new SamMachine(DEFAULT_MACHINE);
  const cases: [string, string, RegExp][] = [
    ['10 fields', HEADER + GOOD + 'r2\t0\tchr1\t5\t60\t4M\t*\t0\t0\tACGT\n', /\/t\/x\.sam:3: 10 fields, a SAM alignment line needs 11/],
    ['CIGAR longer than SEQ', HEADER + GOOD + GOOD + 'r3\t0\tchr1\t5\t60\t6M\t*\t0\t0\tACGT\tIIII\n', /x\.sam:4: CIGAR and query sequence are of different length \(CIGAR 6, SEQ 4\)/],
    ['POS beyond the reference', HEADER + 'r1\t0\tchr1\t1001\t60\t4M\t*\t0\t0\tACGT\tIIII\n', /x\.sam:2: POS 1001 is beyond the end of chr1 \(length 1000\)/],
    ['non-ASCII QNAME', HEADER + 'r\u00e91\t0\tchr1\t5\t60\t4M\t*\t0\t0\tACGT\tIIII\n', /x\.sam:2: QNAME has a character outside \[!-\?A-~\] \(byte 0xe9 at column 2\)/],
    ['bad FLAG', HEADER + 'r1\t0x10\tchr1\t5\t60\t4M\t*\t0\t0\tACGT\tIIII\n', /x\.sam:2: bad FLAG "0x10"/],
    ['QUAL length', HEADER + 'r1\t0\tchr1\t5\t60\t4M\t*\t0\t0\tACGT\tIII\n', /x\.sam:2: SEQ and QUAL are of different length/],
    ['not SAM at all', 'hello world\n', /x\.sam:1: 1 fields/],
  ];
  it.each(cases)('%s: file and line, exit 1, in both designs', (_name, text, msg) => {
    sam(m, '/t/x.sam', text);
    const f = m.tool('files', ['flagstat', '/t/x.sam']);
    expect(f.code).toBe(1);
    expect(f.killedBy).toBeNull();
    expect(f.stderr).toMatch(msg);
    expect(f.stdout.length).toBe(0);
    const v = m.importDataset('x', '/t/x.sam');
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(msg);
    expect(m.datasets()).toEqual([]);
  });

  it('an overlong line is refused before it is buffered whole (limit lowered for the test)', () => {
    sam(m, '/t/long.sam', HEADER + GOOD + `r2\t0\tchr1\t5\t60\t4M\t*\t0\t0\tACGT\tIIII\tXZ:Z:${'A'.repeat(300_000)}\n`);
    const r = m.tool('files', ['view', '-c', '/t/long.sam'], { maxLine: 100_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/long\.sam:3: line longer than 100000 bytes/);
  });

  it('unknown options and unknown tools are errors, not ignored', () => {
    sam(m, '/t/toy.sam', toy);
    expect(m.tool('files', ['view', '-b', '/t/toy.sam']).stderr).toMatch(/option "-b" is not implemented/);
    expect(m.tool('files', ['mpileup', '/t/toy.sam']).stderr).toMatch(/unknown samtools command "mpileup"/);
    expect(m.tool('files', ['view', '-c', '/t/toy.sam', 'chr1']).stderr).toMatch(/Random alignment retrieval only works for indexed/);
    expect(m.tool('files', ['flagstat', '/t/none.sam']).stderr).toMatch(/ENOENT/);
  });
});

describe('bad BAM input', () => {
  const m = new SamMachine(DEFAULT_MACHINE);
  let bam: Uint8Array;
  beforeAll(() => {
    // a BAM big enough for several BGZF blocks, written by our own sort
    const lines = [HEADER.trimEnd()];
    let x = 12345;
    const rnd = (n: number): number => { x = (x * 1103515245 + 12345) % 2147483648; return x % n; };
    const seq = (): string => Array.from({ length: 50 }, () => 'ACGT'[rnd(4)]).join('');
    const qual = (): string => Array.from({ length: 50 }, () => String.fromCharCode(35 + rnd(40))).join('');
    for (let i = 0; i < 3000; i++) lines.push(`q${i}\t0\tchr1\t${1 + (i % 900)}\t60\t50M\t*\t0\t0\t${seq()}\t${qual()}`);
    sam(m, '/b/in.sam', lines.join('\n') + '\n');
    expect(m.tool('files', ['sort', '-o', '/b/ok.bam', '/b/in.sam']).code).toBe(0);
    bam = m.getFile('/b/ok.bam');
    expect(bam.length).toBeGreaterThan(3 * 65536 / 8);
  });

  it('reads a good BAM', () => {
    const r = m.tool('files', ['view', '-c', '/b/ok.bam']);
    expect(Buffer.from(r.stdout).toString()).toBe('3000\n');
  });

  it('truncated BAM: the offset of the cut block', () => {
    m.putFile('/b/cut.bam', bam.subarray(0, Math.floor(bam.length / 2)));
    const r = m.tool('files', ['flagstat', '/b/cut.bam']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cut\.bam:byte \d+: BGZF block: truncated/);
    const v = m.importDataset('cut', '/b/cut.bam');
    expect(v.code).toBe(1);
    expect(m.datasets()).toEqual([]);
  });

  it('bad CRC: the offset of the block', () => {
    const bad = bam.slice();
    const first = (bad[16] | (bad[17] << 8)) + 1; // size of block 0
    const second = first + (bad[first + 16] | (bad[first + 17] << 8)) + 1;
    bad[second - 8] ^= 0xff; // CRC of block 1
    m.putFile('/b/crc.bam', bad);
    const r = m.tool('files', ['view', '-c', '/b/crc.bam']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`crc.bam:byte ${first}: BGZF block: CRC mismatch`);
  });
});

describe('data sets: all or nothing, and segment rights', () => {
  it('a failed import leaves nothing behind and its frames return', () => {
    const m = new SamMachine(DEFAULT_MACHINE);
    sam(m, '/t/ok.sam', toy);
    expect(m.importDataset('warm', '/t/ok.sam').code).toBe(0); // first-use kernel allocations out of the way
    const lines = [HEADER.trimEnd()];
    for (let i = 0; i < 20_000; i++) lines.push(`r${i}\t0\tchr1\t${1 + (i % 990)}\t60\t4M\t*\t0\t0\tACGT\tIIII`);
    lines.push('broken\t0\tchr1\t5\t60\t4M\t*\t0\t0\tACGT');
    sam(m, '/t/bad.sam', lines.join('\n') + '\n');
    const before = m.freeBytes();
    const r = m.importDataset('bad', '/t/bad.sam');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.sam:20002: 10 fields/);
    expect(m.datasets().map((d) => d.name)).toEqual(['warm']);
    expect([...m.kernel.spacejmp.segments.values()].filter((s) => !s.deleted && s.name.startsWith('bad.'))).toEqual([]);
    expect(m.freeBytes()).toBe(before);
    // the name is free again
    sam(m, '/t/bad.sam', toy);
    expect(m.importDataset('bad', '/t/bad.sam').code).toBe(0);
  });

  it('another user reads a data set but cannot change it; the owner can', () => {
    const m = new SamMachine(DEFAULT_MACHINE);
    sam(m, '/t/toy.sam', toy);
    expect(m.importDataset('toy', '/t/toy.sam').code).toBe(0);
    const other = { uid: 1001, gid: 1001 };
    const fs = m.tool('vas', ['flagstat', 'toy'], { cred: other });
    expect(fs.code).toBe(0);
    expect(Buffer.from(fs.stdout).toString()).toContain('17 + 1 in total');
    const s = m.tool('vas', ['sort', 'toy'], { cred: other });
    expect(s.code).toBe(1);
    expect(s.killedBy).toBeNull();
    expect(s.stderr).toMatch(/EACCES|EPERM/);
    expect(m.datasets()[0].segments.map((x) => x.name).sort()).toEqual(['toy.hdr', 'toy.rec0']);
    expect(m.tool('vas', ['sort', 'toy']).code).toBe(0);
    const region = m.tool('vas', ['view', '-c', 'toy', 'chr1']);
    expect(region.stderr).toMatch(/Random alignment retrieval only works for indexed/);
    expect(m.tool('vas', ['index', 'toy']).code).toBe(0);
    expect(Buffer.from(m.tool('vas', ['view', '-c', 'toy', 'chr1'], { cred: other }).stdout).toString()).toBe('10\n');
    // `depth NAME REGION` is `depth -r REGION NAME`
    expect(m.tool('vas', ['depth', 'toy', 'chr1:95-105']).stdout).toEqual(m.tool('vas', ['depth', '-r', 'chr1:95-105', 'toy']).stdout);
    expect(m.tool('vas', ['depth', 'toy', 'chr1:95-105']).stdout.length).toBeGreaterThan(0);
    // a private data set is not readable by others
    expect(m.importDataset('mine', '/t/toy.sam', { mode: 0o600 }).code).toBe(0);
    expect(m.tool('vas', ['flagstat', 'mine'], { cred: other }).stderr).toMatch(/EACCES/);
  });
});
