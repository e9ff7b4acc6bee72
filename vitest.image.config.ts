import { defineConfig } from 'vitest/config';

// `npm run test:image`: builds the agent image (minutes on a cold cache) and checks every tool in it.
export default defineConfig({
  test: {
    include: ['test/image/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 5 * 60_000,
    hookTimeout: 30 * 60_000,
  },
});
