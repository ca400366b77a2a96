// SpaceJMP's numbers: special handles, flags and control commands (reference Figure 40; the
// syscall layer gives them their uppercase names for traces and the shell).

export const VAS_PRIMARY = 0;
export const VAS_CURRENT = -1;
/** vh values carry this bit so one argument can name a vid or a vh. */
export const VH_BIT = 0x10000;
/** vas_switch / seg_attach / seg_ctl(LOCKABLE) flag: fail with EBUSY instead of blocking on a segment lock. */
export const VAS_NOWAIT = 1;

export const VAS_CTL_INFO = 1;
export const VAS_CTL_DELETE = 2;
export const VAS_CTL_TAGS = 3;
export const VAS_CTL_CHMOD = 4;
export const VAS_CTL_PTPOLICY = 5;

export const SEG_CTL_INFO = 1;
export const SEG_CTL_DELETE = 2;
export const SEG_CTL_LOCKABLE = 3;
export const SEG_CTL_CHMOD = 4;

/** seg_alloc flag: back the segment with 2 MiB pages. */
export const SEG_2M = 1;

/** How a shadow gets a named space's segment translations: its own entries, or linked tables. */
export type PtPolicy = 'copy' | 'shared';

/** Names and modes: 1..255 characters without NUL; modes 0..0777. */
export const NAME_MAX = 255;
