// The Ink app: reads the session, lays the screen out for the terminal's size, and sends key
// presses (through the keymap) back to the session. All behaviour lives in the session.

import { useEffect, useReducer, useSyncExternalStore } from 'react';
import { Box, useApp, useInput, useStdout } from 'ink';
import type { ShellSession } from './session.js';
import { resolveKey } from './keymap.js';
import { layout } from './layout.js';
import { renderView, transcriptWindow, viewWindow } from './viewState.js';
import { TranscriptPane } from './components/TranscriptPane.js';
import { ViewPane } from './components/ViewPane.js';
import { Prompt } from './components/Prompt.js';
import { StatusLines } from './components/StatusLines.js';

function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    stdout.on('resize', redraw);
    return () => { stdout.off('resize', redraw); };
  }, [stdout]);
  return { columns: stdout.columns || 80, rows: stdout.rows || 24 };
}

export function App({ session }: { session: ShellSession }) {
  useSyncExternalStore(session.subscribe, session.getVersion);
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const width = Math.max(20, columns - 1);

  useEffect(() => { if (session.exited) exit(); });
  useInput((input, key) => {
    const a = resolveKey(input, key, session.focus);
    if (a) void session.dispatch(a);
  });

  const extra = (session.busy ? 1 : 0) + (session.completions.length ? 1 : 0);
  const model = session.view ? renderView(session.kernel, session.view, width) : null;
  const l = layout(rows, model ? model.lines.length : null, extra);
  session.viewPage = Math.max(1, l.view - 1);
  const win = model ? viewWindow(model, l.view, session.viewScroll) : null;
  if (win) session.viewScroll = win.scroll;
  const prompt = session.pending.length ? '...> ' : session.focus === 'view' ? '(view) ' : 'sjmp> ';

  return (
    <Box flexDirection="column" width={columns}>
      {model && win && (
        <ViewPane title={model.title} lines={win.lines} selected={win.selected} focused={session.focus === 'view'}
          scroll={win.scroll} total={win.total} height={l.view} width={width} />
      )}
      <TranscriptPane lines={transcriptWindow(session.transcript, l.transcript, session.transcriptScroll)} height={l.transcript} />
      <StatusLines busy={session.busy} completions={session.completions} width={width} />
      <Prompt prompt={prompt} line={session.line} active={session.focus === 'prompt' && !session.exited} />
    </Box>
  );
}
