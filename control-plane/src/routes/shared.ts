/**
 * @module shared
 * Pieces every route file uses: the error response schema and common path parameters.
 */
import { ApiErrorBody, ModelName } from '@modelfleet/protocol';
import { z } from 'zod';

export const errorResponses = {
  400: { description: 'Invalid request', content: { 'application/json': { schema: ApiErrorBody } } },
  401: { description: 'Missing, invalid or expired token', content: { 'application/json': { schema: ApiErrorBody } } },
  403: { description: 'Role too low', content: { 'application/json': { schema: ApiErrorBody } } },
  404: { description: 'Not found', content: { 'application/json': { schema: ApiErrorBody } } },
} as const;

export const ModelParam = z.object({ model: ModelName });
export const VersionParam = z.object({ model: ModelName, version: z.coerce.number().int().min(1) });

/**
 * The device-side formats in protocol/ are zod/mini schemas (they keep the web SDK small);
 * @hono/zod-openapi types its routes with classic zod. At run time the validator calls a mini
 * schema's `safeParseAsync` as a classic one's, and the document is generated from classic copies
 * (http/classic-schemas.ts).
 */
const classic = <T extends z.core.$ZodType>(schema: T) => schema as unknown as z.ZodType<z.output<T>, z.input<T>>;

export const json = <T extends z.core.$ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema: classic(schema) } },
});

export const jsonRequest = <T extends z.core.$ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema: classic(schema) } }, required: true },
});

export const bearer = [{ bearer: [] }];
