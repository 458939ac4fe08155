// Root rotation through the API, and signing-key hygiene on the server.
import {
  type Envelope,
  ProtocolError,
  generateKeyPair,
  signRotatedRoot,
  signInitialRoot,
  createKeySet,
  updateRoot,
  verifyInitialRoot,
  verifyManifest,
} from '@modelfleet/protocol';
import { inDays } from '@modelfleet/protocol/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish, registrySnapshot } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let oldManifest: { digest: string; envelope: Envelope };

const manifestEnvelope = async (digest: string) =>
  (await (await worker.api(`/v1/edge/manifests/${digest}`, { token: null })).json()) as Envelope;

beforeAll(async () => {
  worker = await startWorker();
  await createModel(worker, 'fraud');
  const r = await publish(worker, 'fraud', await buildLayersModel({ seed: 5 }));
  oldManifest = { digest: r.body.manifestDigest, envelope: await manifestEnvelope(r.body.manifestDigest) };
});
afterAll(() => worker?.dispose());

describe('root rotation', () => {
  it('refuses a root not signed by the current root keys, and changes nothing', async () => {
    const before = await registrySnapshot(worker);
    const stranger = await createKeySet();
    const forged = await signRotatedRoot(stranger.root, 1, stranger, inDays(30));
    const res = await worker.api('/v1/keys/root', { method: 'PUT', json: forged });
    expect(res.status).toBe(422);
    expect(['unknown_key', 'bad_signature']).toContain(((await res.json()) as any).error.code);
    const anotherV1 = await worker.api('/v1/keys/root', {
      method: 'PUT',
      json: await signInitialRoot(stranger, inDays(30)),
    });
    expect(anotherV1.status).toBe(422);
    expect(await registrySnapshot(worker)).toEqual(before);
  });

  it('accepts the next root, serves the chain, and old manifests still verify through it', async () => {
    const next = { ...worker.keys, root: [await generateKeyPair()] };
    const v2 = await signRotatedRoot(worker.keys.root, 1, next, inDays(60));
    const res = await worker.api('/v1/keys/root', { method: 'PUT', json: v2 });
    expect(res.status, await res.clone().text()).toBe(200);
    const keys = (await (await worker.api('/v1/keys')).json()) as any;
    expect(keys.root.version).toBe(2);
    const { roots } = (await (await worker.api('/v1/edge/roots?since=1', { token: null })).json()) as {
      roots: Envelope[];
    };
    expect(roots).toHaveLength(1);

    const pinned = await verifyInitialRoot(worker.rootEnvelope);
    const newest = await updateRoot(pinned, roots, new Date());
    expect(newest.version).toBe(2);
    const { manifest } = await verifyManifest(oldManifest.envelope, oldManifest.digest, newest);
    expect(manifest.version).toBe(1);
    // A new publish after rotation also verifies for a device pinned to v1.
    const r = await publish(worker, 'fraud', await buildLayersModel({ seed: 6 }));
    expect(r.res.status).toBe(201);
    await expect(
      verifyManifest(await manifestEnvelope(r.body.manifestDigest), r.body.manifestDigest, newest),
    ).resolves.toBeTruthy();
    const audit = (await (await worker.api('/v1/audit?subject=keys/root')).json()) as any;
    expect(audit.records.map((x: any) => x.action)).toEqual(['root.rotate', 'root.init']);
  });
});

describe('signing keys', () => {
  it('a release key that the root does not list signs nothing (signing_key_not_in_root)', async () => {
    const rogue = await startWorker({ vars: { RELEASE_KEY: JSON.stringify(await generateKeyPair()) } });
    try {
      await createModel(rogue, 'fraud');
      const r = await publish(rogue, 'fraud', await buildLayersModel({ seed: 5 }));
      expect(r.res.status).toBe(503);
      expect(r.body.error.code).toBe('signing_key_not_in_root');
      expect((await registrySnapshot(rogue)).versions).toEqual([]);
    } finally {
      await rogue.dispose();
    }
  });

  it('a manifest signed by a key not in the root is refused by devices', async () => {
    const other = await createKeySet();
    const otherRoot = await verifyInitialRoot(await signInitialRoot(other, inDays(30)));
    const err = await verifyManifest(oldManifest.envelope, oldManifest.digest, otherRoot).catch((e) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.code).toBe('unknown_key');
  });

  it('without a root nothing can be published (no_root)', async () => {
    const bare = await startWorker({ installRoot: false });
    try {
      await createModel(bare, 'fraud');
      const r = await publish(bare, 'fraud', await buildLayersModel({ seed: 5 }));
      expect(r.res.status).toBe(503);
      expect(r.body.error.code).toBe('no_root');
    } finally {
      await bare.dispose();
    }
  });
});
