import { describe, expect, it } from 'vitest';
import {
  Manifest,
  type Ticket,
  checkManifestMatchesTicket,
  checkSizeCaps,
  sha256Hex,
  signManifest,
  signTicket,
  signerFrom,
  utf8,
  verifyChunk,
  verifyManifest,
  verifyTicket,
} from './index.ts';
import { createTestTrust } from './testing.ts';

const manifest = (over: Partial<Manifest> = {}): Manifest => ({
  type: 'modelfleet/manifest',
  specVersion: 1,
  model: 'm',
  version: 2,
  format: 'tfjs-layers',
  modelJson: {},
  weights: [{ name: 'w', dtype: 'float32', shape: [2], offset: 0, size: 8, chunks: [0] }],
  chunks: [{ digest: 'b'.repeat(64), size: 8 }],
  totalBytes: 8,
  io: {
    inputs: [{ name: 'x', dtype: 'float32', shape: [null, 2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [null, 1] }],
  },
  runtime: { backends: ['cpu'] },
  monitoring: { baseline: null },
  metrics: { values: {} },
  params: {},
  lineage: {},
  publishedAt: new Date().toISOString(),
  publishedBy: 't',
  ...over,
});

const ticket = (over: Partial<Ticket> = {}): Ticket => ({
  type: 'modelfleet/ticket',
  specVersion: 1,
  model: 'm',
  version: 2,
  manifestDigest: 'c'.repeat(64),
  rolloutId: null,
  stage: 'champion',
  sequence: 5,
  issuedAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
  ...over,
});

describe('SPEC client steps', () => {
  it('1.3–1.4: accepts a fresh ticket, refuses expired, replayed and release-signed ones', async () => {
    const t = await createTestTrust();
    const signer = await signerFrom(t.keys.ticket[0]!);
    const now = new Date();
    expect((await verifyTicket(await signTicket(ticket(), signer), t.root, { now, highestSequence: 5 })).sequence).toBe(
      5,
    );
    await expect(
      verifyTicket(
        await signTicket(ticket({ expiresAt: new Date(Date.now() - 60_000).toISOString() }), signer),
        t.root,
        { now },
      ),
    ).rejects.toMatchObject({ code: 'ticket_expired' });
    await expect(
      verifyTicket(await signTicket(ticket({ sequence: 4 }), signer), t.root, { now, highestSequence: 5 }),
    ).rejects.toMatchObject({ code: 'ticket_replayed' });
    const byRelease = await signTicket(ticket(), await signerFrom(t.keys.release[0]!));
    await expect(verifyTicket(byRelease, t.root, { now })).rejects.toMatchObject({ code: 'unknown_key' });
  });

  it('2–3: checks the digest before signatures, and model/version against the ticket', async () => {
    const t = await createTestTrust();
    const signed = await signManifest(manifest(), [await signerFrom(t.keys.release[0]!)]);
    const { manifest: m } = await verifyManifest(signed.envelope, signed.digest, t.root);
    await expect(verifyManifest(signed.envelope, 'd'.repeat(64), t.root)).rejects.toMatchObject({
      code: 'manifest_digest_mismatch',
    });
    // Order: with a forged signature AND the wrong digest the digest is what fails (no signature
    // work on bytes the ticket never named); with the right digest the forged signature fails.
    const sig = signed.envelope.signatures[0]!;
    const forged = {
      ...signed.envelope,
      signatures: [{ ...sig, sig: sig.sig.startsWith('A') ? `B${sig.sig.slice(1)}` : `A${sig.sig.slice(1)}` }],
    };
    await expect(verifyManifest(forged, 'd'.repeat(64), t.root)).rejects.toMatchObject({
      code: 'manifest_digest_mismatch',
    });
    await expect(verifyManifest(forged, signed.digest, t.root)).rejects.toMatchObject({ code: 'bad_signature' });
    expect(() => checkManifestMatchesTicket(m, ticket({ version: 2 }))).not.toThrow();
    expect(() => checkManifestMatchesTicket(m, ticket({ version: 1 }))).toThrow(
      expect.objectContaining({ code: 'ticket_manifest_mismatch' }),
    );
  });

  it('4: refuses oversized manifests before download', () => {
    expect(() => checkSizeCaps(manifest({ totalBytes: 8 }), { maxTotalBytes: 7, maxChunkBytes: 100 })).toThrow(
      expect.objectContaining({ code: 'manifest_too_large' }),
    );
    expect(() => checkSizeCaps(manifest(), { maxTotalBytes: 100, maxChunkBytes: 4 })).toThrow(
      expect.objectContaining({ code: 'manifest_too_large' }),
    );
  });

  it('5.2: a chunk must match size and digest', async () => {
    const bytes = utf8('chunk-bytes');
    const digest = await sha256Hex(bytes);
    await expect(verifyChunk(bytes, { digest, size: bytes.length })).resolves.toBeUndefined();
    const flipped = bytes.slice();
    flipped[3] = flipped[3]! ^ 0x80;
    await expect(verifyChunk(flipped, { digest, size: bytes.length })).rejects.toMatchObject({
      code: 'chunk_digest_mismatch',
    });
    await expect(verifyChunk(bytes.subarray(1), { digest, size: bytes.length })).rejects.toMatchObject({
      code: 'chunk_digest_mismatch',
    });
  });

  it('manifest schema refuses weights outside their chunks', () => {
    const bad = manifest({
      weights: [{ name: 'w', dtype: 'float32', shape: [4], offset: 0, size: 16, chunks: [0] }],
      chunks: [{ digest: 'b'.repeat(64), size: 8 }],
      totalBytes: 8,
    });
    expect(Manifest.safeParse(bad).success).toBe(false);
    expect(Manifest.safeParse(manifest()).success).toBe(true);
  });
});
