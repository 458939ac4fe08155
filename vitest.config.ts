import { defineConfig } from 'vitest/config';

// One Node-side runner: suites that need the Worker start it in workerd through Miniflare
// (test/harness/worker.ts) from the bundle that `wrangler deploy --dry-run` produces.
export default defineConfig({
  test: {
    include: ['protocol/**/*.test.ts', 'edge-runtime/**/*.test.ts', 'control-plane/**/*.test.ts', 'web-sdk/**/*.test.ts', 'mobile-bridge/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: run files in parallel but not so many workerd instances that they starve.
    maxWorkers: 2,
  },
});
