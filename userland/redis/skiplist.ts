// The sorted set's skiplist in emulated memory (Redis's zskiplist, without span counters: a rank is
// found by walking level 0, so ZRANGE by rank costs O(start + count) rather than O(log n + count)).
// Ordered by score, then by member bytes (memcmp, shorter first on a common prefix), as Redis.
// Header (16 bytes inside the zset object): header node, tail node, length, level.
// Node: member sds, score (f64), backward, level, then `level` forward pointers.

import type { Arena } from '../malloc.js';
import { type RedisMem, loadPtr, storePtr, loadF64, storeF64 } from './mem.js';
import { alloc, sdsBytes, sdsLen, SDS_HEADER } from './sds.js';

export const ZSL_HEADER = 24;
const Z_HEADNODE = 0;
const Z_TAIL = 8;
const Z_LENGTH = 16;
const Z_LEVEL = 20;
const MAX_LEVEL = 32;
const P = 0.25;
const N_MEMBER = 0;
const N_SCORE = 8;
const N_BACK = 16;
const N_LEVEL = 24;
const N_FWD = 32;

export class Skiplist {
  private readonly update: number[] = new Array<number>(MAX_LEVEL).fill(0);

  constructor(readonly m: RedisMem, readonly a: Arena, readonly rand: () => number) {}

  init(z: number): void {
    const m = this.m;
    const h = alloc(this.a, N_FWD + MAX_LEVEL * 8);
    for (let o = 0; o < N_FWD + MAX_LEVEL * 8; o += 4) m.store32(h + o, 0);
    m.store32(h + N_LEVEL, MAX_LEVEL);
    storePtr(m, z + Z_HEADNODE, h);
    storePtr(m, z + Z_TAIL, 0);
    m.store32(z + Z_LENGTH, 0);
    m.store32(z + Z_LEVEL, 1);
  }

  length(z: number): number { return this.m.load32(z + Z_LENGTH) >>> 0; }
  first(z: number): number { return this.fwd(loadPtr(this.m, z + Z_HEADNODE), 0); }
  member(n: number): number { return loadPtr(this.m, n + N_MEMBER); }
  score(n: number): number { return loadF64(this.m, n + N_SCORE); }
  private fwd(n: number, i: number): number { return loadPtr(this.m, n + N_FWD + i * 8); }
  private setFwd(n: number, i: number, to: number): void { storePtr(this.m, n + N_FWD + i * 8, to); }

  /** memcmp order of the member at node `n` against `bytes`. */
  private cmp(n: number, bytes: Uint8Array): number {
    const m = this.m;
    const s = loadPtr(m, n + N_MEMBER);
    const len = sdsLen(m, s);
    const k = Math.min(len, bytes.length);
    for (let i = 0; i < k; i++) {
      const d = m.load8(s + SDS_HEADER + i) - bytes[i];
      if (d !== 0) return d;
    }
    return len - bytes.length;
  }

  private before(f: number, score: number, member: Uint8Array): boolean {
    const fs = loadF64(this.m, f + N_SCORE);
    return fs < score || (fs === score && this.cmp(f, member) < 0);
  }

  private randomLevel(): number {
    let l = 1;
    while (l < MAX_LEVEL && this.rand() < P) l++;
    return l;
  }

  /** Insert member (an sds the zset owns) with `score`; returns the new node. */
  insert(z: number, score: number, memberPtr: number): number {
    const m = this.m;
    const member = sdsBytes(m, memberPtr);
    const level = m.load32(z + Z_LEVEL);
    let x = loadPtr(m, z + Z_HEADNODE);
    for (let i = level - 1; i >= 0; i--) {
      for (let f = this.fwd(x, i); f !== 0 && this.before(f, score, member); f = this.fwd(x, i)) x = f;
      this.update[i] = x;
    }
    const lvl = this.randomLevel();
    const node = alloc(this.a, N_FWD + lvl * 8);
    if (lvl > level) {
      for (let i = level; i < lvl; i++) this.update[i] = loadPtr(m, z + Z_HEADNODE);
      m.store32(z + Z_LEVEL, lvl);
    }
    storePtr(m, node + N_MEMBER, memberPtr);
    storeF64(m, node + N_SCORE, score);
    m.store32(node + N_LEVEL, lvl);
    for (let i = 0; i < lvl; i++) {
      this.setFwd(node, i, this.fwd(this.update[i], i));
      this.setFwd(this.update[i], i, node);
    }
    const head = loadPtr(m, z + Z_HEADNODE);
    storePtr(m, node + N_BACK, this.update[0] === head ? 0 : this.update[0]);
    const next = this.fwd(node, 0);
    if (next !== 0) storePtr(m, next + N_BACK, node); else storePtr(m, z + Z_TAIL, node);
    m.store32(z + Z_LENGTH, m.load32(z + Z_LENGTH) + 1);
    return node;
  }

  /** Unlink node `n` and free it (its member sds stays: the dict entry owns it). */
  delete(z: number, n: number): void {
    const m = this.m;
    const member = sdsBytes(m, loadPtr(m, n + N_MEMBER));
    const score = loadF64(m, n + N_SCORE);
    const level = m.load32(z + Z_LEVEL);
    let x = loadPtr(m, z + Z_HEADNODE);
    for (let i = level - 1; i >= 0; i--) {
      for (let f = this.fwd(x, i); f !== 0 && f !== n && this.before(f, score, member); f = this.fwd(x, i)) x = f;
      this.update[i] = x;
    }
    for (let i = 0; i < level; i++) if (this.fwd(this.update[i], i) === n) this.setFwd(this.update[i], i, this.fwd(n, i));
    const next = this.fwd(n, 0);
    if (next !== 0) storePtr(m, next + N_BACK, loadPtr(m, n + N_BACK)); else storePtr(m, z + Z_TAIL, loadPtr(m, n + N_BACK));
    const head = loadPtr(m, z + Z_HEADNODE);
    let lv = level;
    while (lv > 1 && this.fwd(head, lv - 1) === 0) lv--;
    m.store32(z + Z_LEVEL, lv);
    m.store32(z + Z_LENGTH, m.load32(z + Z_LENGTH) - 1);
    this.a.free(n);
  }

  /** Give node `n` a new score (delete and reinsert, keeping the member); returns the new node. */
  updateScore(z: number, n: number, score: number): number {
    const member = loadPtr(this.m, n + N_MEMBER);
    const old = this.score(n);
    if (old === score) return n;
    // The insert's allocation comes first, so an OOM leaves the old node in place.
    const probe = alloc(this.a, N_FWD + MAX_LEVEL * 8);
    this.a.free(probe);
    this.delete(z, n);
    return this.insert(z, score, member);
  }

  range(z: number, start: number, stop: number, rev: boolean): { member: Uint8Array; score: number }[] {
    const m = this.m;
    const out: { member: Uint8Array; score: number }[] = [];
    let n = rev ? loadPtr(m, z + Z_TAIL) : this.first(z);
    for (let i = 0; i < start && n !== 0; i++) n = rev ? loadPtr(m, n + N_BACK) : this.fwd(n, 0);
    for (let i = start; i <= stop && n !== 0; i++) {
      out.push({ member: sdsBytes(m, loadPtr(m, n + N_MEMBER)), score: loadF64(m, n + N_SCORE) });
      n = rev ? loadPtr(m, n + N_BACK) : this.fwd(n, 0);
    }
    return out;
  }

  /** Free every node and the header node (members belong to the dict). */
  release(z: number): void {
    const m = this.m;
    const head = loadPtr(m, z + Z_HEADNODE);
    for (let n = this.fwd(head, 0); n !== 0;) {
      const next = this.fwd(n, 0);
      this.a.free(n);
      n = next;
    }
    this.a.free(head);
  }
}
