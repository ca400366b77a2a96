// Differential test: random command scripts run against the emulated dataset and against a plain
// JS model (test/userland/redisModel.ts); every reply must match. Replies whose order Redis leaves
// unspecified (SMEMBERS, KEYS, HGETALL, SPOP with a count) are compared sorted.

import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { testServer, decodeReply, text, type RespValue } from './redisHelpers.js';
import { RedisModel } from './redisModel.js';
import { d2string } from '../../userland/redis/util.js';

const key = fc.constantFrom('k0', 'k1', 'k2', 'list', 'set', 'hash', 'z', 'c');
const val = fc.oneof(
  fc.constantFrom('v', '', '0', '10', '-3', 'abc', '9223372036854775807', '-9223372036854775808', '007', ' 1', '1.5', 'a\r\nb', '\x00\xff'),
  fc.string({ maxLength: 6 }).map((s) => Buffer.from(s, 'utf8').toString('latin1')),
);
const num = fc.constantFrom('0', '1', '2', '-1', '-2', '3', '10', '-100', '100', 'x', '1.5', '9223372036854775807');
const score = fc.constantFrom('1', '2', '-1', '0', '1.5', '-2.25', '0.5', 'inf', '-inf', '3', 'nan', 'x');

const command: fc.Arbitrary<string[]> = fc.oneof<fc.Arbitrary<readonly string[]>[]>(
  fc.tuple(key, val).map(([k, v]) => ['SET', k, v]),
  fc.tuple(key, val, fc.constantFrom(['NX'], ['XX'], ['GET'], ['EX', '5'], ['PX', '1500'], ['NX', 'GET'], ['EX', '0'], ['EX', 'x'], ['XX', 'NX'], ['FOO'])).map(([k, v, o]) => ['SET', k, v, ...o]),
  key.map((k) => ['GET', k]),
  fc.tuple(key, val).map(([k, v]) => ['GETSET', k, v]),
  fc.tuple(key, val).map(([k, v]) => ['APPEND', k, v]),
  key.map((k) => ['STRLEN', k]),
  fc.tuple(fc.constantFrom('INCR', 'DECR'), key).map(([c, k]) => [c, k]),
  fc.tuple(fc.constantFrom('INCRBY', 'DECRBY'), key, num).map(([c, k, n]) => [c, k, n]),
  fc.array(fc.tuple(key, val), { minLength: 1, maxLength: 3 }).map((kv) => ['MSET', ...kv.flat()]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ['MGET', ...ks]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ['DEL', ...ks]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ['EXISTS', ...ks]),
  key.map((k) => ['TYPE', k]),
  fc.constantFrom(['KEYS', '*'], ['KEYS', 'k*'], ['KEYS', '?ist'], ['DBSIZE'], ['PING'], ['PING', 'hi'], ['ECHO', 'e'], ['SELECT', '0'], ['SELECT', '1'], ['SELECT', 'x'], ['NOSUCH', 'a', 'b'], ['GET'], ['SET', 'k0'], ['FLUSHALL'], ['ADVANCE', '700'], ['ADVANCE', '3000']),
  fc.tuple(key, num).map(([k, n]) => ['EXPIRE', k, n]),
  key.map((k) => ['TTL', k]),
  key.map((k) => ['PERSIST', k]),
  fc.tuple(fc.constantFrom('LPUSH', 'RPUSH'), key, fc.array(val, { minLength: 1, maxLength: 3 })).map(([c, k, vs]) => [c, k, ...vs]),
  fc.tuple(fc.constantFrom('LPOP', 'RPOP'), key, fc.option(num, { nil: undefined })).map(([c, k, n]) => (n === undefined ? [c, k] : [c, k, n])),
  key.map((k) => ['LLEN', k]),
  fc.tuple(key, num, num).map(([k, a, b]) => ['LRANGE', k, a, b]),
  fc.tuple(key, num).map(([k, i]) => ['LINDEX', k, i]),
  fc.tuple(key, fc.array(val, { minLength: 1, maxLength: 3 })).map(([k, vs]) => ['SADD', k, ...vs]),
  fc.tuple(key, fc.array(val, { minLength: 1, maxLength: 2 })).map(([k, vs]) => ['SREM', k, ...vs]),
  key.map((k) => ['SMEMBERS', k]),
  fc.tuple(key, val).map(([k, v]) => ['SISMEMBER', k, v]),
  key.map((k) => ['SCARD', k]),
  fc.tuple(key, fc.option(num, { nil: undefined })).map(([k, n]) => (n === undefined ? ['SPOP', k] : ['SPOP', k, n])),
  fc.tuple(key, fc.array(fc.tuple(val, val), { minLength: 1, maxLength: 2 })).map(([k, fv]) => ['HSET', k, ...fv.flat()]),
  fc.constantFrom(['HSET', 'hash', 'f'], ['HSET', 'hash', 'f', 'v', 'g']),
  fc.tuple(key, val).map(([k, f]) => ['HGET', k, f]),
  fc.tuple(key, fc.array(val, { minLength: 1, maxLength: 2 })).map(([k, fs]) => ['HDEL', k, ...fs]),
  key.map((k) => ['HGETALL', k]),
  key.map((k) => ['HLEN', k]),
  fc.tuple(key, fc.constantFrom([], ['NX'], ['XX'], ['CH'], ['INCR'], ['NX', 'XX']), fc.array(fc.tuple(score, val), { minLength: 1, maxLength: 2 })).map(([k, o, sm]) => ['ZADD', k, ...o, ...sm.flat()]),
  fc.tuple(key, val).map(([k, m]) => ['ZSCORE', k, m]),
  key.map((k) => ['ZCARD', k]),
  fc.tuple(key, num, num, fc.boolean()).map(([k, a, b, w]) => (w ? ['ZRANGE', k, a, b, 'WITHSCORES'] : ['ZRANGE', k, a, b])),
  fc.tuple(key, fc.option(num, { nil: undefined })).map(([k, n]) => (n === undefined ? ['ZPOPMIN', k] : ['ZPOPMIN', k, n])),
).map((a) => [...a]);

function normalise(argv: string[], r: RespValue): RespValue {
  const name = argv[0].toUpperCase();
  if (!Array.isArray(r)) return r;
  if (name === 'SMEMBERS' || name === 'KEYS' || name === 'SPOP') return [...r].sort();
  if (name === 'HGETALL') {
    const pairs: [RespValue, RespValue][] = [];
    for (let i = 0; i < r.length; i += 2) pairs.push([r[i], r[i + 1]]);
    pairs.sort(([x], [y]) => (String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0));
    return pairs.flat();
  }
  return r;
}

describe('redis commands vs a plain JS model', () => {
  it('every reply matches over random scripts', () => {
    fc.assert(fc.property(fc.array(command, { minLength: 1, maxLength: 60 }), (script) => {
      const s = testServer();
      const model = new RedisModel();
      for (const argv of script) {
        if (argv[0] === 'ADVANCE') {
          s.now.ms += Number(argv[1]);
          model.now += Number(argv[1]);
          continue;
        }
        const raw = s.runBytes(argv.map((a) => Buffer.from(a, 'latin1')));
        const [got, used] = decodeReply(raw);
        expect(used).toBe(raw.length);
        const want = model.exec(argv, got);
        expect({ argv, reply: normalise(argv, got) }).toEqual({ argv, reply: normalise(argv, want) });
      }
      expect(s.ds.dbsize()).toBe(model.exec(['DBSIZE'], s.ds.dbsize()));
    }), { numRuns: 200 });
  });

  it('a key past its time is reclaimed lazily: DBSIZE counts it until a command touches it (the failing case fast-check found)', () => {
    const s = testServer();
    s.run('SET', 'k0', 'v', 'PX', '1500');
    s.now.ms += 3000;
    s.run('ZCARD', 'z');
    expect(s.ds.dbsize()).toBe(1);
    expect(text(s.run('GET', 'k0'))).toBe('$-1\r\n');
    expect(s.ds.dbsize()).toBe(0);
  });

  it('replies captured from redis 7.0.15 (workloads.md §4.1)', () => {
    const s = testServer();
    const t = (...a: string[]): string => text(s.run(...a));
    expect(t('PING')).toBe('+PONG\r\n');
    expect(t('SET', 'k', 'v')).toBe('+OK\r\n');
    expect(t('GET', 'k')).toBe('$1\r\nv\r\n');
    expect(t('GET', 'missing')).toBe('$-1\r\n');
    expect(t('INCR', 'c')).toBe(':1\r\n');
    expect(t('INCR', 'k')).toBe('-ERR value is not an integer or out of range\r\n');
    expect(t('LPUSH', 'l', 'a')).toBe(':1\r\n');
    expect(t('RPUSH', 'l', 'b')).toBe(':2\r\n');
    expect(t('LRANGE', 'l', '0', '99')).toBe('*2\r\n$1\r\na\r\n$1\r\nb\r\n');
    expect(t('LPOP', 'l')).toBe('$1\r\na\r\n');
    expect(t('RPOP', 'l')).toBe('$1\r\nb\r\n');
    expect(t('RPOP', 'l')).toBe('$-1\r\n');
    expect(t('SADD', 's', 'm')).toBe(':1\r\n');
    expect(t('SADD', 's', 'm')).toBe(':0\r\n');
    expect(t('SPOP', 's')).toBe('$1\r\nm\r\n');
    expect(t('SPOP', 's')).toBe('$-1\r\n');
    expect(t('HSET', 'h', 'f', 'v')).toBe(':1\r\n');
    expect(t('ZADD', 'z', '1', 'm')).toBe(':1\r\n');
    expect(t('ZPOPMIN', 'z')).toBe('*2\r\n$1\r\nm\r\n$1\r\n1\r\n');
    expect(t('ZPOPMIN', 'z')).toBe('*0\r\n');
    expect(t('MSET', 'a', '1', 'b', '2')).toBe('+OK\r\n');
    expect(t('GET')).toBe("-ERR wrong number of arguments for 'get' command\r\n");
    expect(t('CONFIG', 'GET', 'save')).toBe('*2\r\n$4\r\nsave\r\n$0\r\n\r\n');
    expect(t('CONFIG', 'GET', 'appendonly')).toBe('*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n');
    expect(t('NOSUCH', 'x')).toBe("-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n");
    expect(t('LPUSH', 'k', 'x')).toBe('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
    expect(t('SET', 'k', 'v', 'EX')).toBe('-ERR syntax error\r\n');
  });

  it('prints non-integer scores as %.17g, the way redis 7.0 does', () => {
    // Expected strings from C's printf("%.17g") (checked with Python's % operator).
    expect(d2string(0.1)).toBe('0.10000000000000001');
    expect(d2string(1e-5)).toBe('1.0000000000000001e-05');
    expect(d2string(2.5e-7)).toBe('2.4999999999999999e-07');
    expect(d2string(123456.789)).toBe('123456.789');
    expect(d2string(1e20)).toBe('1e+20');
    expect(d2string(-3)).toBe('-3');
    expect(d2string(Infinity)).toBe('inf');
  });

  it('keeps binary values intact', () => {
    const s = testServer();
    const v = new Uint8Array(300).map((_, i) => (i * 37) & 0xff);
    const enc = (x: string): Uint8Array => new TextEncoder().encode(x);
    s.runBytes([enc('SET'), enc('bin'), v]);
    const r = s.runBytes([enc('GET'), enc('bin')]);
    expect(Buffer.from(r.subarray(6, 306)).equals(Buffer.from(v))).toBe(true);
  });
});
