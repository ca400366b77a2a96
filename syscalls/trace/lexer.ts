// Tokens of the trace language. The lexer never fails: a malformed number, string or character
// becomes an `error` token carrying its message, so the parser reports it in order with its own
// errors and at most once per statement.

export type TokenKind = 'ident' | 'number' | 'float' | 'string' | 'punct' | 'newline' | 'eof' | 'error';

export interface Token {
  kind: TokenKind;
  /** Source text (for error tokens, the offending text). */
  text: string;
  line: number;
  col: number;
  /** Exclusive, on the same line. */
  endCol: number;
  /** Whitespace (or a comment) directly before: decides whether `a -1` is two arguments. */
  spaceBefore: boolean;
  /** number: its value and radix. */
  value?: bigint;
  radix?: 2 | 8 | 10 | 16;
  /** float: its value (a double: written with a point or an exponent). */
  float?: number;
  /** string: the decoded text. */
  str?: string;
  /** error: what is wrong. */
  message?: string;
}

const PUNCT2 = ['>=', '<=', '!='];
const PUNCT1 = '(),={}|+-*.@;<>';
const SIZE_SHIFT: Record<string, bigint> = { K: 10n, M: 20n, G: 30n, T: 40n, P: 50n };
const U64_MAX = (1n << 64n) - 1n;
/** A decimal double: digits with a fraction, an exponent, or both (`0.5`, `2.0`, `1e-7`, `1.5E3`). */
const FLOAT_RE = /^[0-9](?:[0-9]|_(?=[0-9]))*(?:\.[0-9](?:[0-9]|_(?=[0-9]))*(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)/;

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}
function isIdentChar(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9');
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** Interpret the text of a number token: decimal with size suffix, 0x hex, 0o/leading-0 octal, 0b binary. */
export function parseNumberText(text: string): { value: bigint; radix: 2 | 8 | 10 | 16 } | { error: string } {
  const bad = { error: `bad number '${text}'` };
  if (/__|_$/.test(text)) return { error: `bad number '${text}' (an underscore must sit between digits)` };
  let m = /^0[xX]_?([0-9a-fA-F_]+)$/.exec(text);
  if (m) return check(BigInt('0x' + m[1].replace(/_/g, '')), 16, text);
  m = /^0[bB]_?([01_]+)$/.exec(text);
  if (m) return check(BigInt('0b' + m[1].replace(/_/g, '')), 2, text);
  m = /^0[oO]_?([0-7_]+)$/.exec(text) ?? /^0([0-7_]+)$/.exec(text);
  if (m) return check(BigInt('0o' + m[1].replace(/_/g, '')), 8, text);
  if (/^0[0-9_]+$/.test(text)) return { error: `bad octal number '${text}' (a leading 0 means octal, digits 0-7)` };
  if (/^0[0-7_]+[kKmMgGtTpP]/.test(text)) return { error: `a size suffix needs a decimal number, not '${text}'` };
  m = /^([0-9][0-9_]*)(?:([kKmMgGtTpP])(?:iB)?)?$/.exec(text);
  if (m) {
    const base = BigInt(m[1].replace(/_/g, ''));
    return check(m[2] ? base << SIZE_SHIFT[m[2].toUpperCase()] : base, 10, text);
  }
  if (/^0[xX]/.test(text)) return { error: `bad hex number '${text}'` };
  return bad;
}

function check(value: bigint, radix: 2 | 8 | 10 | 16, text: string): { value: bigint; radix: 2 | 8 | 10 | 16 } | { error: string } {
  if (value > U64_MAX) return { error: `number '${text}' does not fit in 64 bits` };
  return { value, radix };
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', '"': '"', "'": "'" };

/**
 * Split text into tokens. Newlines are tokens (statements end at them); comments (`#`, `//`) are
 * dropped. firstLine/firstCol place a shell line inside its session.
 */
export function lex(text: string, firstLine = 1, firstCol = 1): Token[] {
  const out: Token[] = [];
  let line = firstLine;
  let lineStart = 0; // index of the current line's first char
  let colBase = firstCol; // only the first line is shifted
  let i = 0;
  let space = true;
  const col = (idx: number): number => idx - lineStart + colBase;
  const push = (t: Omit<Token, 'line' | 'spaceBefore'> & { start: number }): void => {
    const { start: _start, ...rest } = t;
    out.push({ ...rest, line, spaceBefore: space });
    space = false;
  };
  while (i < text.length) {
    const c = text[i];
    const start = i;
    if (c === '\n' || c === '\r') {
      out.push({ kind: 'newline', text: '\n', line, col: col(i), endCol: col(i) + 1, spaceBefore: space });
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      lineStart = i;
      colBase = 1;
      space = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\f' || c === '\v') {
      i++;
      space = true;
      continue;
    }
    if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
      space = true;
      continue;
    }
    if (isIdentStart(c)) {
      while (i < text.length && isIdentChar(text[i])) i++;
      push({ kind: 'ident', text: text.slice(start, i), col: col(start), endCol: col(i), start });
      continue;
    }
    if (isDigit(c)) {
      const fl = FLOAT_RE.exec(text.slice(i));
      if (fl && !isIdentChar(text[i + fl[0].length] ?? '') && text[i + fl[0].length] !== '.') {
        i += fl[0].length;
        push({ kind: 'float', text: fl[0], float: Number(fl[0].replace(/_/g, '')), col: col(start), endCol: col(i), start });
        continue;
      }
      while (i < text.length && isIdentChar(text[i])) i++;
      const t = text.slice(start, i);
      const r = parseNumberText(t);
      if ('error' in r) push({ kind: 'error', text: t, message: r.error, col: col(start), endCol: col(i), start });
      else push({ kind: 'number', text: t, value: r.value, radix: r.radix, col: col(start), endCol: col(i), start });
      continue;
    }
    if (c === '"') {
      i++;
      let s = '';
      let err: { message: string; at: number; end: number } | undefined;
      let closed = false;
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') {
        const d = text[i];
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d !== '\\') {
          s += d;
          i++;
          continue;
        }
        const e = text[i + 1];
        if (e !== undefined && e in ESCAPES) {
          s += ESCAPES[e];
          i += 2;
        } else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
          s += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
          i += 4;
        } else {
          const m = /^u\{([0-9a-fA-F]{1,6})\}/.exec(text.slice(i + 1));
          const cp = m ? parseInt(m[1], 16) : -1;
          if (m && cp <= 0x10ffff) {
            s += String.fromCodePoint(cp);
            i += 1 + m[0].length;
          } else {
            const shown = e === undefined || e === '\n' || e === '\r' ? '\\' : '\\' + e;
            err ??= { message: `unknown escape '${shown}' in string (known: \\n \\t \\r \\0 \\\\ \\" \\xHH \\u{H})`, at: i, end: i + shown.length };
            i += e === undefined || e === '\n' || e === '\r' ? 1 : 2;
          }
        }
      }
      if (!closed) push({ kind: 'error', text: text.slice(start, i), message: 'unterminated string (missing closing ")', col: col(start), endCol: col(i), start });
      else if (err) push({ kind: 'error', text: text.slice(err.at, err.end), message: err.message, col: col(err.at), endCol: col(err.end), start });
      else push({ kind: 'string', text: text.slice(start, i), str: s, col: col(start), endCol: col(i), start });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (PUNCT2.includes(two)) {
      i += 2;
      push({ kind: 'punct', text: two, col: col(start), endCol: col(i), start });
      continue;
    }
    if (PUNCT1.includes(c)) {
      i++;
      push({ kind: 'punct', text: c, col: col(start), endCol: col(i), start });
      continue;
    }
    // One whole code point, so a stray emoji is one error, not two halves.
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    let message = `unexpected character '${printable(ch)}'`;
    if ('\u201c\u201d\u2018\u2019\u00ab\u00bb'.includes(ch)) message += ' (use straight double quotes "...")';
    else if (ch === "'") message += ' (strings use double quotes "...")';
    push({ kind: 'error', text: ch, message, col: col(start), endCol: col(i), start });
  }
  out.push({ kind: 'eof', text: '', line, col: col(i), endCol: col(i) + 1, spaceBefore: space });
  return out;
}

function printable(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0)) return `\\u{${cp.toString(16)}}`;
  return ch;
}
