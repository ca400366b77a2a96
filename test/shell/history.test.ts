import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultHistoryPath, historyAdd, historyNext, historyPrev, loadHistory, newHistory, saveHistoryLine, searchBack, type HistoryState } from '../../shell/interactive/history.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sjmp-history-'));
  dirs.push(d);
  return d;
}
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** Add lines one by one, as Enter does. */
function addAll(h: HistoryState, lines: string[]): HistoryState {
  for (const l of lines) h = historyAdd(h, l).history;
  return h;
}

describe('history', () => {
  it('browses older and newer lines and gives the draft back', () => {
    let h = newHistory(['process alice', 'as alice']);
    const steps: (string | null)[] = [];
    for (const cur of ['vas_cr', 'ignored', '']) {
      const r = historyPrev(h, cur);
      steps.push(r?.text ?? null);
      if (r) h = r.history;
    }
    expect(steps).toEqual(['as alice', 'process alice', null]);
    let n = historyNext(h)!;
    expect(n.text).toBe('as alice');
    n = historyNext(n.history)!;
    expect(n.text).toBe('vas_cr');
    expect(historyNext(n.history)).toBeNull();
  });

  it('skips blank lines and immediate repeats', () => {
    const h = addAll(newHistory(), ['stats', 'stats', '  ', 'ps']);
    expect(h.entries).toEqual(['stats', 'ps']);
    expect(historyAdd(h, 'ps').added).toBe(false);
  });

  it('searches backwards for a substring, from a position', () => {
    const h = newHistory(['process alice', 'as alice', 'vmmap alice', 'process bob']);
    expect(searchBack(h, 'process')).toBe(3);
    expect(searchBack(h, 'process', 3)).toBe(0);
    expect(searchBack(h, 'alice', 2)).toBe(1);
    expect(searchBack(h, 'nothing')).toBe(-1);
  });

  it('is kept between runs in the file, which is created with its directory', () => {
    const file = join(tempDir(), 'sjmp', 'history');
    let h = newHistory(loadHistory(file));
    for (const l of ['process alice uid=1000', 'vmmap alice']) {
      const r = historyAdd(h, l);
      h = r.history;
      expect(saveHistoryLine(file, l, h.entries)).toBeNull();
    }
    expect(readFileSync(file, 'utf8')).toBe('process alice uid=1000\nvmmap alice\n');
    expect(historyPrev(newHistory(loadHistory(file)), '')?.text).toBe('vmmap alice');
  });

  it('keeps only the newest lines, in memory and when the file is rewritten', () => {
    const file = join(tempDir(), 'history');
    writeFileSync(file, Array.from({ length: 1200 }, (_, i) => `line ${i}`).join('\n'));
    const lines = loadHistory(file);
    expect(lines).toHaveLength(1000);
    expect(lines[999]).toBe('line 1199');
    const h = historyAdd(newHistory(lines), 'newest').history;
    expect(h.entries).toHaveLength(1000);
    saveHistoryLine(file, 'newest', h.entries);
    expect(loadHistory(file)).toEqual(h.entries);
  });

  it('reports an unwritable file without throwing', () => {
    const d = tempDir();
    writeFileSync(join(d, 'file'), '');
    expect(saveHistoryLine(join(d, 'file', 'history'), 'ps', ['ps'])).toMatch(/history not saved/);
  });

  it('lives in $XDG_CONFIG_HOME/sjmp, else ~/.config/sjmp', () => {
    expect(defaultHistoryPath({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/u')).toBe('/x/cfg/sjmp/history');
    expect(defaultHistoryPath({}, '/home/u')).toBe('/home/u/.config/sjmp/history');
    expect(defaultHistoryPath({ XDG_CONFIG_HOME: 'relative' }, '/home/u')).toBe('/home/u/.config/sjmp/history');
  });
});
