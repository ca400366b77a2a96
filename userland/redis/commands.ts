// The command table and the commands, replying byte for byte as Redis 7.0 does (values and errors).
// Each command reads its arguments (bytes the program parsed out of its request buffer), works on
// the dataset through loads and stores, and writes its reply only once its change is complete, so
// an OOM part-way replies the OOM error and leaves no half-made structure behind.

import { Dataset, T_STRING, T_LIST, T_SET, T_HASH, T_ZSET, TYPE_NAMES } from './dataset.js';
import { sdsNew, sdsBytes, sdsLen, sdsFits, SDS_HEADER, OomError } from './sds.js';
import { storeBytes, loadPtr } from './mem.js';
import { E_VAL } from './dict.js';
import { Reply, ERR_WRONGTYPE, ERR_NOT_INT, ERR_SYNTAX, ERR_NOT_FLOAT, ERR_OOM, errArity } from './reply.js';
import { string2ll, inInt64, parseDouble, d2string, globMatch, latin1, bytes } from './util.js';

/** A reply that ends the command: the message starts with its code. */
export class CommandError extends Error {}

/** Per-connection state that Redis keeps in its client struct. */
export interface ClientState {
  name: Uint8Array | null;
  /** Set by QUIT: close after this reply. */
  close: boolean;
  /** Set by SHUTDOWN: the server stops. */
  shutdown: boolean;
}

export function newClient(): ClientState {
  return { name: null, close: false, shutdown: false };
}

/** What INFO reports besides the dataset: the server's and the emulated machine's own figures. */
export type InfoProvider = () => Record<string, [string, string | number][]>;

export interface CommandContext {
  ds: Dataset;
  client: ClientState;
  reply: Reply;
  info?: InfoProvider;
}

type Handler = (c: CommandContext, argv: Uint8Array[]) => void;

export interface CommandSpec {
  name: string;
  /** Redis arity: n exact, -n at least n (the name counts). */
  arity: number;
  /** 'write' may change the dataset; 'read' only reads it; 'none' does not touch it. */
  access: 'write' | 'read' | 'none';
  /** Refused with -OOM while used memory is over maxmemory. */
  denyoom: boolean;
  firstKey: number;
  lastKey: number;
  step: number;
  run: Handler;
  subcommands?: Record<string, CommandSpec>;
}

const up = (b: Uint8Array): string => latin1(b).toUpperCase();

function wrongType(): never { throw new CommandError(ERR_WRONGTYPE); }

/** The entry of `key` if it holds `type` (0 when absent); WRONGTYPE otherwise. */
function typed(ds: Dataset, key: Uint8Array, type: number): number {
  const e = ds.lookup(key);
  if (e !== 0 && ds.typeOf(e) !== type) wrongType();
  return e;
}

function int64(b: Uint8Array, msg = ERR_NOT_INT): bigint {
  const v = string2ll(b);
  if (v === null) throw new CommandError(msg);
  return v;
}

function long(b: Uint8Array): number {
  return Number(int64(b));
}

function positive(b: Uint8Array): number {
  const msg = 'ERR value is out of range, must be positive';
  const v = string2ll(b);
  if (v === null || v < 0n) throw new CommandError(msg);
  return Number(v);
}

function stringValue(ds: Dataset, e: number): Uint8Array {
  return sdsBytes(ds.m, ds.valueOf(e));
}

function newString(ds: Dataset, val: Uint8Array): number {
  return sdsNew(ds.m, ds.a, val, T_STRING);
}

/** Store a string value under `key` (an overwrite drops the TTL unless keepTtl). */
function setString(ds: Dataset, key: Uint8Array, val: Uint8Array, keepTtl: boolean): number {
  const v = newString(ds, val);
  const e = ds.lookup(key);
  if (e === 0) {
    try { return ds.addKey(key, v); } catch (err) { ds.a.free(v); throw err; }
  }
  ds.setValue(e, v, keepTtl);
  return e;
}

function clampRange(start: number, end: number, len: number): [number, number] | null {
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end];
}

// ------------------------------------------------------------------ strings

const LLMAX = 9223372036854775807n;

function setCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { ds } = c;
  let nx = false, xx = false, get = false, keepttl = false;
  let unit: 'EX' | 'PX' | 'EXAT' | 'PXAT' | null = null;
  let expArg: Uint8Array | null = null;
  for (let j = 3; j < argv.length; j++) {
    const opt = up(argv[j]);
    const next = j + 1 < argv.length ? argv[j + 1] : null;
    if (opt === 'NX' && !xx) nx = true;
    else if (opt === 'XX' && !nx) xx = true;
    else if (opt === 'GET') get = true;
    else if (opt === 'KEEPTTL' && unit === null) keepttl = true;
    else if ((opt === 'EX' || opt === 'PX' || opt === 'EXAT' || opt === 'PXAT') && !keepttl && unit === null && next !== null) {
      unit = opt;
      expArg = next;
      j++;
    } else throw new CommandError(ERR_SYNTAX);
  }
  let when = 0;
  if (unit !== null) {
    const v = int64(expArg!);
    const invalid = "ERR invalid expire time in 'set' command";
    if (v <= 0n) throw new CommandError(invalid);
    const ms = unit === 'EX' || unit === 'EXAT' ? v * 1000n : v;
    if (ms > LLMAX || (unit === 'EX' || unit === 'EXAT' ? v > LLMAX / 1000n : false)) throw new CommandError(invalid);
    when = unit === 'EX' || unit === 'PX' ? ds.clock() + Number(ms) : Number(ms);
  }
  const key = argv[1];
  const e = ds.lookup(key);
  let old: Uint8Array | null = null;
  if (get && e !== 0) {
    if (ds.typeOf(e) !== T_STRING) wrongType();
    old = stringValue(ds, e);
  }
  if ((nx && e !== 0) || (xx && e === 0)) {
    if (get && old !== null) c.reply.bulk(old); else c.reply.nullBulk();
    return;
  }
  const ne = setString(ds, key, argv[2], keepttl);
  if (unit !== null) {
    if (when <= ds.clock()) ds.deleteKey(key);
    else ds.setExpire(ne, when);
  }
  if (get) {
    if (old !== null) c.reply.bulk(old); else c.reply.nullBulk();
  } else c.reply.ok();
}

function getCommand(c: CommandContext, argv: Uint8Array[]): void {
  const e = typed(c.ds, argv[1], T_STRING);
  if (e === 0) c.reply.nullBulk(); else c.reply.bulk(stringValue(c.ds, e));
}

function getsetCommand(c: CommandContext, argv: Uint8Array[]): void {
  const e = typed(c.ds, argv[1], T_STRING);
  const old = e === 0 ? null : stringValue(c.ds, e);
  setString(c.ds, argv[1], argv[2], false);
  if (old === null) c.reply.nullBulk(); else c.reply.bulk(old);
}

function appendCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { ds } = c;
  const e = typed(ds, argv[1], T_STRING);
  if (e === 0) {
    setString(ds, argv[1], argv[2], true);
    c.reply.integer(argv[2].length);
    return;
  }
  const v = ds.valueOf(e);
  const len = sdsLen(ds.m, v);
  const total = len + argv[2].length;
  if (sdsFits(ds.a, v, total)) {
    storeBytes(ds.m, v + SDS_HEADER + len, argv[2]);
    ds.m.store32(v + 4, total);
  } else {
    const joined = new Uint8Array(total);
    joined.set(stringValue(ds, e));
    joined.set(argv[2], len);
    ds.setValue(e, newString(ds, joined), true);
  }
  c.reply.integer(total);
}

function strlenCommand(c: CommandContext, argv: Uint8Array[]): void {
  const e = typed(c.ds, argv[1], T_STRING);
  c.reply.integer(e === 0 ? 0 : sdsLen(c.ds.m, c.ds.valueOf(e)));
}

function incrBy(c: CommandContext, key: Uint8Array, by: bigint): void {
  const e = typed(c.ds, key, T_STRING);
  const cur = e === 0 ? 0n : int64(stringValue(c.ds, e));
  const next = cur + by;
  if (!inInt64(next)) throw new CommandError('ERR increment or decrement would overflow');
  setString(c.ds, key, bytes(next.toString()), true);
  c.reply.integer(next);
}

function msetCommand(c: CommandContext, argv: Uint8Array[]): void {
  if (argv.length % 2 === 0) throw new CommandError(errArity('mset'));
  for (let j = 1; j < argv.length; j += 2) setString(c.ds, argv[j], argv[j + 1], false);
  c.reply.ok();
}

function mgetCommand(c: CommandContext, argv: Uint8Array[]): void {
  const out: (Uint8Array | null)[] = [];
  for (let j = 1; j < argv.length; j++) {
    const e = c.ds.lookup(argv[j]);
    out.push(e !== 0 && c.ds.typeOf(e) === T_STRING ? stringValue(c.ds, e) : null);
  }
  c.reply.bulkArray(out);
}

// ------------------------------------------------------------------ keyspace

function delCommand(c: CommandContext, argv: Uint8Array[]): void {
  let n = 0;
  for (let j = 1; j < argv.length; j++) if (c.ds.lookup(argv[j]) !== 0 && c.ds.deleteKey(argv[j])) n++;
  c.reply.integer(n);
}

function existsCommand(c: CommandContext, argv: Uint8Array[]): void {
  let n = 0;
  for (let j = 1; j < argv.length; j++) if (c.ds.lookup(argv[j]) !== 0) n++;
  c.reply.integer(n);
}

function typeCommand(c: CommandContext, argv: Uint8Array[]): void {
  const e = c.ds.lookup(argv[1]);
  c.reply.simple(e === 0 ? 'none' : TYPE_NAMES[c.ds.typeOf(e)]);
}

function keysCommand(c: CommandContext, argv: Uint8Array[]): void {
  const pat = argv[1];
  const all = pat.length === 1 && pat[0] === 0x2a;
  const keys = c.ds.keys().filter((k) => all || globMatch(pat, k));
  c.ds.m.compute(keys.length * c.ds.m.costs.redisKeysPerKey);
  c.reply.bulkArray(keys);
}

function flushCommand(c: CommandContext, argv: Uint8Array[]): void {
  if (argv.length > 2 || (argv.length === 2 && up(argv[1]) !== 'ASYNC' && up(argv[1]) !== 'SYNC')) throw new CommandError(ERR_SYNTAX);
  c.ds.flush();
  c.reply.ok();
}

function expireCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { ds } = c;
  const secs = int64(argv[2]);
  let nx = false, xx = false, gt = false, lt = false;
  for (let j = 3; j < argv.length; j++) {
    const o = up(argv[j]);
    if (o === 'NX') nx = true;
    else if (o === 'XX') xx = true;
    else if (o === 'GT') gt = true;
    else if (o === 'LT') lt = true;
    else throw new CommandError(`ERR Unsupported option ${latin1(argv[j])}`);
  }
  if (nx && (xx || gt || lt)) throw new CommandError('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (gt && lt) throw new CommandError('ERR GT and LT options at the same time are not compatible');
  const invalid = "ERR invalid expire time in 'expire' command";
  if (secs > LLMAX / 1000n || secs < -LLMAX / 1000n || secs * 1000n > LLMAX - BigInt(Math.floor(ds.clock()))) throw new CommandError(invalid);
  const when = ds.clock() + Number(secs) * 1000;
  const e = ds.lookup(argv[1]);
  if (e === 0) {
    c.reply.integer(0);
    return;
  }
  const cur = ds.expireOf(e);
  if ((nx && cur !== 0) || (xx && cur === 0) || (gt && (cur === 0 || when <= cur)) || (lt && cur !== 0 && when >= cur)) {
    c.reply.integer(0);
    return;
  }
  if (when <= ds.clock()) ds.deleteKey(argv[1]);
  else ds.setExpire(e, when);
  c.reply.integer(1);
}

function ttlCommand(c: CommandContext, argv: Uint8Array[]): void {
  const e = c.ds.lookup(argv[1]);
  if (e === 0) return c.reply.integer(-2);
  const exp = c.ds.expireOf(e);
  if (exp === 0) return c.reply.integer(-1);
  const ttl = Math.max(0, Math.floor(exp - c.ds.clock()));
  c.reply.integer(Math.floor((ttl + 500) / 1000));
}

function persistCommand(c: CommandContext, argv: Uint8Array[]): void {
  const e = c.ds.lookup(argv[1]);
  if (e === 0 || c.ds.expireOf(e) === 0) return c.reply.integer(0);
  c.ds.setExpire(e, 0);
  c.reply.integer(1);
}

// ------------------------------------------------------------------ lists

function pushCommand(left: boolean): Handler {
  return (c, argv) => {
    const { ds } = c;
    let e = typed(ds, argv[1], T_LIST);
    let v: number;
    if (e === 0) {
      v = ds.newList();
      try { e = ds.addKey(argv[1], v); } catch (err) { ds.a.free(v); throw err; }
    } else v = ds.valueOf(e);
    let pushed = 0;
    try {
      for (let j = 2; j < argv.length; j++, pushed++) ds.listPush(v, argv[j], left);
    } catch (err) {
      // Redis checks memory before the command: undo this command's pushes so it changes nothing.
      for (; pushed > 0; pushed--) ds.listPop(v, left);
      if (ds.listLen(v) === 0) ds.deleteKey(argv[1]);
      throw err;
    }
    c.reply.integer(ds.listLen(v));
  };
}

function popCommand(left: boolean): Handler {
  return (c, argv) => {
    const { ds } = c;
    if (argv.length > 3) throw new CommandError(errArity(left ? 'lpop' : 'rpop'));
    const count = argv.length === 3 ? positive(argv[2]) : -1;
    const e = typed(ds, argv[1], T_LIST);
    if (e === 0) return count >= 0 ? c.reply.nullArray() : c.reply.nullBulk();
    if (count === 0) return c.reply.arrayHeader(0);
    const v = ds.valueOf(e);
    const out: Uint8Array[] = [];
    for (let i = 0; i < (count < 0 ? 1 : count); i++) {
      const x = ds.listPop(v, left);
      if (x === null) break;
      out.push(x);
    }
    if (ds.listLen(v) === 0) ds.deleteKey(argv[1]);
    if (count < 0) c.reply.bulk(out[0]); else c.reply.bulkArray(out);
  };
}

function llenCommand(c: CommandContext, argv: Uint8Array[]): void {
  const e = typed(c.ds, argv[1], T_LIST);
  c.reply.integer(e === 0 ? 0 : c.ds.listLen(c.ds.valueOf(e)));
}

function lrangeCommand(c: CommandContext, argv: Uint8Array[]): void {
  const start = long(argv[2]);
  const end = long(argv[3]);
  const e = typed(c.ds, argv[1], T_LIST);
  if (e === 0) return c.reply.arrayHeader(0);
  const v = c.ds.valueOf(e);
  const r = clampRange(start, end, c.ds.listLen(v));
  c.reply.bulkArray(r ? c.ds.listRange(v, r[0], r[1]) : []);
}

function lindexCommand(c: CommandContext, argv: Uint8Array[]): void {
  const idx = long(argv[2]);
  const e = typed(c.ds, argv[1], T_LIST);
  if (e === 0) return c.reply.nullBulk();
  const v = c.ds.valueOf(e);
  const len = c.ds.listLen(v);
  const i = idx < 0 ? idx + len : idx;
  if (i < 0 || i >= len) return c.reply.nullBulk();
  c.reply.bulk(c.ds.listRange(v, i, i)[0]);
}

// ------------------------------------------------------------------ sets and hashes

/** The object of a set or hash key, created when absent (the key added only if something is). */
function dictObject(ds: Dataset, key: Uint8Array, type: number): { e: number; v: number } {
  const e = typed(ds, key, type);
  return e !== 0 ? { e, v: ds.valueOf(e) } : { e: 0, v: 0 };
}

function withNewKey(ds: Dataset, key: Uint8Array, type: number, fill: (v: number) => number): number {
  const v = type === T_ZSET ? ds.newZset() : ds.newDictObject(type);
  let n: number;
  try {
    n = fill(v);
    ds.addKey(key, v);
  } catch (err) {
    ds.freeValue(v);
    throw err;
  }
  return n;
}

function saddCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { ds } = c;
  const { v } = dictObject(ds, argv[1], T_SET);
  const fill = (obj: number): number => {
    let n = 0;
    for (let j = 2; j < argv.length; j++) if (ds.dictSet(obj, argv[j], null)) n++;
    return n;
  };
  c.reply.integer(v === 0 ? withNewKey(ds, argv[1], T_SET, fill) : fill(v));
}

/**
 * SREM and HDEL: remove members (fields) argv[2..] from the set (hash) at argv[1], replying with
 * how many were there; the key goes when its dict empties, as in Redis.
 */
function deleteMembers(c: CommandContext, argv: Uint8Array[], type: number): void {
  const { ds } = c;
  const { v } = dictObject(ds, argv[1], type);
  if (v === 0) return c.reply.integer(0);
  let n = 0;
  for (let j = 2; j < argv.length; j++) {
    if (ds.dictDelete(v, argv[j])) n++;
    if (ds.dictCount(v) === 0) {
      ds.deleteKey(argv[1]);
      break;
    }
  }
  c.reply.integer(n);
}

function sremCommand(c: CommandContext, argv: Uint8Array[]): void {
  deleteMembers(c, argv, T_SET);
}

function smembersCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { v } = dictObject(c.ds, argv[1], T_SET);
  c.reply.bulkArray(v === 0 ? [] : c.ds.dictItems(v).map((x) => x.key));
}

function sismemberCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { v } = dictObject(c.ds, argv[1], T_SET);
  c.reply.integer(v !== 0 && c.ds.dictHas(v, argv[2]) !== 0 ? 1 : 0);
}

function scardCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { v } = dictObject(c.ds, argv[1], T_SET);
  c.reply.integer(v === 0 ? 0 : c.ds.dictCount(v));
}

function spopCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { ds } = c;
  if (argv.length > 3) throw new CommandError(ERR_SYNTAX);
  const count = argv.length === 3 ? positive(argv[2]) : -1;
  const { v } = dictObject(ds, argv[1], T_SET);
  if (v === 0) return count >= 0 ? c.reply.arrayHeader(0) : c.reply.nullBulk();
  const out: Uint8Array[] = [];
  for (let i = 0; i < (count < 0 ? 1 : count) && ds.dictCount(v) > 0; i++) out.push(ds.setPopRandom(v)!);
  if (ds.dictCount(v) === 0) ds.deleteKey(argv[1]);
  if (count < 0) c.reply.bulk(out[0]); else c.reply.bulkArray(out);
}

function hsetCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { ds } = c;
  if (argv.length % 2 === 1) throw new CommandError(errArity('hset'));
  const { v } = dictObject(ds, argv[1], T_HASH);
  const fill = (obj: number): number => {
    let n = 0;
    for (let j = 2; j < argv.length; j += 2) if (ds.dictSet(obj, argv[j], argv[j + 1])) n++;
    return n;
  };
  c.reply.integer(v === 0 ? withNewKey(ds, argv[1], T_HASH, fill) : fill(v));
}

function hgetCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { v } = dictObject(c.ds, argv[1], T_HASH);
  const e = v === 0 ? 0 : c.ds.dictHas(v, argv[2]);
  if (e === 0) return c.reply.nullBulk();
  c.reply.bulk(sdsBytes(c.ds.m, loadPtr(c.ds.m, e + E_VAL)));
}

function hdelCommand(c: CommandContext, argv: Uint8Array[]): void {
  deleteMembers(c, argv, T_HASH);
}

function hgetallCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { v } = dictObject(c.ds, argv[1], T_HASH);
  c.reply.bulkArray(v === 0 ? [] : c.ds.dictItems(v).flatMap((x) => [x.key, x.val!]));
}

function hlenCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { v } = dictObject(c.ds, argv[1], T_HASH);
  c.reply.integer(v === 0 ? 0 : c.ds.dictCount(v));
}

// ------------------------------------------------------------------ sorted sets

function zaddCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { ds } = c;
  let nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
  let j = 2;
  for (; j < argv.length; j++) {
    const o = up(argv[j]);
    if (o === 'NX') nx = true;
    else if (o === 'XX') xx = true;
    else if (o === 'GT') gt = true;
    else if (o === 'LT') lt = true;
    else if (o === 'CH') ch = true;
    else if (o === 'INCR') incr = true;
    else break;
  }
  const elements = argv.length - j;
  if (elements % 2 !== 0 || elements === 0) throw new CommandError(ERR_SYNTAX);
  if (nx && xx) throw new CommandError('ERR XX and NX options at the same time are not compatible');
  if ((gt && nx) || (lt && nx) || (gt && lt)) throw new CommandError('ERR GT, LT, and/or NX options at the same time are not compatible');
  if (incr && elements > 2) throw new CommandError('ERR INCR option supports a single increment-element pair');
  const pairs: { score: number; member: Uint8Array }[] = [];
  for (let k = j; k < argv.length; k += 2) {
    const s = parseDouble(argv[k]);
    if (s === null) throw new CommandError(ERR_NOT_FLOAT);
    pairs.push({ score: s, member: argv[k + 1] });
  }
  const key = argv[1];
  const ke = typed(ds, key, T_ZSET);
  let added = 0, updated = 0, processed = false, lastScore = 0;
  const apply = (v: number): number => {
    for (const p of pairs) {
      const e = ds.zsetEntry(v, p.member);
      let score = p.score;
      if (e !== 0) {
        if (nx) continue;
        const cur = ds.zsetScore(e);
        if (incr) {
          score += cur;
          if (Number.isNaN(score)) throw new CommandError('ERR resulting score is not a number (NaN)');
        }
        if ((lt && score >= cur) || (gt && score <= cur)) continue;
        lastScore = score;
        processed = true;
        if (score !== cur) {
          ds.zsetPut(v, p.member, score, e);
          updated++;
        }
      } else {
        if (xx) continue;
        ds.zsetPut(v, p.member, score, 0);
        added++;
        lastScore = score;
        processed = true;
      }
    }
    return added;
  };
  if (ke !== 0) apply(ds.valueOf(ke));
  else if (!xx) withNewKey(ds, key, T_ZSET, apply);
  if (incr) {
    if (processed) c.reply.bulk(d2string(lastScore)); else c.reply.nullBulk();
  } else c.reply.integer(ch ? added + updated : added);
}

function zscoreCommand(c: CommandContext, argv: Uint8Array[]): void {
  const e = typed(c.ds, argv[1], T_ZSET);
  const me = e === 0 ? 0 : c.ds.zsetEntry(c.ds.valueOf(e), argv[2]);
  if (me === 0) c.reply.nullBulk(); else c.reply.bulk(d2string(c.ds.zsetScore(me)));
}

function zcardCommand(c: CommandContext, argv: Uint8Array[]): void {
  const e = typed(c.ds, argv[1], T_ZSET);
  c.reply.integer(e === 0 ? 0 : c.ds.zsetCard(c.ds.valueOf(e)));
}

function zrangeCommand(c: CommandContext, argv: Uint8Array[]): void {
  let withscores = false, rev = false;
  for (let j = 4; j < argv.length; j++) {
    const o = up(argv[j]);
    if (o === 'WITHSCORES') withscores = true;
    else if (o === 'REV') rev = true;
    else if (o === 'BYSCORE' || o === 'BYLEX' || o === 'LIMIT') throw new CommandError(`ERR ZRANGE ${o} is not supported by this server (rank ranges only)`);
    else throw new CommandError(ERR_SYNTAX);
  }
  const start = long(argv[2]);
  const end = long(argv[3]);
  const e = typed(c.ds, argv[1], T_ZSET);
  if (e === 0) return c.reply.arrayHeader(0);
  const v = c.ds.valueOf(e);
  const r = clampRange(start, end, c.ds.zsetCard(v));
  const items = r ? c.ds.zsetRange(v, r[0], r[1], rev) : [];
  c.reply.bulkArray(withscores ? items.flatMap((x) => [x.member, d2string(x.score)]) : items.map((x) => x.member));
}

function zpopminCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { ds } = c;
  if (argv.length > 3) throw new CommandError(ERR_SYNTAX);
  const count = argv.length === 3 ? positive(argv[2]) : 1;
  const e = typed(ds, argv[1], T_ZSET);
  if (e === 0 || count === 0) return c.reply.arrayHeader(0);
  const v = ds.valueOf(e);
  const out: (Uint8Array | string)[] = [];
  for (let i = 0; i < count; i++) {
    const x = ds.zsetPopMin(v);
    if (x === null) break;
    out.push(x.member, d2string(x.score));
  }
  if (ds.zsetCard(v) === 0) ds.deleteKey(argv[1]);
  c.reply.bulkArray(out);
}

// ------------------------------------------------------------------ server

function pingCommand(c: CommandContext, argv: Uint8Array[]): void {
  if (argv.length > 2) throw new CommandError(errArity('ping'));
  if (argv.length === 2) c.reply.bulk(argv[1]); else c.reply.simple('PONG');
}

function selectCommand(c: CommandContext, argv: Uint8Array[]): void {
  const v = string2ll(argv[1]);
  if (v === null || v > 2147483647n || v < -2147483648n) throw new CommandError(ERR_NOT_INT);
  if (v !== 0n) throw new CommandError('ERR DB index is out of range');
  c.reply.ok();
}

/** The parameters CONFIG GET knows (a glob over these, as Redis matches its table). */
function configParams(ds: Dataset): [string, string][] {
  return [['save', ''], ['appendonly', 'no'], ['maxmemory', String(ds.maxmemory)], ['databases', '1'], ['maxmemory-policy', 'noeviction']];
}

function configGetCommand(c: CommandContext, argv: Uint8Array[]): void {
  const out: string[] = [];
  const params = configParams(c.ds);
  for (let j = 2; j < argv.length; j++) {
    for (const [k, v] of params) {
      if (globMatch(argv[j], bytes(k), true) && !out.includes(k)) out.push(k, v);
    }
  }
  c.reply.bulkArray(out);
}

function helpReply(c: CommandContext, name: string, lines: string[]): void {
  const all = [`${name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`, ...lines, 'HELP', '    Prints this help.'];
  c.reply.arrayHeader(all.length);
  for (const l of all) c.reply.simple(l);
}

function infoCommand(c: CommandContext, argv: Uint8Array[]): void {
  const { ds } = c;
  const extra = c.info?.() ?? {};
  const sections: Record<string, [string, string | number][]> = {
    Server: [['redis_version', '7.0.15'], ['redis_mode', 'standalone'], ['os', 'spacejmp-emu (emulated)'], ['arch_bits', 64], ...(extra.Server ?? [])],
    Clients: extra.Clients ?? [],
    Memory: [['used_memory', ds.usedMemory()], ['maxmemory', ds.maxmemory], ['maxmemory_policy', 'noeviction']],
    Stats: extra.Stats ?? [],
    Keyspace: ds.dbsize() > 0 ? [['db0', `keys=${ds.dbsize()},expires=${ds.expiresCount()},avg_ttl=0`]] : [],
    Emulator: extra.Emulator ?? [],
  };
  const want = argv.slice(1).map((a) => latin1(a).toLowerCase());
  const all = want.length === 0 || want.includes('all') || want.includes('everything') || want.includes('default');
  const parts: string[] = [];
  for (const [name, kv] of Object.entries(sections)) {
    if (!all && !want.includes(name.toLowerCase())) continue;
    parts.push(`# ${name}\r\n${kv.map(([k, v]) => `${k}:${v}\r\n`).join('')}`);
  }
  c.reply.bulk(parts.join('\r\n'));
}

function commandInfoEntry(r: Reply, spec: CommandSpec): void {
  const flags = spec.access === 'write' ? ['write'] : spec.access === 'read' ? ['readonly'] : ['fast'];
  if (spec.denyoom) flags.push('denyoom');
  r.arrayHeader(10);
  r.bulk(spec.name);
  r.integer(spec.arity);
  r.arrayHeader(flags.length);
  for (const f of flags) r.simple(f);
  r.integer(spec.firstKey);
  r.integer(spec.lastKey);
  r.integer(spec.step);
  r.arrayHeader(0);
  r.arrayHeader(0);
  r.arrayHeader(0);
  const subs = spec.subcommands ? Object.values(spec.subcommands) : [];
  r.arrayHeader(subs.length);
  for (const s of subs) commandInfoEntry(r, s);
}

function clientSetnameCommand(c: CommandContext, argv: Uint8Array[]): void {
  const name = argv[2];
  for (const b of name) {
    if (b < 0x21 || b > 0x7e) throw new CommandError('ERR Client names cannot contain spaces, newlines or special characters.');
  }
  c.client.name = name.length ? name : null;
  c.reply.ok();
}

// ------------------------------------------------------------------ the table

function cmd(name: string, arity: number, access: CommandSpec['access'], denyoom: boolean, keys: [number, number, number], run: Handler, subcommands?: Record<string, CommandSpec>): CommandSpec {
  return { name, arity, access, denyoom, firstKey: keys[0], lastKey: keys[1], step: keys[2], run, subcommands };
}

const K1: [number, number, number] = [1, 1, 1];
const K0: [number, number, number] = [0, 0, 0];
const KALL: [number, number, number] = [1, -1, 1];

const CONFIG_SUBS: Record<string, CommandSpec> = {
  get: cmd('config|get', -3, 'read', false, K0, configGetCommand),
  help: cmd('config|help', 2, 'none', false, K0, (c) => helpReply(c, 'CONFIG', ['GET <pattern>', '    Return parameters matching the glob-like <pattern> and their values.'])),
};

const CLIENT_SUBS: Record<string, CommandSpec> = {
  setname: cmd('client|setname', 3, 'none', false, K0, clientSetnameCommand),
  getname: cmd('client|getname', 2, 'none', false, K0, (c) => (c.client.name ? c.reply.bulk(c.client.name) : c.reply.nullBulk())),
  help: cmd('client|help', 2, 'none', false, K0, (c) => helpReply(c, 'CLIENT', ['GETNAME', '    Return the name of the current connection.', 'SETNAME <name>', '    Assign the name <name> to the current connection.'])),
};

const COMMAND_SUBS: Record<string, CommandSpec> = {
  count: cmd('command|count', 2, 'none', false, K0, (c) => c.reply.integer(Object.keys(COMMANDS).length)),
  // redis-cli asks for the docs to give hints; an empty map means "none", which it accepts.
  docs: cmd('command|docs', -2, 'none', false, K0, (c) => c.reply.arrayHeader(0)),
  info: cmd('command|info', -2, 'none', false, K0, (c, argv) => {
    const names = argv.length > 2 ? argv.slice(2).map((a) => latin1(a).toLowerCase()) : Object.keys(COMMANDS);
    c.reply.arrayHeader(names.length);
    for (const n of names) {
      const s = COMMANDS[n];
      if (s) commandInfoEntry(c.reply, s); else c.reply.nullArray();
    }
  }),
  help: cmd('command|help', 2, 'none', false, K0, (c) => helpReply(c, 'COMMAND', ['COUNT', '    Return the total number of commands in this Redis server.', 'DOCS [<command-name> ...]', '    Return documentary information about commands.', 'INFO [<command-name> ...]', '    Return details about multiple Redis commands.'])),
};

export const COMMANDS: Record<string, CommandSpec> = {
  ping: cmd('ping', -1, 'none', false, K0, pingCommand),
  echo: cmd('echo', 2, 'none', false, K0, (c, a) => c.reply.bulk(a[1])),
  select: cmd('select', 2, 'none', false, K0, selectCommand),
  dbsize: cmd('dbsize', 1, 'read', false, K0, (c) => c.reply.integer(c.ds.dbsize())),
  flushall: cmd('flushall', -1, 'write', false, K0, flushCommand),
  flushdb: cmd('flushdb', -1, 'write', false, K0, flushCommand),
  exists: cmd('exists', -2, 'read', false, KALL, existsCommand),
  del: cmd('del', -2, 'write', false, KALL, delCommand),
  type: cmd('type', 2, 'read', false, K1, typeCommand),
  keys: cmd('keys', 2, 'read', false, K0, keysCommand),
  expire: cmd('expire', -3, 'write', false, K1, expireCommand),
  ttl: cmd('ttl', 2, 'read', false, K1, ttlCommand),
  persist: cmd('persist', 2, 'write', false, K1, persistCommand),
  set: cmd('set', -3, 'write', true, K1, setCommand),
  get: cmd('get', 2, 'read', false, K1, getCommand),
  getset: cmd('getset', 3, 'write', true, K1, getsetCommand),
  append: cmd('append', 3, 'write', true, K1, appendCommand),
  strlen: cmd('strlen', 2, 'read', false, K1, strlenCommand),
  incr: cmd('incr', 2, 'write', true, K1, (c, a) => incrBy(c, a[1], 1n)),
  decr: cmd('decr', 2, 'write', true, K1, (c, a) => incrBy(c, a[1], -1n)),
  incrby: cmd('incrby', 3, 'write', true, K1, (c, a) => incrBy(c, a[1], int64(a[2]))),
  decrby: cmd('decrby', 3, 'write', true, K1, (c, a) => {
    const by = int64(a[2]);
    if (by === -9223372036854775808n) throw new CommandError('ERR decrement would overflow');
    incrBy(c, a[1], -by);
  }),
  mset: cmd('mset', -3, 'write', true, [1, -1, 2], msetCommand),
  mget: cmd('mget', -2, 'read', false, KALL, mgetCommand),
  lpush: cmd('lpush', -3, 'write', true, K1, pushCommand(true)),
  rpush: cmd('rpush', -3, 'write', true, K1, pushCommand(false)),
  lpop: cmd('lpop', -2, 'write', false, K1, popCommand(true)),
  rpop: cmd('rpop', -2, 'write', false, K1, popCommand(false)),
  llen: cmd('llen', 2, 'read', false, K1, llenCommand),
  lrange: cmd('lrange', 4, 'read', false, K1, lrangeCommand),
  lindex: cmd('lindex', 3, 'read', false, K1, lindexCommand),
  sadd: cmd('sadd', -3, 'write', true, K1, saddCommand),
  srem: cmd('srem', -3, 'write', false, K1, sremCommand),
  smembers: cmd('smembers', 2, 'read', false, K1, smembersCommand),
  sismember: cmd('sismember', 3, 'read', false, K1, sismemberCommand),
  scard: cmd('scard', 2, 'read', false, K1, scardCommand),
  spop: cmd('spop', -2, 'write', false, K1, spopCommand),
  hset: cmd('hset', -4, 'write', true, K1, hsetCommand),
  hget: cmd('hget', 3, 'read', false, K1, hgetCommand),
  hdel: cmd('hdel', -3, 'write', false, K1, hdelCommand),
  hgetall: cmd('hgetall', 2, 'read', false, K1, hgetallCommand),
  hlen: cmd('hlen', 2, 'read', false, K1, hlenCommand),
  zadd: cmd('zadd', -4, 'write', true, K1, zaddCommand),
  zscore: cmd('zscore', 3, 'read', false, K1, zscoreCommand),
  zrange: cmd('zrange', -4, 'read', false, K1, zrangeCommand),
  zpopmin: cmd('zpopmin', -2, 'write', false, K1, zpopminCommand),
  zcard: cmd('zcard', 2, 'read', false, K1, zcardCommand),
  config: cmd('config', -2, 'none', false, K0, () => undefined, CONFIG_SUBS),
  info: cmd('info', -1, 'read', false, K0, infoCommand),
  command: cmd('command', -1, 'none', false, K0, (c) => {
    const all = Object.values(COMMANDS);
    c.reply.arrayHeader(all.length);
    for (const s of all) commandInfoEntry(c.reply, s);
  }, COMMAND_SUBS),
  client: cmd('client', -2, 'none', false, K0, () => undefined, CLIENT_SUBS),
  quit: cmd('quit', -1, 'none', false, K0, (c) => {
    c.client.close = true;
    c.reply.ok();
  }),
  shutdown: cmd('shutdown', -1, 'none', false, K0, (c, argv) => {
    for (const a of argv.slice(1)) {
      if (!['NOSAVE', 'SAVE', 'NOW', 'FORCE', 'ABORT'].includes(up(a))) throw new CommandError(ERR_SYNTAX);
    }
    c.client.shutdown = true;
  }),
};

/** The spec that will run `argv` (a subcommand's for containers), or an error reply to give instead. */
export function resolveCommand(argv: Uint8Array[]): CommandSpec | string {
  const name = latin1(argv[0]);
  const spec = COMMANDS[name.toLowerCase()];
  if (!spec) {
    let args = '';
    for (let i = 1; i < argv.length && args.length < 128; i++) args += `'${latin1(argv[i]).slice(0, 128 - args.length)}' `;
    return `ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${args}`;
  }
  if (spec.subcommands && argv.length >= 2) {
    const sub = spec.subcommands[latin1(argv[1]).toLowerCase()];
    if (!sub) return `ERR unknown subcommand '${latin1(argv[1]).slice(0, 128)}'. Try ${name.toUpperCase()} HELP.`;
    return checkArity(sub, argv);
  }
  return checkArity(spec, argv);
}

function checkArity(spec: CommandSpec, argv: Uint8Array[]): CommandSpec | string {
  if ((spec.arity > 0 && argv.length !== spec.arity) || argv.length < -spec.arity) return errArity(spec.name);
  return spec;
}

/**
 * Run one command and append its reply to `c.reply`. CPU work besides the dataset's own loads and
 * stores (the table lookup, argument checks) is charged as a small fixed cost.
 */
export function execute(c: CommandContext, argv: Uint8Array[]): CommandSpec | null {
  c.ds.m.compute(c.ds.m.costs.redisCommand);
  const spec = resolveCommand(argv);
  if (typeof spec === 'string') {
    c.reply.error(spec);
    return null;
  }
  const mark = c.reply.len;
  try {
    if (spec.denyoom && c.ds.overMaxmemory()) throw new OomError();
    spec.run(c, argv);
  } catch (e) {
    c.reply.len = mark;
    if (e instanceof CommandError) c.reply.error(e.message);
    else if (e instanceof OomError) c.reply.error(ERR_OOM);
    else throw e;
  }
  return spec;
}
