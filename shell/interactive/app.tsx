// The Ink app: renders the session's state for the terminal's size and sends key presses
// (through the keymap) to the session. It only reads state; the size of a view page goes back to
// the session as an action after the frame is drawn, never written during render.

import { useEffect, useReducer, useSyncExternalStore } from 'react';
import { Box, useApp, useInput, useStdout } from 'ink';
import type { ShellSession } from './session.js';
import { resolveKey } from './keymap.js';
import { layout, transcriptRows } from './layout.js';
import { renderView, viewWindow } from './viewState.js';
import { promptText } from './state.js';
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
  const s = useSyncExternalStore(session.subscribe, session.getState);
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const width = Math.max(20, columns - 1);

  useEffect(() => { if (s.exited) exit(); }, [s.exited, exit]);
  useInput((input, key) => {
    const a = resolveKey(input, key, s.focus);
    if (a) void session.dispatch(a);
  });

  const extra = (s.busy ? 1 : 0) + (s.completions.length ? 1 : 0) + (s.image ? 1 : 0);
  const model = s.view ? renderView(session.kernel, s.view, width) : null;
  const l = layout(rows, model ? model.lines.length : null, extra);
  const viewPage = Math.max(1, l.view - 1);
  const viewLines = model ? model.lines.length : 0;
  useEffect(() => { void session.dispatch({ type: 'layout', viewPage, viewLines }); }, [session, viewPage, viewLines]);
  const win = model ? viewWindow(model, l.view, s.viewScroll) : null;

  return (
    <Box flexDirection="column" width={columns}>
      {model && win && (
        <ViewPane title={model.title} lines={win.lines} selected={win.selected} focused={s.focus === 'view'}
          scroll={win.scroll} total={win.total} height={l.view} width={width} />
      )}
      <TranscriptPane lines={transcriptRows(s.transcript, width, l.transcript, s.transcriptScroll)} height={l.transcript} />
      <StatusLines busy={s.busy} completions={s.completions} width={width} image={s.image} />
      {!s.exited && <Prompt prompt={promptText(s)} line={s.line} active={s.focus === 'prompt'} failed={s.search !== null && s.search.match < 0 && s.search.query !== ''} />}
    </Box>
  );
}
