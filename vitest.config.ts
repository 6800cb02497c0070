import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/queue/**', '**/node_modules/**'], // npm run test:queue: they need redis-server
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
