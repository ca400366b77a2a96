// The few text styles views and the transcript use, mapped to Ink props in one place.

import type { Tone } from '../views/format.js';

export interface ToneStyle {
  color?: string;
  bold?: boolean;
  dimColor?: boolean;
}

export const TONE_STYLE: Readonly<Record<Tone, ToneStyle>> = {
  normal: {},
  header: { bold: true },
  dim: { dimColor: true },
  accent: { color: 'cyan' },
  warn: { color: 'red' },
  good: { color: 'green' },
};
