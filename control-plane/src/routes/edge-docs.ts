/**
 * @module routes/edge-docs
 * OpenAPI entries for the device routes. The edge runtime is plain Hono (it stays small and
 * has no validation layer of its own to run on the hot path), so its paths are registered here
 * from the same protocol schemas that the handlers and the SDK use.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ApiErrorBody, Digest, Envelope, HAVE_PATTERN, ModelName, TicketBundle } from '@modelfleet/protocol';
import { z } from 'zod';
import type { AppEnv } from '../http/context.ts';

const error = (description: string) => ({ description, content: { 'application/json': { schema: ApiErrorBody } } });

export function documentEdge(app: OpenAPIHono<AppEnv>): void {
  const r = app.openAPIRegistry;
  r.registerComponent('securitySchemes', 'appKey', { type: 'apiKey', in: 'header', name: 'x-modelfleet-app-key', description: 'Public per-app device key (mfa_…)' });
  r.registerComponent('securitySchemes', 'appKeyQuery', { type: 'apiKey', in: 'query', name: 'key', description: 'The same key as a query parameter: a browser GET without custom headers needs no CORS preflight (SPEC 1.3)' });
  r.registerPath({
    method: 'get', path: '/v1/edge/tickets/{model}', tags: ['edge'], security: [{ appKey: [] }, { appKeyQuery: [] }],
    summary: 'Signed ticket: which version this device should run (SPEC §1); with bundle=1, the ticket bundle (SPEC 1.6)',
    request: {
      params: z.object({ model: ModelName }),
      query: z.object({
        device: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
        bundle: z.literal('1').optional().meta({ description: 'Answer the ticket bundle: ticket, newer roots, the manifest, a small model\'s chunks (SPEC 1.6)' }),
        root: z.coerce.number().int().min(0).optional().meta({ description: 'With bundle: the newest root version the device holds; later roots come in the bundle' }),
        have: z.string().regex(HAVE_PATTERN).optional().meta({ description: 'With bundle: up to 4 manifests the device stores complete (first 16 hex of their digests); the bundle leaves a named one out' }),
      }),
    },
    responses: {
      200: { description: 'Ticket envelope (DSSE, ticket role); with bundle=1 the ticket bundle, whose ETag also names the newest root', content: { 'application/json': { schema: z.union([Envelope, TicketBundle]) } } },
      304: { description: 'Unchanged since the ETag sent in If-None-Match' },
      401: error('Missing or unknown app key'), 403: error('Model not in this app'), 404: error('Unknown model or no champion'), 429: error('Rate limited'),
    },
  });
  r.registerPath({
    method: 'get', path: '/v1/edge/manifests/{digest}', tags: ['edge'], summary: 'Manifest envelope by the SHA-256 of its payload (SPEC §2)',
    request: { params: z.object({ digest: Digest }) },
    responses: { 200: { description: 'Immutable manifest envelope (release role)', content: { 'application/json': { schema: Envelope } } }, 404: error('No such manifest') },
  });
  r.registerPath({
    method: 'get', path: '/v1/edge/chunks/{digest}', tags: ['edge'], summary: 'Weight chunk by SHA-256; Range supported (SPEC §5)',
    request: { params: z.object({ digest: Digest }) },
    responses: {
      200: { description: 'Immutable chunk bytes', content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } } },
      206: { description: 'The requested byte range' },
      404: error('No chunk referenced by an accepted version'),
    },
  });
  r.registerPath({
    method: 'get', path: '/v1/edge/roots', tags: ['edge'], summary: 'Roots after a pinned version, oldest first (SPEC 1.1)',
    request: { query: z.object({ since: z.coerce.number().int().min(0) }) },
    responses: { 200: { description: 'Root envelopes', content: { 'application/json': { schema: z.object({ roots: z.array(Envelope) }) } } } },
  });
}
