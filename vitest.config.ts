import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // TF.js keeps one global engine per process: run files in separate forks, tests within a file in order.
    pool: 'forks',
    fileParallelism: false,
  },
});
