import { Box, Text } from 'ink';
import type { TranscriptLine } from '../state.js';
import { TONE_STYLE } from './tone.js';

/** Transcript rows, already wrapped to the width (layout.ts), so the pane keeps its height. */
export function TranscriptPane({ lines, height }: { lines: readonly TranscriptLine[]; height: number }) {
  return (
    <Box flexDirection="column" height={height}>
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate-end" {...TONE_STYLE[l.tone]}>{l.text === '' ? ' ' : l.text}</Text>
      ))}
    </Box>
  );
}
