import { Box, Text } from 'ink';
import type { ViewLine } from '../views/format.js';
import { TONE_STYLE } from './tone.js';

export interface ViewPaneProps {
  title: string;
  lines: readonly ViewLine[];
  /** Index among `lines` of the selected row, or -1. */
  selected: number;
  focused: boolean;
  /** First shown line and the total, for the "12-30/120" position. */
  scroll: number;
  total: number;
  height: number;
  width: number;
}

/** A title rule with the position, then the view's visible lines; the selected one inverted. */
export function ViewPane(p: ViewPaneProps) {
  const pos = p.total > p.height ? ` ${p.scroll + 1}-${Math.min(p.total, p.scroll + p.height)}/${p.total} ` : '';
  const hint = p.focused ? ' arrows move · Enter expands · Esc back ' : '';
  const head = `── ${p.title} `;
  const rule = '─'.repeat(Math.max(0, p.width - head.length - pos.length - hint.length - 1));
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end" color={p.focused ? 'yellow' : 'blue'}>{head + rule + hint + pos}</Text>
      <Box flexDirection="column" height={p.height}>
        {p.lines.map((l, i) => (
          <Text key={i} wrap="truncate-end" inverse={i === p.selected && p.focused} bold={i === p.selected && !p.focused} {...TONE_STYLE[l.tone ?? 'normal']}>
            {l.text === '' ? ' ' : l.text}
          </Text>
        ))}
      </Box>
    </Box>
  );
}
