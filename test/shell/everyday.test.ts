// Issue 19's shell details, each through a session as a user types it: save keeps the machine,
// a dead actor says what to do, `reset`, messages for a typed line, memory examination (x, xp).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALICE_BOB, newSession, output, typeFile, viewText } from './helpers.js';
import type { ShellSession } from '../../shell/interactive/session.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sjmp-shell-'));
  dirs.push(d);
  return d;
}

/** Every counter a load or store would move: cycles, accesses, TLB hits and misses, walks. */
function counters(s: ShellSession): string {
  return JSON.stringify({ cycles: s.kernel.totalCycles, cpus: s.kernel.cpus.map((c) => c.counters()) });
}

describe('save keeps the machine', () => {
  it('writes the command line\'s options and typed settings as one machine line, and a replay runs on that machine', async () => {
    const d = tempDir();
    const s = newSession({ cwd: d, machine: { cpus: '2', tags: 'tagged', seed: '7' } });
    await s.submit('machine paging=5');
    await s.submit('process a');
    await s.submit('save out.trace');
    const text = readFileSync(join(d, 'out.trace'), 'utf8');
    expect(text).toContain('\nmachine paging=5 cpus=2 pcid=on seed=7\nprocess a\n');
    const t = newSession({ cwd: d });
    await t.submit('run out.trace');
    expect(t.kernel.config.cpus).toBe(2);
    expect(t.kernel.config.paging).toBe(5);
    expect(t.kernel.config.tagPolicy).toBe('tagged');
    expect(t.kernel.config.seed).toBe(7);
  });
});

describe('a dead actor', () => {
  it('the first bad access kills init with a hint; later statements fail in one line pointing at reset', async () => {
    const s = newSession();
    const killed = await output(s, () => s.submit('load64 0x1000'));
    expect(killed).toMatch(/init\[1\] was killed; type `reset` for a fresh machine, or `process NAME` then `as NAME`/);
    const next = await output(s, () => s.submit('load64 0x2000'));
    const lines = next.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^init\[1\] is not running \(segmentation fault.*\); type `reset` for a fresh machine/);
    expect(await output(s, () => s.submit('reset'))).toContain('fresh machine: 4 CPUs');
    expect(await output(s, () => s.submit('process p'))).toContain('process p = pid 2');
    expect(s.state.facts.actor).toBe('init');
  });
});

describe('messages for a typed line', () => {
  it('say end of line, not end of file', async () => {
    const s = newSession();
    const out = await output(s, () => s.submit('v = '));
    expect(out).toContain('end of line');
    expect(out).not.toContain('end of file');
  });

  it('help documents the history file and x', async () => {
    const s = newSession();
    const help = await output(s, () => s.submit('help'));
    expect(help).toContain('$XDG_CONFIG_HOME/sjmp/history (default ~/.config/sjmp/history)');
    expect(help).toMatch(/x\/\[COUNT\]\[FMT\]\[SIZE\] ADDR/);
    expect(await output(s, () => s.submit('help keys'))).toContain('Ctrl-R');
    expect(await output(s, () => s.submit('help x'))).toContain('QEMU');
  });
});

describe('x and xp: memory examination that changes nothing', () => {
  async function withData(): Promise<ShellSession> {
    const s = newSession();
    for (const l of ['process p', 'as p', 'base = 0x1000_0000', 'store64 base 0x1122334455667788', 'store64 base + 8 -2']) await s.submit(l);
    return s;
  }

  it('shows units in hex, signed and unsigned, 16 bytes a line, in the acting process\'s space', async () => {
    const s = await withData();
    expect(await output(s, () => s.submit('x/2gx base'))).toContain('\n0x1000_0000: 0x1122334455667788 0xfffffffffffffffe');
    expect(await output(s, () => s.submit('x/4xb base'))).toContain('\n0x1000_0000: 0x88 0x77 0x66 0x55');
    expect(await output(s, () => s.submit('x/dg base + 8'))).toContain('\n0x1000_0008: -2');
    expect(await output(s, () => s.submit('x/ug base + 8'))).toContain('\n0x1000_0008: 18446744073709551614');
    const words = await output(s, () => s.submit('x/5xw base'));
    expect(words).toContain('\n0x1000_0000: 0x55667788 0x11223344 0xfffffffe 0xffffffff\n0x1000_0010: 0x00000000');
    expect(await output(s, () => s.submit('x base'))).toContain('\n0x1000_0000: 0x55667788');
  });

  it('reads the space the acting thread runs in now: a switch into a named space changes what x shows', async () => {
    const s = newSession();
    await typeFile(s, ALICE_BOB);
    await s.submit('as bob');
    expect(await output(s, () => s.submit('x/1gx base'))).toContain('\n0x4000_0000_0000: 0x0000000000000b0b');
    await s.submit('vh = vas_attach(shared) = >0');
    await s.submit('vas_switch(vh) = 0');
    expect(await output(s, () => s.submit('x/3gx base'))).toContain('\n0x4000_0000_0000: 0x00000000000a11ce 0x000000000000002a\n0x4000_0000_0010: 0x0000000000000007');
  });

  it('does not fill the TLB, set A/D bits or charge cycles', async () => {
    const s = await withData();
    await s.submit('pt p walk base');
    const tree = viewText(s, 120);
    const before = counters(s);
    await s.submit('x/512gx base');
    await s.submit('xp/64xb 0x1000');
    expect(counters(s)).toBe(before);
    expect(viewText(s, 120)).toBe(tree);
  });

  it('reads physical memory with xp, at the frame x found', async () => {
    const s = await withData();
    await s.submit('pt p walk base');
    const pa = /=> physical (0x\S+)/.exec(viewText(s, 120))?.[1];
    expect(pa).toBeDefined();
    expect(await output(s, () => s.submit(`xp/1gx ${pa}`))).toContain(': 0x1122334455667788');
  });

  it('stops at memory that does not translate, and checks its format', async () => {
    const s = await withData();
    const out = await output(s, () => s.submit('x/2gx base + 0xff8'));
    expect(out).toContain('\n0x1000_0ff8: 0x0000000000000000\ncannot access memory at 0x1000_1000: not present at PT[1]');
    expect(s.state.failures).toBe(1);
    expect(await output(s, () => s.submit('x/4q base'))).toContain("unknown format letter 'q'");
    expect(await output(s, () => s.submit('x/0x base'))).toContain('count must be 1..4096');
    expect(await output(s, () => s.submit('xp/1gx 0x1_0000_0000_0000'))).toContain('beyond physical memory');
    expect(await output(s, () => s.submit('x'))).toContain('usage: x/');
  });
});
