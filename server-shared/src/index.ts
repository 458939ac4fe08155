/**
 * @module @modelfleet/server-shared
 * What the edge runtime and the control plane both need, in the one Worker that runs them: the
 * HTTP error and its body, the Worker's variables and their defaults, storage keys and integrity
 * checks, signers from secrets, the aggregate Durable Object's interface and the served layouts.
 * It imports neither of them, so both can import it.
 */
export { ApiError, errorBody, errorResponse, statusOf } from './http-error.ts';
export {
  ConfigError,
  VAR_DEFAULTS,
  type VarName,
  type VarSource,
  type Vars,
  WorkerVars,
  vars,
  windowSeconds,
} from './env.ts';
export { r2Key } from './storage-keys.ts';
export { type StoredKind, Verdicts, corruptError, isIntact, recordFault, storedDigest } from './integrity.ts';
export { signerFromSecret } from './secret-signer.ts';
export { APP_KEY_PREFIX } from './app-keys.ts';
export { forgetAssignments, onForgetAssignments } from './assignments.ts';
export { TtlCache } from './ttl-cache.ts';
export {
  type AddResult,
  type AggregateStatus,
  type Aggregator,
  type AggregatesEnv,
  type IncrementRelease,
  type NetworkCounts,
  type Release,
  type UploadSource,
  aggregateStub,
} from './aggregates.ts';
export { type RegistryReader, activeManifestDigest, layoutFor, layoutForVersion } from './layouts.ts';
export { UPLOAD_ERRORS } from './upload-errors.ts';
