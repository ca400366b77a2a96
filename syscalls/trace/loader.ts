// Reading trace files from the host file system, for `sjmp trace` and the shell's include.
// Kept apart from the parser so the parser itself stays free of I/O (tests pass in-memory loaders).

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { FileLoader } from './parser.js';

/**
 * Resolves an include relative to the including file (the entry file relative to baseDir). Files
 * are named relative to the current directory when inside it (`examples/a.trace:3:5: ...`, as a
 * compiler prints them), absolute otherwise; either way one file has one name.
 */
export function nodeFileLoader(baseDir: string = process.cwd()): FileLoader {
  return (path, fromFile) => {
    const from = fromFile === '' || fromFile.startsWith('<') ? baseDir : dirname(resolve(fromFile));
    const abs = isAbsolute(path) ? path : resolve(from, path);
    const rel = relative(process.cwd(), abs);
    const file = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
    try {
      return { file, text: readFileSync(abs, 'utf8') };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return { error: code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message };
    }
  };
}

/** An in-memory loader (tests, embedded examples): paths are resolved like POSIX paths. */
export function memoryLoader(files: Readonly<Record<string, string>>): FileLoader {
  return (path, fromFile) => {
    const dir = fromFile === '' || fromFile.startsWith('<') || !fromFile.includes('/') ? '' : fromFile.slice(0, fromFile.lastIndexOf('/') + 1);
    const file = normalise(path.startsWith('/') ? path : dir + path);
    const text = files[file];
    return text === undefined ? { error: 'no such file' } : { file, text };
  };
}

function normalise(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '..') out.pop();
    else if (part !== '.' && part !== '') out.push(part);
  }
  return (p.startsWith('/') ? '/' : '') + out.join('/');
}
