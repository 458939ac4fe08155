/**
 * @module start/api
 * The control plane's HTTP API as `npm start` uses it between long waits (wrangler start-up, a
 * publish in a child process). Every request goes on a fresh connection (`connection: close`):
 * Node's fetch otherwise keeps the socket of the previous call, which the dev server closes after
 * a few idle seconds, and the next call fails with `UND_ERR_SOCKET other side closed`
 * (PLATFORM.md). Reads are retried, as they change nothing; writes are not, and the set-up
 * checks the state before each one instead (demo.mjs).
 */

const READ_ATTEMPTS = 4;

/** A request error that keeps the HTTP status and the API's error code. */
export class StartError extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = 'StartError';
    this.code = code;
    this.status = status;
  }
}

/**
 * @example
 * const api = createApi('http://127.0.0.1:8787', adminToken);
 * const { models } = await api('GET', '/v1/models');
 */
export function createApi(endpoint, token, { retryDelayMs = 500 } = {}) {
  return async function api(method, path, body) {
    const attempts = method === 'GET' ? READ_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt++) {
      let res;
      try {
        res = await fetch(endpoint + path, {
          method,
          headers: {
            connection: 'close',
            authorization: `Bearer ${token}`,
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      } catch (e) {
        // A network failure (refused, reset, closed): the request may not have reached the server.
        if (attempt < attempts) {
          await new Promise((r) => setTimeout(r, retryDelayMs * attempt));
          continue;
        }
        throw new StartError('network', `${method} ${path}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
      }
      const text = await res.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        throw new StartError(
          'bad_response',
          `${method} ${path}: ${res.status}, not JSON: ${text.slice(0, 200)}`,
          res.status,
        );
      }
      if (!res.ok)
        throw new StartError(
          json?.error?.code ?? 'http',
          `${method} ${path}: ${res.status} ${JSON.stringify(json)}`,
          res.status,
        );
      return json;
    }
  };
}
