// Redis's dict in emulated memory: two chained hash tables and incremental rehashing. When a table
// fills (used >= size) a second one twice as large is allocated and every later operation moves one
// bucket over (dictRehash(d, 1)), so no single command pays for the whole move; lookups search both
// tables meanwhile. A table under 10 % full shrinks the same way. A read-only caller (a client that
// holds only a reader lock, mapped read-only) never moves buckets: it searches both tables as they
// are. The keyspace, sets, hashes and sorted sets all use it.
//
// Header (40 bytes, embedded in its owner): table0 ptr, size0, used0, table1 ptr, size1, used1,
// rehash index (-1: not rehashing). Entry (40 bytes): key sds, value, next, aux (expire time or
// score, 8 bytes), 32-bit hash of the key.

import type { Arena } from '../malloc.js';
import { type RedisMem, loadPtr, storePtr } from './mem.js';
import { sdsEquals, alloc, OomError } from './sds.js';

export const DICT_HEADER = 40;
const D_T0 = 0;
const D_S0 = 8;
const D_U0 = 12;
const D_T1 = 16;
const D_S1 = 24;
const D_U1 = 28;
const D_REHASH = 32;

export const ENTRY_BYTES = 40;
export const E_KEY = 0;
export const E_VAL = 8;
export const E_NEXT = 16;
export const E_AUX = 24;
export const E_HASH = 32;

const INITIAL_SIZE = 4;
/** Below this fill (percent) a table shrinks (Redis's HASHTABLE_MIN_FILL). */
const MIN_FILL = 10;

function nextPower(n: number): number {
  let s = INITIAL_SIZE;
  while (s < n) s *= 2;
  return s;
}

export class Dict {
  /** Set while the caller may only read the dataset: no rehash steps, no shrinking. */
  readOnly = false;

  constructor(readonly m: RedisMem, readonly a: Arena) {}

  init(d: number): void {
    for (let o = 0; o < DICT_HEADER; o += 4) this.m.store32(d + o, 0);
    this.m.store32(d + D_REHASH, -1);
  }

  size(d: number): number {
    return (this.m.load32(d + D_U0) >>> 0) + (this.m.load32(d + D_U1) >>> 0);
  }

  rehashing(d: number): boolean {
    return this.m.load32(d + D_REHASH) !== -1;
  }

  /** Bucket counts of both tables (for tests and INFO). */
  tables(d: number): { size0: number; size1: number; rehashIndex: number } {
    return { size0: this.m.load32(d + D_S0) >>> 0, size1: this.m.load32(d + D_S1) >>> 0, rehashIndex: this.m.load32(d + D_REHASH) };
  }

  find(d: number, key: Uint8Array, h: number): number {
    const m = this.m;
    const rehash = m.load32(d + D_REHASH) !== -1;
    if (rehash && !this.readOnly) this.step(d, 1);
    for (let t = 0; t < 2; t++) {
      const tOff = t === 0 ? D_T0 : D_T1;
      const size = m.load32(d + tOff + 8) >>> 0;
      if (size !== 0) {
        let e = loadPtr(m, loadPtr(m, d + tOff) + (h & (size - 1)) * 8);
        while (e !== 0) {
          if (m.load32(e + E_HASH) >>> 0 === h && sdsEquals(m, loadPtr(m, e + E_KEY), key)) return e;
          e = loadPtr(m, e + E_NEXT);
        }
      }
      if (m.load32(d + D_REHASH) === -1) break;
    }
    return 0;
  }

  /** Add an entry for `keyPtr` (the caller knows the key is absent); returns it with value and aux zero. */
  add(d: number, keyPtr: number, h: number): number {
    const m = this.m;
    if (m.load32(d + D_REHASH) !== -1) this.step(d, 1);
    else this.expandIfNeeded(d);
    const e = alloc(this.a, ENTRY_BYTES);
    const into = m.load32(d + D_REHASH) !== -1 ? D_T1 : D_T0;
    const size = m.load32(d + into + 8) >>> 0;
    const slot = loadPtr(m, d + into) + (h & (size - 1)) * 8;
    storePtr(m, e + E_KEY, keyPtr);
    storePtr(m, e + E_VAL, 0);
    storePtr(m, e + E_NEXT, loadPtr(m, slot));
    storePtr(m, e + E_AUX, 0);
    m.store32(e + E_HASH, h | 0);
    storePtr(m, slot, e);
    m.store32(d + into + 12, m.load32(d + into + 12) + 1);
    return e;
  }

  /** Take the entry for `key` out of the dict (not freed: its owner frees key, value and entry). */
  unlink(d: number, key: Uint8Array, h: number): number {
    const m = this.m;
    if (m.load32(d + D_REHASH) !== -1) this.step(d, 1);
    for (let t = 0; t < 2; t++) {
      const tOff = t === 0 ? D_T0 : D_T1;
      const size = m.load32(d + tOff + 8) >>> 0;
      if (size !== 0) {
        let link = loadPtr(m, d + tOff) + (h & (size - 1)) * 8;
        let e = loadPtr(m, link);
        while (e !== 0) {
          if (m.load32(e + E_HASH) >>> 0 === h && sdsEquals(m, loadPtr(m, e + E_KEY), key)) {
            storePtr(m, link, loadPtr(m, e + E_NEXT));
            m.store32(d + tOff + 12, m.load32(d + tOff + 12) - 1);
            return e;
          }
          link = e + E_NEXT;
          e = loadPtr(m, link);
        }
      }
      if (m.load32(d + D_REHASH) === -1) break;
    }
    return 0;
  }

  /** After deletes: start shrinking a table that fell under MIN_FILL percent (htNeedsResize). */
  maybeShrink(d: number): void {
    const m = this.m;
    if (this.readOnly || m.load32(d + D_REHASH) !== -1) return;
    const size = m.load32(d + D_S0) >>> 0;
    const used = m.load32(d + D_U0) >>> 0;
    if (size > INITIAL_SIZE && (used * 100) / size < MIN_FILL) this.resize(d, nextPower(Math.max(used, INITIAL_SIZE)));
  }

  private expandIfNeeded(d: number): void {
    const m = this.m;
    const size = m.load32(d + D_S0) >>> 0;
    const used = m.load32(d + D_U0) >>> 0;
    if (size === 0) {
      if (!this.resize(d, INITIAL_SIZE)) throw new OomError();
    } else if (used >= size) {
      this.resize(d, nextPower(used + 1)); // a failed allocation leaves the chains longer, nothing worse
    }
  }

  /** Allocate a table of `n` buckets: table 0 if there is none, else the rehash target. */
  private resize(d: number, n: number): boolean {
    const m = this.m;
    const t = this.a.malloc(n * 8);
    if (t === 0) return false;
    for (let o = 0; o < n * 8; o += 4) m.store32(t + o, 0);
    if ((m.load32(d + D_S0) >>> 0) === 0) {
      storePtr(m, d + D_T0, t);
      m.store32(d + D_S0, n);
      m.store32(d + D_U0, 0);
    } else {
      storePtr(m, d + D_T1, t);
      m.store32(d + D_S1, n);
      m.store32(d + D_U1, 0);
      m.store32(d + D_REHASH, 0);
    }
    return true;
  }

  /** Move up to `n` buckets from table 0 to table 1 (visiting at most 10n empty ones). */
  step(d: number, n: number): void {
    const m = this.m;
    if (this.readOnly) return;
    let idx = m.load32(d + D_REHASH);
    if (idx === -1) return;
    const t0 = loadPtr(m, d + D_T0);
    const s0 = m.load32(d + D_S0) >>> 0;
    const t1 = loadPtr(m, d + D_T1);
    const mask1 = (m.load32(d + D_S1) >>> 0) - 1;
    let emptyVisits = n * 10;
    let u0 = m.load32(d + D_U0) >>> 0;
    let u1 = m.load32(d + D_U1) >>> 0;
    while (n-- > 0 && u0 !== 0 && idx < s0) {
      let e = loadPtr(m, t0 + idx * 8);
      while (e === 0) {
        idx++;
        if (--emptyVisits === 0 || idx >= s0) break;
        e = loadPtr(m, t0 + idx * 8);
      }
      if (e === 0) break;
      while (e !== 0) {
        const next = loadPtr(m, e + E_NEXT);
        const slot = t1 + ((m.load32(e + E_HASH) >>> 0) & mask1) * 8;
        storePtr(m, e + E_NEXT, loadPtr(m, slot));
        storePtr(m, slot, e);
        u0--;
        u1++;
        e = next;
      }
      storePtr(m, t0 + idx * 8, 0);
      idx++;
    }
    m.store32(d + D_U0, u0);
    m.store32(d + D_U1, u1);
    if (u0 === 0) {
      this.a.free(t0);
      storePtr(m, d + D_T0, t1);
      m.store32(d + D_S0, m.load32(d + D_S1));
      m.store32(d + D_U0, u1);
      storePtr(m, d + D_T1, 0);
      m.store32(d + D_S1, 0);
      m.store32(d + D_U1, 0);
      m.store32(d + D_REHASH, -1);
    } else {
      m.store32(d + D_REHASH, idx);
    }
  }

  /** Every entry pointer, table 0 then table 1 (the caller must not change the dict meanwhile). */
  entries(d: number): number[] {
    const m = this.m;
    const out: number[] = [];
    for (const tOff of [D_T0, D_T1]) {
      const size = m.load32(d + tOff + 8) >>> 0;
      const t = loadPtr(m, d + tOff);
      for (let i = 0; i < size; i++) {
        for (let e = loadPtr(m, t + i * 8); e !== 0; e = loadPtr(m, e + E_NEXT)) out.push(e);
      }
    }
    return out;
  }

  /** A random entry (0 when empty): a random non-empty bucket, then a random link of its chain. */
  random(d: number, rand: () => number): number {
    const m = this.m;
    if (this.size(d) === 0) return 0;
    if (m.load32(d + D_REHASH) !== -1) this.step(d, 1);
    const s0 = m.load32(d + D_S0) >>> 0;
    const s1 = m.load32(d + D_S1) >>> 0;
    const from = Math.max(0, m.load32(d + D_REHASH));
    let head = 0;
    while (head === 0) {
      const i = from + Math.floor(rand() * (s0 + s1 - from));
      head = i < s0 ? loadPtr(m, loadPtr(m, d + D_T0) + i * 8) : loadPtr(m, loadPtr(m, d + D_T1) + (i - s0) * 8);
    }
    let len = 0;
    for (let e = head; e !== 0; e = loadPtr(m, e + E_NEXT)) len++;
    let e = head;
    for (let k = Math.floor(rand() * len); k > 0; k--) e = loadPtr(m, e + E_NEXT);
    return e;
  }

  /** Free both tables (the caller has freed the entries). */
  release(d: number): void {
    const m = this.m;
    const t0 = loadPtr(m, d + D_T0);
    const t1 = loadPtr(m, d + D_T1);
    if (t0) this.a.free(t0);
    if (t1) this.a.free(t1);
    this.init(d);
  }
}
