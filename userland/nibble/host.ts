// Putting a store into SpaceJMP memory from a program, through system calls only: a named address
// space holds one segment for the store's metadata and one per socket for that socket's log and
// index subtables, each allocated while the calling thread runs on that socket (seg_alloc takes
// frames from the caller's node — the reference binds subtables and logs to their socket). The
// creator also maps the segments into its own primary space so its threads need no switch; another
// process finds the space by name, attaches it and switches in (openStore).

import type { Runtime } from '../runtime.js';
import { RESERVED_START, SEG_2M, VAS_PRIMARY, type YieldRequest } from '../../syscalls/abi.js';
import { computeLayout, type NibbleConfig } from './layout.js';
import { NibbleStore } from './store.js';
import { RtPort } from './rtPort.js';

/** Default base: inside the segment region, clear of what the other programs use first. */
export const STORE_BASE = RESERVED_START + 0x40_0000_0000;

export interface StoreHandle {
  store: NibbleStore;
  name: string;
  base: number;
  vid: number;
  sids: number[];
}

export interface CreateOptions {
  base?: number;
  /** Back the segments with 2 MiB pages (default true). */
  hugePages?: boolean;
  mode?: number;
}

/** First CPU of each socket (from the machine's topology). */
function socketCpus(rt: Runtime, nodes: number): number[] {
  const out: number[] = [];
  const topo = rt.cpuTopology();
  for (let n = 0; n < nodes; n++) {
    const c = topo.find((x) => x.node === n) ?? topo[0];
    out.push(c.id);
  }
  return out;
}

export function createStore(rt: Runtime, name: string, config: NibbleConfig, opts: CreateOptions = {}): StoreHandle {
  const base = opts.base ?? STORE_BASE;
  const L = computeLayout(config);
  const flags = opts.hugePages === false ? 0 : SEG_2M;
  const mode = opts.mode ?? 0o660;
  const vid = rt.call('vas_create', name, mode);
  const home = rt.affinity;
  const cpus = socketCpus(rt, config.nodes);
  const sids: number[] = [];
  rt.setAffinity(cpus[0]);
  sids.push(rt.call('seg_alloc', `${name}.meta`, base, L.metaBytes, mode, flags));
  for (let n = 0; n < config.nodes; n++) {
    rt.setAffinity(cpus[n]);
    sids.push(rt.call('seg_alloc', `${name}.node${n}`, base + L.metaBytes + n * L.nodeStride, L.nodeStride, mode, flags));
  }
  rt.setAffinity(home);
  for (const sid of sids) {
    rt.call('seg_attach', vid, sid);
    rt.call('seg_attach', VAS_PRIMARY, sid);
  }
  const store = NibbleStore.create(new RtPort(rt), base, config);
  return { store, name, base, vid, sids };
}

/** From another process: find the named space, attach it, switch in, and open the store in it. */
export function* openStore(rt: Runtime, name: string, base = STORE_BASE): Generator<YieldRequest, { store: NibbleStore; vh: number }, unknown> {
  const vid = rt.call('vas_find', name);
  const vh = rt.call('vas_attach', vid);
  yield* rt.callBlocking('vas_switch', vh, 0);
  return { store: NibbleStore.attach(new RtPort(rt), base), vh };
}
