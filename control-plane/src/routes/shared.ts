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

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonRequest = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

export const bearer = [{ bearer: [] }];
