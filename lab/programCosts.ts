// What every report says about its costs: the profile, the parameters overridden with --costs, and
// the program-side parameters the program it ran charged (docs/cost-model.md). One place, so the
// text and --json of gups, nibble, sam and redis say it the same way.

import { PROFILES, type CostProfile, type ProgramCostName } from '../mmu/costModel.js';

export type CostedProgram = 'gups' | 'nibble' | 'sam' | 'redis';

/** The program-side parameters each program (with its harness's client loop) charges. */
export const PROGRAM_COSTS_USED: Record<CostedProgram, readonly ProgramCostName[]> = {
  gups: ['gupsUpdate'],
  nibble: ['nibbleHash', 'nibbleSpin', 'nibbleScore', 'nibblePoll', 'nibbleSpaceWait', 'rdtsc', 'ycsbChoose', 'ycsbStartPoll'],
  sam: ['samParsePerByte', 'samFormatPerByte', 'samSortCompare', 'bgzfInflatePerByte', 'bgzfDeflatePerByte'],
  redis: ['redisCommand', 'redisHashBase', 'redisHashPerByte', 'redisKeysPerKey'],
};

/** The parameters of `profile` that differ from its base profile's (what --costs changed). */
export function profileOverrides(profile: CostProfile): Record<string, number> {
  const base = PROFILES[profile.name.split('+')[0]];
  const out: Record<string, number> = {};
  if (!base) return out;
  for (const [k, v] of Object.entries(profile.params)) {
    if ((base.params as unknown as Record<string, number>)[k] !== v) out[k] = v;
  }
  return out;
}

export interface CostsReport {
  /** The profile's name (with any overrides in it, e.g. "m3+gupsUpdate=16"). */
  profile: string;
  /** Parameters set with --costs: name → modelled cycles (or GHz for clockGHz). */
  overrides: Record<string, number>;
  /** The program-side parameters this program charged, with their values. */
  programCosts: Record<string, number>;
}

export function costsReport(profile: CostProfile, program: CostedProgram): CostsReport {
  const programCosts: Record<string, number> = {};
  for (const k of PROGRAM_COSTS_USED[program]) programCosts[k] = profile.params[k];
  return { profile: profile.name, overrides: profileOverrides(profile), programCosts };
}

/** The report as one line of text: "costs: profile m2 (no overrides); program-side cycles: gupsUpdate=8". */
export function costsLine(r: CostsReport): string {
  const kv = (o: Record<string, number>): string => Object.entries(o).map(([k, v]) => `${k}=${v}`).join(', ');
  const over = Object.keys(r.overrides).length ? `overrides ${kv(r.overrides)}` : 'no overrides';
  return `costs: profile ${r.profile.split('+')[0]} (${over}); program-side cycles: ${kv(r.programCosts)}`;
}
