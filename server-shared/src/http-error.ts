/**
 * @module http-error
 * The one HTTP error of the Worker: a protocol error code plus the status it maps to. Routes
 * throw it; `errorResponse` renders `{ error: { code, message, details? } }` (protocol/errors).
 */
import { type ApiErrorBody, type ErrorCode, ProtocolError } from '@modelfleet/protocol';

const STATUS: Partial<Record<ErrorCode, number>> = {
  bad_request: 400,
  unknown_field: 400,
  malformed_model_json: 400,
  malformed_document: 400,
  unsupported_dtype: 400,
  unauthorized: 401,
  token_expired: 401,
  app_key_invalid: 401,
  forbidden: 403,
  model_not_in_app: 403,
  csrf_failed: 403,
  not_found: 404,
  unknown_model: 404,
  unknown_version: 404,
  method_not_allowed: 405,
  conflict: 409,
  last_admin: 409,
  model_exists: 409,
  version_rejected: 409,
  upload_committed: 409,
  upload_incomplete: 409,
  upload_expired: 410,
  payload_too_large: 413,
  manifest_too_large: 413,
  unsupported_media_type: 415,
  weights_mismatch: 422,
  chunk_digest_mismatch: 422,
  chunk_not_in_upload: 422,
  validation_failed: 422,
  root_invalid: 422,
  bad_signature: 422,
  threshold_not_met: 422,
  unknown_key: 422,
  root_expired: 422,
  rate_limited: 429,
  sketch_malformed: 400,
  sketch_schema_mismatch: 422,
  sketch_not_normalized: 422,
  sketch_out_of_range: 422,
  sketch_replayed: 409,
  no_baseline: 422,
  window_closed: 422,
  window_not_started: 422,
  webhook_url_invalid: 422,
  webhook_target_forbidden: 422,
  gate_failed: 422,
  policy_violation: 422,
  no_eval_set: 404,
  eval_set_mismatch: 422,
  plan_cannot_decide: 422,
  // 403, not 429: a device's outbox retries 429 and 5xx; these are final for that upload.
  proof_required: 401,
  proof_invalid: 403,
  network_limited: 403,
  internal: 500, // a server fault, coded or not (errorResponse renders unknown errors as this too)
  no_root: 503,
  signing_key_missing: 503,
  signing_key_not_in_root: 503,
  window_length_invalid: 503, // WINDOW_SECONDS misconfigured: a device's outbox keeps the upload and retries
  content_corrupt: 503, // stored bytes failed their digest: withheld until repaired, never cached
};

/** The HTTP status a coded error is answered with (400 for codes without their own). */
export const statusOf = (code: ErrorCode): number => STATUS[code] ?? 400;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly status: number = statusOf(code),
  ) {
    super(message);
  }

  static from(error: ProtocolError): ApiError {
    return new ApiError(error.code, error.message, error.details);
  }
}

export function errorBody(code: ErrorCode, message: string, details?: unknown): ApiErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/** Renders any thrown value; unknown errors become a generic 500 without internals. */
export function errorResponse(error: unknown, headers?: HeadersInit): Response {
  const e = error instanceof ProtocolError ? ApiError.from(error) : error;
  if (e instanceof ApiError)
    return Response.json(errorBody(e.code, e.message, e.details), { status: e.status, headers });
  console.error('unhandled error', error);
  return Response.json(errorBody('internal', 'internal error; the request changed nothing, retry later'), {
    status: 500,
    headers,
  });
}
