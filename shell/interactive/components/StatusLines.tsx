import { Text } from 'ink';
import type { Busy } from '../state.js';
import { progressBar } from '../engines.js';
import { imageStatusText, type ImageStatus } from '../imageStatus.js';

/**
 * The machine image and its unsaved-changes marker (when the session has an image), a running
 * command's progress bar (or "running ..."), and the candidates of an ambiguous completion.
 */
export function StatusLines({ busy, completions, width, image }: { busy: Busy | null; completions: readonly string[]; width: number; image: ImageStatus | null }) {
  return (
    <>
      {image && <Text color={image.dirty ? 'yellow' : 'green'} dimColor={!image.dirty} wrap="truncate-end">{imageStatusText(image)}</Text>}
      {busy && (
        <Text color="yellow" wrap="truncate-end">
          {busy.progress ? `${busy.label} ${progressBar(busy.progress, width - busy.label.length - 1)}` : `running ${busy.label} ... (Ctrl-C stops it)`}
        </Text>
      )}
      {completions.length > 0 && <Text dimColor wrap="truncate-end">{completions.join('  ')}</Text>}
    </>
  );
}
