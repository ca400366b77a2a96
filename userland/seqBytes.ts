// Bytes moved a 32-bit word at a time between emulated memory and a host byte array, through the
// CPU's sequential-run accesses (load32Seq / store32Seq: exactly the modelled effects of one load32
// or store32 per word, ascending, with each page's run applied in bulk). The programs' byte loops
// (SAM's and Redis's loadBytes / storeBytes) use these for their aligned middle. Words are packed
// little-endian through a Uint8Array view of an Int32Array, as emulated memory itself is viewed.

/** What these helpers need: the runtime (or a CPU). */
export interface SeqMem {
  load32(va: number): number;
  store32(va: number, v: number): void;
  load32Seq(va: number, out: Int32Array, at: number, words: number): void;
  store32Seq(va: number, src: Int32Array, at: number, words: number): void;
}

/** Below this many words the plain loop is cheaper than a run's set-up (the same accesses either way). */
const SHORT = 16;

let words32 = new Int32Array(1024);
let bytes8 = new Uint8Array(words32.buffer);

function room(words: number): void {
  if (words32.length >= words) return;
  words32 = new Int32Array(Math.max(words, 2 * words32.length));
  bytes8 = new Uint8Array(words32.buffer);
}

/** `out[at .. at + 4 * words)` = the `words` words at `va` (4-aligned), as `words` load32 calls. */
export function loadWordBytes(m: SeqMem, va: number, out: Uint8Array, at: number, words: number): void {
  if (words < SHORT) {
    for (let j = 0; j < words; j++, at += 4) {
      const w = m.load32(va + 4 * j);
      out[at] = w & 0xff;
      out[at + 1] = (w >>> 8) & 0xff;
      out[at + 2] = (w >>> 16) & 0xff;
      out[at + 3] = w >>> 24;
    }
    return;
  }
  room(words);
  m.load32Seq(va, words32, 0, words);
  out.set(bytes8.subarray(0, 4 * words), at);
}

/** Store `b[from .. from + 4 * words)` at `va` (4-aligned) as `words` store32 calls. */
export function storeWordBytes(m: SeqMem, va: number, b: Uint8Array, from: number, words: number): void {
  if (words < SHORT) {
    for (let j = 0; j < words; j++, from += 4) m.store32(va + 4 * j, b[from] | (b[from + 1] << 8) | (b[from + 2] << 16) | (b[from + 3] << 24));
    return;
  }
  room(words);
  bytes8.set(b.subarray(from, from + 4 * words));
  m.store32Seq(va, words32, 0, words);
}
