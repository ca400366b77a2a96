import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { startShell } from '../../shell/interactive/index.js';

describe('the shell without a terminal', () => {
  it('runs piped lines and prints the transcript, stopping at exit', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (d: Buffer) => { out += d.toString(); });
    stdin.end('process alice uid=1000 gid=100\nas alice\nvas_create("shared", 0660) = >=0\nvmmap nobody\nexit\nps\n');
    const code = await startShell({ stdin: stdin as unknown as NodeJS.ReadStream, stdout: stdout as unknown as NodeJS.WriteStream, historyFile: null });
    expect(code).toBe(0);
    expect(out).toContain('[alice[2]] vas_create("shared", 0660) = 1');
    expect(out).toContain("<stdin>:4:7: unknown process or address space 'nobody'");
    expect(out).not.toContain('sjmp> ps');
  });
});
