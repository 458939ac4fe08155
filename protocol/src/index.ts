/**
 * @module @modelfleet/protocol
 * Every wire format of modelfleet and the pure functions on them. No platform imports:
 * only the globals shared by workerd, browsers and Node (crypto.subtle, TextEncoder, atob).
 *
 * What devices parse (envelope, root, ticket, ticket bundle, manifest with its io and baseline,
 * the API error body) is written in zod/mini, which keeps classic zod off every page that ships
 * the web SDK; operator requests (api.ts, golden.ts, rollout.ts, webhook.ts) stay classic. The
 * package is free of side effects, so a bundler drops the modules a device does not use.
 */
export * from './encoding.ts';
export * from './errors.ts';
export * from './keys.ts';
export * from './envelope.ts';
export * from './root.ts';
export * from './keyset.ts';
export * from './baseline.ts';
export * from './baseline-build.ts';
export * from './input-stats.ts';
export * from './random.ts';
export * from './io-schema.ts';
export * from './golden.ts';
export * from './tfjs-model.ts';
export * from './json-depth.ts';
export * from './manifest.ts';
export * from './ticket.ts';
export * from './ticket-bundle.ts';
export * from './client-steps.ts';
export * from './api.ts';
export * from './admin-views.ts';
export * from './eval-set.ts';
export * from './credentials.ts';
export * from './storage.ts';
export * from './device-request.ts';
export * from './sketch.ts';
export * from './sketch-upload.ts';
export * from './window.ts';
export * from './sketch-aggregate.ts';
export * from './discrete-gaussian.ts';
export * from './webhook-events.ts';
export * from './webhook.ts';
export * from './health.ts';
export * from './fleet.ts';
export * from './drift-views.ts';
export * from './privacy-ledger.ts';
export * from './rollout.ts';
export * from './rollout-policy.ts';
export * from './rollout-power.ts';
export * from './rollout-view.ts';
export * from './upload-proof.ts';
