import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: two workers, each test file in its own process.
    pool: 'forks',
    maxWorkers: 2,
  },
});
