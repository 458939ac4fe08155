/**
 * @module credentials
 * Ending credentials (issue 15): revoking an operator token, and rotating or revoking an app's
 * device keys. Operator-facing (the API and the CLI), so classic zod; requests are strict.
 */
import { z } from 'zod';
import { OperatorRole } from './api.ts';

/** A rotated key's default grace: long enough for an app release that ships the new key. */
export const DEFAULT_APP_KEY_GRACE_SECONDS = 7 * 86400;
export const MAX_APP_KEY_GRACE_SECONDS = 90 * 86400;

export const RevokeTokenRequest = z.strictObject({ reason: z.string().max(512).optional() });

/** What a token is, never its secret. `revokedAt` is set once and never moves. */
export const TokenInfo = z.object({
  id: z.string(),
  role: OperatorRole,
  label: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TokenInfo = z.infer<typeof TokenInfo>;

/** Revoking an already revoked token changes nothing: `alreadyRevoked` and the first `revokedAt`. */
export const RevokeTokenResponse = TokenInfo.extend({ alreadyRevoked: z.boolean(), sessionsEnded: z.number().int() });
export type RevokeTokenResponse = z.infer<typeof RevokeTokenResponse>;

/** One device key of an app. `hint` is its last four characters, to tell keys apart. */
export const AppKeyInfo = z.object({
  id: z.string(),
  hint: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type AppKeyInfo = z.infer<typeof AppKeyInfo>;

export const RotateAppKeyRequest = z.strictObject({
  /** How long the app's current keys keep working; 0 ends them now. */
  graceSeconds: z.number().int().min(0).max(MAX_APP_KEY_GRACE_SECONDS).default(DEFAULT_APP_KEY_GRACE_SECONDS),
  reason: z.string().max(512).optional(),
});
export type RotateAppKeyRequest = z.input<typeof RotateAppKeyRequest>;

/** The new key (public, but shown in full only here) and every key of the app after the change. */
export const RotateAppKeyResponse = z.object({
  appId: z.string(),
  appKey: z.string(),
  keyId: z.string(),
  keys: z.array(AppKeyInfo),
});
export type RotateAppKeyResponse = z.infer<typeof RotateAppKeyResponse>;

export const RevokeAppKeyRequest = RevokeTokenRequest;
export const RevokeAppKeyResponse = AppKeyInfo.extend({ alreadyRevoked: z.boolean() });
export type RevokeAppKeyResponse = z.infer<typeof RevokeAppKeyResponse>;
export const TokenList = z.object({ tokens: z.array(TokenInfo) });
export const AppKeysResponse = z.object({ appId: z.string(), keys: z.array(AppKeyInfo) });
export type AppKeysResponse = z.infer<typeof AppKeysResponse>;
