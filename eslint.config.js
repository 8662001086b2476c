// Lint: typescript-eslint (type-aware where cheap) + nx module boundaries.
// Boundaries: apps may import libs; libs never import apps; drivers (vfs, devmapper) never import
// each other; errors (layer:root) imports nothing of ours; objectstore, plugin-protocol,
// control-api and cli-kit (layer:base) only errors; blockstore (layer:core) only those.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', 'test-fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'No default exports: name what you export.' },
        {
          // `sum += await f()` reads `sum` before the await: concurrent callers overwrite each other's additions.
          selector: 'AssignmentExpression[operator=/^[-+*|&]=$/] > AwaitExpression.right',
          message: 'x += await y reads x before the await and loses concurrent updates: await into a const first.',
        },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          // the shared test configuration in tools/vitest is not a project: test files may import it
          allow: ['^(\\.\\./)+(tools/)?vitest/[\\w-]+\\.js$'],
          depConstraints: [
            { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:lib'] },
            { sourceTag: 'scope:lib', onlyDependOnLibsWithTags: ['scope:lib'] },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:lib'] },
            { sourceTag: 'layer:root', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'layer:rules', onlyDependOnLibsWithTags: ['layer:root'] },
            { sourceTag: 'layer:base', onlyDependOnLibsWithTags: ['layer:root', 'layer:rules'] },
            { sourceTag: 'layer:core', onlyDependOnLibsWithTags: ['layer:root', 'layer:rules', 'layer:base'] },
            { sourceTag: 'layer:contract', onlyDependOnLibsWithTags: ['layer:root', 'layer:rules', 'layer:base', 'layer:core'] },
            {
              sourceTag: 'type:driver',
              onlyDependOnLibsWithTags: ['layer:root', 'layer:rules', 'layer:base', 'layer:core', 'layer:contract'],
            },
            {
              sourceTag: 'layer:manager',
              onlyDependOnLibsWithTags: ['layer:root', 'layer:rules', 'layer:base', 'layer:core', 'layer:contract', 'type:driver'],
            },
          ],
        },
      ],
    },
  },
  {
    // the bins and their launcher are CommonJS, so that an old Node gets far enough to say what it needs
    files: ['**/bin/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // tool configs (vitest, vite) must default-export their config
    files: ['**/vitest.config.ts', '**/vite.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
