import { Box, Text } from 'ink';
import type { TranscriptLine } from '../session.js';
import { TONE_STYLE } from './tone.js';

/** The last lines of the transcript, cut to the width (no wrapping, so the layout holds). */
export function TranscriptPane({ lines, height }: { lines: readonly TranscriptLine[]; height: number }) {
  return (
    <Box flexDirection="column" height={height}>
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate-end" {...TONE_STYLE[l.tone]}>{l.text === '' ? ' ' : l.text}</Text>
      ))}
    </Box>
  );
}
