// The shell and machine images, through a session as a user types: `save` and `load`, the
// unsaved-changes rule (registry changes and writes count, reads do not), `--image` sessions
// saved back on a clean exit only, read-only sessions never written, and the status line drawn
// by the Ink app (ink-testing-library).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render, cleanup } from 'ink-testing-library';
import { App } from '../../shell/interactive/app.js';
import { mayWriteContents, imageStatusText } from '../../shell/interactive/imageStatus.js';
import { openImageSession } from '../../shell/commands/image.js';
import { readImageInfo } from '../../lab/image/image.js';
import { lockPath } from '../../lab/image/lock.js';
import { buildMachine } from '../../shell/machineOptions.js';
import type { TranscriptEntry } from '../../syscalls/trace/runner.js';
import { newSession, output } from './helpers.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'sjmp-image-shell-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => cleanup());

const SEG = [
  'base = 0x4000_0000_0000',
  'process alice uid=1000 gid=100',
  'as alice',
  'sid = seg_alloc("notes", base, 8K, 0644) = >=0',
  'vid = vas_create("book", 0644) = >0',
  'seg_attach(vid, sid) = 0',
];

async function typeAll(s: ReturnType<typeof newSession>, lines: string[]): Promise<void> {
  for (const l of lines) await s.submit(l);
}

describe('the unsaved-changes rule', () => {
  const entry = (kind: TranscriptEntry['kind'], name: string): TranscriptEntry => ({ process: 'a[1]', processName: 'a', pid: 1, thread: 'main', name, start: 0, text: name, ok: true, cycles: 0, kind, at: 'x:1:1' });
  it('stores and calls that write memory or files count; reads and lookups do not', () => {
    expect(mayWriteContents([entry('load', 'load64'), entry('call', 'getpid'), entry('call', 'vas_find'), entry('call', 'vas_switch')])).toBe(false);
    expect(mayWriteContents([entry('store', 'store64')])).toBe(true);
    expect(mayWriteContents([entry('store', 'memset')])).toBe(true);
    expect(mayWriteContents([entry('call', 'write')])).toBe(true);
    expect(mayWriteContents([entry('blocked', 'read')])).toBe(true);
    expect(mayWriteContents([entry('fault', 'store8')])).toBe(true);
  });
  it('reads as a status line', () => {
    expect(imageStatusText({ file: 'm.img', dirty: true, readOnly: false })).toMatch(/^image m\.img {2}\[\+\] unsaved changes/);
    expect(imageStatusText({ file: 'm.img', dirty: false, readOnly: false })).toBe('image m.img  saved');
    expect(imageStatusText({ file: 'm.img', dirty: false, readOnly: true })).toBe('image m.img (read-only)');
  });
});

describe('save and load in the shell', () => {
  it('save FILE writes an image (processes keep running), load FILE in another session finds its objects and bytes', async () => {
    const a = newSession({ cwd: dir });
    await typeAll(a, [...SEG, 'seg_attach(PRIMARY, sid) = 0', 'store64 base + 16 0xfeed']);
    expect(a.state.image).toBeNull();
    const out = await output(a, () => a.submit('save one.img'));
    expect(out).toContain('saved the machine to image one.img');
    expect(a.state.image).toEqual({ file: 'one.img', dirty: false, readOnly: false });
    expect(existsSync(lockPath(join(dir, 'one.img')))).toBe(true); // the session holds it now
    // alice still runs: the save did not shut the machine down
    expect(await output(a, () => a.submit('getpid() = 2'))).not.toMatch(/FAIL|not running/);
    expect(readImageInfo(join(dir, 'one.img')).segments.map((s) => s.name)).toEqual(['notes']);
    // a read does not make the machine dirty; a store does
    await a.submit('load64 base + 16 = 0xfeed');
    expect(a.state.image?.dirty).toBe(false);
    await a.submit('store8 base 1');
    expect(a.state.image?.dirty).toBe(true);
    expect(a.closeImage(false)).toBeNull(); // not a clean exit: nothing written, lock let go
    expect(existsSync(lockPath(join(dir, 'one.img')))).toBe(false);

    const b = newSession({ cwd: dir });
    expect(await output(b, () => b.submit('load one.img'))).toContain('loaded image one.img');
    expect(b.state.image).toEqual({ file: 'one.img', dirty: false, readOnly: false });
    await typeAll(b, ['base = 0x4000_0000_0000', 'process bob uid=1000 gid=100', 'as bob', 'sid = seg_find("notes") = >=0', 'seg_attach(PRIMARY, sid) = 0']);
    const read = await output(b, () => b.submit('load64 base + 16 = 0xfeed'));
    expect(read).not.toMatch(/expected|FAIL/i);
    expect(read).toContain('0xfeed');
    b.closeImage(false);
  });

  it('a registry change marks the machine dirty; `save` with no file writes the session\'s image; load refuses to drop unsaved changes', async () => {
    const s = newSession({ cwd: dir });
    await s.submit('save two.img');
    expect(s.state.image?.dirty).toBe(false);
    await typeAll(s, SEG);
    expect(s.state.image?.dirty).toBe(true);
    const refused = await output(s, () => s.submit('load one.img'));
    expect(refused).toMatch(/unsaved changes \(image two\.img\): save first, or load --discard one\.img/);
    await s.submit('save');
    expect(s.state.image?.dirty).toBe(false);
    expect(readImageInfo(join(dir, 'two.img')).spaces.map((v) => v.name)).toEqual(['book']);
    // A name lookup changes nothing.
    await s.submit('seg_find("notes") = >=0');
    expect(s.state.image?.dirty).toBe(false);
    await s.submit('store64 base 1'); // alice has no mapping there: a fault, which counts (conservative)
    await s.submit('load --discard one.img');
    expect(s.state.image).toEqual({ file: 'one.img', dirty: false, readOnly: false });
    expect(existsSync(lockPath(join(dir, 'two.img')))).toBe(false);
    s.closeImage(false);
  });

  it('save FILE.trace still writes the statements as a trace; save without an image says what to do', async () => {
    const s = newSession({ cwd: dir });
    await s.submit('process carol');
    expect(await output(s, () => s.submit('save'))).toMatch(/no machine image: save FILE writes one/);
    await s.submit('save c.trace');
    expect(readFileSync(join(dir, 'c.trace'), 'utf8')).toContain('process carol');
    expect(s.state.image).toBeNull();
  });
});

describe('sjmp shell --image (the session the command line opens)', () => {
  it('a new image is written on a clean exit; a second session finds it; --read-only never writes', async () => {
    const file = join(dir, 'cli.img');
    const image = openImageSession({ image: file }, () => buildMachine({ mem: '1G' }));
    const a = newSession({ cwd: dir, image });
    expect(a.state.image).toEqual({ file: 'cli.img', dirty: true, readOnly: false }); // not on disk yet
    await typeAll(a, [...SEG, 'seg_attach(PRIMARY, sid) = 0', 'store32 base 77']);
    expect(a.closeImage(true)).toBeNull();
    expect(readImageInfo(file)).toMatchObject({ blocks: 1, machine: { memBytes: 2 ** 30 } });

    const ro = openImageSession({ image: file, readOnly: true }, () => buildMachine({}));
    const b = newSession({ cwd: dir, image: ro });
    expect(b.state.image).toEqual({ file: 'cli.img', dirty: false, readOnly: true });
    await typeAll(b, ['process r uid=1000 gid=100', 'as r', 'sid = seg_find("notes") = >=0']);
    expect(b.state.image?.dirty).toBe(false);
    const del = await output(b, () => b.submit('seg_ctl(sid, SEG_CTL_DELETE) = 0'));
    expect(del).not.toMatch(/expected/);
    expect(b.state.image?.dirty).toBe(true);
    expect(await output(b, () => b.submit('save'))).toMatch(/read-only/);
    const before = readFileSync(file);
    b.closeImage(true);
    expect(readFileSync(file).equals(before)).toBe(true);
    // A machine line that disagrees with the image is refused, naming both values.
    const c = newSession({ cwd: dir, image: openImageSession({ image: file }, () => buildMachine({})) });
    expect(await output(c, () => c.submit('machine mem=2G'))).toMatch(/machine mem=2G conflicts with image .*cli\.img, whose memBytes is 1G/);
    expect(await output(c, () => c.submit('reset'))).toContain('reloaded image cli.img');
    c.closeImage(false);
  });
});

describe('benchmark engines in an image shell', () => {
  it('get the image\'s machine configuration (none without an image)', async () => {
    const seen: (number | undefined)[] = [];
    const engines = { gups: async (_a: readonly string[], _p: unknown, _s: AbortSignal, config?: { seed: number }) => { seen.push(config?.seed); return { lines: ['ok'] }; } };
    const file = join(dir, 'engines.img');
    const s = newSession({ cwd: dir, engines, image: openImageSession({ image: file }, () => buildMachine({ seed: '77' })) });
    await s.submit('gups --windows 1');
    s.closeImage(false);
    const t = newSession({ cwd: dir, engines });
    await t.submit('gups --windows 1');
    expect(seen).toEqual([77, undefined]);
  });
});

describe('the Ink shell draws the image status line', () => {
  it('shows the image name, then the unsaved-changes marker after a change, and "saved" after save', async () => {
    const file = join(dir, 'ink.img');
    writeFileSync(join(dir, 'placeholder'), '');
    const session = newSession({ cwd: dir, image: openImageSession({ image: file }, () => buildMachine({})) });
    await session.submit('save');
    const { lastFrame, stdin } = render(<App session={session} />);
    const tick = () => new Promise((r) => setTimeout(r, 30));
    await tick();
    expect(lastFrame()).toContain('image ink.img  saved');
    stdin.write('vas_create("v", 0600) = >0\r');
    await tick();
    await tick();
    expect(lastFrame()).toContain('image ink.img  [+] unsaved changes');
    stdin.write('save\r');
    await tick();
    await tick();
    expect(lastFrame()).toContain('image ink.img  saved');
    session.closeImage(false);
  });
});
