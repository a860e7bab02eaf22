// @ts-check
/**
 * Lint for the whole tree (`npx eslint .`, run by `npm test` with --max-warnings 0):
 * - @eslint/js and typescript-eslint's recommended rules, React's rules of hooks;
 * - no import cycle anywhere in src/ (import-x/no-cycle, types included);
 * - the folder boundaries of layers.config.js (eslint-plugin-boundaries): what each folder of src/ may import.
 * Formatting is Prettier's (.prettierrc.json), checked by `npx prettier --check .`.
 */
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { LAYERS } from './layers.config.js';

const layerNames = Object.keys(LAYERS);

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'models/**',
      'public/**',
      'e2e-artifacts/**',
      'test-results/**',
      'playwright-report/**',
      '.cache/**',
      'node_modules/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    plugins: { 'import-x': importX, boundaries },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.node.json' })],
      'boundaries/elements': [
        ...layerNames.map((type) => ({ type, pattern: `src/${type}`, partialMatch: true })),
        { type: 'testing', pattern: 'src/testing' },
      ],
      'boundaries/files': [
        { category: 'test', pattern: '**/*.test.{ts,tsx}' },
        { category: 'entry', pattern: 'src/main.tsx' },
      ],
      'import/resolver': { typescript: { project: './tsconfig.node.json' }, node: true },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'boundaries/no-unknown-files': 'error',
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [
            ...layerNames.map((layer) => ({
              from: { element: { type: layer } },
              allow: { to: { element: { types: { anyOf: [layer, ...(LAYERS[layer] ?? [])] } } } },
            })),
            // The page's entry (src/main.tsx) is the UI's.
            { from: { file: { categories: 'entry' } }, allow: { to: { element: { types: { anyOf: ['ui', ...(LAYERS['ui'] ?? [])] } } } } },
            // Tests and their helpers may reach anything they check.
            { from: { file: { categories: 'test' } }, allow: { to: { element: { types: { anyOf: [...layerNames, 'testing'] } } } } },
            { from: { element: { type: 'testing' } }, allow: { to: { element: { types: { anyOf: [...layerNames, 'testing'] } } } } },
          ],
        },
      ],
    },
  },
);
