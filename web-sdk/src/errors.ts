/**
 * @module errors
 * One error class for the SDK with a closed list of codes. Protocol failures keep their
 * protocol code (ticket_expired, chunk_digest_mismatch, …) so an app can switch on them.
 */
import { ERROR_CODES, ProtocolError } from '@modelfleet/protocol';

export const SDK_ERROR_CODES = [
  ...ERROR_CODES,
  'invalid_config',
  'network',
  'server_error',
  'storage_quota',
  'storage_unavailable',
  'no_model',
  'load_failed',
  'inference_failed',
  'backend_unavailable',
  'closed',
  'bad_input',
  'worker_failed',
  'unsupported_environment',
  // predict's inputs, refused before anything runs (inputs.ts, images.ts)
  'input_missing',
  'input_unknown',
  'input_shape',
  'input_dtype',
  'input_value',
  'input_detached',
] as const;
export type SdkErrorCode = (typeof SDK_ERROR_CODES)[number];

export class SdkError extends Error {
  override readonly name = 'SdkError';
  constructor(
    readonly code: SdkErrorCode,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** Normalises anything thrown into an SdkError, keeping protocol codes. */
export function toSdkError(error: unknown): SdkError {
  if (error instanceof SdkError) return error;
  if (error instanceof ProtocolError) return new SdkError(error.code, error.message, error);
  if (error instanceof DOMException && error.name === 'QuotaExceededError') {
    return new SdkError(
      'storage_quota',
      'the browser refused to store more data (quota exceeded); free space or lower the model size',
      error,
    );
  }
  return new SdkError('internal', `unexpected error: ${(error as Error)?.message ?? String(error)}`, error);
}
