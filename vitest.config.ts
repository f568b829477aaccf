import { defineConfig } from 'vitest/config';

// One run across every workspace. Tests talk to real services (PostgreSQL, Redis, the embedded
// TimescaleDB, Chromium), so time-outs are generous; speed is measured by `npm run bench`, never here.
export default defineConfig({
  test: {
    include: ['{core,server,workers,simulator,load,web}/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    // The JSON report lets .ci/run print a plain 'N passed, N failed' line.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
