import { Text } from 'ink';
import type { Busy } from '../state.js';
import { progressBar } from '../engines.js';

/** A running command's progress bar (or "running ..."), and the candidates of an ambiguous completion. */
export function StatusLines({ busy, completions, width }: { busy: Busy | null; completions: readonly string[]; width: number }) {
  return (
    <>
      {busy && (
        <Text color="yellow" wrap="truncate-end">
          {busy.progress ? `${busy.label} ${progressBar(busy.progress, width - busy.label.length - 1)}` : `running ${busy.label} ... (Ctrl-C stops it)`}
        </Text>
      )}
      {completions.length > 0 && <Text dimColor wrap="truncate-end">{completions.join('  ')}</Text>}
    </>
  );
}
