import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/build-cli.ts', 'test/setup/cache-home.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests compile fixtures with gcc and spawn QEMU: two workers fit a 2-core machine.
    maxWorkers: 2,
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
