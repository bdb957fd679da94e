import { availableParallelism } from 'node:os';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // SWC instead of esbuild: Nest and TypeORM need decorator metadata (esbuild does not emit it).
  plugins: [
    swc.vite({
      tsconfigFile: false,
      module: { type: 'es6' },
      jsc: {
        target: 'es2023',
        keepClassNames: true,
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      },
    }),
  ],
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Test files mostly wait on servers, PostgreSQL and child processes: two at once even on two cores, where
    // Vitest's default (one fewer than the cores) would run them one after the other.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Real servers and child processes: generous limits, never a timing assertion.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
