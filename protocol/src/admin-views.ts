/**
 * @module admin-views
 * Answers of the signing-key and audit routes: `GET /v1/keys` (the current root and the online
 * key ids), `PUT /v1/keys/root` (the root accepted) and `GET /v1/audit` (newest first).
 */
import { z } from 'zod';
import { AuditRecord } from './api.ts';

export const KeysInfo = z.object({
  root: z
    .object({
      version: z.number(),
      expiresAt: z.string(),
      roles: z.record(z.string(), z.object({ keyids: z.array(z.string()), threshold: z.number() })),
      keys: z.record(z.string(), z.object({ alg: z.string() })),
    })
    .nullable(),
  online: z.object({ release: z.string().nullable(), ticket: z.string().nullable() }),
});
export type KeysInfo = z.infer<typeof KeysInfo>;

export const RootInstalled = z.object({ version: z.number().int(), expiresAt: z.string() });
export type RootInstalled = z.infer<typeof RootInstalled>;

export const AuditPage = z.object({ records: z.array(AuditRecord) });
export type AuditPage = z.infer<typeof AuditPage>;
