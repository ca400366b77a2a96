// RESP2 replies, encoded as Redis writes them, into a growing byte buffer that the program then
// stores into its reply buffer in emulated memory (or sends).

import { bytes } from './util.js';

const CRLF0 = 13;
const CRLF1 = 10;

export class Reply {
  buf = new Uint8Array(256);
  len = 0;

  reset(): void { this.len = 0; }
  bytes(): Uint8Array { return this.buf.subarray(0, this.len); }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  private ascii(s: string): void {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i) & 0xff;
  }

  private crlf(): void {
    this.room(2);
    this.buf[this.len++] = CRLF0;
    this.buf[this.len++] = CRLF1;
  }

  simple(s: string): void {
    this.ascii(`+${s}`);
    this.crlf();
  }

  ok(): void { this.simple('OK'); }

  /** An error; `msg` starts with its code (ERR, WRONGTYPE, OOM). Newlines become spaces, as Redis does. */
  error(msg: string): void {
    this.ascii(`-${msg.replace(/[\r\n]/g, ' ')}`);
    this.crlf();
  }

  integer(n: number | bigint): void {
    this.ascii(`:${n}`);
    this.crlf();
  }

  bulk(b: Uint8Array | string): void {
    const data = typeof b === 'string' ? bytes(b) : b;
    this.ascii(`$${data.length}`);
    this.crlf();
    this.room(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    this.crlf();
  }

  nullBulk(): void { this.ascii('$-1\r\n'); }
  nullArray(): void { this.ascii('*-1\r\n'); }

  arrayHeader(n: number): void {
    this.ascii(`*${n}`);
    this.crlf();
  }

  bulkArray(items: (Uint8Array | string | null)[]): void {
    this.arrayHeader(items.length);
    for (const it of items) {
      if (it === null) this.nullBulk();
      else this.bulk(it);
    }
  }
}

export const ERR_WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const ERR_NOT_INT = 'ERR value is not an integer or out of range';
export const ERR_SYNTAX = 'ERR syntax error';
export const ERR_NOT_FLOAT = 'ERR value is not a valid float';
export const ERR_OOM = "OOM command not allowed when used memory > 'maxmemory'.";

export function errArity(name: string): string {
  return `ERR wrong number of arguments for '${name}' command`;
}
