import { describe, expect, it } from 'vitest';
import {
  PAYLOAD_TYPES,
  addSignatures,
  fromBase64,
  generateKeyPair,
  pae,
  signEnvelope,
  signerFrom,
  toBase64,
  utf8,
  verifyEnvelope,
} from './index.ts';

async function keys(n: number, alg: 'ecdsa-p256-sha256' | 'ed25519' = 'ecdsa-p256-sha256') {
  const records = await Promise.all(Array.from({ length: n }, () => generateKeyPair(alg)));
  const pub = Object.fromEntries(records.map((r) => [r.keyid, { alg: r.alg, spki: r.publicKey }]));
  return { records, pub, signers: await Promise.all(records.map(signerFrom)) };
}

describe('DSSE envelope', () => {
  it('PAE matches the DSSE spec example layout', () => {
    expect(new TextDecoder().decode(pae('http://example.com/HelloWorld', utf8('hello world')))).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it.each(['ecdsa-p256-sha256', 'ed25519'] as const)('round-trips exact bytes with %s', async (alg) => {
    const k = await keys(1, alg);
    const payload = utf8('{"b":1,  "a":2}'); // odd spacing survives: bytes are shipped, not re-serialised
    const env = await signEnvelope(PAYLOAD_TYPES.ticket, payload, k.signers);
    const out = await verifyEnvelope(
      env,
      PAYLOAD_TYPES.ticket,
      k.pub,
      { keyids: Object.keys(k.pub), threshold: 1 },
      'ticket',
    );
    expect(out).toEqual(payload);
  });

  it('counts distinct keys toward a threshold and ignores duplicates', async () => {
    const k = await keys(2);
    const role = { keyids: Object.keys(k.pub), threshold: 2 };
    const one = await signEnvelope(PAYLOAD_TYPES.manifest, utf8('x'), [k.signers[0]!]);
    const doubled = { ...one, signatures: [...one.signatures, ...one.signatures] };
    await expect(verifyEnvelope(doubled, PAYLOAD_TYPES.manifest, k.pub, role, 'm')).rejects.toMatchObject({
      code: 'threshold_not_met',
    });
    const both = await addSignatures(one, [k.signers[1]!]);
    await expect(verifyEnvelope(both, PAYLOAD_TYPES.manifest, k.pub, role, 'm')).resolves.toEqual(utf8('x'));
  });

  it('refuses a flipped payload byte, another key, and a wrong payload type', async () => {
    const k = await keys(2);
    const role = { keyids: [k.records[0]!.keyid], threshold: 1 };
    const env = await signEnvelope(PAYLOAD_TYPES.manifest, utf8('payload'), [k.signers[0]!]);
    const bytes = fromBase64(env.payload);
    bytes[0] = bytes[0]! ^ 0x01;
    await expect(
      verifyEnvelope({ ...env, payload: toBase64(bytes) }, PAYLOAD_TYPES.manifest, k.pub, role, 'm'),
    ).rejects.toMatchObject({ code: 'bad_signature' });
    const foreign = await signEnvelope(PAYLOAD_TYPES.manifest, utf8('payload'), [k.signers[1]!]);
    await expect(verifyEnvelope(foreign, PAYLOAD_TYPES.manifest, k.pub, role, 'm')).rejects.toMatchObject({
      code: 'unknown_key',
    });
    await expect(verifyEnvelope(env, PAYLOAD_TYPES.ticket, k.pub, role, 'm')).rejects.toMatchObject({
      code: 'malformed_document',
    });
  });

  it('treats garbage signatures as bad, not as crashes', async () => {
    const k = await keys(1);
    const env = await signEnvelope(PAYLOAD_TYPES.manifest, utf8('p'), k.signers);
    const role = { keyids: Object.keys(k.pub), threshold: 1 };
    await expect(
      verifyEnvelope(
        { ...env, signatures: [{ keyid: k.records[0]!.keyid, sig: 'AAAA' }] },
        PAYLOAD_TYPES.manifest,
        k.pub,
        role,
        'm',
      ),
    ).rejects.toMatchObject({ code: 'bad_signature' });
  });
});
