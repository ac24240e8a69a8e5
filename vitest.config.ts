import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests: real Redis, a simulator over loopback HTTP, child processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-line-reporter.ts'],
    // The command the tests spawn runs dist/: rebuilt first when a source changed.
    globalSetup: ['./test/support/build-dist.ts'],
  },
});
