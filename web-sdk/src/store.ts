/**
 * @module store
 * The device's model cache in IndexedDB (idb). Chunks are stored once by digest across all
 * versions and models; a model's active version is a pointer flipped in one transaction that
 * also checks every chunk is present (SPEC 6.1), with the previous one kept as last-known-good.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { Envelope } from '@modelfleet/protocol';

export interface VersionRef {
  digest: string;
  version: number;
}

export interface ModelState {
  model: string;
  active?: VersionRef;
  lastKnownGood?: VersionRef;
  /** A version being downloaded: its manifest is stored and its chunks are kept through GC. */
  pending?: VersionRef;
  /** SPEC 1.4: the highest ticket sequence accepted for this model. */
  highestSequence: number;
  /**
   * The last verified ticket, kept for If-None-Match polling (SPEC 1.5); `bundled` when its ETag
   * is a bundle's, which also covers the roots (SPEC 1.6). `windowSeconds`: its telemetry window
   * length (SPEC 10.6), absent when the ticket named none (a UTC day).
   */
  ticket?: {
    etag: string | null;
    envelope: Envelope;
    expiresAt: string;
    issuedAt: string;
    fetchedAt: string;
    digest: string;
    bundled?: boolean;
    windowSeconds?: number;
  };
}

export interface StoredManifest {
  digest: string;
  model: string;
  version: number;
  /** The verified payload bytes (SPEC 2.4: parsed from exactly these). */
  payload: Uint8Array;
  chunks: string[];
}

/** A telemetry upload waiting in the outbox (telemetry/outbox.ts sends it). */
export interface OutboxItem {
  id: string;
  model: string;
  version: number;
  window: number;
  bytes: Uint8Array;
  attempts: number;
  channel?: 'sketches' | 'health' | 'step-health' | 'step-sketches';
  /** Extra query for the upload (a step-health record names its rollout). */
  query?: string;
}

interface Schema extends DBSchema {
  chunks: { key: string; value: ArrayBuffer };
  partials: { key: string; value: ArrayBuffer };
  manifests: { key: string; value: StoredManifest };
  models: { key: string; value: ModelState };
  roots: { key: number; value: Envelope };
  meta: { key: string; value: string };
  outbox: { key: string; value: OutboxItem };
}

export type ModelStore = Awaited<ReturnType<typeof openStore>>;

/** The schema's version: 1 held the model cache, 2 added the telemetry outbox. */
const DB_VERSION = 2;

function upgrade(d: IDBPDatabase<Schema>, oldVersion: number): void {
  if (oldVersion < 1) {
    d.createObjectStore('chunks');
    d.createObjectStore('partials');
    d.createObjectStore('manifests', { keyPath: 'digest' });
    d.createObjectStore('models', { keyPath: 'model' });
    d.createObjectStore('roots');
    d.createObjectStore('meta');
  }
  if (oldVersion < 2) d.createObjectStore('outbox', { keyPath: 'id' }); // telemetry uploads
}

export async function openStore(name = 'modelfleet') {
  const db: IDBPDatabase<Schema> = await openDB<Schema>(name, DB_VERSION, { upgrade });

  return {
    db,
    close: () => db.close(),

    async state(model: string): Promise<ModelState> {
      return (await db.get('models', model)) ?? { model, highestSequence: -1 };
    },
    putState: (state: ModelState) => db.put('models', state).then(() => undefined),

    async missing(digests: string[]): Promise<string[]> {
      const tx = db.transaction('chunks');
      const present = await Promise.all(digests.map((d) => tx.store.getKey(d)));
      return digests.filter((_, i) => present[i] === undefined);
    },
    putChunk: (digest: string, bytes: ArrayBuffer) => db.put('chunks', bytes, digest).then(() => undefined),
    getChunk: (digest: string) => db.get('chunks', digest),
    getPartial: (digest: string) => db.get('partials', digest),
    /** Digests with a kept partial: one read for a whole download, instead of one per chunk. */
    partialDigests: async () => new Set<string>(await db.getAllKeys('partials')),
    putPartial: (digest: string, bytes: ArrayBuffer) => db.put('partials', bytes, digest).then(() => undefined),
    deletePartial: (digest: string) => db.delete('partials', digest),

    putManifest: (m: StoredManifest) => db.put('manifests', m).then(() => undefined),
    getManifest: (digest: string) => db.get('manifests', digest),

    roots: () => db.getAll('roots'),
    getMeta: (key: string) => db.get('meta', key),
    putMeta: (key: string, value: string) => db.put('meta', value, key).then(() => undefined),
    putRoot: (version: number, envelope: Envelope) => db.put('roots', envelope, version).then(() => undefined),

    activate: (model: string, ref: VersionRef, sequence: number) => activate(db, model, ref, sequence),
    collectGarbage: () => collectGarbage(db),
  };
}

/**
 * SPEC 6.1: in one transaction, check that the manifest and all its chunks are stored, then
 * point the model at it; the previous active version becomes last-known-good.
 */
async function activate(db: IDBPDatabase<Schema>, model: string, ref: VersionRef, sequence: number): Promise<void> {
  const tx = db.transaction(['chunks', 'manifests', 'models'], 'readwrite');
  const manifest = await tx.objectStore('manifests').get(ref.digest);
  if (!manifest) throw new Error(`manifest ${ref.digest} is not stored`);
  const keys = await Promise.all(manifest.chunks.map((d) => tx.objectStore('chunks').getKey(d)));
  if (keys.some((k) => k === undefined)) throw new Error(`manifest ${ref.digest} has chunks missing; not activating`);
  const prev = (await tx.objectStore('models').get(model)) ?? { model, highestSequence: -1 };
  const next: ModelState = { ...prev, active: ref, highestSequence: Math.max(prev.highestSequence, sequence) };
  delete next.pending;
  if (prev.active && prev.active.digest !== ref.digest) next.lastKnownGood = prev.active;
  await tx.objectStore('models').put(next);
  await tx.done;
}

/** SPEC 6.2: drop manifests and chunks that no model's active or last-known-good version uses. */
async function collectGarbage(db: IDBPDatabase<Schema>): Promise<{ chunks: number; manifests: number }> {
  const tx = db.transaction(['chunks', 'manifests', 'models', 'partials'], 'readwrite');
  const states = await tx.objectStore('models').getAll();
  const keep = new Set(
    states
      .flatMap((s) => [s.active?.digest, s.lastKnownGood?.digest, s.pending?.digest])
      .filter((d): d is string => !!d),
  );
  const keepChunks = new Set<string>();
  let manifests = 0;
  for (const m of await tx.objectStore('manifests').getAll()) {
    if (keep.has(m.digest)) m.chunks.forEach((c) => keepChunks.add(c));
    else await tx.objectStore('manifests').delete(m.digest), manifests++;
  }
  let chunks = 0;
  for (const key of await tx.objectStore('chunks').getAllKeys()) {
    if (!keepChunks.has(key)) await tx.objectStore('chunks').delete(key), chunks++;
  }
  await tx.done;
  return { chunks, manifests };
}
