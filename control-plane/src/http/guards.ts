/**
 * @module guards
 * Request guards that run before validation: body size limits and content types. Bodies are
 * refused before they are read, so an oversized upload costs the Worker nothing.
 */
import { ApiError } from '@modelfleet/server-shared';
import { MAX_UPLOAD_REQUEST_BYTES } from '@modelfleet/protocol';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from './context.ts';

/**
 * JSON bodies (model.json, golden examples, metrics) are bounded separately from chunks; the
 * upload request is the largest, and its limit is the protocol's (the CLI checks it first).
 */
export const MAX_JSON_BYTES = MAX_UPLOAD_REQUEST_BYTES;

export function limitBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      // `limit` lets a client say which of the files it sent made the body too large.
      throw new ApiError('payload_too_large', `request body exceeds ${maxBytes} bytes`, { limit: maxBytes });
    },
  });
}

export function requireContentType(
  expected: 'application/json' | 'application/octet-stream',
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== expected) {
      throw new ApiError('unsupported_media_type', `send the body as ${expected} (got ${type || 'no content type'})`);
    }
    await next();
  };
}

/** Guards for every JSON-bodied write route. */
export const jsonBody = [requireContentType('application/json'), limitBody(MAX_JSON_BYTES)] as const;
