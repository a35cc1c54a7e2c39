// Lint: typescript-eslint (type-checked) plus the layering of DESIGN.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const bannedInCore = [
  { name: 'Date', message: 'core/ is sans-IO: time comes in as an argument (now).' },
  { name: 'performance', message: 'core/ is sans-IO: time comes in as an argument (now).' },
  { name: 'setTimeout', message: 'core/ is sans-IO: report deadlines through pollTimeout().' },
  { name: 'setInterval', message: 'core/ is sans-IO: report deadlines through pollTimeout().' },
  { name: 'setImmediate', message: 'core/ is sans-IO.' },
  { name: 'queueMicrotask', message: 'core/ is sans-IO.' },
  { name: 'process', message: 'core/ is sans-IO.' },
  { name: 'Buffer', message: 'core/ uses Uint8Array, not node Buffer.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'dist-check/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...bannedInCore],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'core/ draws from the injected seeded Rng.' }],
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'net', 'dgram', 'crypto', 'os', 'path', 'timers', 'perf_hooks'], message: 'core/ is sans-IO: no node modules.' },
          { group: ['**/sim/**', '**/runtime/**', '**/transport/**', '**/store/**', '**/agent/**', '**/cli/**', '**/dashboard/**', '**/yjs/**', '**/hocuspocus/**', 'yjs', 'y-protocols/*', 'lib0/*', 'ws'], message: 'core/ imports only wire types (DESIGN.md layering).' },
        ],
      }],
    },
  },
  {
    files: ['src/wire/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/core/**', '**/sim/**', '**/runtime/**', '**/transport/**', '**/store/**', '**/agent/**', '**/cli/**'], message: 'wire/ imports nothing of ours (DESIGN.md layering).' }] }],
    },
  },
  {
    files: ['src/sim/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...bannedInCore.filter((b) => b.name !== 'Buffer')],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'sim/ draws from the seeded Rng: same seed, same run.' }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/runtime/**', '**/agent/**', '**/cli/**', '**/dashboard/**'], message: 'sim/ uses core, wire, transport and store only (DESIGN.md layering).' }] }],
    },
  },
  {
    files: ['src/yjs/**/*.ts', 'src/hocuspocus/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/agent/**', '**/cli/**', '**/dashboard/**', '**/sim/**', '**/clusterbench/**', '**/core/**'], message: 'yjs/ and hocuspocus/ build on the runtime\'s public API (DESIGN.md layering: adapters).' }] }],
    },
  },
  {
    files: ['src/cli/**/*.ts', 'src/dashboard/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/runtime/**', '**/transport/**', '**/store/**'], message: 'cli/ and dashboard/ use the public API or the agent HTTP API (DESIGN.md layering).' }] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'tests draw from a seeded Rng.' }],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  { files: ['*.js', '*.config.*'], ...tseslint.configs.disableTypeChecked },
);
