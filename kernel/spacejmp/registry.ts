// SpaceJMP's registry: the global names and ids of named address spaces and segments (like a
// file system's namespace, they outlive their creators), with the lookups every call starts with.

import { fail } from '../errno.js';
import type { Segment } from './segment.js';
import type { NamedVas } from './shadow.js';
import { NAME_MAX } from './constants.js';

export class Registry {
  readonly vases = new Map<number, NamedVas>();
  readonly segments = new Map<number, Segment>();
  readonly vasByName = new Map<string, NamedVas>();
  readonly segByName = new Map<string, Segment>();
  private nextVid = 1;
  private nextSid = 1;

  newVid(): number { return this.nextVid++; }
  newSid(): number { return this.nextSid++; }

  /** A live named space by id; EINVAL otherwise. */
  vas(vid: number): NamedVas {
    const v = this.vases.get(vid);
    if (!v || v.deleted) fail('EINVAL', `no address space with id ${vid}`);
    return v;
  }

  /** A live (not deleted) segment by id; EINVAL otherwise. */
  seg(sid: number): Segment {
    const s = this.segments.get(sid);
    if (!s || s.deleted) fail('EINVAL', `no segment with id ${sid}`);
    return s;
  }

  /**
   * A free name for a clone of `name`: "NAME.cloneN", with NAME shortened when the result would
   * pass NAME_MAX (a 255-character original still clones).
   */
  cloneName(name: string, taken: (n: string) => boolean): string {
    for (let n = 1; ; n++) {
      const suffix = `.clone${n}`;
      const candidate = name.slice(0, NAME_MAX - suffix.length) + suffix;
      if (!taken(candidate)) return candidate;
    }
  }
}

export function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > NAME_MAX || name.includes('\0')) fail('EINVAL', `name must be 1..${NAME_MAX} characters`);
}

export function checkMode(mode: number): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) fail('EINVAL', 'mode must be 0..0777');
}
