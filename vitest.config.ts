import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // test/image is its own suite (npm run test:image): it builds the full agent image.
    include: ['test/{unit,integration,e2e}/**/*.test.ts'],
    // Integration tests share one Docker engine on a small machine: two files at a time is plenty.
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
