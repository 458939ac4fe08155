/**
 * @module root
 * The root of trust a device pins: which keys hold which role (root, release, ticket), with
 * thresholds, a version and an expiry. Rotation follows TUF: root N+1 is valid only when signed
 * by a threshold of root N's root keys *and* a threshold of its own (SPEC §1).
 */
import * as z from 'zod/mini';
import { fromBase64, utf8 } from './encoding.ts';
import { Envelope, PAYLOAD_TYPES, payloadJson, signEnvelope, verifyEnvelope } from './envelope.ts';
import { ProtocolError, parseOrThrow } from './errors.ts';
import { PublicKey, type Signer, assertKeyId } from './keys.ts';

const KeyId = z.string().check(z.regex(/^[0-9a-f]{64}$/));

export const Role = z
  .object({ keyids: z.array(KeyId).check(z.minLength(1), z.maxLength(16)), threshold: z.int().check(z.minimum(1)) })
  .check(
    z.refine((r) => r.threshold <= r.keyids.length, 'threshold exceeds the number of keys'),
    z.refine((r) => new Set(r.keyids).size === r.keyids.length, 'duplicate key ids'),
  );
export type Role = z.infer<typeof Role>;

export const ROLE_NAMES = ['root', 'release', 'ticket'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export const Root = z
  .looseObject({
    type: z.literal('modelfleet/root'),
    specVersion: z.literal(1),
    version: z.int().check(z.minimum(1)),
    expiresAt: z.iso.datetime(),
    keys: z.record(KeyId, PublicKey),
    roles: z.object({ root: Role, release: Role, ticket: Role }),
  })
  .check(
    z.refine(
      (r) => ROLE_NAMES.every((name) => r.roles[name].keyids.every((id) => id in r.keys)),
      'a role names a key that is not listed',
    ),
  );
export type Root = z.infer<typeof Root>;

/** Serialises a root to the exact bytes that get signed. */
export function serializeRoot(root: Root): Uint8Array {
  return utf8(JSON.stringify(root));
}

export async function signRoot(root: Root, signers: Signer[]): Promise<Envelope> {
  return signEnvelope(PAYLOAD_TYPES.root, serializeRoot(root), signers);
}

async function parseVerifiedRoot(payload: Uint8Array): Promise<Root> {
  const root = parseOrThrow(Root, payloadJson(payload, 'root'), 'root');
  await Promise.all(Object.entries(root.keys).map(([id, key]) => assertKeyId(id, key)));
  return root;
}

/**
 * A root the client ships with is trusted as pinned; it must still be signed by a threshold of
 * its own root keys, so a corrupted or hand-edited file is caught.
 */
export async function verifyPinnedRoot(envelope: Envelope): Promise<Root> {
  // Parse only to learn which keys to check; nothing is trusted until its own threshold verifies.
  const claimed = await parseVerifiedRoot(fromBase64(envelope.payload));
  await verifyEnvelope(envelope, PAYLOAD_TYPES.root, claimed.keys, claimed.roles.root, `root v${claimed.version}`);
  return claimed;
}

/** Verifies a first root, as `keys init` or a fresh deployment produces it. */
export async function verifyInitialRoot(envelope: Envelope): Promise<Root> {
  const root = await verifyPinnedRoot(envelope);
  if (root.version !== 1)
    throw new ProtocolError('root_invalid', `a first root must have version 1, this one has ${root.version}`);
  return root;
}

/**
 * SPEC 1.1: verifies the next root in the chain against the trusted one. Expiry of
 * intermediate roots is not checked (TUF 5.3.10): only the final root must be current.
 */
export async function verifyNextRoot(trusted: Root, envelope: Envelope): Promise<Root> {
  const what = `root v${trusted.version + 1}`;
  const payload = await verifyEnvelope(
    envelope,
    PAYLOAD_TYPES.root,
    trusted.keys,
    trusted.roles.root,
    `${what} (by the previous root)`,
  );
  const next = await parseVerifiedRoot(payload);
  await verifyEnvelope(envelope, PAYLOAD_TYPES.root, next.keys, next.roles.root, `${what} (by its own root keys)`);
  if (next.version !== trusted.version + 1) {
    throw new ProtocolError(
      'root_invalid',
      `expected root version ${trusted.version + 1}, got ${next.version}: roots must not skip or repeat`,
    );
  }
  return next;
}

/** SPEC 1.1–1.2: walks the chain from the pinned root and returns the newest, which must not be expired. */
export async function updateRoot(pinned: Root, chain: Envelope[], now: Date): Promise<Root> {
  let trusted = pinned;
  for (const envelope of chain) trusted = await verifyNextRoot(trusted, envelope);
  if (Date.parse(trusted.expiresAt) <= now.getTime()) {
    throw new ProtocolError(
      'root_expired',
      `root v${trusted.version} expired at ${trusted.expiresAt}; the operator must publish a new root`,
    );
  }
  return trusted;
}

/** The keys and threshold of one role, in the shape verifyEnvelope takes. */
export function roleOf(root: Root, role: RoleName): { keys: Root['keys']; role: Role } {
  return { keys: root.keys, role: root.roles[role] };
}

/** `GET /v1/edge/roots?since=N`: the root envelopes after version N, oldest first (SPEC 1.1). */
export const RootList = z.object({ roots: z.array(Envelope) });
export type RootList = z.infer<typeof RootList>;
