// Shared by the Redis tests: a dataset in a fresh machine, driven synchronously, and a RESP reply
// decoder written for the tests (independent of the server's encoder).

import { Kernel } from '../../kernel/kernel.js';
import { GiB } from '../../mmu/units.js';
import type { Runtime } from '../../userland/runtime.js';
import { attachRuntime } from '../../lab/launch.js';
import { Dataset } from '../../userland/redis/dataset.js';
import { execute, newClient, type ClientState } from '../../userland/redis/commands.js';
import { Reply } from '../../userland/redis/reply.js';

export interface TestServer {
  rt: Runtime;
  ds: Dataset;
  client: ClientState;
  /** Modelled milliseconds the test controls. */
  now: { ms: number };
  run(...argv: string[]): Uint8Array;
  runBytes(argv: Uint8Array[]): Uint8Array;
}

export function testServer(bytes = 8 * 1024 * 1024, maxmemory?: number): TestServer {
  const k = new Kernel({ memBytes: GiB, cpus: 1 });
  const p = k.spawn('redis-test', { uid: 1, gid: 1 });
  const rt = attachRuntime(k, p.threads[0]);
  const base = rt.mmap(bytes);
  const now = { ms: 1_000_000 };
  const ds = Dataset.create(rt, base, bytes, () => now.ms, { cyclesPerMs: 2.5e6, maxmemory });
  const client = newClient();
  const reply = new Reply();
  const runBytes = (argv: Uint8Array[]): Uint8Array => {
    reply.reset();
    execute({ ds, client, reply }, argv);
    return reply.bytes().slice();
  };
  const enc = new TextEncoder();
  return { rt, ds, client, now, runBytes, run: (...argv) => runBytes(argv.map((a) => enc.encode(a))) };
}

export type RespValue = string | number | null | { err: string } | { simple: string } | RespValue[];

/** Decode one RESP2 reply; returns it and the offset after it. */
export function decodeReply(b: Uint8Array, pos = 0): [RespValue, number] {
  const lineEnd = (from: number): number => {
    for (let i = from; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
    throw new Error('incomplete reply');
  };
  const t = String.fromCharCode(b[pos]);
  const e = lineEnd(pos);
  const line = Buffer.from(b.subarray(pos + 1, e)).toString('latin1');
  switch (t) {
    case '+': return [{ simple: line }, e + 2];
    case '-': return [{ err: line }, e + 2];
    case ':': return [Number(line), e + 2];
    case '$': {
      const n = Number(line);
      if (n < 0) return [null, e + 2];
      if (e + 4 + n > b.length) throw new Error('incomplete reply');
      return [Buffer.from(b.subarray(e + 2, e + 2 + n)).toString('latin1'), e + 4 + n];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, e + 2];
      const out: RespValue[] = [];
      let p = e + 2;
      for (let i = 0; i < n; i++) {
        const [v, q] = decodeReply(b, p);
        out.push(v);
        p = q;
      }
      return [out, p];
    }
    default: throw new Error(`bad reply type ${t}`);
  }
}

export function text(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}
