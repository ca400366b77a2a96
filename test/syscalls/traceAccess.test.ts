// Traces reach emulated memory only through the CPU's access functions: a page-crossing load or
// store is split as x86 splits it, and memset/memcpy are counted access by access.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTraceFile, runParsedTrace, type TraceFileResult } from '../../shell/commands/trace.js';

function runText(text: string): TraceFileResult {
  const file = join(mkdtempSync(join(tmpdir(), 'sjmp-door-')), 't.trace');
  writeFileSync(file, text);
  const parsed = parseTraceFile(file);
  if (!parsed.ok) throw new Error('does not parse');
  return runParsedTrace(file, parsed, {});
}

const HEADER = 'machine paging=4 mem=1G cpus=1 profile=m2 seed=1\nprocess p\nas p {\n  a = mmap(0, 8K, RW, MAP_PRIVATE|MAP_ANONYMOUS) = >=0\n';

describe('trace accesses go through the CPU', () => {
  it('store32 at a+4094 lands in the two pages of the mapping; load16 at a+4095 reads across them', () => {
    const r = runText(HEADER + [
      '  store32 a + 4094 0x44332211',
      '  load8 a + 4094 = 0x11',
      '  load8 a + 4095 = 0x22',
      '  load8 a + 4096 = 0x33',
      '  load8 a + 4097 = 0x44',
      '  load16 a + 4095 = 0x3322',
      '  load64 a + 4090 = 0x4433_2211_0000_0000',
      '  memset a + 4000 200 0x7f',
      '  load8 a + 4199 = 0x7f',
      '  load8 a + 4200 = 0',
      '  memcpy a + 100 a + 4090 16',
      '  load64 a + 104 = 0x7f7f_7f7f_7f7f_7f7f',
      '}',
    ].join('\n') + '\n');
    expect(r.summary.expectations.failed, JSON.stringify(r.transcript.filter((e) => !e.ok), null, 1)).toBe(0);
    expect(r.summary.errors).toBe(0);
    expect(r.summary.expectations.passed).toBeGreaterThan(3);
  });

  it('a crossing store that faults on its second page writes nothing to the first', () => {
    const r = runText(HEADER + [
      '  munmap(a + 4K, 4K) = 0',
      '  store32 a + 4092 0x55',
      '  expect fault write { store64 a + 4092 -1 }',
      '  load32 a + 4092 = 0x55',
      '}',
    ].join('\n') + '\n');
    expect(r.summary.expectations.failed, JSON.stringify(r.transcript.filter((e) => !e.ok), null, 1)).toBe(0);
    expect(r.summary.errors).toBe(0);
    expect(r.summary.expectations.passed).toBeGreaterThan(3);
  });
});
