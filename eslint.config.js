import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layer order of DESIGN.md: mmu <- kernel <- syscalls <- userland <- lab <- shell.
// A layer may import only from itself and the layers it may use: every layer below it, except
// userland, which sees the machine only through system calls — it may use syscalls/ (whose
// syscalls/abi.ts carries the types and constants programs need) but neither kernel/ nor mmu/.
const layers = ['mmu', 'kernel', 'syscalls', 'userland', 'lab', 'shell'];
const skipsBelow = { userland: ['kernel', 'mmu'] };
const MAX_DEPTH = 5;

/** The layers `layer` must not import, each with the reason. */
function forbidden(layer) {
  const above = layers.slice(layers.indexOf(layer) + 1);
  const below = skipsBelow[layer] ?? [];
  return [
    ...(above.length ? [{ names: above, message: `layer order: ${layer}/ must not import from a higher layer (${above.join(', ')})` }] : []),
    ...(below.length ? [{ names: below, message: `${layer}/ reaches the machine only through system calls: import syscalls/ (types and constants from syscalls/abi.ts), not ${below.join('/ or ')}/` }] : []),
  ];
}

// A relative import leaves the file's folder with exactly one `../` per folder level, so a file at
// depth d names another layer as `../` d times then the layer's folder. One config block per depth
// makes the match exact (a folder of the same name inside a layer is not mistaken for the layer).
// The `/` is written \x2F because ESLint's selector syntax ends a regex at the first slash.
const slash = '\\x2F';
const upTo = (d) => `^(\\.\\.${slash}){${d}}`;

function layerRules(layer) {
  const rules = forbidden(layer);
  if (!rules.length) return [];
  return Array.from({ length: MAX_DEPTH }, (_, i) => {
    const d = i + 1;
    const re = (names) => `${upTo(d)}(${names.join('|')})(${slash}|$)`;
    const restricted = rules.map((r) => ({ regex: re(r.names).replaceAll(slash, '/'), message: r.message }));
    const syntax = rules.flatMap((r) => [
      { selector: `ImportExpression[source.value=/${re(r.names)}/]`, message: r.message },
      { selector: `TSImportType[source.value=/${re(r.names)}/]`, message: r.message },
    ]);
    return {
      files: [`${layer}/${'*/'.repeat(d - 1)}*.ts`, `${layer}/${'*/'.repeat(d - 1)}*.tsx`],
      rules: {
        'no-restricted-imports': ['error', { patterns: restricted }],
        'no-restricted-syntax': ['error', ...syntax],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layers.flatMap(layerRules),
);
