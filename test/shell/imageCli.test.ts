// `sjmp image` and `sjmp trace --image` as a user runs them (the built dist/shell/cli.js): a trace
// across two invocations (the first creates and writes, the second finds, attaches and reads),
// --read-only never writes, machine options that conflict with the image name both values, a
// corrupt image and a held lock are one line on stderr with exit 2, the file untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/shell/cli.js');

const WRITE = `machine mem=1G cpus=2
base = 0x4000_0000_0000
process alice uid=1000 gid=100 {
    sid = seg_alloc("data", base, 64K, 0664) = >=0
    big = seg_alloc("big", base + 0x4000_0000, 4M, 0664, SEG_2M) = >=0
    vid = vas_create("shared", 0664) = >=0
    seg_attach(vid, sid) = 0
    seg_attach(vid, big) = 0
    vh = vas_attach(vid) = >0
    vas_switch(vh) = 0
    store64 base + 8 4242
    store64 base + 0x4000_0000 + 0x20_0000 77
    vas_switch(PRIMARY) = 0
}
`;
const READ = `base = 0x4000_0000_0000
process bob uid=1001 gid=100 {
    vid = vas_find("shared") = >0
    vh = vas_attach(vid) = >0
    vas_switch(vh) = 0
    load64 base + 8 = 4242
    load64 base + 0x4000_0000 + 0x20_0000 = 77
    vas_switch(PRIMARY) = 0
}
`;
const NEW_SEG = `process carol uid=1000 gid=100 {
    seg_alloc("later", 0x4000_8000_0000, 4K, 0600) = >=0
}
`;

let dir: string;
const sjmp = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir });
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sjmp-image-cli-'));
  writeFileSync(file('write.trace'), WRITE);
  writeFileSync(file('read.trace'), READ);
  writeFileSync(file('new.trace'), NEW_SEG);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sjmp trace --image', () => {
  it('runs across two invocations: the first creates and writes, the second finds, attaches and reads', () => {
    const img = file('m.img');
    const a = sjmp('trace', '--quiet', '--image', img, file('write.trace'));
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    expect(existsSync(img)).toBe(true);
    expect(existsSync(`${img}.lock`)).toBe(false);
    const b = sjmp('trace', '--image', img, file('read.trace'));
    expect(b.stdout).toContain('load64 0x4000_0000_0008 = 0x1092'); // 4242
    expect(b.stdout).toContain('expectations 6 passed / 0 failed');
    expect(b.status).toBe(0);

    const info = sjmp('image', 'info', img);
    expect(info.status).toBe(0);
    expect(info.stdout).toMatch(/shared\s+1\s+rw-rw-r--\s+1000\s+100\s+flush\s+copy\s+data:rw- big:rw-/);
    const j = JSON.parse(sjmp('image', 'info', '--json', img).stdout);
    expect(j).toMatchObject({ version: 1, command: 'image info', ok: true, formatVersion: 1, dataBlocks: 2, machine: { memBytes: 2 ** 30, cpus: 2 } });
    expect(j.segments.map((s: { name: string }) => s.name)).toEqual(['data', 'big']);
  });

  it('--read-only never writes back; without it a new segment is saved', () => {
    const img = file('m.img');
    const before = readFileSync(img);
    expect(sjmp('trace', '--quiet', '--image', img, '--read-only', file('new.trace')).status).toBe(0);
    expect(readFileSync(img).equals(before)).toBe(true);
    expect(sjmp('trace', '--quiet', '--image', img, file('new.trace')).status).toBe(0);
    expect(JSON.parse(sjmp('image', 'info', '--json', img).stdout).segments.map((s: { name: string }) => s.name)).toEqual(['data', 'big', 'later']);
    // A failing run (seg_alloc of an existing name fails its expectation) leaves the image as it was.
    const after = readFileSync(img);
    expect(sjmp('trace', '--quiet', '--image', img, file('new.trace')).status).toBe(1);
    expect(readFileSync(img).equals(after)).toBe(true);
  });

  it('machine options that conflict with the image are an error naming both values', () => {
    const r = sjmp('trace', '--image', file('m.img'), '--mem', '2G', file('read.trace'));
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`sjmp: --mem 2G conflicts with image ${file('m.img')}, whose memBytes is 1G`);
    const s = sjmp('trace', '--image', file('m.img'), '--cpus', '2', file('read.trace'));
    expect(s.status).toBe(0); // agreeing options are fine
  });

  it('a corrupt image and a held lock: one line, exit 2, the file untouched', () => {
    const img = file('bad.img');
    const good = readFileSync(file('m.img'));
    const bad = Buffer.from(good);
    bad[bad.length - 50] ^= 4;
    writeFileSync(img, bad);
    const mtime = statSync(img).mtimeMs;
    const r = sjmp('trace', '--image', img, file('read.trace'));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`sjmp: image ${img}: section DATA checksum mismatch (corrupt data)`]);
    expect(readFileSync(img).equals(bad)).toBe(true);
    expect(statSync(img).mtimeMs).toBe(mtime);
    expect(sjmp('image', 'info', img).status).toBe(2);

    writeFileSync(`${file('m.img')}.lock`, `${process.pid}\n`);
    const l = sjmp('trace', '--image', file('m.img'), file('read.trace'));
    expect(l.status).toBe(2);
    expect(l.stderr.trim()).toBe(`sjmp: image ${file('m.img')} is in use by pid ${process.pid}`);
    rmSync(`${file('m.img')}.lock`);
  });
});

describe('sjmp image new', () => {
  it('writes an empty machine with the given options and refuses to overwrite', () => {
    const img = file('new.img');
    expect(sjmp('image', 'new', img, '--mem', '2G', '--cpus', '8', '--paging', '5').status).toBe(0);
    const j = JSON.parse(sjmp('image', 'info', '--json', img).stdout);
    expect(j.machine).toMatchObject({ memBytes: 2 * 2 ** 30, cpus: 8, paging: 5 });
    expect(j.segments).toEqual([]);
    const again = sjmp('image', 'new', img);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('already exists');
  });
});
