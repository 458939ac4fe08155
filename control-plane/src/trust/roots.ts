/**
 * @module roots
 * The root of trust as the control plane holds it: the chain of signed roots in D1, and the
 * online release key (a Worker secret). Roots are signed offline by the operator's root keys
 * (`modelfleet keys init` / `keys rotate-root`); the Worker only checks and stores them.
 */
import { ApiError, signerFromSecret } from '@modelfleet/server-shared';
import {
  type Envelope,
  fromBase64,
  fromUtf8,
  type Root,
  type Signer,
  parseEnvelope,
  verifyInitialRoot,
  verifyNextRoot,
} from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import type { Operator } from '../http/context.ts';
import { auditStatement } from '../registry/audit.ts';

export interface StoredRoot {
  version: number;
  envelope: Envelope;
  root: Root;
}

export async function currentRoot(db: D1Database): Promise<StoredRoot | null> {
  const row = await db
    .prepare('SELECT version, envelope FROM roots ORDER BY version DESC LIMIT 1')
    .first<{ version: number; envelope: string }>();
  if (!row) return null;
  const envelope = parseEnvelope(row.envelope, `stored root v${row.version}`);
  // Stored roots were verified on the way in; re-parse the payload without re-verifying.
  const root = JSON.parse(fromUtf8(fromBase64(envelope.payload))) as Root;
  return { version: row.version, envelope, root };
}

/** Accepts root v1 (self-signed) or the next root in the chain (signed by old and new root keys). */
export async function putRoot(db: D1Database, envelope: Envelope, op: Operator): Promise<Root> {
  const current = await currentRoot(db);
  const root = current ? await verifyNextRoot(current.root, envelope) : await verifyInitialRoot(envelope);
  const at = new Date().toISOString();
  try {
    await db.batch([
      db
        .prepare('INSERT INTO roots (version, envelope, created_at) VALUES (?, ?, ?)')
        .bind(root.version, JSON.stringify(envelope), at),
      auditStatement(
        db,
        {
          actor: op.actor,
          action: current ? 'root.rotate' : 'root.init',
          subject: 'keys/root',
          before: current ? { version: current.version } : null,
          after: { version: root.version, expiresAt: root.expiresAt, roles: root.roles },
        },
        at,
      ),
    ]);
  } catch {
    throw new ApiError(
      'conflict',
      `root v${root.version} was stored by someone else meanwhile; fetch the chain and retry`,
    );
  }
  return root;
}

/** The release signer, refused unless the current root lists its key under the release role. */
export async function releaseSigner(env: Env): Promise<Signer> {
  const stored = await currentRoot(env.DB);
  if (!stored)
    throw new ApiError('no_root', 'no root of trust yet; run `modelfleet keys init` to create and upload one');
  const signer = await signerFromSecret('RELEASE_KEY', env.RELEASE_KEY);
  if (!stored.root.roles.release.keyids.includes(signer.keyid)) {
    throw new ApiError(
      'signing_key_not_in_root',
      `the release key ${signer.keyid.slice(0, 12)}… is not in root v${stored.version}'s release role`,
    );
  }
  return signer;
}
