// A plain JS model of the Redis commands the server implements (Map/Set/arrays), written from the
// Redis documentation and replies captured from redis 7.0 — independent of userland/redis — for the
// differential test. Replies are in the decoded form of redisHelpers.decodeReply.

import type { RespValue } from './redisHelpers.js';

type Val =
  | { t: 'string'; v: string }
  | { t: 'list'; v: string[] }
  | { t: 'set'; v: Set<string> }
  | { t: 'hash'; v: Map<string, string> }
  | { t: 'zset'; v: Map<string, number> };

const OK = { simple: 'OK' };
const WRONG = { err: 'WRONGTYPE Operation against a key holding the wrong kind of value' };
const NOTINT = { err: 'ERR value is not an integer or out of range' };
const SYNTAX = { err: 'ERR syntax error' };
const POSITIVE = { err: 'ERR value is out of range, must be positive' };
const arity = (n: string): RespValue => ({ err: `ERR wrong number of arguments for '${n}' command` });

function asInt(s: string): bigint | null {
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  const v = BigInt(s);
  return v >= -(2n ** 63n) && v < 2n ** 63n ? v : null;
}

function fmtScore(v: number): string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v); // the tests use scores whose shortest form is also what %.17g prints
}

class Fail {
  constructor(readonly reply: RespValue) {}
}

export class RedisModel {
  readonly db = new Map<string, { val: Val; exp: number }>();
  now = 1_000_000;

  private live(k: string): { val: Val; exp: number } | undefined {
    const e = this.db.get(k);
    if (e && e.exp !== 0 && e.exp <= this.now) {
      this.db.delete(k);
      return undefined;
    }
    return e;
  }

  private get<T extends Val['t']>(k: string, t: T): Extract<Val, { t: T }> | undefined {
    const e = this.live(k);
    if (!e) return undefined;
    if (e.val.t !== t) throw new Fail(WRONG);
    return e.val as Extract<Val, { t: T }>;
  }

  private put(k: string, val: Val, keepTtl = false): void {
    const old = this.live(k);
    this.db.set(k, { val, exp: keepTtl && old ? old.exp : 0 });
  }

  private dropIfEmpty(k: string): void {
    const e = this.db.get(k);
    if (!e) return;
    const v = e.val;
    const size = v.t === 'list' ? v.v.length : v.t === 'string' ? 1 : v.v.size;
    if (size === 0) this.db.delete(k);
  }

  /** Run a command; `observed` is the server's reply where more than one is right (SPOP's random pick, DBSIZE before lazy expiry). */
  exec(argv: string[], observed?: RespValue): RespValue {
    try {
      return this.run(argv, observed);
    } catch (e) {
      if (e instanceof Fail) return e.reply;
      throw e;
    }
  }

  private run(a: string[], observed?: RespValue): RespValue {
    const name = a[0].toLowerCase();
    const n = a.length;
    const need = (ok: boolean): void => { if (!ok) throw new Fail(arity(name)); };
    const int = (s: string): bigint => {
      const v = asInt(s);
      if (v === null) throw new Fail(NOTINT);
      return v;
    };
    switch (name) {
      case 'ping': need(n <= 2); return n === 2 ? a[1] : { simple: 'PONG' };
      case 'echo': need(n === 2); return a[1];
      case 'dbsize': {
        need(n === 1);
        // Expiry is lazy in the emulated server (no active expire cycle, docs/redis.md): a key past
        // its time still counts until a command touches it, as in Redis's dictSize between cron
        // runs. So any count from the live keys up to every key not yet reclaimed is right.
        const live = [...this.db.values()].filter((e) => e.exp === 0 || e.exp > this.now).length;
        return typeof observed === 'number' && observed >= live && observed <= this.db.size ? observed : live;
      }
      case 'flushall': this.db.clear(); return OK;
      case 'exists': need(n >= 2); return a.slice(1).filter((k) => this.live(k)).length;
      case 'del': need(n >= 2); {
        let c = 0;
        for (const k of a.slice(1)) if (this.live(k)) { this.db.delete(k); c++; }
        return c;
      }
      case 'type': need(n === 2); return { simple: this.live(a[1])?.val.t ?? 'none' };
      case 'keys': need(n === 2); {
        const re = new RegExp(`^${a[1].replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
        return [...this.db.keys()].filter((k) => this.live(k) && re.test(k)).sort();
      }
      case 'expire': need(n >= 3); {
        const s = int(a[2]);
        if (n > 3) throw new Fail({ err: `ERR Unsupported option ${a[3]}` });
        const ms = s * 1000n;
        if (ms >= 2n ** 63n || ms < -(2n ** 63n) || ms + BigInt(this.now) >= 2n ** 63n) throw new Fail({ err: "ERR invalid expire time in 'expire' command" });
        const e = this.live(a[1]);
        if (!e) return 0;
        const when = this.now + Number(s) * 1000;
        if (when <= this.now) this.db.delete(a[1]); else e.exp = when;
        return 1;
      }
      case 'ttl': need(n === 2); {
        const e = this.live(a[1]);
        if (!e) return -2;
        if (e.exp === 0) return -1;
        return Math.round((e.exp - this.now) / 1000);
      }
      case 'persist': need(n === 2); {
        const e = this.live(a[1]);
        if (!e || e.exp === 0) return 0;
        e.exp = 0;
        return 1;
      }
      case 'set': need(n >= 3); {
        let nx = false, xx = false, get = false, exp = 0;
        for (let j = 3; j < n; j++) {
          const o = a[j].toUpperCase();
          if (o === 'NX' && !xx) nx = true;
          else if (o === 'XX' && !nx) xx = true;
          else if (o === 'GET') get = true;
          else if ((o === 'EX' || o === 'PX') && exp === 0 && j + 1 < n) {
            const v = int(a[++j]);
            if (v <= 0n) throw new Fail({ err: "ERR invalid expire time in 'set' command" });
            exp = this.now + Number(v) * (o === 'EX' ? 1000 : 1);
          } else throw new Fail(SYNTAX);
        }
        const cur = this.live(a[1]);
        let old: string | null = null;
        if (get && cur) {
          if (cur.val.t !== 'string') throw new Fail(WRONG);
          old = cur.val.v;
        }
        if ((nx && cur) || (xx && !cur)) return get ? old : null;
        this.db.set(a[1], { val: { t: 'string', v: a[2] }, exp });
        return get ? old : OK;
      }
      case 'get': need(n === 2); return this.get(a[1], 'string')?.v ?? null;
      case 'getset': need(n === 3); {
        const old = this.get(a[1], 'string')?.v ?? null;
        this.put(a[1], { t: 'string', v: a[2] });
        return old;
      }
      case 'append': need(n === 3); {
        const v = (this.get(a[1], 'string')?.v ?? '') + a[2];
        this.put(a[1], { t: 'string', v }, true);
        return v.length;
      }
      case 'strlen': need(n === 2); return this.get(a[1], 'string')?.v.length ?? 0;
      case 'incr': case 'decr': case 'incrby': case 'decrby': {
        need(n === (name.endsWith('by') ? 3 : 2));
        let by = name.endsWith('by') ? int(a[2]) : 1n;
        if (name === 'decrby' && by === -(2n ** 63n)) throw new Fail({ err: 'ERR decrement would overflow' });
        if (name.startsWith('decr')) by = -by;
        const s = this.get(a[1], 'string');
        const cur = s ? int(s.v) : 0n;
        const next = cur + by;
        if (next >= 2n ** 63n || next < -(2n ** 63n)) throw new Fail({ err: 'ERR increment or decrement would overflow' });
        this.put(a[1], { t: 'string', v: String(next) }, true);
        return Number(next);
      }
      case 'mset': need(n >= 3 && n % 2 === 1);
        for (let j = 1; j < n; j += 2) this.db.set(a[j], { val: { t: 'string', v: a[j + 1] }, exp: 0 });
        return OK;
      case 'mget': need(n >= 2); return a.slice(1).map((k) => {
        const e = this.live(k);
        return e && e.val.t === 'string' ? e.val.v : null;
      });
      case 'lpush': case 'rpush': need(n >= 3); {
        const l = this.get(a[1], 'list') ?? { t: 'list' as const, v: [] };
        for (const x of a.slice(2)) if (name === 'lpush') l.v.unshift(x); else l.v.push(x);
        if (!this.db.has(a[1])) this.db.set(a[1], { val: l, exp: 0 });
        return l.v.length;
      }
      case 'lpop': case 'rpop': need(n >= 2 && n <= 3); {
        let count = -1;
        if (n === 3) {
          const c = asInt(a[2]);
          if (c === null || c < 0n) throw new Fail(POSITIVE);
          count = Number(c);
        }
        const l = this.get(a[1], 'list');
        if (!l) return null;
        if (count === 0) return [];
        const out: string[] = [];
        for (let i = 0; i < (count < 0 ? 1 : count) && l.v.length; i++) out.push((name === 'lpop' ? l.v.shift() : l.v.pop())!);
        this.dropIfEmpty(a[1]);
        return count < 0 ? out[0] : out;
      }
      case 'llen': need(n === 2); return this.get(a[1], 'list')?.v.length ?? 0;
      case 'lrange': need(n === 4); {
        let s = Number(int(a[2]));
        let e = Number(int(a[3]));
        const l = this.get(a[1], 'list')?.v ?? [];
        if (s < 0) s = Math.max(0, l.length + s);
        if (e < 0) e = l.length + e;
        return e < 0 ? [] : l.slice(s, e + 1);
      }
      case 'lindex': need(n === 3); {
        const i = Number(int(a[2]));
        const l = this.get(a[1], 'list')?.v ?? [];
        return l[i < 0 ? l.length + i : i] ?? null;
      }
      case 'sadd': need(n >= 3); {
        const s = this.get(a[1], 'set') ?? { t: 'set' as const, v: new Set<string>() };
        let c = 0;
        for (const m of a.slice(2)) if (!s.v.has(m)) { s.v.add(m); c++; }
        if (!this.db.has(a[1])) this.db.set(a[1], { val: s, exp: 0 });
        return c;
      }
      case 'srem': need(n >= 3); {
        const s = this.get(a[1], 'set');
        if (!s) return 0;
        let c = 0;
        for (const m of a.slice(2)) if (s.v.delete(m)) c++;
        this.dropIfEmpty(a[1]);
        return c;
      }
      case 'smembers': need(n === 2); return [...(this.get(a[1], 'set')?.v ?? [])].sort();
      case 'sismember': need(n === 3); return this.get(a[1], 'set')?.v.has(a[2]) ? 1 : 0;
      case 'scard': need(n === 2); return this.get(a[1], 'set')?.v.size ?? 0;
      case 'spop': need(n >= 2); {
        if (n > 3) throw new Fail(SYNTAX);
        let count = -1;
        if (n === 3) {
          const c = asInt(a[2]);
          if (c === null || c < 0n) throw new Fail(POSITIVE);
          count = Number(c);
        }
        const s = this.get(a[1], 'set');
        if (!s) return count < 0 ? null : [];
        // Which members come out is random: take the ones the server chose, after checking them.
        const chosen = count < 0 ? [observed as string] : (observed as string[]);
        const want = Math.min(count < 0 ? 1 : count, s.v.size);
        if (!Array.isArray(chosen) || chosen.length !== want || !chosen.every((m) => s.v.has(m)) || new Set(chosen).size !== want) return { err: `model: SPOP chose ${JSON.stringify(observed)}` };
        for (const m of chosen) s.v.delete(m);
        this.dropIfEmpty(a[1]);
        return count < 0 ? chosen[0] : [...chosen].sort();
      }
      case 'hset': need(n >= 4 && n % 2 === 0); {
        const h = this.get(a[1], 'hash') ?? { t: 'hash' as const, v: new Map<string, string>() };
        let c = 0;
        for (let j = 2; j < n; j += 2) {
          if (!h.v.has(a[j])) c++;
          h.v.set(a[j], a[j + 1]);
        }
        if (!this.db.has(a[1])) this.db.set(a[1], { val: h, exp: 0 });
        return c;
      }
      case 'hget': need(n === 3); return this.get(a[1], 'hash')?.v.get(a[2]) ?? null;
      case 'hdel': need(n >= 3); {
        const h = this.get(a[1], 'hash');
        if (!h) return 0;
        let c = 0;
        for (const f of a.slice(2)) if (h.v.delete(f)) c++;
        this.dropIfEmpty(a[1]);
        return c;
      }
      case 'hgetall': need(n === 2); return [...(this.get(a[1], 'hash')?.v ?? new Map<string, string>())].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).flat();
      case 'hlen': need(n === 2); return this.get(a[1], 'hash')?.v.size ?? 0;
      case 'zadd': need(n >= 4); {
        let j = 2;
        let nx = false, xx = false, ch = false, incr = false;
        for (; j < n; j++) {
          const o = a[j].toUpperCase();
          if (o === 'NX') nx = true; else if (o === 'XX') xx = true; else if (o === 'CH') ch = true; else if (o === 'INCR') incr = true; else break;
        }
        if ((n - j) % 2 !== 0 || n === j) throw new Fail(SYNTAX);
        if (nx && xx) throw new Fail({ err: 'ERR XX and NX options at the same time are not compatible' });
        if (incr && n - j > 2) throw new Fail({ err: 'ERR INCR option supports a single increment-element pair' });
        const pairs: [number, string][] = [];
        for (let k = j; k < n; k += 2) {
          const s = a[k] === 'inf' || a[k] === '+inf' ? Infinity : a[k] === '-inf' ? -Infinity : /^-?\d+(\.\d+)?$/.test(a[k]) ? Number(a[k]) : NaN;
          if (Number.isNaN(s)) throw new Fail({ err: 'ERR value is not a valid float' });
          pairs.push([s, a[k + 1]]);
        }
        const z = this.get(a[1], 'zset');
        if (!z && xx) return incr ? null : 0;
        const zs = z ?? { t: 'zset' as const, v: new Map<string, number>() };
        let added = 0, changed = 0;
        let last: number | null = null;
        for (const [s, m] of pairs) {
          const cur = zs.v.get(m);
          if (cur !== undefined) {
            if (nx) continue;
            const ns = incr ? cur + s : s;
            if (Number.isNaN(ns)) throw new Fail({ err: 'ERR resulting score is not a number (NaN)' });
            if (ns !== cur) { zs.v.set(m, ns); changed++; }
            last = ns;
          } else {
            if (xx) continue;
            zs.v.set(m, s);
            added++;
            last = s;
          }
        }
        if (!z && zs.v.size) this.db.set(a[1], { val: zs, exp: 0 });
        if (incr) return last === null ? null : fmtScore(last);
        return ch ? added + changed : added;
      }
      case 'zscore': need(n === 3); {
        const s = this.get(a[1], 'zset')?.v.get(a[2]);
        return s === undefined ? null : fmtScore(s);
      }
      case 'zcard': need(n === 2); return this.get(a[1], 'zset')?.v.size ?? 0;
      case 'zrange': need(n >= 4); {
        let ws = false;
        for (const o of a.slice(4)) if (o.toUpperCase() === 'WITHSCORES') ws = true; else throw new Fail(SYNTAX);
        let s = Number(int(a[2]));
        let e = Number(int(a[3]));
        const sorted = this.sortedZ(this.get(a[1], 'zset'));
        if (s < 0) s = Math.max(0, sorted.length + s);
        if (e < 0) e = sorted.length + e;
        const part = e < 0 ? [] : sorted.slice(s, e + 1);
        return ws ? part.flatMap(([m, sc]) => [m, fmtScore(sc)]) : part.map(([m]) => m);
      }
      case 'zpopmin': need(n >= 2); {
        if (n > 3) throw new Fail(SYNTAX);
        let count = 1;
        if (n === 3) {
          const c = asInt(a[2]);
          if (c === null || c < 0n) throw new Fail(POSITIVE);
          count = Number(c);
        }
        const z = this.get(a[1], 'zset');
        if (!z) return [];
        const out = this.sortedZ(z).slice(0, count);
        for (const [m] of out) z.v.delete(m);
        this.dropIfEmpty(a[1]);
        return out.flatMap(([m, sc]) => [m, fmtScore(sc)]);
      }
      case 'select': need(n === 2); {
        const v = asInt(a[1]);
        if (v === null) throw new Fail(NOTINT);
        return v === 0n ? OK : { err: 'ERR DB index is out of range' };
      }
      default:
        return { err: `ERR unknown command '${a[0]}', with args beginning with: ${a.slice(1).map((x) => `'${x}' `).join('')}` };
    }
  }

  private sortedZ(z: { v: Map<string, number> } | undefined): [string, number][] {
    const bytesCmp = (x: string, y: string): number => {
      const bx = Buffer.from(x, 'latin1');
      const by = Buffer.from(y, 'latin1');
      return Buffer.compare(bx, by);
    };
    return [...(z?.v ?? new Map<string, number>())].sort((p, q) => (p[1] !== q[1] ? p[1] - q[1] : bytesCmp(p[0], q[0])));
  }
}
