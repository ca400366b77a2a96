// `sjmp image` and `sjmp trace --image` as a user runs them (the built dist/shell/cli.js): a trace
// across two invocations (the first creates and writes, the second finds, attaches and reads),
// --read-only never writes, machine options that conflict with the image name both values, a
// corrupt image and a held lock are one line on stderr with exit 2, the file untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { copyFileSync } from 'node:fs';
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

describe('compressed images on the command line', () => {
  it('image new --compress makes a version-2 image; a trace run on it keeps it compressed and reads back', () => {
    const img = file('z.img');
    expect(sjmp('image', 'new', '--compress', img, '--mem', '1G', '--cpus', '2').status).toBe(0);
    expect(sjmp('trace', '--quiet', '--image', img, file('write.trace')).status).toBe(0);
    const j = JSON.parse(sjmp('image', 'info', '--json', img).stdout);
    expect(j).toMatchObject({ formatVersion: 2, compressed: true, dataBlocks: 2 });
    const b = sjmp('trace', '--image', img, file('read.trace'));
    expect(b.status).toBe(0);
    expect(b.stdout).toContain('expectations 6 passed / 0 failed');
  });
});

describe('--image across two processes, per command', () => {
  it('demo: the second process finds the first one\'s named space and counts its tour', () => {
    const img = file('demo.img');
    expect(sjmp('demo', '--image', img).stdout).toContain('(tour 1)');
    expect(sjmp('demo', '--image', img).stdout).toContain('already on this machine (from its image): tour 2');
  });

  it('shell (piped): what one session makes, the next finds; a session with a failure saves nothing', () => {
    const img = file('shell.img');
    const shell = (input: string, ...args: string[]) => spawnSync(process.execPath, [cli, 'shell', '--image', img, ...args], { cwd: dir, encoding: 'utf8', input });
    const a = shell('base = 0x4000_0000_0000\nsid = seg_alloc("kept", base, 4K, 0644) = >=0\nseg_attach(PRIMARY, sid) = 0\nstore64 base 0xbeef\n', '--mem', '1G');
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    const b = shell('base = 0x4000_0000_0000\nprocess q\nas q\nsid = seg_find("kept") = >=0\nseg_attach(PRIMARY, sid) = 0\nload64 base = 0xbeef\nvas_create("extra", 0600) = >0\nload64 base = 1\n');
    expect(b.status).toBe(1); // the last expectation fails: not a clean exit
    expect(b.stdout).toContain('load64 0x4000_0000_0000 = 0xbeef');
    expect(JSON.parse(sjmp('image', 'info', '--json', img).stdout).namedSpaces).toEqual([]);
  });

  it('sam: import in one process, flagstat on the data set by name in the next', () => {
    const golden = join(root, 'test/userland/samGolden');
    copyFileSync(join(golden, 'toy.sam'), file('toy.sam'));
    const img = file('sam.img');
    const a = sjmp('sam', 'import', 'toy', 'toy.sam', '--image', img);
    expect(a.status).toBe(0);
    const b = sjmp('sam', 'flagstat', 'toy', '--image', img);
    expect(b.stderr).toBe('');
    expect(b.stdout).toBe(readFileSync(join(golden, 'expected', 'toy-flagstat.out'), 'latin1'));
  });
});

/** A `sjmp redis serve` child on a free port: its pid and port once it listens. */
async function startServe(img: string, memory = ['--memory', '4M']): Promise<{ pid: number; port: number; exited: Promise<number | null>; stderr: () => string }> {
  const p = spawn(process.execPath, [cli, 'redis', 'serve', '--port', '0', ...memory, '--image', img], { cwd: dir });
  let err = '';
  const exited = new Promise<number | null>((res) => p.on('exit', (code) => res(code)));
  const port = await new Promise<number>((res, rej) => {
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) res(Number(m[1]));
    });
    void exited.then(() => rej(new Error(`serve exited: ${err}`)));
  });
  return { pid: p.pid!, port, exited, stderr: () => err };
}

/** Send RESP requests on one connection and return the raw reply text once `until` matches it. */
function resp(port: number, argvs: string[][], until: RegExp): Promise<string> {
  return new Promise((res, rej) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => { s.destroy(); rej(new Error(`no reply matching ${until}: ${JSON.stringify(got)}`)); }, 20_000);
    s.on('data', (d) => {
      got += d.toString();
      if (until.test(got)) { clearTimeout(timer); s.end(); res(got); }
    });
    s.on('error', rej);
    s.on('close', () => { clearTimeout(timer); if (until.test(got)) res(got); else rej(new Error(`closed without a reply matching ${until}: ${JSON.stringify(got)}`)); });
    s.write(argvs.map((a) => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')}`).join(''));
  });
}

describe('redis serve --image across processes, and waiting for the lock', () => {
  it('the second server finds the keys the first SET; meanwhile another sjmp fails, or waits with --wait-lock', async () => {
    const img = file('redis.img');
    writeFileSync(file('redis.trace'), 'process r uid=0 gid=0 {\n    vas_find("redis.shard0") = >0\n    seg_find("redis.shard0") = >=0\n}\n');
    const a = await startServe(img);
    expect(await resp(a.port, [['SET', 'city', 'Zurich'], ['INCR', 'visits']], /:1\r\n$/)).toBe('+OK\r\n:1\r\n');
    // The image is in use: without waiting, the same one line as ever; with a short wait, after it.
    const t0 = Date.now();
    const busy = spawnSync(process.execPath, [cli, 'trace', '--quiet', '--image', img, '--wait-lock', '1', file('redis.trace')], { cwd: dir, encoding: 'utf8' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(busy.status).toBe(2);
    expect(busy.stderr.trim()).toBe(`sjmp: image ${img} is in use by pid ${a.pid}`);
    // A waiting reader gets the image once the server has saved it and let go.
    const waiter = spawn(process.execPath, [cli, 'trace', '--quiet', '--read-only', '--image', img, '--wait-lock', '60', file('redis.trace')], { cwd: dir });
    let waiterOut = '';
    waiter.stdout.on('data', (d: Buffer) => { waiterOut += d.toString(); });
    const waited = new Promise<number | null>((res) => waiter.on('exit', (code) => res(code)));
    await new Promise((r) => setTimeout(r, 500));
    expect(await resp(a.port, [['SHUTDOWN']], /^$/)).toBe(''); // SHUTDOWN closes without a reply
    expect(await a.exited).toBe(0);
    expect(a.stderr()).toContain(`saving the dataset to ${img}`);
    expect(await waited).toBe(0);
    expect(waiterOut).toContain('expectations 2 passed / 0 failed');

    const b = await startServe(img, []); // no --memory: the image's dataset size
    expect(b.stderr()).toContain('dataset 4M of emulated memory');
    expect(b.stderr()).toContain('(its dataset)');
    expect(await resp(b.port, [['GET', 'city'], ['INCR', 'visits']], /:2\r\n$/)).toBe('$6\r\nZurich\r\n:2\r\n');
    process.kill(b.pid, 'SIGTERM');
    expect(await b.exited).toBe(0);
    expect(existsSync(`${img}.lock`)).toBe(false);
  }, 120_000);
});
