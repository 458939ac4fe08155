/**
 * @module @modelfleet/web-sdk
 * Download, verify, cache and run modelfleet models. See README.md for the two ways in
 * (npm ESM or the <script> IIFE) and protocol/SPEC.md for what is verified.
 */
export { createClient, type Client, type ClientOptions, type LoadedModel, type ModelStatus, type Runner } from './client.ts';
export { createEngine, type Engine, type Inputs, type Outputs } from './engine.ts';
export { SdkError, SDK_ERROR_CODES, type SdkErrorCode } from './errors.ts';
export { openStore, type ModelStore } from './store.ts';
export { syncModel, type SyncProgress, type SyncResult } from './sync.ts';
