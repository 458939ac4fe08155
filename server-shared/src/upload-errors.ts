/**
 * @module upload-errors
 * The coded refusals of the edge's telemetry uploads, as the edge gives them and the control
 * plane's OpenAPI document lists them (control-plane routes/edge-docs.ts).
 */
import type { ErrorCode, SketchChannel } from '@modelfleet/protocol';

/**
 * Every coded refusal of a telemetry upload, with when it happens and which channels can give it
 * (none listed: all four). The OpenAPI document (control-plane routes/edge-docs.ts) and SPEC 10.7
 * list these; test/registry/telemetry-spec.test.ts checks that the codes a client really gets are
 * the documented ones.
 */
export const UPLOAD_ERRORS: { code: ErrorCode; when: string; channels?: SketchChannel[] }[] = [
  {
    code: 'bad_request',
    when: 'device key missing or not 1–128 of A-Z a-z 0-9 . _ : -; version not a positive integer; phase on a channel other than step-health or not loaded/used; rollout not a rollout id',
  },
  {
    code: 'bad_request',
    when: "no ?rollout=, or the device is not in the rollout's challenger range (for the rollout's version) or control range (for the champion)",
    channels: ['step-health', 'step-sketches'],
  },
  {
    code: 'sketch_malformed',
    when: 'body shorter than the layout needs; bad magic or layout version; feature count differs from the layout; no feature present',
  },
  { code: 'app_key_invalid', when: 'x-modelfleet-app-key header missing or unknown' },
  { code: 'model_not_in_app', when: 'the app may not fetch this model' },
  { code: 'unknown_model', when: 'no model of that name' },
  { code: 'unknown_version', when: 'the version is not an active (served) version of the model' },
  {
    code: 'sketch_replayed',
    when: 'this device already uploaded for this (model, version, window, channel; phase for step-health)',
  },
  { code: 'payload_too_large', when: 'Content-Length or body over 65536 bytes, or body longer than the layout needs' },
  { code: 'unsupported_media_type', when: 'Content-Type is not application/octet-stream' },
  {
    code: 'sketch_schema_mismatch',
    when: "the upload's schema digest is not the layout's (sketched against another baseline)",
  },
  { code: 'sketch_not_normalized', when: "a present feature's bins do not sum to exactly 4096" },
  {
    code: 'sketch_out_of_range',
    when: 'a component outside [−16384, 16384], or an absent feature (bins all 0) with a non-zero component',
  },
  {
    code: 'no_baseline',
    when: 'the version was published without a monitoring baseline',
    channels: ['sketches', 'step-sketches'],
  },
  {
    code: 'window_closed',
    when: 'window is older than the one before the current (windows of WINDOW_SECONDS, default a UTC day), or was already closed and released',
    channels: ['sketches', 'health'],
  },
  {
    code: 'window_not_started',
    when: "window is after the current one (the device clock is ahead, or it numbers windows by another length than its ticket's windowSeconds)",
    channels: ['sketches', 'health'],
  },
  {
    code: 'window_closed',
    when: "the rollout is not running, the window is not the current step's sequence, or the step was already analysed",
    channels: ['step-health', 'step-sketches'],
  },
  {
    code: 'proof_required',
    when: 'no x-modelfleet-proof header (the proof returned with the ticket for this version)',
  },
  {
    code: 'proof_invalid',
    when: "the proof is not this edge's for this app, device and model; it is for another version; it is older than 3 days; or, for a step, it names another rollout, step or range",
  },
  {
    code: 'network_limited',
    when: 'the client network already added its cap of unattested devices to this aggregate (NETWORK_DEVICE_CAP, default 4)',
  },
  { code: 'rate_limited', when: 'too many requests from this device' },
  { code: 'internal', when: 'server fault; nothing was counted, retry later' },
  {
    code: 'window_length_invalid',
    when: "the server's WINDOW_SECONDS is not a window length (at least 10 s, dividing 86400); nothing was counted, retry later",
    channels: ['sketches', 'health'],
  },
];
