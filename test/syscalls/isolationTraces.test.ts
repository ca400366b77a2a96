// The isolation cases of issue 12 as traces (examples/isolation/*.trace): each expects the
// correct behaviour, runs clean, and leaves a kernel whose invariants hold.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTraceFile, runParsedTrace } from '../../shell/commands/trace.js';
import { formatDiagnostics } from '../../syscalls/trace/index.js';
import { formatEntry } from '../../syscalls/trace/runner.js';
import { checkKernelInvariants } from '../../kernel/invariants.js';
import type { Kernel } from '../../kernel/kernel.js';

const dir = fileURLToPath(new URL('../../examples/isolation', import.meta.url));
const traces = readdirSync(dir).filter((f) => f.endsWith('.trace')).sort();

describe('examples/isolation/*.trace', () => {
  it('has one trace per case of the issue (1-8)', () => {
    expect(traces.map((t) => t.split('-')[0])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
  });

  it.each(traces)('%s runs with every expectation holding and the kernel consistent', (name) => {
    expect(readFileSync(join(dir, name), 'utf8')).toMatch(/^# Isolation case \d/);
    const parsed = parseTraceFile(join(dir, name));
    if (!parsed.ok) throw new Error(`${name} does not parse:\n${formatDiagnostics(parsed.errors)}`);
    let kernel: Kernel | null = null;
    const r = runParsedTrace(`examples/isolation/${name}`, parsed, {}, undefined, (k) => { kernel = k; });
    expect(r.transcript.filter((e) => !e.ok).map(formatEntry)).toEqual([]);
    expect(r.summary.errors).toBe(0);
    expect(r.summary.expectations.failed).toBe(0);
    expect(r.summary.expectations.passed).toBeGreaterThan(3);
    expect(checkKernelInvariants(kernel!)).toEqual([]);
  });
});
