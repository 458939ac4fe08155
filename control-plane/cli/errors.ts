/**
 * @module cli/errors
 * The CLI's one error: a code to switch on, a message that says what to do, and a family that
 * picks the exit code. The families and their numbers are the CLI's contract with scripts
 * (docs/deploy.md, "Exit codes"): change a number and every script that branches on it breaks.
 *
 * @example
 * throw new CliError('input', 'file_not_found', '--golden g.json: no such file'); // exit 3
 */

export const EXIT_CODES = {
  /** A bug in the CLI, or an answer it could not read. */
  internal: 1,
  /** Unknown command or flag, a missing or malformed argument. */
  usage: 2,
  /** A local file is missing or malformed: model directory, JSON, CSV, key set, pinned root. */
  input: 3,
  /** No token, a wrong, expired or revoked one, a role too low, a bad app key (HTTP 401/403). */
  auth: 4,
  /** The control plane refused the request: not found, conflict, too large, malformed (other 4xx). */
  refused: 5,
  /** Validation rejected the published model; the version is recorded as rejected. */
  rejected: 6,
  /** `verify` found a bad signature, digest, root chain, ticket or size; `scrub` left stored objects broken. */
  verification: 7,
  /** The control plane could not be reached, or could not serve (5xx, 429): retrying may help. */
  unavailable: 8,
} as const;

export type ErrorFamily = keyof typeof EXIT_CODES;

export class CliError extends Error {
  constructor(
    readonly family: ErrorFamily,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  get exitCode(): number {
    return EXIT_CODES[this.family];
  }

  /** The same shape as the API's error body, so one parser reads both. */
  toJSON(): { error: { code: string; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** The family of an API error answer: by HTTP status, except that a rejected model is its own. */
export function familyOfResponse(status: number, code: string): ErrorFamily {
  if (code === 'validation_failed') return 'rejected';
  if (status === 401 || status === 403) return 'auth';
  if (status === 429 || status >= 500) return 'unavailable';
  return status >= 400 && status < 500 ? 'refused' : 'internal';
}
