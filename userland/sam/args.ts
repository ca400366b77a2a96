// samtools' command lines, parsed the way its getopt loops take them (only the options this
// emulation implements; anything else is an error, never ignored).

import { ToolError, parseFlags, type ViewFilter } from './tools.js';

export type ToolName = 'flagstat' | 'view' | 'sort' | 'index' | 'idxstats' | 'depth';
export const TOOLS: readonly ToolName[] = ['flagstat', 'view', 'sort', 'index', 'idxstats', 'depth'];

export interface ToolArgs {
  tool: ToolName;
  /** The input: a file path (files design) or a data set name (vas design). */
  input: string;
  /** `samtools ...` as typed, for the @PG line. */
  commandLine: string;
  noPg: boolean;
  // flagstat
  format: 'default' | 'tsv' | 'json';
  // view
  count: boolean;
  withHeader: boolean;
  headerOnly: boolean;
  filter: ViewFilter;
  regions: string[];
  // sort
  byName: boolean;
  outFormat: 'sam' | 'bam' | null;
  output: string | null;
}

export function parseToolArgs(argv: readonly string[]): ToolArgs {
  const [tool, ...rest] = argv;
  if (!(TOOLS as readonly string[]).includes(tool)) throw new ToolError(`unknown samtools command "${tool ?? ''}" (implemented: ${TOOLS.join(', ')})`);
  const a: ToolArgs = {
    tool: tool as ToolName, input: '', commandLine: ['samtools', ...argv].join(' '), noPg: false, format: 'default',
    count: false, withHeader: false, headerOnly: false, filter: { requireAll: 0, excludeAny: 0, excludeAll: 0, minMapq: 0 },
    regions: [], byName: false, outFormat: null, output: null,
  };
  const allowed: Record<ToolName, string[]> = {
    flagstat: ['-O'],
    view: ['-c', '-h', '-H', '-f', '-F', '-G', '-q', '--no-PG', '-o'],
    sort: ['-n', '-O', '-o', '--no-PG'],
    index: [],
    idxstats: [],
    depth: ['-r'],
  };
  const pos: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const o = rest[i];
    if (!o.startsWith('-') || o === '-') { pos.push(o); continue; }
    if (!allowed[a.tool].includes(o)) throw new ToolError(`samtools ${tool}: option "${o}" is not implemented here (implemented: ${allowed[a.tool].join(' ') || 'none'})`);
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined) throw new ToolError(`samtools ${tool}: option ${o} needs a value`);
      return v;
    };
    switch (o) {
      case '-O': {
        const v = value().toLowerCase();
        if (a.tool === 'flagstat') {
          if (v !== 'default' && v !== 'tsv' && v !== 'json') throw new ToolError(`samtools flagstat: unknown output format "${v}" (default, tsv, json)`);
          a.format = v;
        } else {
          if (v !== 'sam' && v !== 'bam') throw new ToolError(`samtools sort: output format "${v}" is not implemented (sam, bam)`);
          a.outFormat = v;
        }
        break;
      }
      case '-c': a.count = true; break;
      case '-h': a.withHeader = true; break;
      case '-H': a.headerOnly = true; break;
      case '-f': a.filter.requireAll = parseFlags(value()); break;
      case '-F': a.filter.excludeAny = parseFlags(value()); break;
      case '-G': a.filter.excludeAll = parseFlags(value()); break;
      case '-q': {
        const v = value();
        if (!/^\d+$/.test(v)) throw new ToolError(`samtools view: bad MAPQ "${v}"`);
        a.filter.minMapq = Number(v);
        break;
      }
      case '--no-PG': a.noPg = true; break;
      case '-o': a.output = value(); break;
      case '-n': a.byName = true; break;
      case '-r': a.regions.push(value()); break;
    }
  }
  if (pos.length === 0) throw new ToolError(`samtools ${tool}: no input given`);
  a.input = pos[0];
  if (a.tool === 'view') a.regions.push(...pos.slice(1));
  // sjmp's `depth INPUT REGION` (samtools depth takes more input files there; one input here)
  else if (a.tool === 'depth' && pos.length === 2 && a.regions.length === 0) a.regions.push(pos[1]);
  else if (a.tool === 'index' && pos.length === 2) a.output = pos[1];
  else if (pos.length > 1) throw new ToolError(`samtools ${tool}: unexpected argument "${pos[1]}"`);
  return a;
}
