// `npm run lint`: typescript-eslint (type-aware) and our rules; formatting is prettier's (see .prettierrc.json), the
// layer direction dependency-cruiser's (.dependency-cruiser.cjs).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import keyedLookup from './tools/lint/keyed-lookup.mjs';

export default tseslint.config(
  {
    ignores: ['dist/', 'dist-bench/', 'dist-tools/', 'node_modules/', 'coverage/', '.cache/', '.local/', 'bench/peer/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { local: { rules: { 'keyed-lookup': keyedLookup } } },
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          // `x as unknown as T` silences the type checker; say what the value is instead.
          selector: 'TSAsExpression > TSAsExpression.expression[typeAnnotation.type="TSUnknownKeyword"]',
          message: "No 'as unknown as': type the value properly (a narrowing function, a typed module augmentation).",
        },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // The service's own code: request input never indexes a plain object.
    files: ['src/**/*.ts'],
    rules: { 'local/keyed-lookup': 'error' },
  },
  {
    // Small files: the whole of src/ stays readable one file at a time.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts'],
    rules: { 'max-lines': ['error', { max: 300 }] },
  },
  {
    // Tests read loosely typed JSON answers and build hostile input (control characters) on purpose.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-control-regex': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  prettier,
);
