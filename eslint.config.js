import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layer order of DESIGN.md: mmu <- kernel <- syscalls <- userland <- lab <- shell.
// A layer may import only from itself and the layers below it.
const layers = ['mmu', 'kernel', 'syscalls', 'userland', 'lab', 'shell'];

function layerRule(layer) {
  const above = layers.slice(layers.indexOf(layer) + 1);
  const patterns = above.flatMap((up) => [`../${up}/*`, `../../${up}/*`, `../../../${up}/*`, `../${up}`, `../../${up}`]);
  return {
    files: [`${layer}/**/*.ts`, `${layer}/**/*.tsx`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: patterns, message: `layer order: ${layer}/ must not import from a higher layer (${above.join(', ')})` }],
      }],
    },
  };
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
  ...layers.slice(0, -1).map(layerRule),
);
