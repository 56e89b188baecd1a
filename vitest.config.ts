import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (no I/O beyond temp files and embedded DuckDB) and `integration`
 * (a real Kafka broker and the Redpanda Connect binary, brought up by test/setup/integration.ts).
 */
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'node_modules/**'],
          globalSetup: ['test/setup/build.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/build.ts', 'test/setup/integration.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // One broker for the whole suite: run integration files one at a time so their
          // throughput figures and timeouts do not fight over the two cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
