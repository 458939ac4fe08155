/**
 * @module errors
 * The API error body and the closed list of codes every modelfleet component speaks.
 * A code is something a caller can switch on; the message says what to do next.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

export const ERROR_CODES = [
  // request shape
  'bad_request',
  'unknown_field',
  'unsupported_media_type',
  'payload_too_large',
  'not_found',
  'method_not_allowed',
  'conflict',
  // auth
  'unauthorized',
  'token_expired',
  'forbidden',
  'app_key_invalid',
  'model_not_in_app',
  'rate_limited',
  'csrf_failed',
  'last_admin',
  // registry
  'unknown_model',
  'unknown_version',
  'model_exists',
  'version_rejected',
  'upload_expired',
  'upload_incomplete',
  'upload_committed',
  'malformed_model_json',
  'unsupported_dtype',
  'weights_mismatch',
  'chunk_digest_mismatch',
  'chunk_not_in_upload',
  'validation_failed',
  // trust
  'no_root',
  'root_invalid',
  'root_expired',
  'signing_key_missing',
  'signing_key_not_in_root',
  'bad_signature',
  'threshold_not_met',
  'unknown_key',
  'ticket_expired',
  'ticket_replayed',
  'manifest_digest_mismatch',
  'ticket_manifest_mismatch',
  'manifest_too_large',
  'malformed_document',
  // storage: stored bytes that no longer match their digest are withheld, never served
  'content_corrupt',
  // feature sketches (drift)
  'sketch_malformed',
  'sketch_schema_mismatch',
  'sketch_not_normalized',
  'sketch_out_of_range',
  'sketch_replayed',
  'no_baseline',
  'window_closed',
  'window_not_started',
  // telemetry provenance (SPEC §11)
  'proof_required',
  'proof_invalid',
  'network_limited',
  // webhooks
  'webhook_url_invalid',
  'webhook_target_forbidden',
  'webhook_stale',
  // rollouts and evaluation sets
  'gate_failed',
  'policy_violation',
  'no_eval_set',
  'eval_set_mismatch',
  'plan_cannot_decide',
  // server
  'internal',
  'window_length_invalid',
] as const;

export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** `{ error: { code, message, details? } }` — the body of every non-2xx API response. */
export const ApiErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    details: z.optional(z.unknown()),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** One error class for the protocol layer; consumers map `code` to their own surface. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  toBody(): ApiErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

// English issue messages for this parse only: zod/mini loads no locale (its default says
// "Invalid input"), and setting one with z.config would change the host app's own zod.
const english = en().localeError;

/** Parses with a zod schema (mini or classic), turning failures into a `malformed_document` ProtocolError. */
export function parseOrThrow<T>(schema: z.core.$ZodType<T>, value: unknown, what: string): T {
  const result = z.safeParse(schema, value, { error: english });
  if (!result.success) {
    throw new ProtocolError('malformed_document', `${what} is malformed: ${z.prettifyError(result.error)}`, {
      issues: result.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    });
  }
  return result.data;
}
