import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { History, defaultHistoryPath, loadHistory } from '../../shell/interactive/history.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sjmp-history-'));
  dirs.push(d);
  return d;
}
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('history', () => {
  it('browses older and newer lines and gives the draft back', () => {
    const h = new History(['process alice', 'as alice']);
    expect(h.prev('vas_cr')).toBe('as alice');
    expect(h.prev('ignored')).toBe('process alice');
    expect(h.prev('')).toBeUndefined();
    expect(h.next()).toBe('as alice');
    expect(h.next()).toBe('vas_cr');
    expect(h.next()).toBeUndefined();
  });

  it('skips blank lines and immediate repeats', () => {
    const h = new History();
    for (const l of ['stats', 'stats', '  ', 'ps']) h.add(l);
    expect(h.lines).toEqual(['stats', 'ps']);
  });

  it('is kept between runs in the file, which is created with its directory', () => {
    const file = join(tempDir(), 'sjmp', 'history');
    const h = History.open(file);
    h.add('process alice uid=1000');
    h.add('vmmap alice');
    expect(readFileSync(file, 'utf8')).toBe('process alice uid=1000\nvmmap alice\n');
    expect(History.open(file).prev('')).toBe('vmmap alice');
  });

  it('keeps only the newest lines', () => {
    const file = join(tempDir(), 'history');
    writeFileSync(file, Array.from({ length: 1200 }, (_, i) => `line ${i}`).join('\n'));
    const lines = loadHistory(file);
    expect(lines).toHaveLength(1000);
    expect(lines[999]).toBe('line 1199');
  });

  it('reports an unwritable file without throwing', () => {
    const d = tempDir();
    writeFileSync(join(d, 'file'), '');
    const h = History.open(join(d, 'file', 'history'));
    const errors: string[] = [];
    h.add('ps', (m) => errors.push(m));
    expect(errors[0]).toMatch(/history not saved/);
    expect(h.lines).toEqual(['ps']);
  });

  it('lives in $XDG_CONFIG_HOME/sjmp, else ~/.config/sjmp', () => {
    expect(defaultHistoryPath({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/u')).toBe('/x/cfg/sjmp/history');
    expect(defaultHistoryPath({}, '/home/u')).toBe('/home/u/.config/sjmp/history');
    expect(defaultHistoryPath({ XDG_CONFIG_HOME: 'relative' }, '/home/u')).toBe('/home/u/.config/sjmp/history');
  });
});
