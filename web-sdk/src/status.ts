/**
 * @module status
 * What `client.status()` reports for each model it has loaded.
 */
import type { Backend } from '@modelfleet/protocol';

export type ModelStatus = {
  version: number | null;
  cachedVersion: number | null;
  state: 'ready' | 'update-ready' | 'stale' | 'offline' | 'error';
  backend: Backend | null;
  lastError: { code: string; message: string } | null;
  lastSync: string | null;
  /** Backends preferred over the one running that did not start, with TF.js's reason (e.g. a WASM binary that 404s). */
  backendProblems: { backend: Backend; reason: string }[];
};
