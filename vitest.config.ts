import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC (not esbuild) compiles the tests: Nest's DI needs `emitDecoratorMetadata`, which esbuild lacks.
const swcPlugin = () =>
  swc.vite({
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
  });

const alias = { 'nestjs-mq-pool': new URL('./lib/index.ts', import.meta.url).pathname };

export default defineConfig({
  plugins: [swcPlugin()],
  resolve: { alias },
  test: {
    // One file at a time across ALL projects: integration, e2e and reliability files share the
    // brokers, disposable nodes and the built dist/ (several rebuild it), so a file of one project
    // must never overlap a file of another, whatever the machine's core count.
    fileParallelism: false,
    // After Vitest's own summary: every skipped test by name, with the reason (nothing skips silently).
    reporters: ['default', './test/support/skip-summary.reporter.ts'],
    projects: [
      {
        plugins: [swcPlugin()],
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['test/unit/**/*.spec.ts'],
          testTimeout: 10_000,
        },
      },
      {
        plugins: [swcPlugin()],
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/integration/**/*.spec.ts'],
          globalSetup: ['test/support/brokers.global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Integration files share real brokers and disposable nodes; run them one at a time.
          fileParallelism: false,
        },
      },
      {
        plugins: [swcPlugin()],
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.spec.ts'],
          globalSetup: ['test/support/brokers.global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        plugins: [swcPlugin()],
        resolve: { alias },
        test: {
          // Faults, load and bad input (issue 8): each scenario prints and records its figure.
          name: 'reliability',
          include: ['test/reliability/**/*.spec.ts'],
          globalSetup: ['test/support/brokers.global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
