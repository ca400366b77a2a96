import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { startShell } from '../../shell/interactive/index.js';

/** Run `input` through the shell without a terminal; the exit status and everything printed. */
async function piped(input: string): Promise<{ code: number; out: string }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => { out += d.toString(); });
  stdin.end(input);
  const code = await startShell({ stdin: stdin as unknown as NodeJS.ReadStream, stdout: stdout as unknown as NodeJS.WriteStream, historyFile: null });
  return { code, out };
}

describe('the shell without a terminal', () => {
  it('runs piped lines and prints the transcript, stopping at exit; a failure makes the status 1', async () => {
    const { code, out } = await piped('process alice uid=1000 gid=100\nas alice\nvas_create("shared", 0660) = >=0\nvmmap nobody\nexit\nps\n');
    expect(code).toBe(1);
    expect(out).toContain('[alice[2]] vas_create("shared", 0660) = 1');
    expect(out).toContain("<stdin>:4:7: unknown process or address space 'nobody'");
    expect(out).not.toContain('> ps');
  });

  it('exits 0 when nothing failed, and prints every view a command opens as plain text', async () => {
    const { code, out } = await piped('process p\nas p\nstore64 0x1000_0000 7\nps\nstats\nsegments\ntlb 0\npt p\nvmmap p\nspaces\n');
    expect(code).toBe(0);
    expect(out).toMatch(/── processes \(2\) ─+\n/);
    expect(out).toMatch(/2\s+p\s+1001\s+1001\s+live\s+main/);
    expect(out).toMatch(/── stats/);
    expect(out).toMatch(/── segments/);
    expect(out).toMatch(/── tlb/);
    expect(out).toMatch(/── pt p\[2\] primary/);
    expect(out).toMatch(/· PT\[0\]\s+0x1000_0000\s+PWUAD/);
    expect(out).toMatch(/── vmmap/);
    expect(out).toMatch(/── address spaces/);
  });

  it('a failed expectation, a fault and a parse error each make the status 1', async () => {
    expect((await piped('process p\nas p\nvas_find("none") = 0\n')).code).toBe(1);
    expect((await piped('process p\nas p\nload64 0x1000\n')).code).toBe(1);
    expect((await piped('foo(\n')).code).toBe(1);
    expect((await piped('process p\nas p\nexpect fault read unmapped load64 0x1000\n')).code).toBe(0);
  });
});
