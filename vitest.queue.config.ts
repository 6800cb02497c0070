// The queue's integration tests (test/queue): they start a real redis-server
// (Debian package redis-server). `npm run test:queue`; .ci/run installs the
// package when it is missing and runs them after `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/queue/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
