// The real shell in a pseudo-terminal: tmux runs it at 100x30, the test types the Alice/Bob
// scenario line by line and reads the screen with capture-pane.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALICE_BOB } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const socket = `sjmp-e2e-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });

/** `sjmp shell` once the CLI has it; until then the shell's own launcher (same startShell). */
function shellCommand(): string {
  const help = spawnSync(process.execPath, [join(root, 'dist/shell/cli.js'), '--help'], { encoding: 'utf8' }).stdout ?? '';
  return /^\s+shell\b/m.test(help) ? 'dist/shell/cli.js shell' : 'dist/shell/interactive/launch.js';
}

// -J joins wrapped lines, so a long typed line reads back whole.
const screen = () => tmux('capture-pane', '-p', '-J', '-t', 'e2e');
const promptLine = (s: string) => s.trimEnd().split('\n').at(-1)?.trimEnd() ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Generous limits: the suite runs beside CPU-heavy property tests on a 2-core machine.
async function waitFor(pred: (s: string) => boolean, ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  let s = screen();
  while (!pred(s) && Date.now() < end) {
    await sleep(50);
    s = screen();
  }
  return s;
}

/**
 * Type a line, wait until it shows on the prompt (so no keystroke races the previous command),
 * press Enter and wait until it has been taken (the prompt line is empty again).
 */
async function typeLine(line: string): Promise<string> {
  const text = line.trimEnd();
  if (text) {
    tmux('send-keys', '-t', 'e2e', '-l', text);
    // A line wider than the prompt shows only its end (the prompt cuts at the start).
    await waitFor((s) => promptLine(s).endsWith(text.slice(-60)));
  }
  tmux('send-keys', '-t', 'e2e', 'Enter');
  // Twice in a row: a capture taken while Ink redraws can end at an echoed `...> ` line.
  const idle = (s: string) => /^(sjmp [\w.]+|\.\.\.)>$/.test(promptLine(s));
  let s = await waitFor(idle);
  for (let i = 0; i < 100 && !idle((s = screen())); i++) s = await waitFor(idle);
  return s;
}

describe.skipIf(!hasTmux)('sjmp shell in a terminal (tmux)', () => {
  let config = '';
  beforeAll(async () => {
    // CI=true on purpose: sjmp shell must draw at a terminal even where Ink would think it is in CI.
    config = mkdtempSync(join(tmpdir(), 'sjmp-e2e-'));
    tmux('new-session', '-d', '-s', 'e2e', '-x', '100', '-y', '30', '-c', root, `env CI=true XDG_CONFIG_HOME=${config} TERM=xterm-256color ${process.execPath} ${shellCommand()}`);
    await waitFor((s) => s.includes('sjmp init>'));
  });
  afterAll(() => {
    try { tmux('kill-server'); } catch { /* already gone */ }
    rmSync(config, { recursive: true, force: true });
  });

  it('types the Alice/Bob scenario and reads the results and views off the screen', async () => {
    for (const line of readFileSync(ALICE_BOB, 'utf8').split('\n')) await typeLine(line);
    // The result line, not the echo of the typed statement (which shows before the block has run).
    let s = await waitFor((x) => /\[bob\[3\]\] vas_detach\(\S+\) = 0/.test(x));
    expect(s).toContain('[bob[3]] load64 0x4000_0000_0000 = 0xb0b');
    expect(s).toContain('[bob[3]] load64 0x4000_0000_0010 = 0');

    await typeLine('spaces');
    s = await waitFor((x) => x.includes('── address spaces'));
    expect(s).toContain('vid 1 "shared"  rw-rw----  owner 1000:100');
    expect(s).toContain('segment 1 "data"  0x4000_0000_0000  2M  rw-');

    await typeLine('pt bob walk base');
    s = await waitFor((x) => x.includes('=> physical'));
    expect(s).toMatch(/PML4 table 0x\S+ \[128\]/);

    await typeLine('as bob');
    await typeLine('vmmap bob 0x10001');
    s = await waitFor((x) => x.includes('vmmap 0x10001') || x.includes('has no handle'));
    expect(s).not.toContain('<stdin>:');
    expect(s).toContain('bob[3] has no handle 0x1_0001');
    expect(s).toMatch(/sjmp bob>/);
    process.stdout.write(`\n--- screen after the Alice/Bob session ---\n${s}\n`);

    tmux('send-keys', '-t', 'e2e', 'C-d');
    const alive = () => spawnSync('tmux', ['-L', socket, 'has-session', '-t', 'e2e']).status === 0;
    for (let i = 0; i < 100 && alive(); i++) await sleep(50);
    expect(alive()).toBe(false);
    expect(readFileSync(join(config, 'sjmp', 'history'), 'utf8')).toContain('vh = vas_attach(shared) = >0');
  }, 300_000);
});
