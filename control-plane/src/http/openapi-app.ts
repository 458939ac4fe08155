/**
 * @module openapi-app
 * One factory for the Hono apps of the control plane: zod validation failures become coded
 * errors (`unknown_field` for a stray key, `bad_request` otherwise) instead of Hono's defaults.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { ApiError } from '@modelfleet/server-shared';
import type { z } from 'zod';
import type { AppEnv } from './context.ts';

export function issuesToError(error: z.ZodError, where: string): ApiError {
  const issues = error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message, code: i.code }));
  const unknown = error.issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown) {
    const keys = (unknown as { keys?: string[] }).keys ?? [];
    const at = unknown.path.map(String).join('.');
    return new ApiError(
      'unknown_field',
      `unknown field(s) ${keys.join(', ')}${at ? ` in ${at}` : ''} of the ${where}; remove them or check their spelling`,
      { issues },
    );
  }
  const first = issues[0];
  return new ApiError(
    'bad_request',
    `invalid ${where}: ${first ? `${first.path || '(root)'}: ${first.message}` : 'validation failed'}`,
    { issues },
  );
}

export function createApp(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw issuesToError(result.error, `request ${result.target}`);
    },
  });
}
