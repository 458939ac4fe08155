/**
 * @module routes/publish
 * The three publishing steps (see publish/uploads.ts). All need the `publisher` role.
 */
import { createRoute } from '@hono/zod-openapi';
import { ApiError } from '@modelfleet/server-shared';
import {
  ApiErrorBody,
  ChunkPutResponse,
  CommitResponse,
  Digest,
  UploadRequest,
  UploadResponse,
} from '@modelfleet/protocol';
import { z } from 'zod';
import { requireRole } from '../auth/operators.ts';
import { jsonBody, limitBody, requireContentType } from '../http/guards.ts';
import { createApp } from '../http/openapi-app.ts';
import { commitUpload } from '../publish/commit.ts';
import { MAX_CHUNK_BYTES } from '../publish/limits.ts';
import { createUpload, putChunk } from '../publish/uploads.ts';
import { ModelParam, bearer, errorResponses, json, jsonRequest } from './shared.ts';

export const publishRoutes = createApp();
const UploadParam = z.object({ upload: z.uuid() });

publishRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/models/{model}/uploads',
    security: bearer,
    middleware: [requireRole('publisher'), ...jsonBody] as const,
    request: { params: ModelParam, ...jsonRequest(UploadRequest) },
    responses: { 201: json(UploadResponse, 'Upload staged'), ...errorResponses },
  }),
  async (c) =>
    c.json(await createUpload(c.env, c.req.valid('param').model, c.req.valid('json'), c.get('operator')), 201),
);

publishRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/uploads/{upload}/chunks/{digest}',
    security: bearer,
    middleware: [
      requireRole('publisher'),
      requireContentType('application/octet-stream'),
      limitBody(MAX_CHUNK_BYTES),
    ] as const,
    request: {
      params: UploadParam.extend({ digest: Digest }),
      body: {
        content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } },
        required: true,
      },
    },
    responses: {
      200: json(
        ChunkPutResponse,
        'Chunk verified: stored, already present and intact, or replacing stored bytes that no longer matched (repaired)',
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { upload, digest } = c.req.valid('param');
    return c.json(await putChunk(c.env, upload, digest, await c.req.arrayBuffer(), c.get('operator')), 200);
  },
);

publishRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/uploads/{upload}/commit',
    security: bearer,
    middleware: [requireRole('publisher')] as const,
    request: { params: UploadParam },
    responses: {
      201: json(CommitResponse, 'Validated, signed and stored'),
      422: json(ApiErrorBody, 'Validation failed: the version is recorded as rejected and never served'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const result = await commitUpload(c.env, c.req.valid('param').upload, c.get('operator'));
    if (result.status === 'rejected') {
      throw new ApiError(
        'validation_failed',
        `version ${result.version} of ${result.model} failed validation: ${result.reasons.map((r) => r.message).join('; ')}`,
        result,
      );
    }
    return c.json(result, 201);
  },
);
