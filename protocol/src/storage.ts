/**
 * @module storage
 * The scrub report (GET /v1/storage/scrub, `modelfleet scrub`): stored chunks and manifests of
 * active versions checked against the digests that name them, a page at a time.
 */
import { z } from 'zod';
import { Digest } from './manifest.ts';

export const StoredKind = z.enum(['chunk', 'manifest']);

/** A stored object that is absent or whose bytes no longer hash to its digest, and who needs it. */
export const ScrubProblem = z.object({
  kind: StoredKind,
  digest: Digest,
  state: z.enum(['corrupt', 'missing']),
  versions: z.array(z.object({ model: z.string(), version: z.number().int() })),
});
export type ScrubProblem = z.infer<typeof ScrubProblem>;

/** A corrupt read recorded where it happened (the edge, a chunk PUT, a scrub); cleared by a repair. */
export const StorageFault = z.object({
  kind: StoredKind,
  digest: Digest,
  detections: z.number().int(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  lastWhere: z.string(),
});
export type StorageFault = z.infer<typeof StorageFault>;

export const ScrubPage = z.object({
  /** Objects referenced by active versions, in all pages. */
  total: z.number().int(),
  /** Checked in this page, and the bytes read to check them. */
  checked: z.number().int(),
  bytes: z.number().int(),
  problems: z.array(ScrubProblem),
  /** Pass as `after` for the next page; null on the last. */
  next: z.string().nullable(),
  /** Recorded faults, on the first page only (no `after`). */
  faults: z.array(StorageFault).optional(),
});
export type ScrubPage = z.infer<typeof ScrubPage>;
