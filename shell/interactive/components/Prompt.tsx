import { Text } from 'ink';
import type { LineState } from '../lineEditor.js';

/** The prompt and the line being typed, with the cursor as an inverted cell. */
export function Prompt({ prompt, line, active }: { prompt: string; line: LineState; active: boolean }) {
  const { text, cursor } = line;
  const at = text[cursor] ?? ' ';
  return (
    <Text wrap="truncate-start">
      <Text color="green" bold>{prompt}</Text>
      {text.slice(0, cursor)}
      <Text inverse={active}>{at}</Text>
      {text.slice(cursor + 1)}
    </Text>
  );
}
