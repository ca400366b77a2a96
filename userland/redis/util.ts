// Redis's text conversions, as its util.c does them: strict integers (string2ll), doubles as
// replies print them (d2string, Redis 7.0), floats from arguments (strtold, whole string), glob
// patterns (stringmatchlen) and the words of an inline command (sdssplitargs).

const enc = new TextEncoder();
const dec = new TextDecoder('latin1');

export function bytes(s: string): Uint8Array { return enc.encode(s); }
/** Bytes as a JS string, one char per byte (lossless for any input). */
export function latin1(b: Uint8Array): string { return dec.decode(b); }

const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;

/** string2ll: a base-10 64-bit integer with no sign but '-', no leading zeros, no spaces; else null. */
export function string2ll(b: Uint8Array): bigint | null {
  const n = b.length;
  if (n === 0 || n > 20) return null;
  if (n === 1 && b[0] === 0x30) return 0n;
  let i = 0;
  let neg = false;
  if (b[0] === 0x2d) {
    neg = true;
    i = 1;
    if (n === 1) return null;
  }
  if (b[i] < 0x31 || b[i] > 0x39) return null;
  let v = 0n;
  for (; i < n; i++) {
    if (b[i] < 0x30 || b[i] > 0x39) return null;
    v = v * 10n + BigInt(b[i] - 0x30);
  }
  if (neg) v = -v;
  if (v > LLONG_MAX || v < LLONG_MIN) return null;
  return v;
}

export function inInt64(v: bigint): boolean { return v <= LLONG_MAX && v >= LLONG_MIN; }

/** A double argument as getDoubleFromObject reads it (strtold of the whole string); null if invalid. */
export function parseDouble(b: Uint8Array): number | null {
  const s = latin1(b);
  if (s.length === 0 || /^\s/.test(s)) return null;
  const low = s.toLowerCase();
  if (low === 'inf' || low === '+inf' || low === 'infinity' || low === '+infinity') return Infinity;
  if (low === '-inf' || low === '-infinity') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) && !/^[+-]?0[xX][0-9a-fA-F]+$/.test(s)) return null;
  const v = /0[xX]/.test(s) ? (s.startsWith('-') ? -1 : 1) * parseInt(s.replace(/^[+-]?0[xX]/, ''), 16) : Number(s);
  return Number.isNaN(v) ? null : v;
}

/** C's %.17g: the exponent X of the value rounded to 17 digits picks %e or %f; trailing zeros go. */
function g17(v: number): string {
  const sign = v < 0 ? '-' : '';
  const [m, x] = Math.abs(v).toExponential(16).split('e');
  const X = Number(x);
  const trim = (t: string): string => (t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t);
  if (X < -4 || X >= 17) return `${sign}${trim(m)}e${X < 0 ? '-' : '+'}${String(Math.abs(X)).padStart(2, '0')}`;
  return sign + trim(Math.abs(v).toFixed(16 - X));
}

/** A double as Redis 7.0 replies it (d2string): integers plainly, inf/-inf, else %.17g. */
export function d2string(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  if (v > -4503599627370495 && v < 4503599627370496 && Number.isInteger(v)) return String(v);
  return g17(v);
}

/** Redis's stringmatchlen: glob-style * ? [set] [^set] [a-z] and \x escapes, byte-wise. */
export function globMatch(p: Uint8Array, s: Uint8Array, nocase = false): boolean {
  const low = (c: number): number => (nocase && c >= 0x41 && c <= 0x5a ? c + 32 : c);
  const match = (pi: number, si: number): boolean => {
    while (pi < p.length && si <= s.length) {
      const c = p[pi];
      if (c === 0x2a) { // *
        while (pi + 1 < p.length && p[pi + 1] === 0x2a) pi++;
        if (pi + 1 === p.length) return true;
        for (let k = si; k <= s.length; k++) if (match(pi + 1, k)) return true;
        return false;
      }
      if (si >= s.length) return false;
      if (c === 0x3f) { // ?
        si++;
        pi++;
        continue;
      }
      if (c === 0x5b) { // [
        pi++;
        const not = p[pi] === 0x5e;
        if (not) pi++;
        let hit = false;
        for (;;) {
          if (pi >= p.length) { pi--; break; }
          if (p[pi] === 0x5c && pi + 2 < p.length) {
            pi++;
            if (p[pi] === s[si]) hit = true;
          } else if (p[pi] === 0x5d) {
            break;
          } else if (pi + 2 < p.length && p[pi + 1] === 0x2d) {
            let a = low(p[pi]);
            let b = low(p[pi + 2]);
            if (a > b) [a, b] = [b, a];
            const x = low(s[si]);
            if (x >= a && x <= b) hit = true;
            pi += 2;
          } else if (low(p[pi]) === low(s[si])) {
            hit = true;
          }
          pi++;
        }
        if (not) hit = !hit;
        if (!hit) return false;
        si++;
        pi++;
        continue;
      }
      let lit = c;
      if (c === 0x5c && pi + 1 < p.length) {
        pi++;
        lit = p[pi];
      }
      if (low(lit) !== low(s[si])) return false;
      si++;
      pi++;
    }
    return pi === p.length && si === s.length;
  };
  return match(0, 0);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function hexVal(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0b || c === 0x0c;

/** sdssplitargs: the words of an inline command, with "..." (escapes) and '...' quoting; null if unbalanced. */
export function splitArgs(line: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    const cur: number[] = [];
    let inq = false;
    let insq = false;
    let done = false;
    while (!done) {
      const c = i < n ? line[i] : -1;
      if (inq) {
        if (c === -1) return null;
        if (c === 0x5c && i + 3 < n && line[i + 1] === 0x78 && isHex(line[i + 2]) && isHex(line[i + 3])) {
          cur.push(hexVal(line[i + 2]) * 16 + hexVal(line[i + 3]));
          i += 3;
        } else if (c === 0x5c && i + 1 < n) {
          i++;
          const e = line[i];
          cur.push(e === 0x6e ? 10 : e === 0x72 ? 13 : e === 0x74 ? 9 : e === 0x62 ? 8 : e === 0x61 ? 7 : e);
        } else if (c === 0x22) {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          done = true;
        } else {
          cur.push(c);
        }
      } else if (insq) {
        if (c === -1) return null;
        if (c === 0x5c && i + 1 < n && line[i + 1] === 0x27) {
          i++;
          cur.push(0x27);
        } else if (c === 0x27) {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          done = true;
        } else {
          cur.push(c);
        }
      } else if (c === -1 || isSpace(c)) {
        done = true;
      } else if (c === 0x22) {
        inq = true;
      } else if (c === 0x27) {
        insq = true;
      } else {
        cur.push(c);
      }
      if (i < n) i++;
    }
    out.push(Uint8Array.from(cur));
  }
}
