/**
 * @module report
 * The client's `onError` hook. Telemetry never breaks the host (STYLE 11), so what fails off the
 * inference path (an upload, a sketch, an IndexedDB write of telemetry) is caught where it happens;
 * each of those catches reports here, with a code to switch on and the model it concerns, so an app
 * can log or count what the SDK absorbed. The default reporter does nothing (the catches were silent).
 *
 * @example
 * createClient({ ...options, onError: (issue) => console.warn(`modelfleet ${issue.code}: ${issue.message}`) });
 */

export const CLIENT_ISSUE_CODES = [
  'storage_read', // a telemetry read from IndexedDB failed (outbox, upload proof, ticket window, storage tier)
  'storage_write', // a telemetry or partial-chunk write to IndexedDB failed
  'storage_estimate', // the storage quota estimate failed; tickets go without a storage tier
  'upload_failed', // an upload could not be sent (network); it stays queued and is retried
  'health_record', // a health record could not be built; that window's record is not sent
  'sketch', // a drift sketch could not be started or fed; the model runs unsketched
  'rollout_step', // a rollout step's record could not be followed or sent
  'window_close', // ending a telemetry window failed; its records may be lost
  'backend_report', // the runner could not say why backends did not start (status() lists none)
  'background_sync', // a poll's sync failed (also in status().lastError); the cached version keeps running
  'attest', // the app's attest callback threw; the ticket is asked for without attestation
  'feedback', // counting a feedback label failed
  'observe', // recording a prediction's health or sketch failed; the prediction was returned
  'error_body', // an edge error response had no readable JSON body; the status code decides the error
] as const;
export type ClientIssueCode = (typeof CLIENT_ISSUE_CODES)[number];

/** One failure the SDK absorbed; the host call it happened under succeeded, or failed on its own terms. */
export interface ClientIssue {
  code: ClientIssueCode;
  /** What went wrong and what it costs, for a log line. */
  message: string;
  /** The model (and version, channel, …) it concerns, when there is one. */
  context: IssueContext;
  /** What was thrown. */
  cause: unknown;
}

export interface IssueContext {
  model?: string;
  version?: number;
  /** The upload channel (sketches, health, step-health, step-sketches). */
  channel?: string;
}

/** How SDK internals report: a code, what was thrown, and the context. */
export type Report = (code: ClientIssueCode, cause: unknown, context?: IssueContext) => void;

/** A reporter that does nothing: the default, and what modules get when used outside a client. */
export const silent: Report = () => {};

/**
 * Wraps the app's hook: a hook that throws is ignored, since reporting must not break the host either.
 */
export function reporter(onError?: (issue: ClientIssue) => void): Report {
  if (!onError) return silent;
  return (code, cause, context = {}) => {
    const issue: ClientIssue = { code, message: describe(code, cause, context), context, cause };
    try {
      onError(issue);
    } catch {} // the app's hook failed; there is nowhere left to report it
  };
}

function describe(code: ClientIssueCode, cause: unknown, context: IssueContext): string {
  const what = (cause as Error | undefined)?.message ?? String(cause);
  const version = context.version !== undefined ? ` v${context.version}` : '';
  const where = context.model ? ` (${context.model}${version})` : '';
  return `${code.replace(/_/g, ' ')}${where}: ${what}`;
}
