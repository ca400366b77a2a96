// The user address-space layout, the same in 4- and 5-level mode below 2^46 so programs and
// traces move between modes unchanged. Segments live in the reserved region above 2^46 that
// ordinary (non-fixed) mmap never hands out (reference §9, Figure 46).

import type { PagingMode } from '../mmu/address.js';

export const USER_MIN = 0x10000;
export const TEXT_BASE = 0x400000;
export const TEXT_SIZE = 0x10000;
export const HEAP_BASE = 0x1000_0000;
export const HEAP_SIZE = 0x10_0000;
/** Where non-fixed mmap starts searching (before ASLR's offset). */
export const MMAP_BASE = 0x10_0000_0000;
/** ASLR moves the mmap base by up to this much, in 2 MiB steps. */
export const ASLR_RANGE = 2 ** 40;
export const STACK_TOP = 2 ** 46 - 2 ** 20;
export const STACK_SIZE = 0x10_0000;
export const STACK_MAX = 8 * 2 ** 20;
export const RESERVED_START = 2 ** 46;

/** One past the highest user address for the paging mode (the lower canonical half). */
export function userMax(mode: PagingMode): number {
  return mode === 5 ? 2 ** 56 : 2 ** 47;
}

/** End of the segment region that starts at RESERVED_START, for the paging mode. */
export function reservedEnd(mode: PagingMode): number {
  return mode === 5 ? 2 ** 56 - 2 ** 48 : 2 ** 47 - 2 ** 39;
}
