// The layer rule of eslint.config.js, run through ESLint's own API on small sources placed (by
// file path only; nothing is written) in the layers: it must fire on a forbidden import and stay
// quiet on an allowed one.

import { describe, it, expect, beforeAll } from 'vitest';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let eslint: ESLint;

/** The layer-rule messages ESLint reports for `code` as if it were the file at `path`. */
async function layerMessages(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${path}` });
  return result.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message);
}

describe('lint: the layer order', () => {
  beforeAll(() => { eslint = new ESLint({ cwd: root }); });

  it('forbids userland/ to import kernel/ or mmu/ (values, types, inline import types)', async () => {
    const kernel = await layerMessages('userland/fixture/prog.ts', "import { Kernel } from '../../kernel/kernel.js';\nexport const k = Kernel;\n");
    expect(kernel).toHaveLength(1);
    expect(kernel[0]).toMatch(/only through system calls/);
    const mmuType = await layerMessages('userland/prog.ts', "import type { Cpu } from '../mmu/cpu.js';\nexport type C = Cpu;\n");
    expect(mmuType).toHaveLength(1);
    const inline = await layerMessages('userland/fixture/prog.ts', "export type Y = import('../../kernel/proc/process.js').YieldRequest;\n");
    expect(inline).toHaveLength(1);
    const reexport = await layerMessages('userland/a/b/prog.ts', "export { SEG_2M } from '../../../kernel/spacejmp/spacejmp.js';\n");
    expect(reexport).toHaveLength(1);
  });

  it('forbids an upward import from any layer', async () => {
    const up = await layerMessages('kernel/vm/fixture.ts', "import { syscall } from '../../syscalls/dispatch.js';\nexport const s = syscall;\n");
    expect(up).toHaveLength(1);
    expect(up[0]).toMatch(/higher layer/);
    const toLab = await layerMessages('userland/fixture.ts', "import { runProgram } from '../lab/launch.js';\nexport const r = runProgram;\n");
    expect(toLab[0]).toMatch(/higher layer/);
    const toShell = await layerMessages('lab/gups/fixture.ts', "export const m = () => import('../../shell/cli.js');\n");
    expect(toShell).toHaveLength(1);
  });

  it('allows the imports the layers may use', async () => {
    expect(await layerMessages('userland/fixture/prog.ts',
      "import { SEG_2M } from '../../syscalls/abi.js';\nimport type { Runtime } from '../runtime.js';\nexport const f = (rt: Runtime) => SEG_2M + rt.pid;\n")).toEqual([]);
    expect(await layerMessages('lab/gups/fixture.ts',
      "import { Kernel } from '../../kernel/kernel.js';\nimport { Cpu } from '../../mmu/cpu.js';\nimport { Runtime } from '../../userland/runtime.js';\nimport { syscall } from '../../syscalls/dispatch.js';\nexport const all = [Kernel, Cpu, Runtime, syscall];\n")).toEqual([]);
    expect(await layerMessages('kernel/vm/fixture.ts', "import { Cpu } from '../../mmu/cpu.js';\nexport const c = Cpu;\n")).toEqual([]);
  });
});
