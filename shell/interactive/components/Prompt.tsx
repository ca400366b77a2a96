import { Text } from 'ink';
import type { LineState } from '../lineEditor.js';

/** The prompt and the line being typed, with the cursor as an inverted cell; red when a search finds nothing. */
export function Prompt({ prompt, line, active, failed = false }: { prompt: string; line: LineState; active: boolean; failed?: boolean }) {
  const { text, cursor } = line;
  const at = text[cursor] ?? ' ';
  return (
    <Text wrap="truncate-start">
      <Text color={failed ? 'red' : 'green'} bold>{failed ? `(failed) ${prompt}` : prompt}</Text>
      {text.slice(0, cursor)}
      <Text inverse={active}>{at}</Text>
      {text.slice(cursor + 1)}
    </Text>
  );
}
