// The project's version, read from package.json beside dist/ (or the source tree).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export function version(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, '..', '..', 'package.json'), join(here, '..', 'package.json')]) {
    try { return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version; } catch { /* next */ }
  }
  return 'unknown';
}
