// The Redis dataset in emulated memory: a root header at the base of the memory it owns, an arena
// (userland/malloc) over the rest, and the keyspace — a dict from key to value object with each
// key's expire time beside it. Every structure is reached through the calling CPU's loads and
// stores, and every pointer is a virtual address, so any thread of any process that maps the
// memory at its base can open the dataset and run commands on it (RedisJMP's clients do exactly
// that). Value objects all start with a type word:
//   string  an sds tagged STRING: [type][len][bytes]
//   list    [type][-][head][tail][length]      node: [prev][next][value sds]
//   set     [type][-][dict]                    entries: member -> (nothing)
//   hash    [type][-][dict]                    entries: field -> value sds
//   zset    [type][-][dict][skiplist]          entries: member -> skiplist node (score in aux)

import { Arena } from '../malloc.js';
import { type RedisMem, loadPtr, storePtr, loadF64, storeF64, hashBytes } from './mem.js';
import { Dict, DICT_HEADER, E_KEY, E_VAL, E_AUX } from './dict.js';
import { sdsNew, sdsBytes, alloc } from './sds.js';
import { Skiplist, ZSL_HEADER } from './skiplist.js';

export const T_STRING = 1;
export const T_LIST = 2;
export const T_SET = 3;
export const T_HASH = 4;
export const T_ZSET = 5;
export const TYPE_NAMES: Record<number, string> = { [T_STRING]: 'string', [T_LIST]: 'list', [T_SET]: 'set', [T_HASH]: 'hash', [T_ZSET]: 'zset' };

const MAGIC = 0x31534452; // 'RDS1'
const VERSION = 1;
const R_MAGIC = 0;
const R_VERSION = 4;
const R_ARENA = 8;
const R_RNG = 16;
const R_EXPIRES = 20;
const R_CYCLES_PER_MS = 24;
const R_MAXMEMORY = 32;
const R_KEYSPACE = 64;
export const ROOT_BYTES = 4096;

const L_HEAD = 8;
const L_TAIL = 16;
const L_LEN = 24;
const LIST_BYTES = 32;
const N_PREV = 0;
const N_NEXT = 8;
const N_VAL = 16;
const NODE_BYTES = 24;
export const OBJ_DICT = 8;
const ZSET_BYTES = OBJ_DICT + DICT_HEADER + ZSL_HEADER;

export interface DatasetOptions {
  /** Modelled CPU cycles per millisecond: the dataset's clock for expire times. */
  cyclesPerMs: number;
  /** Used bytes above which commands that may grow memory get the OOM error (default: arena minus 1/16). */
  maxmemory?: number;
}

/** A view of the dataset at `base` for one thread: its memory port and clock. */
export class Dataset {
  readonly a: Arena;
  readonly dict: Dict;
  readonly zsl: Skiplist;
  readonly ks: number;
  private ro = false;

  private constructor(readonly m: RedisMem, readonly base: number, readonly clock: () => number) {
    this.a = Arena.open(m, loadPtr(m, base + R_ARENA));
    this.dict = new Dict(m, this.a);
    this.zsl = new Skiplist(m, this.a, () => this.random());
    this.ks = base + R_KEYSPACE;
  }

  /** Lay a new dataset over [base, base + size) (mapped read-write) and open it. */
  static create(m: RedisMem, base: number, size: number, clock: () => number, opts: DatasetOptions): Dataset {
    for (let o = 0; o < ROOT_BYTES; o += 4) m.store32(base + o, 0);
    const arena = Arena.format(m, base + ROOT_BYTES, size - ROOT_BYTES);
    storePtr(m, base + R_ARENA, arena.base);
    m.store32(base + R_RNG, 0x2545f491);
    storeF64(m, base + R_CYCLES_PER_MS, opts.cyclesPerMs);
    storePtr(m, base + R_MAXMEMORY, opts.maxmemory ?? Math.floor(arena.size - arena.size / 16));
    new Dict(m, arena).init(base + R_KEYSPACE);
    m.store32(base + R_VERSION, VERSION);
    m.store32(base + R_MAGIC, MAGIC);
    return new Dataset(m, base, clock);
  }

  static open(m: RedisMem, base: number, clock: () => number): Dataset {
    if (m.load32(base + R_MAGIC) !== MAGIC) throw new Error(`redis: no dataset at 0x${base.toString(16)}`);
    if (m.load32(base + R_VERSION) !== VERSION) throw new Error(`redis: dataset at 0x${base.toString(16)} has an unknown version`);
    return new Dataset(m, base, clock);
  }

  /** The dataset's clock in milliseconds, from the CPU's modelled cycles. */
  static clockFor(m: RedisMem, base: number, cycles: () => number): () => number {
    const perMs = loadF64(m, base + R_CYCLES_PER_MS);
    return () => cycles() / perMs;
  }

  get readOnly(): boolean { return this.ro; }
  /** A reader (reader lock, segment mapped read-only) must not store: no rehash, no lazy expiry. */
  set readOnly(v: boolean) {
    this.ro = v;
    this.dict.readOnly = v;
  }

  /** The dataset's PRNG (xorshift32, kept in the root so every client continues one stream). */
  random(): number {
    let x = this.m.load32(this.base + R_RNG);
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (!this.ro) this.m.store32(this.base + R_RNG, x);
    return (x >>> 0) / 4294967296;
  }

  get maxmemory(): number { return loadPtr(this.m, this.base + R_MAXMEMORY); }
  usedMemory(): number { return this.a.stats().liveBytes; }
  overMaxmemory(): boolean { return this.usedMemory() > this.maxmemory; }
  dbsize(): number { return this.dict.size(this.ks); }
  expiresCount(): number { return this.m.load32(this.base + R_EXPIRES) >>> 0; }

  hash(key: Uint8Array): number { return hashBytes(this.m, key); }

  // ------------------------------------------------------------------ keyspace

  /** The keyspace entry of a live key, or 0 (an expired key is deleted, or just hidden for a reader). */
  lookup(key: Uint8Array): number {
    const h = this.hash(key);
    const e = this.dict.find(this.ks, key, h);
    if (e === 0) return 0;
    const exp = loadF64(this.m, e + E_AUX);
    if (exp !== 0 && exp <= this.clock()) {
      if (!this.ro) this.deleteKey(key);
      return 0;
    }
    return e;
  }

  valueOf(e: number): number { return loadPtr(this.m, e + E_VAL); }
  typeOf(e: number): number { return this.m.load32(loadPtr(this.m, e + E_VAL)); }

  /** Add a key that lookup() found absent, with value object `val`; returns its entry. */
  addKey(key: Uint8Array, val: number): number {
    const k = sdsNew(this.m, this.a, key);
    let e: number;
    try {
      e = this.dict.add(this.ks, k, this.hash(key));
    } catch (err) {
      this.a.free(k);
      throw err;
    }
    storePtr(this.m, e + E_VAL, val);
    return e;
  }

  /** Replace an entry's value (the old one is freed); the expire time stays unless `keepTtl` is false. */
  setValue(e: number, val: number, keepTtl: boolean): void {
    const old = loadPtr(this.m, e + E_VAL);
    storePtr(this.m, e + E_VAL, val);
    if (old !== 0 && old !== val) this.freeValue(old);
    if (!keepTtl) this.setExpire(e, 0);
  }

  deleteKey(key: Uint8Array): boolean {
    const e = this.dict.unlink(this.ks, key, this.hash(key));
    if (e === 0) return false;
    if (loadF64(this.m, e + E_AUX) !== 0) this.m.store32(this.base + R_EXPIRES, this.m.load32(this.base + R_EXPIRES) - 1);
    this.freeValue(loadPtr(this.m, e + E_VAL));
    this.a.free(loadPtr(this.m, e + E_KEY));
    this.a.free(e);
    this.dict.maybeShrink(this.ks);
    return true;
  }

  expireOf(e: number): number { return loadF64(this.m, e + E_AUX); }

  setExpire(e: number, ms: number): void {
    const had = loadF64(this.m, e + E_AUX) !== 0;
    if (had === (ms !== 0) && !had) return;
    storeF64(this.m, e + E_AUX, ms);
    if (had !== (ms !== 0)) this.m.store32(this.base + R_EXPIRES, this.m.load32(this.base + R_EXPIRES) + (ms !== 0 ? 1 : -1));
  }

  /** Every live key (expired ones are skipped), as byte strings. */
  keys(): Uint8Array[] {
    const now = this.clock();
    const out: Uint8Array[] = [];
    for (const e of this.dict.entries(this.ks)) {
      const exp = loadF64(this.m, e + E_AUX);
      if (exp !== 0 && exp <= now) continue;
      out.push(sdsBytes(this.m, loadPtr(this.m, e + E_KEY)));
    }
    return out;
  }

  flush(): void {
    for (const e of this.dict.entries(this.ks)) {
      this.freeValue(loadPtr(this.m, e + E_VAL));
      this.a.free(loadPtr(this.m, e + E_KEY));
      this.a.free(e);
    }
    this.dict.release(this.ks);
    this.m.store32(this.base + R_EXPIRES, 0);
  }

  freeValue(v: number): void {
    const m = this.m;
    switch (m.load32(v)) {
      case T_STRING: break;
      case T_LIST:
        for (let n = loadPtr(m, v + L_HEAD); n !== 0;) {
          const next = loadPtr(m, n + N_NEXT);
          this.a.free(loadPtr(m, n + N_VAL));
          this.a.free(n);
          n = next;
        }
        break;
      case T_SET:
      case T_HASH: {
        const d = v + OBJ_DICT;
        const isHash = m.load32(v) === T_HASH;
        for (const e of this.dict.entries(d)) {
          this.a.free(loadPtr(m, e + E_KEY));
          if (isHash) this.a.free(loadPtr(m, e + E_VAL));
          this.a.free(e);
        }
        this.dict.release(d);
        break;
      }
      case T_ZSET: {
        const d = v + OBJ_DICT;
        for (const e of this.dict.entries(d)) {
          this.a.free(loadPtr(m, e + E_KEY));
          this.a.free(e);
        }
        this.dict.release(d);
        this.zsl.release(v + OBJ_DICT + DICT_HEADER);
        break;
      }
      default: throw new Error(`redis: corrupted value object at 0x${v.toString(16)}`);
    }
    this.a.free(v);
  }

  // ------------------------------------------------------------------ lists

  newList(): number {
    const v = alloc(this.a, LIST_BYTES);
    for (let o = 0; o < LIST_BYTES; o += 4) this.m.store32(v + o, 0);
    this.m.store32(v, T_LIST);
    return v;
  }

  listLen(v: number): number { return this.m.load32(v + L_LEN) >>> 0; }

  /** Push at the head (left) or tail (right). */
  listPush(v: number, val: Uint8Array, left: boolean): void {
    const m = this.m;
    const s = sdsNew(m, this.a, val);
    let n: number;
    try { n = alloc(this.a, NODE_BYTES); } catch (e) { this.a.free(s); throw e; }
    storePtr(m, n + N_VAL, s);
    if (left) {
      const head = loadPtr(m, v + L_HEAD);
      storePtr(m, n + N_PREV, 0);
      storePtr(m, n + N_NEXT, head);
      if (head) storePtr(m, head + N_PREV, n); else storePtr(m, v + L_TAIL, n);
      storePtr(m, v + L_HEAD, n);
    } else {
      const tail = loadPtr(m, v + L_TAIL);
      storePtr(m, n + N_NEXT, 0);
      storePtr(m, n + N_PREV, tail);
      if (tail) storePtr(m, tail + N_NEXT, n); else storePtr(m, v + L_HEAD, n);
      storePtr(m, v + L_TAIL, n);
    }
    m.store32(v + L_LEN, m.load32(v + L_LEN) + 1);
  }

  /** Pop from the head or tail; null when empty. */
  listPop(v: number, left: boolean): Uint8Array | null {
    const m = this.m;
    const n = loadPtr(m, v + (left ? L_HEAD : L_TAIL));
    if (n === 0) return null;
    const other = loadPtr(m, n + (left ? N_NEXT : N_PREV));
    storePtr(m, v + (left ? L_HEAD : L_TAIL), other);
    if (other) storePtr(m, other + (left ? N_PREV : N_NEXT), 0); else storePtr(m, v + (left ? L_TAIL : L_HEAD), 0);
    m.store32(v + L_LEN, m.load32(v + L_LEN) - 1);
    const s = loadPtr(m, n + N_VAL);
    const out = sdsBytes(m, s);
    this.a.free(s);
    this.a.free(n);
    return out;
  }

  /** Elements [start, stop] (already clamped to the list), walking from the nearer end. */
  listRange(v: number, start: number, stop: number): Uint8Array[] {
    const m = this.m;
    const len = this.listLen(v);
    const out: Uint8Array[] = [];
    if (start > stop) return out;
    let n: number;
    if (start <= len - 1 - start) {
      n = loadPtr(m, v + L_HEAD);
      for (let i = 0; i < start; i++) n = loadPtr(m, n + N_NEXT);
    } else {
      n = loadPtr(m, v + L_TAIL);
      for (let i = len - 1; i > start; i--) n = loadPtr(m, n + N_PREV);
    }
    for (let i = start; i <= stop; i++) {
      out.push(sdsBytes(m, loadPtr(m, n + N_VAL)));
      n = loadPtr(m, n + N_NEXT);
    }
    return out;
  }

  // ------------------------------------------------------------------ sets and hashes

  newDictObject(type: number): number {
    const v = alloc(this.a, OBJ_DICT + DICT_HEADER);
    this.m.store32(v, type);
    this.m.store32(v + 4, 0);
    this.dict.init(v + OBJ_DICT);
    return v;
  }

  newZset(): number {
    const v = alloc(this.a, ZSET_BYTES);
    this.m.store32(v, T_ZSET);
    this.m.store32(v + 4, 0);
    this.dict.init(v + OBJ_DICT);
    try { this.zsl.init(v + OBJ_DICT + DICT_HEADER); } catch (e) { this.a.free(v); throw e; }
    return v;
  }

  /** Add `member` to a set or a field to a hash (with its value); true when it is new. */
  dictSet(v: number, field: Uint8Array, value: Uint8Array | null): boolean {
    const m = this.m;
    const d = v + OBJ_DICT;
    const h = this.hash(field);
    const e = this.dict.find(d, field, h);
    if (e !== 0) {
      if (value !== null) {
        const s = sdsNew(m, this.a, value);
        const old = loadPtr(m, e + E_VAL);
        storePtr(m, e + E_VAL, s);
        this.a.free(old);
      }
      return false;
    }
    const k = sdsNew(m, this.a, field);
    let s = 0;
    try {
      if (value !== null) s = sdsNew(m, this.a, value);
      const ne = this.dict.add(d, k, h);
      storePtr(m, ne + E_VAL, s);
    } catch (err) {
      this.a.free(k);
      if (s) this.a.free(s);
      throw err;
    }
    return true;
  }

  dictHas(v: number, field: Uint8Array): number {
    return this.dict.find(v + OBJ_DICT, field, this.hash(field));
  }

  /** Remove a member/field; true when it was there. */
  dictDelete(v: number, field: Uint8Array): boolean {
    const m = this.m;
    const d = v + OBJ_DICT;
    const e = this.dict.unlink(d, field, this.hash(field));
    if (e === 0) return false;
    this.a.free(loadPtr(m, e + E_KEY));
    if (m.load32(v) === T_HASH) this.a.free(loadPtr(m, e + E_VAL));
    this.a.free(e);
    this.dict.maybeShrink(d);
    return true;
  }

  dictCount(v: number): number { return this.dict.size(v + OBJ_DICT); }

  /** Members (sets) or field/value pairs (hashes), in table order. */
  dictItems(v: number): { key: Uint8Array; val: Uint8Array | null }[] {
    const m = this.m;
    const isHash = m.load32(v) === T_HASH;
    return this.dict.entries(v + OBJ_DICT).map((e) => ({
      key: sdsBytes(m, loadPtr(m, e + E_KEY)),
      val: isHash ? sdsBytes(m, loadPtr(m, e + E_VAL)) : null,
    }));
  }

  /** A random member of a set, removed; null when empty. */
  setPopRandom(v: number): Uint8Array | null {
    const e = this.dict.random(v + OBJ_DICT, () => this.random());
    if (e === 0) return null;
    const key = sdsBytes(this.m, loadPtr(this.m, e + E_KEY));
    this.dictDelete(v, key);
    return key;
  }

  // ------------------------------------------------------------------ sorted sets

  zsetEntry(v: number, member: Uint8Array): number {
    return this.dict.find(v + OBJ_DICT, member, this.hash(member));
  }

  zsetScore(e: number): number { return loadF64(this.m, e + E_AUX); }

  /** Insert a new member (absent) or move an existing entry `e` to `score`. */
  zsetPut(v: number, member: Uint8Array, score: number, e: number): void {
    const m = this.m;
    const zsl = v + OBJ_DICT + DICT_HEADER;
    if (e !== 0) {
      const node = loadPtr(m, e + E_VAL);
      const ne = this.zsl.updateScore(zsl, node, score);
      storePtr(m, e + E_VAL, ne);
      storeF64(m, e + E_AUX, score);
      return;
    }
    const k = sdsNew(m, this.a, member);
    let de = 0;
    try {
      de = this.dict.add(v + OBJ_DICT, k, this.hash(member));
      const node = this.zsl.insert(zsl, score, k);
      storePtr(m, de + E_VAL, node);
      storeF64(m, de + E_AUX, score);
    } catch (err) {
      if (de) {
        this.dict.unlink(v + OBJ_DICT, member, this.hash(member));
        this.a.free(de);
      }
      this.a.free(k);
      throw err;
    }
  }

  zsetCard(v: number): number { return this.zsl.length(v + OBJ_DICT + DICT_HEADER); }

  /** Members and scores at ranks [start, stop] (clamped), in order or reversed. */
  zsetRange(v: number, start: number, stop: number, rev: boolean): { member: Uint8Array; score: number }[] {
    return this.zsl.range(v + OBJ_DICT + DICT_HEADER, start, stop, rev);
  }

  /** Remove and return the lowest-scored member; null when empty. */
  zsetPopMin(v: number): { member: Uint8Array; score: number } | null {
    const zsl = v + OBJ_DICT + DICT_HEADER;
    const first = this.zsl.first(zsl);
    if (first === 0) return null;
    const memberPtr = this.zsl.member(first);
    const member = sdsBytes(this.m, memberPtr);
    const score = this.zsl.score(first);
    this.zsl.delete(zsl, first);
    const e = this.dict.unlink(v + OBJ_DICT, member, this.hash(member));
    this.a.free(e);
    this.a.free(memberPtr);
    this.dict.maybeShrink(v + OBJ_DICT);
    return { member, score };
  }
}

export { loadPtr };
