// Every runtime runs the shared vectors; here with our verifier and, independently, node:crypto.
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Envelope,
  type PublicKey,
  ProtocolError,
  type WeightSpec,
  bucketOf,
  planChunks,
  fromBase64,
  manifestDigest,
  pae,
  updateRoot,
  verifyBytes,
  verifyInitialRoot,
  verifyManifest,
} from './index.ts';

const vectors = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'vectors', name), 'utf8'));

describe('signing vectors', () => {
  type Case = {
    description: string;
    alg: PublicKey['alg'];
    publicKey: string;
    keyid: string;
    payloadType: string;
    payload: string;
    pae: string;
    sig: string;
    valid: boolean;
  };
  const cases: Case[] = vectors('signing.json').cases;
  it.each(cases)('$description', async (v) => {
    const message = pae(v.payloadType, fromBase64(v.payload));
    expect(Buffer.from(message).toString('base64')).toBe(v.pae);
    expect(await verifyBytes({ alg: v.alg, spki: v.publicKey }, message, fromBase64(v.sig))).toBe(v.valid);
    // Independent check with node:crypto, which knows nothing of our code.
    const key = createPublicKey({ key: Buffer.from(v.publicKey, 'base64'), format: 'der', type: 'spki' });
    const ok =
      v.alg === 'ed25519'
        ? nodeVerify(null, message, key, Buffer.from(v.sig, 'base64'))
        : nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(v.sig, 'base64'));
    expect(ok).toBe(v.valid);
    expect(createHash('sha256').update(Buffer.from(v.publicKey, 'base64')).digest('hex')).toBe(v.keyid);
  });
});

describe('chunk plan vectors (SPEC 5.1)', () => {
  const v = vectors('chunk-plan.json');
  type Case = {
    description: string;
    weights: WeightSpec[];
    totalBytes: number;
    chunks: { offset: number; size: number }[];
    tensorChunks: number[][];
  };
  it.each(v.cases as Case[])('$description', (c) => {
    const plan = planChunks(c.weights, { packBytes: v.packBytes, maxChunkBytes: v.maxChunkBytes });
    expect({
      totalBytes: plan.totalBytes,
      chunks: plan.chunks,
      tensorChunks: plan.tensors.map((t) => t.chunks),
    }).toEqual({ totalBytes: c.totalBytes, chunks: c.chunks, tensorChunks: c.tensorChunks });
  });
});

describe('manifest digest vectors', () => {
  const cases: { description: string; payload: string; digest: string }[] = vectors('manifest-digests.json').cases;
  it.each(cases)('$description', async (v) => {
    expect(await manifestDigest(fromBase64(v.payload))).toBe(v.digest);
    expect(createHash('sha256').update(Buffer.from(v.payload, 'base64')).digest('hex')).toBe(v.digest);
  });
});

describe('root rotation vector', () => {
  const v = vectors('root-rotation.json');
  const now = new Date('2030-01-01T00:00:00Z');

  it('verifies a manifest through the pinned root and the chain', async () => {
    const pinned = await verifyInitialRoot(v.pinned as Envelope);
    const newest = await updateRoot(pinned, v.chain as Envelope[], now);
    expect(newest.version).toBe(2);
    const { manifest } = await verifyManifest(v.manifest.envelope as Envelope, v.manifest.digest, newest);
    expect(manifest.model).toBe('vector-model');
  });

  it('refuses a next root not signed by the previous root keys', async () => {
    const pinned = await verifyInitialRoot(v.pinned as Envelope);
    await expect(updateRoot(pinned, v.badChain as Envelope[], now)).rejects.toMatchObject({ code: 'unknown_key' });
  });

  it('refuses a manifest signed by a key outside the root', async () => {
    const pinned = await verifyInitialRoot(v.pinned as Envelope);
    const err = await verifyManifest(v.foreignManifest.envelope as Envelope, v.foreignManifest.digest, pinned).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.code).toBe(v.foreignManifest.code);
  });
});

describe('sketch vectors', () => {
  const v = vectors('sketch.json');
  it('derive the same schema digest, sketches, upload bytes and aggregate', async () => {
    const {
      sketchLayout,
      sketchNumeric,
      sketchCategorical,
      encodeUpload,
      decodeUpload,
      emptyAggregate,
      addUpload,
      uploadSize,
    } = await import('./index.ts');
    const layout = await sketchLayout(v.baseline);
    expect(layout.schemaDigest).toBe(v.schemaDigest);
    expect(uploadSize(layout)).toBe(v.uploadBytes);
    const agg = emptyAggregate(layout, 20_000);
    for (const c of v.cases) {
      const [num, cat] = v.baseline.features;
      const features = [sketchNumeric(c.values.amount, num.edges), sketchCategorical(c.values.country, cat.vocabulary)];
      expect(features).toEqual(c.sketches);
      const bytes = encodeUpload(layout, { schemaDigest: layout.schemaDigest, window: 20_000, features });
      expect(Buffer.from(bytes).toString('base64')).toBe(c.upload);
      addUpload(agg, decodeUpload(layout, bytes));
    }
    expect(agg).toEqual(v.aggregate);
  });
});

describe('bucketing vectors', () => {
  const { cases }: { cases: { salt: string; deviceKey: string; bucket: number }[] } = vectors('bucketing.json');

  it('has at least 10,000 cases, non-ASCII ids and every edge bucket', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10_000);
    expect(cases.some((c) => /[^\x00-\x7f]/.test(c.deviceKey))).toBe(true);
    for (const b of [0, 99, 100, 499, 500, 2499, 2500, 4999, 5000, 9999])
      expect(cases.some((c) => c.bucket === b)).toBe(true);
  });

  it('bucketOf agrees with every case, and so does node:crypto on its own', async () => {
    for (const c of cases) {
      const independent =
        createHash('sha256')
          .update(Buffer.from(`${c.salt}:${c.deviceKey}`, 'utf8'))
          .digest()
          .readUInt32BE(0) % 10_000;
      expect([independent, await bucketOf(c.salt, c.deviceKey)], `${c.salt} / ${c.deviceKey}`).toEqual([
        c.bucket,
        c.bucket,
      ]);
    }
  });
});

describe('the portable checker (vector-checks.ts, also run in workerd and Chromium)', () => {
  it('agrees with every vector here, and reports a tampered case instead of passing it', async () => {
    const { checkVectors } = await import('./vector-checks.ts');
    const files = {
      signing: vectors('signing.json'),
      chunkPlan: vectors('chunk-plan.json'),
      manifestDigests: vectors('manifest-digests.json'),
      rootRotation: vectors('root-rotation.json'),
      sketch: vectors('sketch.json'),
      bucketing: vectors('bucketing.json'),
    };
    const results = await checkVectors(files);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.length).toBeGreaterThan(10);
    files.bucketing.cases[7].bucket = (files.bucketing.cases[7].bucket + 1) % 10_000;
    files.manifestDigests.cases[0].digest = '0'.repeat(64);
    const failed = (await checkVectors(files)).filter((r) => !r.ok).map((r) => r.vector.split(':')[0]);
    expect(failed.sort()).toEqual(['bucketing', 'manifest-digest']);
  });
});
