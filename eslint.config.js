// Lint: typescript-eslint's recommended rules over sources, tests and benchmarks, and the import rule of
// ARCHITECTURE.md (a part imports only the parts below it in the table, and core).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PARTS = ['core', 'rego', 'agent', 'k8s', 'verity', 'oci', 'policy', 'attest', 'guest', 'node', 'demo', 'cli'];

/** ARCHITECTURE.md's "may import" column; core is allowed everywhere. */
const MAY_IMPORT = {
  core: [],
  rego: [],
  agent: ['rego'],
  k8s: [],
  verity: [],
  oci: ['verity'],
  policy: ['k8s', 'oci', 'verity', 'agent', 'rego'],
  attest: ['rego'],
  guest: ['attest'],
  node: ['attest'],
  demo: PARTS.filter((p) => p !== 'cli'),
  cli: PARTS,
};

/** One block per part: relative imports that climb into a part it may not use are errors. */
const importRule = Object.entries(MAY_IMPORT).map(([part, allowed]) => {
  const forbidden = PARTS.filter((p) => p !== part && p !== 'core' && !allowed.includes(p));
  return {
    files: [`src/${part}/**/*.ts`],
    rules: {
      'no-restricted-imports': forbidden.length === 0 ? 'off' : ['error', {
        patterns: [{
          regex: `^(\\.\\./)+(${forbidden.join('|')})/`,
          message: `src/${part} may import only ${['core', ...allowed].join(', ')} (ARCHITECTURE.md, the folder table)`,
        }],
      }],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', '.bench-dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...importRule,
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
