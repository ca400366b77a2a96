// `--image` on the machine-building commands, in-process through the command functions: each
// pair of invocations shares an image and the second sees what the first left — the demo's tour
// counter in its segment, a sam data set imported once and read by a later tool, a Redis dataset
// whose keys a second server finds, gups' and nibble's machine configuration; conflicting machine
// options name both values.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoCommand } from '../../shell/commands/demo.js';
import { samCommand } from '../../shell/commands/sam.js';
import { gupsCommand } from '../../shell/commands/gups.js';
import { nibbleCommand } from '../../shell/commands/nibble.js';
import { redisBenchCommand } from '../../shell/commands/redis.js';
import { readImageInfo, saveImage, loadImage } from '../../lab/image/image.js';
import { lockPath } from '../../lab/image/lock.js';
import { RedisMachine } from '../../lab/redis/serve.js';
import { DEFAULT_MACHINE } from '../../kernel/machineConfig.js';
import { encodeRequest } from '../../userland/redis/resp.js';
import { decodeReply } from '../userland/redisHelpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const golden = join(root, 'test/userland/samGolden');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sjmp-image-cmds-'));
  copyFileSync(join(golden, 'toy.sam'), join(dir, 'toy.sam'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run `fn` with stdout and stderr captured. */
async function captured(fn: () => number | Promise<number>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += typeof s === 'string' ? s : Buffer.from(s).toString('latin1'); return true; });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
  try {
    return { code: await fn(), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('demo --image', () => {
  it('the second tour finds the first one\'s named space and segment, and its counter', async () => {
    const image = join(dir, 'demo.img');
    const a = JSON.parse((await captured(() => demoCommand({ image, json: true }))).out);
    expect(a.namedObjects).toEqual({ found: false, runs: 1 });
    const b = JSON.parse((await captured(() => demoCommand({ image, json: true }))).out);
    expect(b.namedObjects).toEqual({ found: true, runs: 2 });
    // A loaded machine boots fresh: the tour's figures are the same as on a new machine.
    expect(b.vasSwitch).toEqual(a.vasSwitch);
    expect(b.firstTouch).toEqual(a.firstTouch);
    // --read-only: runs, never writes.
    const before = readFileSync(image);
    const c = JSON.parse((await captured(() => demoCommand({ image, readOnly: true, json: true }))).out);
    expect(c.namedObjects.runs).toBe(3);
    expect(readFileSync(image).equals(before)).toBe(true);
    expect(existsSync(lockPath(image))).toBe(false);
    expect(() => demoCommand({ image, cpus: '8' })).toThrow(`--cpus 8 conflicts with image ${image}, whose cpus is 4`);
  });
});

describe('sam --image', () => {
  it('import puts the data set in the image; a later flagstat reads it by name, as samtools prints', async () => {
    const image = join(dir, 'sam.img');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const a = await captured(() => samCommand(['import', 'toy', 'toy.sam', '--image', image], {}));
      expect(a.code).toBe(0);
      expect(a.out).toContain(`note: the data set is kept in image ${image}`);
      const info = readImageInfo(image);
      expect(info.spaces.map((v) => v.name)).toEqual(['toy']);
      expect(info.files.filter((f) => f.path.startsWith('/h/') || f.path.startsWith('/sam/out/'))).toEqual([]); // no staging kept
      const ls = await captured(() => samCommand(['ls', '--image', image], {}));
      expect(ls.out).toMatch(/^toy\s/m);
      const b = await captured(() => samCommand(['flagstat', 'toy', '--image', image], {}));
      expect(b.code).toBe(0);
      expect(b.out).toBe(readFileSync(join(golden, 'expected', 'toy-flagstat.out'), 'latin1'));
      // Without the image the name means nothing.
      await expect(captured(() => samCommand(['flagstat', 'toy'], {}))).rejects.toThrow(/neither a data set on this machine nor a file/);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('redis --image (the jmp dataset in a named segment)', () => {
  /** One request through a connection of `m`, its reply decoded. */
  function ask(m: RedisMachine, id: number, ...argv: string[]): unknown {
    m.input(id, encodeRequest(argv));
    const r = m.pump().find((x) => x.id === id)!;
    return decodeReply(r.data, 0)[0];
  }
  it('a second server on the saved machine finds the keys the first one SET', () => {
    const opts = { design: 'jmp' as const, bytes: 4 << 20 };
    const config = { ...DEFAULT_MACHINE, memBytes: 512 << 20 };
    const a = new RedisMachine(config, opts);
    const c = a.connect();
    expect(ask(a, c, 'SET', 'greeting', 'hello')).toEqual({ simple: 'OK' });
    expect(ask(a, c, 'RPUSH', 'list', 'x', 'y', 'z')).toBe(3);
    const file = join(dir, 'redis.img');
    saveImage(a.kernel, file);
    const k = loadImage(file);
    const b = new RedisMachine(k.config, opts, k);
    const d = b.connect();
    expect(ask(b, d, 'GET', 'greeting')).toBe('hello');
    expect(ask(b, d, 'LRANGE', 'list', '0', '-1')).toEqual(['x', 'y', 'z']);
    expect(ask(b, d, 'DBSIZE')).toBe(2);
  });
});

describe('gups and nibble --image: the machine configuration', () => {
  it('gups: a new image gets the command line\'s machine; a later run takes it, and a conflicting option names both values', async () => {
    const image = join(dir, 'gups.img');
    const run = (more: object) => captured(() => gupsCommand({ image, design: 'vas', windows: '2', updateSet: '16', table: '64K', json: true, ...more }));
    const a = await run({ cpus: '2', seed: '5' });
    expect(a.code).toBe(0);
    expect(readImageInfo(image).machine).toMatchObject({ cpus: 2, seed: 5 });
    const b = await run({});
    expect(JSON.parse(b.out).machine).toMatchObject({ cpus: 2, seed: 5 });
    await expect(run({ seed: '6' })).rejects.toThrow(`--seed 6 conflicts with image ${image}, whose seed is 5`);
  });

  it('redis bench: the machine comes from the image', async () => {
    const image = join(dir, 'rbench.img');
    const o = { image, design: 'jmp', clients: '1', requests: '20', keys: '50', json: true };
    expect((await captured(() => redisBenchCommand({ ...o, profile: 'm3' }))).code).toBe(0);
    const b = await captured(() => redisBenchCommand(o));
    expect(b.code).toBe(0);
    expect(JSON.parse(b.out).machine.profile.name).toBe('m3');
    await expect(captured(() => redisBenchCommand({ ...o, profile: 'm2' }))).rejects.toThrow(`--profile m2 conflicts with image ${image}, whose profile is m3`);
  });

  it('nibble: profile, seed and nodes come from the image', async () => {
    const image = join(dir, 'nibble.img');
    const o = { image, workload: 'ycsb', modes: 'nibble', threads: '1', gets: '50', dist: 'uniform', objects: '200', ops: '200', capacity: '8', json: true };
    const a = await captured(() => nibbleCommand({ ...o, seed: '3', profile: 'm3' }));
    expect(a.code).toBe(0);
    expect(readImageInfo(image).machine).toMatchObject({ seed: 3, nodes: 2, profile: { name: 'm3' } });
    const b = await captured(() => nibbleCommand(o));
    expect(JSON.parse(b.out).machine).toMatchObject({ seed: 3, nodes: 2, profile: { name: 'm3' } });
  });
});
