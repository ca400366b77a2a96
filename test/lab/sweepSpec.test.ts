// Sweep files: what is accepted, what is refused (with the file and where), and the fixed order
// of points that `--point K` relies on.
import { describe, expect, it } from 'vitest';
import { loadSweepSpec, sweepPoints, pointArgv, pointKey } from '../../lab/sweep/spec.js';
import { aggregate } from '../../lab/sweep/aggregate.js';
import type { SweepRecord } from '../../lab/sweep/store.js';

const YAML = `
program: gups
fixed: { table: 64K, update-set: 16 }
axes:
  design: [map, vas]
  windows: [1, 2, 4]
  seed: [1, 2]
`;

describe('sweep files', () => {
  it('reads YAML and JSON alike and numbers points with the first axis slowest', () => {
    const y = loadSweepSpec('g.yaml', YAML);
    const j = loadSweepSpec('g.json', JSON.stringify({ program: 'gups', fixed: { table: '64K', 'update-set': 16 }, axes: { design: ['map', 'vas'], windows: [1, 2, 4], seed: [1, 2] } }));
    expect(sweepPoints(y)).toEqual(sweepPoints(j));
    const pts = sweepPoints(y);
    expect(pts).toHaveLength(12);
    expect(pts[0].values).toEqual({ design: 'map', windows: 1, seed: 1 });
    expect(pts[1].values).toEqual({ design: 'map', windows: 1, seed: 2 });
    expect(pts[11].values).toEqual({ design: 'vas', windows: 4, seed: 2 });
    expect(pts.map((p) => p.index)).toEqual([...pts.keys()]);
    expect(pointArgv(y, pts[3])).toEqual(['gups', '--table', '64K', '--update-set', '16', '--design', 'map', '--windows', '2', '--seed', '2', '--json']);
  });

  it('keys a point by program, options (in any order) and version', () => {
    const a = loadSweepSpec('a.yaml', YAML);
    const b = loadSweepSpec('b.json', JSON.stringify({ program: 'gups', fixed: { 'update-set': 16, table: '64K' }, axes: { seed: [1, 2], windows: [1, 2, 4], design: ['map', 'vas'] } }));
    const keysA = new Set(sweepPoints(a).map((p) => pointKey(a, p, '1')));
    const keysB = new Set(sweepPoints(b).map((p) => pointKey(b, p, '1')));
    expect(keysA).toEqual(keysB);
    expect(pointKey(a, sweepPoints(a)[0], '1')).not.toBe(pointKey(a, sweepPoints(a)[0], '2'));
  });

  it.each([
    ['program: gupz\naxes: {windows: [1]}', /g\.yaml: program: expected one of gups/],
    ['program: gups\naxes: {}', /axes: expected an object .* at least one axis/],
    ['program: gups\naxes: {windows: []}', /axes\.windows: expected a non-empty list/],
    ['program: gups\naxes: {windows: [1, 1]}', /axes\.windows: a value is listed twice/],
    ['program: gups\nfixed: {windows: 2}\naxes: {windows: [1]}', /axes\.windows: also given in fixed/],
    ['program: gups\naxes: {windows: [1]}\ncolour: red', /colour: unknown key/],
    ['program: gups\naxes: {windows: [{a: 1}]}', /axes\.windows\[0\]: expected a string, number or boolean/],
    ['program: gups\naxes: {windows: [1]}\nreport: {x: seeds}', /report\.x: "seeds" is not an axis/],
    ['program: [gups', /g\.yaml: syntax:/],
  ])('refuses %j', (text, msg) => {
    expect(() => loadSweepSpec('g.yaml', text)).toThrow(msg);
  });
});

describe('sweep report aggregation', () => {
  const rec = (values: Record<string, string | number>, rows: { design: string; modelledMups: number }[], ok = true): SweepRecord =>
    ({ key: JSON.stringify(values), point: 0, program: 'gups', values, options: values, version: '1', ok, record: { results: rows }, wallMs: 1 });

  it('means and sample standard deviations over seeds, series from the other axes and the rows\' design', () => {
    const recs = [
      rec({ windows: 1, seed: 1 }, [{ design: 'map', modelledMups: 10 }, { design: 'vas', modelledMups: 20 }]),
      rec({ windows: 1, seed: 2 }, [{ design: 'map', modelledMups: 14 }, { design: 'vas', modelledMups: 20 }]),
      rec({ windows: 2, seed: 1 }, [{ design: 'map', modelledMups: 1 }, { design: 'vas', modelledMups: 9 }]),
      rec({ windows: 2, seed: 2 }, [{ design: 'map', modelledMups: 999 }], false),
    ];
    const a = aggregate(recs, ['windows', 'seed'], 'windows', 'modelledMups');
    expect(a.xValues).toEqual(['1', '2']);
    expect(a.series).toEqual(['MAP', 'VAS']);
    const map1 = a.rows.find((r) => r.x === '1' && r.series === 'MAP')!;
    expect(map1.n).toBe(2);
    expect(map1.mean).toBe(12);
    expect(map1.sd).toBeCloseTo(Math.SQRT2 * 2, 10);
    expect(a.rows.find((r) => r.x === '2' && r.series === 'MAP')!).toMatchObject({ n: 1, mean: 1, sd: 0 });
  });
});
