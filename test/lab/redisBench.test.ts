// The bench's modelling of RedisJMP's lock: readers share the segment (GET-only clients scale with
// their number), writers exclude each other (SET-only clients do not), and the sharded design lets
// writers on different shards proceed together.

import { describe, it, expect } from 'vitest';
import { runRedisOne, parseDesign, type RedisBenchParams } from '../../lab/redis/bench.js';
import { DEFAULT_MACHINE } from '../../kernel/machineConfig.js';

const base: RedisBenchParams = { designs: [], clients: [], ops: 60, keys: 200, valueSize: 16, getRatio: 1, seed: 3 };

async function rps(design: string, clients: number, getRatio: number): Promise<number> {
  const r = await runRedisOne(DEFAULT_MACHINE, parseDesign(design, 4), clients, { ...base, getRatio });
  expect(r.errors).toEqual([]);
  expect(r.requests).toBe(clients * base.ops);
  return r.modelledRps;
}

describe('redis bench: the segment lock in modelled time', () => {
  it('GET-only RedisJMP clients run together under the reader lock', async () => {
    expect(await rps('jmp', 4, 1)).toBeGreaterThan(3 * (await rps('jmp', 1, 1)));
  });

  it('SET-only RedisJMP clients are serialised by the writer lock; shards let them run together', async () => {
    const one = await rps('jmp', 1, 0);
    expect(await rps('jmp', 4, 0)).toBeLessThan(1.2 * one);
    expect(await rps('jmp-sharded', 4, 0)).toBeGreaterThan(1.8 * one);
  });
});
