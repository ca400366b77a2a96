import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALICE_BOB, newSession, output, typeFile, viewText } from './helpers.js';
import type { EngineProgress } from '../../shell/interactive/engines.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sjmp-shell-'));
  dirs.push(d);
  return d;
}

describe('shell session: the Alice/Bob scenario typed line by line', () => {
  it('runs every statement with its result inline, blocks spanning lines', async () => {
    const s = newSession();
    const out = await output(s, () => typeFile(s, ALICE_BOB));
    expect(out).toContain('machine: 2 CPUs');
    expect(out).toMatch(/\[alice\[2\]\] seg_alloc\("data", 0x4000_0000_0000, \S+, 0660\) = 1/);
    expect(out).toMatch(/\[bob\[3\]\] vas_attach\(1\) = (0x1_?0001|65537)/);
    expect(out).toMatch(/\[bob\[3\]\] load64 0x4000_0000_0000 = 0xa_11ce/);
    expect(out).toMatch(/\[bob\[3\]\] load64 0x4000_0000_0000 = 0xb0b/);
    expect(s.pending).toEqual([]);
    expect(s.kernel.cpus).toHaveLength(2);
  });

  it('shows the views of the machine as it is after each command', async () => {
    const s = newSession();
    await typeFile(s, ALICE_BOB);
    await s.submit('processes');
    expect(viewText(s)).toMatch(/3\s+bob\s+1001\s+100\s+live\s+main/);
    expect(viewText(s)).toMatch(/2\s+alice.*zombie/);
    await s.submit('segments');
    expect(viewText(s)).toMatch(/1\s+data\s+0x4000_0000_0000\s+2M\s+rw-rw----\s+1000:100\s+no/);
    await s.submit('as bob');
    await s.submit('vh = vas_attach(vid) = >0');
    await s.submit('spaces');
    expect(viewText(s)).toContain('vid 1 "shared"  rw-rw----  owner 1000:100');
    expect(viewText(s)).toMatch(/attached by bob\[3\]\s+vh 0x1_0002/);
    await s.submit('vas_switch(vh) = 0');
    await s.submit('processes');
    expect(viewText(s)).toContain('shared (vh 0x1_0002)');
    await s.submit('vmmap bob vh');
    expect(viewText(s)).toMatch(/0x4000_0000_0000\s+2M\s+rw-\s+\S*S\S*\s+\S+\s+data\s+wired#/);
    await s.submit('vmmap bob');
    expect(viewText(s)).toMatch(/0x4000_0000_0000\s+2M\s+rw-.*anon/);
  });

  it('walks an address level by level in the page-table view', async () => {
    const s = newSession();
    await typeFile(s, ALICE_BOB);
    await s.submit('pt bob walk base + 16');
    const v = viewText(s, 100);
    expect(v).toContain('walk 0x4000_0000_0010');
    expect(v).toMatch(/PML4 table 0x\S+ \[128\]/);
    expect(v).toMatch(/=> physical 0x\S+ \(4K page\)/);
    expect(v).toMatch(/· PT\[0\]\s+0x4000_0000_0000 PWUAD/);
    await s.submit('walk 0x10');
    expect(viewText(s)).toContain('not present at PML4[0]');
  });
});

describe('shell session: bad input is a message, and the shell goes on', () => {
  it('unknown command or statement', async () => {
    const s = newSession();
    const out = await output(s, () => s.submit('frob 1'));
    expect(out).toContain("\nunknown statement 'frob'");
    expect(out).not.toContain('<stdin>');
    expect(await output(s, () => s.submit('vmmp 1'))).toMatch(/vmmap is a shell command/);
  });

  it('bad number, with the caret under it', async () => {
    const s = newSession();
    const out = await output(s, () => s.submit('tlb 0x'));
    expect(out).toMatch(/^bad hex number/m);
    expect(out).toContain('    tlb 0x\n        ^~');
    expect(await output(s, () => s.submit('tlb 9'))).toMatch(/^no CPU 9/m);
  });

  it('leads messages with <stdin>:LINE:COL: only when asked (piped input), not at a terminal', async () => {
    const piped = newSession({ positions: true });
    await piped.submit('ps');
    expect(await output(piped, () => piped.submit('tlb 9'))).toMatch(/^<stdin>:2:5: no CPU 9/m);
    expect(await output(piped, () => piped.submit('vas_attach(vdi)'))).toContain("<stdin>:3:12: unknown name 'vdi'");
    const tty = newSession();
    expect(await output(tty, () => tty.submit('vas_attach(vdi)'))).toMatch(/^unknown name 'vdi'/m);
  });

  it('unknown name, in a statement and in a view argument', async () => {
    const s = newSession();
    expect(await output(s, () => s.submit('vas_attach(vdi)'))).toContain("unknown name 'vdi'");
    expect(await output(s, () => s.submit('vmmap nobody'))).toContain("unknown process or address space 'nobody'\n    vmmap nobody\n          ^~~~~~");
    expect(await output(s, () => s.submit('pt 1 walk nope'))).toContain("unknown name 'nope'");
  });

  it('wrong argument counts and help for unknown topics', async () => {
    const s = newSession();
    expect(await output(s, () => s.submit('stats now'))).toContain('stats takes no arguments');
    expect(await output(s, () => s.submit('vmmap'))).toContain('usage: vmmap PID|NAME [VH]');
    expect(await output(s, () => s.submit('help vas_crate'))).toContain('(did you mean vas_create?)');
    expect(await output(s, () => s.submit('walk 0x1000'))).toContain('walk needs the page-table view');
  });

  it('a failing expectation and a fault are shown, not thrown', async () => {
    const s = newSession();
    await s.submit('process p');
    await s.submit('as p');
    expect(await output(s, () => s.submit('vas_find("nothing") = 0'))).toMatch(/-ENOENT.*✗/);
    expect(await output(s, () => s.submit('load64 0x7000_0000'))).toMatch(/killed|segmentation fault/);
    expect(await output(s, () => s.submit('ps'))).toContain('ps');
  });
});

describe('shell session: commands', () => {
  it('help lists commands; help CMD, help CALL and help keys explain one thing', async () => {
    const s = newSession();
    expect(await output(s, () => s.submit('help'))).toMatch(/vmmap PID\|NAME \[VH\]/);
    expect(await output(s, () => s.submit('help pt'))).toContain('walk VA');
    expect(await output(s, () => s.submit('help vas_switch'))).toMatch(/^vas_switch\(/m);
    expect(await output(s, () => s.submit('help keys'))).toContain('Ctrl-C');
  });

  it('run counts a process killed by a fault nobody expected and reports the script as failed', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'dies.trace'), 'process alice uid=1000 gid=100\nas alice {\n  load64 0x1000\n}\n');
    const s = newSession({ cwd: d });
    await s.submit('run dies.trace');
    const line = s.transcript.find((l) => l.text.startsWith('--- dies.trace'));
    expect(line?.text).toMatch(/1 faults, 1 killed, 0 errors$/);
    expect(line?.tone).toBe('warn');
  });

  it('save writes the session as a trace that run replays on a fresh machine', async () => {
    const d = tempDir();
    const s = newSession({ cwd: d });
    await s.submit('machine cpus=2');
    await s.submit('process alice uid=1000 gid=100');
    await s.submit('as alice {');
    await s.submit('  vid = vas_create("shared", 0660) = >=0');
    await s.submit('}');
    await s.submit('save out.trace');
    const text = readFileSync(join(d, 'out.trace'), 'utf8');
    expect(text).toContain('machine cpus=2\nprocess alice uid=1000 gid=100\nas alice {\n  vid = vas_create("shared", 0660) = >=0\n}');
    const t = newSession({ cwd: d });
    const out = await output(t, () => t.submit('run out.trace'));
    expect(out).toMatch(/--- out.trace: \d+ statements, expectations 1 passed \/ 0 failed/);
    expect(t.kernel.cpus).toHaveLength(2);
    expect(await output(t, () => t.submit('vas_find("shared") = vid'))).not.toContain('✗');
  });

  it('run reports every error of a bad file and runs nothing', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'bad.trace'), 'process a\nvas_crate("x", 0600)\nvas_attach(nope)\n');
    const s = newSession({ cwd: d });
    const out = await output(s, () => s.submit('run bad.trace'));
    expect(out).toContain("bad.trace:2:1: unknown call 'vas_crate'");
    expect(out).toContain("bad.trace:3:12: unknown name 'nope'");
    expect(s.kernel.processes.size).toBe(1);
    expect(await output(s, () => s.submit('run missing.trace'))).toMatch(/^cannot read missing.trace.*\n {4}run missing.trace\n {8}\^~/m);
  });

  it('a machine line after statements is refused', async () => {
    const s = newSession();
    await s.submit('process a');
    expect(await output(s, () => s.submit('machine cpus=8'))).toMatch(/machine/);
    expect(s.kernel.cpus).toHaveLength(4);
  });

  it('Ctrl-C cancels a running engine; without one the command says so', async () => {
    let progress: ((p: EngineProgress) => void) | null = null;
    const s = newSession({
      engines: {
        gups: (_args, onProgress, signal) => new Promise((resolve, reject) => {
          progress = onProgress;
          signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
      },
    });
    const run = s.submit('gups --design vas');
    await new Promise((r) => setImmediate(r));
    progress!({ done: 3, total: 10, label: 'VAS' });
    expect(s.busy?.progress?.done).toBe(3);
    await s.dispatch({ type: 'cancel' });
    await run;
    expect(s.busy).toBeNull();
    expect(s.transcript.map((l) => l.text)).toContain('gups cancelled');
    expect(await output(s, () => s.submit('nibble'))).toContain('nibble is not available');
  });

  it('Ctrl-C abandons an open block; Ctrl-D on an empty line and exit leave', async () => {
    const s = newSession();
    await s.submit('process a {');
    expect(s.pending).toHaveLength(1);
    await s.dispatch({ type: 'cancel' });
    expect(s.pending).toHaveLength(0);
    await s.dispatch({ type: 'insert', text: 'x' });
    await s.dispatch({ type: 'eofOrDelete' });
    expect(s.exited).toBe(false);
    await s.dispatch({ type: 'backspace' });
    await s.dispatch({ type: 'eofOrDelete' });
    expect(s.exited).toBe(true);
    const t = newSession();
    await t.submit('exit(0)');
    expect(t.exited).toBe(false);
    await t.submit('exit');
    expect(t.exited).toBe(true);
  });

  it('navigates the page-table tree by keys', async () => {
    const s = newSession();
    await typeFile(s, ALICE_BOB);
    await s.submit('pt shared');
    await s.dispatch({ type: 'focusView' });
    expect(s.focus).toBe('view');
    const before = viewText(s);
    expect(before).toMatch(/▸ PD\[0\]/);
    await s.dispatch({ type: 'viewDown' });
    await s.dispatch({ type: 'viewDown' });
    await s.dispatch({ type: 'viewExpand' });
    expect(viewText(s)).toMatch(/▾ PD\[0\]/);
    expect(viewText(s)).toMatch(/· PT\[511\]/);
    await s.dispatch({ type: 'viewCollapse' });
    expect(viewText(s)).toMatch(/▸ PD\[0\]/);
    await s.dispatch({ type: 'focusPrompt' });
    expect(s.focus).toBe('prompt');
  });

  it('history and completion work through key actions', async () => {
    const s = newSession();
    await s.dispatch({ type: 'insert', text: 'process alice uid=1000\r' });
    await s.dispatch({ type: 'insert', text: 'vas_cr' });
    await s.dispatch({ type: 'complete' });
    expect(s.line.text).toBe('vas_create(');
    await s.dispatch({ type: 'killToStart' });
    await s.dispatch({ type: 'historyPrev' });
    expect(s.line.text).toBe('process alice uid=1000');
    await s.dispatch({ type: 'insert', text: '' });
    expect(s.kernel.processes.size).toBe(2);
  });
});
