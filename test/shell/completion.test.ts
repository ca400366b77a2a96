import { describe, expect, it } from 'vitest';
import { complete, applyCompletion, type CompletionSources } from '../../shell/interactive/completion.js';

const src: CompletionSources = {
  commands: ['help', 'processes', 'ps', 'pt', 'vmmap', 'run', 'save', 'segments', 'spaces', 'stats'],
  calls: ['vas_create', 'vas_find', 'vas_attach', 'vas_switch', 'seg_alloc', 'seg_attach', 'mmap'],
  keywords: ['process', 'as', 'load64', 'store64'],
  names: ['vid', 'vh', 'sid', 'base'],
  processes: ['init', 'alice', 'bob'],
  constants: ['PRIMARY', 'PROT_READ', 'RW', 'MAP_FIXED'],
  objectNames: ['shared', 'data'],
  fileCommands: ['run', 'save'],
  processCommands: ['vmmap', 'pt'],
  helpCommands: ['help'],
  listFiles: (p) => ['examples/', 'examples/alice-bob.trace'].filter((f) => f.startsWith(p)),
};

const at = (line: string) => {
  const c = complete(line, line.length, src);
  return c ? { ...applyCompletion(line, c), candidates: c.candidates } : null;
};

describe('completion', () => {
  it('completes a syscall name and opens its parenthesis', () => {
    expect(at('vas_sw')?.text).toBe('vas_switch(');
  });

  it('lists ambiguous candidates and inserts their common prefix', () => {
    const r = at('vas_');
    expect(r?.text).toBe('vas_');
    expect(r?.candidates).toEqual(['vas_attach', 'vas_create', 'vas_find', 'vas_switch']);
  });

  it('completes shell commands and statements at the start of a line', () => {
    expect(at('vmm')?.text).toBe('vmmap ');
    expect(at('proc')?.candidates).toEqual(['process', 'processes']);
  });

  it('completes bound names in arguments', () => {
    expect(at('vas_attach(vi')?.text).toBe('vas_attach(vid');
    expect(at('store64 ba')?.text).toBe('store64 base');
  });

  it('completes constants by their uppercase start', () => {
    expect(at('seg_attach(PRI')?.text).toBe('seg_attach(PRIMARY');
  });

  it('completes process names after as, @ and view commands', () => {
    expect(at('as al')?.text).toBe('as alice ');
    expect(at('@b')?.text).toBe('@bob ');
    expect(at('vmmap b')?.text).toBe('vmmap bob ');
  });

  it('completes address-space and segment names inside quotes', () => {
    expect(at('vas_find("sh')?.text).toBe('vas_find("shared"');
    expect(at('seg_find("d')?.text).toBe('seg_find("data"');
  });

  it('completes file names after run and save', () => {
    expect(at('run exa')?.text).toBe('run examples/');
    expect(at('run examples/al')?.text).toBe('run examples/alice-bob.trace ');
  });

  it('completes help topics', () => {
    expect(at('help vas_cr')?.text).toBe('help vas_create ');
  });

  it('returns null when nothing fits', () => {
    expect(at('zzz')).toBeNull();
  });
});

describe('completion inside a call\'s arguments', () => {
  it('offers values (names, processes, constants), never call names', () => {
    expect(at('vas_attach(v')?.candidates).toEqual(['vh', 'vid']);
    expect(at('seg_attach(vid, s')?.text).toBe('seg_attach(vid, sid');
    expect(at('mmap(base, 4096, R')?.text).toBe('mmap(base, 4096, RW');
    expect(at('vas_find("x", a')?.text).toBe('vas_find("x", alice');
    expect(at('vas_attach(vas_')).toBeNull();
  });

  it('after the call closes, a value may be a call again', () => {
    expect(at('x = vas_f')?.text).toBe('x = vas_find(');
    expect(at('vas_attach(vid) = v')?.candidates).toEqual(['vas_attach', 'vas_create', 'vas_find', 'vas_switch', 'vh', 'vid']);
  });
});
