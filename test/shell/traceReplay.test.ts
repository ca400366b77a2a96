// A session saved from the shell and replayed with `sjmp trace` fails when a process dies in it,
// at the saved statement's line (issue 19, item 1).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newSession } from './helpers.js';
import { parseTraceFile, runParsedTrace } from '../../shell/commands/trace.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('a replayed shell save', () => {
  it('fails with the file:line of the statement that killed its process', async () => {
    const d = mkdtempSync(join(tmpdir(), 'sjmp-replay-'));
    dirs.push(d);
    const s = newSession({ cwd: d });
    await s.submit('process alice uid=1000 gid=100');
    await s.submit('as alice');
    await s.submit('getpid()');
    await s.submit('load64 0x1000');
    await s.submit('save died.trace');
    const text = readFileSync(join(d, 'died.trace'), 'utf8');
    const line = text.split('\n').indexOf('load64 0x1000') + 1;
    expect(line).toBeGreaterThan(0);
    const parsed = parseTraceFile(join(d, 'died.trace'));
    expect(parsed.errors).toEqual([]);
    const r = runParsedTrace('died.trace', parsed, {});
    expect(r.summary.passed).toBe(false);
    expect(r.summary.killed).toBe(1);
    expect(r.summary.failures[0]).toMatch(new RegExp(`died\\.trace:${line}:1: load64 0x1000: alice\\[2\\] was killed`));
  });
});
