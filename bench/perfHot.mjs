// The hottest instructions of one `perf annotate --stdio` listing, each with the source line
// (dist/*.js) the listing names above it. Usage: node bench/perfHot.mjs ANNOTATE.txt [min-percent]
import { readFileSync } from 'node:fs';
import process from 'node:process';

process.stdout.on('error', () => {}); // a closed pipe (… | head) ends the listing quietly
const [file, minArg] = process.argv.slice(2);
if (!file) { process.stderr.write('usage: node bench/perfHot.mjs ANNOTATE.txt [min-percent]\n'); process.exit(2); }
const min = minArg === undefined ? 2 : Number(minArg);
if (!Number.isFinite(min)) { process.stderr.write(`perfHot: min-percent "${minArg}" is not a number\n`); process.exit(2); }
let src = '';
let text;
try { text = readFileSync(file, 'utf8'); } catch (e) { process.stderr.write(`perfHot: cannot read ${file}: ${e.code ?? e.message}\n`); process.exit(2); }
for (const line of text.split('\n')) {
  if (line.includes('Percent') && line.includes('samples')) { process.stdout.write(line.trim().slice(0, 120) + '\n'); continue; }
  const s = /^\s*:\s*\d+\s+(file:\/\/\S+)/.exec(line);
  if (s) { src = s[1].split('/').pop(); continue; }
  const m = /^\s*([\d.]+)\s*:\s*([0-9a-f]+):\s*(.*)$/.exec(line);
  if (m && Number(m[1]) >= min) process.stdout.write(`${m[1].padStart(6)} ${m[2].padStart(5)} ${src.padEnd(22)} ${m[3].slice(0, 60)}\n`);
}
