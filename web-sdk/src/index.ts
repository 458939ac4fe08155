/**
 * @module @modelfleet/web-sdk
 * Download, verify, cache and run modelfleet models. In browsers, `createClient` runs inference
 * in a Web Worker; `@modelfleet/web-sdk/engine` gives the TF.js engine for inline use (Node,
 * tests). See README.md and protocol/SPEC.md.
 */
export * from './browser.ts';
export { openStore, type ModelStore } from './store.ts';
export { syncModel, type SyncResult } from './sync.ts';
