/**
 * @module routes/storage
 * The storage scrub (operator): stored chunks and manifests of active versions, checked against
 * their digests a page at a time (storage/scrub.ts). Repair is a chunk PUT (routes/publish.ts).
 */
import { createRoute } from '@hono/zod-openapi';
import { ApiError } from '@modelfleet/server-shared';
import { ScrubPage } from '@modelfleet/protocol';
import { z } from 'zod';
import { requireRole } from '../auth/operators.ts';
import { createApp } from '../http/openapi-app.ts';
import { SCRUB_PAGE_MAX, parseCursor, scrubPage } from '../storage/scrub.ts';
import { bearer, errorResponses, json } from './shared.ts';

export const storageRoutes = createApp();

storageRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/storage/scrub',
    security: bearer,
    middleware: [requireRole('operator')] as const,
    request: {
      query: z.object({
        after: z.string().max(80).optional().meta({ description: "the previous page's `next`" }),
        limit: z.coerce.number().int().min(1).max(SCRUB_PAGE_MAX).default(25),
      }),
    },
    responses: {
      200: json(
        ScrubPage,
        'One page: objects read and hashed, the corrupt and missing ones with the versions that need them',
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    if (q.after !== undefined && !parseCursor(q.after))
      throw new ApiError(
        'bad_request',
        'after is the `next` of the previous page (chunk:<digest> or manifest:<digest>)',
      );
    return c.json(await scrubPage(c.env, { limit: q.limit, ...(q.after ? { after: q.after } : {}) }), 200);
  },
);
