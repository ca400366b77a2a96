// Requests as Redis reads them (networking.c, processMultibulkBuffer / processInlineBuffer): an
// array of bulk strings, or an inline line of words. The parser is given the unconsumed bytes and
// returns one command, "need more bytes", or the protocol error Redis replies before it closes the
// connection. Like Redis, a multibulk count of zero or below is an empty request (consumed, no
// reply), and the two bytes after a bulk's payload are skipped without being checked.

import { string2ll, splitArgs } from './util.js';

/** Redis's PROTO_INLINE_MAX_SIZE: the longest inline line or count line it waits for. */
export const INLINE_MAX = 64 * 1024;
/** Default limit of one bulk string (Redis's proto-max-bulk-len is 512 MB; ours is configurable). */
export const DEFAULT_MAX_BULK = 8 * 1024 * 1024;

export type ParseResult =
  | { kind: 'command'; argv: Uint8Array[]; next: number }
  | { kind: 'empty'; next: number }
  | { kind: 'incomplete' }
  | { kind: 'error'; message: string };

function indexOf(buf: Uint8Array, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

const INT_MAX = 2147483647n;

/** Parse one request from buf[pos, end). */
export function parseRequest(buf: Uint8Array, pos: number, end: number, maxBulk = DEFAULT_MAX_BULK): ParseResult {
  if (pos >= end) return { kind: 'incomplete' };
  return buf[pos] === 0x2a ? parseMultibulk(buf, pos, end, maxBulk) : parseInline(buf, pos, end);
}

function parseInline(buf: Uint8Array, pos: number, end: number): ParseResult {
  const nl = indexOf(buf, 0x0a, pos, end);
  if (nl < 0) {
    if (end - pos > INLINE_MAX) return { kind: 'error', message: 'ERR Protocol error: too big inline request' };
    return { kind: 'incomplete' };
  }
  const lineEnd = nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl;
  const argv = splitArgs(buf.subarray(pos, lineEnd));
  if (argv === null) return { kind: 'error', message: 'ERR Protocol error: unbalanced quotes in request' };
  if (argv.length === 0) return { kind: 'empty', next: nl + 1 };
  return { kind: 'command', argv, next: nl + 1 };
}

function parseMultibulk(buf: Uint8Array, pos: number, end: number, maxBulk: number): ParseResult {
  let nl = indexOf(buf, 0x0d, pos, end);
  if (nl < 0) {
    if (end - pos > INLINE_MAX) return { kind: 'error', message: 'ERR Protocol error: too big mbulk count string' };
    return { kind: 'incomplete' };
  }
  if (nl + 1 >= end) return { kind: 'incomplete' };
  const count = string2ll(buf.subarray(pos + 1, nl));
  if (count === null || count > INT_MAX) return { kind: 'error', message: 'ERR Protocol error: invalid multibulk length' };
  pos = nl + 2;
  if (count <= 0n) return { kind: 'empty', next: pos };
  const argv: Uint8Array[] = [];
  for (let i = 0; i < Number(count); i++) {
    nl = indexOf(buf, 0x0d, pos, end);
    if (nl < 0) {
      if (end - pos > INLINE_MAX) return { kind: 'error', message: 'ERR Protocol error: too big bulk count string' };
      return { kind: 'incomplete' };
    }
    if (nl + 1 >= end) return { kind: 'incomplete' };
    if (buf[pos] !== 0x24) return { kind: 'error', message: `ERR Protocol error: expected '$', got '${String.fromCharCode(buf[pos])}'` };
    const len = string2ll(buf.subarray(pos + 1, nl));
    if (len === null || len < 0n || len > BigInt(maxBulk)) return { kind: 'error', message: 'ERR Protocol error: invalid bulk length' };
    pos = nl + 2;
    const n = Number(len);
    if (end - pos < n + 2) return { kind: 'incomplete' };
    argv.push(buf.slice(pos, pos + n));
    pos += n + 2;
  }
  return { kind: 'command', argv, next: pos };
}

/** A request as a client sends it: an array of bulk strings. */
export function encodeRequest(argv: (string | Uint8Array)[]): Uint8Array {
  const enc = new TextEncoder();
  const parts = argv.map((a) => (typeof a === 'string' ? enc.encode(a) : a));
  const head = enc.encode(`*${parts.length}\r\n`);
  let n = head.length;
  const heads = parts.map((p) => enc.encode(`$${p.length}\r\n`));
  for (let i = 0; i < parts.length; i++) n += heads[i].length + parts[i].length + 2;
  const out = new Uint8Array(n);
  let o = 0;
  out.set(head, o);
  o += head.length;
  for (let i = 0; i < parts.length; i++) {
    out.set(heads[i], o);
    o += heads[i].length;
    out.set(parts[i], o);
    o += parts[i].length;
    out[o++] = 13;
    out[o++] = 10;
  }
  return out;
}
