import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests: real Redis, a simulator over loopback HTTP, child processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    // The two workers keep their modules from one file to the next: isolated, each of the 160 files
    // evaluated the app's module graph (BullMQ, fastify, the simulator, zod schemas) afresh, most of
    // a suite's CPU time on a busy 2-vCPU machine (docs/development.md "Test-suite time"). Files
    // share no state through modules: each has its own QUEUE_PREFIX, simulator, servers and
    // environment variable names, and closes what it opens.
    isolate: false,
    reporters: ['default', './test/support/summary-line-reporter.ts'],
    // The command the tests spawn runs dist/: rebuilt first when a source changed.
    globalSetup: ['./test/support/build-dist.ts'],
  },
});
