// Uppercase names for SpaceJMP handles, flags and commands (trace language, shell, strace).

import { formatAddr } from '../../mmu/units.js';
import { formatBits, formatMode, formatProt } from '../constants.js';
import {
  VAS_PRIMARY, VAS_CURRENT, VAS_NOWAIT, VAS_CTL_INFO, VAS_CTL_DELETE, VAS_CTL_TAGS, VAS_CTL_CHMOD, VAS_CTL_PTPOLICY,
  SEG_CTL_INFO, SEG_CTL_DELETE, SEG_CTL_LOCKABLE, SEG_CTL_CHMOD, SEG_2M,
} from '../../kernel/spacejmp/spacejmp.js';

export const SPACEJMP_CONSTANTS: Readonly<Record<string, number>> = {
  PRIMARY: VAS_PRIMARY, CURRENT: VAS_CURRENT, VAS_NOWAIT,
  VAS_CTL_INFO, VAS_CTL_DELETE, VAS_CTL_TAGS, VAS_CTL_CHMOD, VAS_CTL_PTPOLICY,
  SEG_CTL_INFO, SEG_CTL_DELETE, SEG_CTL_LOCKABLE, SEG_CTL_CHMOD, SEG_2M,
  TAG_FLUSH: 0, TAG_PCID: 1, PT_COPY: 0, PT_SHARED: 1,
};

const VAS_CTL_NAMES: Readonly<Record<number, string>> = {
  [VAS_CTL_INFO]: 'VAS_CTL_INFO', [VAS_CTL_DELETE]: 'VAS_CTL_DELETE', [VAS_CTL_TAGS]: 'VAS_CTL_TAGS',
  [VAS_CTL_CHMOD]: 'VAS_CTL_CHMOD', [VAS_CTL_PTPOLICY]: 'VAS_CTL_PTPOLICY',
};
const SEG_CTL_NAMES: Readonly<Record<number, string>> = {
  [SEG_CTL_INFO]: 'SEG_CTL_INFO', [SEG_CTL_DELETE]: 'SEG_CTL_DELETE', [SEG_CTL_LOCKABLE]: 'SEG_CTL_LOCKABLE', [SEG_CTL_CHMOD]: 'SEG_CTL_CHMOD',
};

/** Handles as strace shows them: PRIMARY, CURRENT, a vh (VH_BIT set) in hex, a vid in decimal. */
export function formatVasHandle(v: number): string {
  if (v === VAS_PRIMARY) return 'PRIMARY';
  if (v === VAS_CURRENT) return 'CURRENT';
  return v >= 0x10000 ? formatAddr(v) : String(v);
}

export function formatVasCtlCmd(v: number): string {
  return VAS_CTL_NAMES[v] ?? String(v);
}

export function formatSegCtlCmd(v: number): string {
  return SEG_CTL_NAMES[v] ?? String(v);
}

export function formatVasSwitchFlags(v: number): string {
  return formatBits(v, [['VAS_NOWAIT', VAS_NOWAIT]], '0');
}

export function formatSegAllocFlags(v: number): string {
  return formatBits(v, [['SEG_2M', SEG_2M]], '0');
}

/** seg_attach's prot: PROT_* bits, or -1 for "as the segment's mode allows". */
export function formatSegProt(v: number): string {
  return v === -1 ? '-1' : formatProt(v);
}

/** The third argument of vas_ctl, which means what the command says. */
export function formatVasCtlArg(cmd: number, arg: number): string {
  if (cmd === VAS_CTL_CHMOD) return formatMode(arg);
  if (cmd === VAS_CTL_TAGS) return arg === 0 ? 'TAG_FLUSH' : arg === 1 ? 'TAG_PCID' : String(arg);
  if (cmd === VAS_CTL_PTPOLICY) return arg === 0 ? 'PT_COPY' : arg === 1 ? 'PT_SHARED' : String(arg);
  return String(arg);
}

/** The third argument of seg_ctl. */
export function formatSegCtlArg(cmd: number, arg: number): string {
  return cmd === SEG_CTL_CHMOD ? formatMode(arg) : String(arg);
}
