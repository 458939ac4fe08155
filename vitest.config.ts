import { defineConfig } from 'vitest/config';
// @ts-expect-error — a plain .mjs helper without declarations
import { workspaceSources } from './scripts/lib/workspace-sources.mjs';

// Workspace packages resolve to their sources here, as tsconfig's paths say (their published
// exports point at builds). Longest specifiers first, so '@modelfleet/protocol/bridge' wins.
const sources = Object.entries(workspaceSources() as Record<string, string>).sort(([a], [b]) => b.length - a.length);

// One Node-side runner: suites that need the Worker start it in workerd through Miniflare
// (test/harness/worker.ts) from the bundle that `wrangler deploy --dry-run` produces.
export default defineConfig({
  resolve: { alias: sources.map(([find, replacement]) => ({ find: new RegExp(`^${find}$`), replacement })) },
  test: {
    include: [
      'protocol/**/*.test.ts',
      'server-shared/**/*.test.ts',
      'edge-runtime/**/*.test.ts',
      'control-plane/**/*.test.ts',
      'web-sdk/**/*.test.ts',
      'mobile-bridge/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: run files in parallel but not so many workerd instances that they starve.
    maxWorkers: 2,
  },
});
