/**
 * @module http
 * The SDK's view of the edge: typed GETs with coded errors. `fetch` is injected (tests fault
 * it; apps may add auth or retries).
 */
import { SdkError } from './errors.ts';
import type { Report } from './report.ts';

export interface EdgeClient {
  endpoint: string;
  appKey: string;
  fetch: typeof fetch;
  /** The client's onError hook, for failures the SDK absorbs on the way (absent: not reported). */
  report?: Report;
}

/**
 * `withAppKey` only for routes that answer per app (tickets), and then as `?key=` (SPEC 1.3):
 * a GET without custom headers is CORS-simple, so a browser sends it without a preflight OPTIONS
 * round trip. Roots, manifests and chunks are public and carry no key (before, every chunk URL
 * cost a preflight).
 */
export async function edgeGet(
  edge: EdgeClient,
  path: string,
  headers: Record<string, string> = {},
  withAppKey = false,
): Promise<Response> {
  let res: Response;
  const key = withAppKey ? `${path.includes('?') ? '&' : '?'}key=${encodeURIComponent(edge.appKey)}` : '';
  try {
    res = await edge.fetch(`${edge.endpoint}/v1/edge${path}${key}`, { headers });
  } catch (e) {
    throw new SdkError(
      'network',
      `cannot reach ${edge.endpoint} (${(e as Error).message}); the SDK keeps running the cached model`,
      e,
    );
  }
  if (res.ok || res.status === 304 || res.status === 206) return res;
  let code: string | undefined;
  let message = `${path} answered ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code;
    if (body.error?.message) message = body.error.message;
  } catch (e) {
    edge.report?.('error_body', e); // a proxy's HTML page, say: the status code alone decides the error
  }
  if (res.status >= 500)
    throw new SdkError('server_error', `the control plane failed (${res.status}): ${message}; retry later`);
  if (res.status === 404)
    throw new SdkError(code === 'unknown_model' || code === 'unknown_version' ? code : 'not_found', message);
  if (res.status === 401 || res.status === 403)
    throw new SdkError(code === 'model_not_in_app' ? 'model_not_in_app' : 'app_key_invalid', message);
  if (res.status === 429) throw new SdkError('rate_limited', message);
  throw new SdkError('bad_request', message);
}

export async function edgeJson<T>(edge: EdgeClient, path: string): Promise<T> {
  return (await (await edgeGet(edge, path)).json()) as T;
}
