// Upload proofs (SPEC 11.1): the implementation equals the SPEC's recipe computed independently
// with WebCrypto (HKDF, then HMAC-SHA256, base64url, first 22 characters); a proof opens only for
// its own subject and claims.
import { describe, expect, it } from 'vitest';
import { type ProofClaims, readProof } from '@modelfleet/protocol';
import { mintProof, openProof, proofKey } from './proof-mac.ts';

const secret = '{"kty":"EC","d":"not-a-real-key"}';
const subject = { app: 'app_1', device: 'device-42', model: 'fraud' };
const claims: ProofClaims = {
  day: 20425,
  version: 3,
  stage: 'challenger',
  sequence: 17,
  rollout: 'ro_0123456789abcdef',
  attested: false,
};

async function bySpec(): Promise<string> {
  const enc = new TextEncoder();
  const ikm = await crypto.subtle.importKey('raw', enc.encode(secret), 'HKDF', false, ['deriveKey']);
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: enc.encode('modelfleet/upload-proof/v1') },
    ikm,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    ['sign'],
  );
  const text = `${claims.day}.${claims.version}.${claims.stage}.${claims.sequence}.${claims.rollout}.0`;
  const mac = new Uint8Array(
    await crypto.subtle.sign(
      'HMAC',
      key,
      enc.encode(`modelfleet/upload-proof/v1\n${subject.app}\n${subject.device}\n${subject.model}\n${text}`),
    ),
  );
  return `p1.${text}.${Buffer.from(mac).toString('base64url').slice(0, 22)}`;
}

describe('upload proofs', () => {
  it('equal the SPEC 11.1 recipe computed with WebCrypto', async () => {
    expect(mintProof(proofKey(secret), subject, claims)).toBe(await bySpec());
  });

  it('open only for their own subject and claims; a device can read its claims', async () => {
    const key = proofKey(secret);
    const proof = mintProof(key, subject, claims);
    expect(openProof(key, subject, proof)).toEqual(claims);
    expect(readProof(proof)).toMatchObject(claims);
    expect(openProof(key, { ...subject, device: 'device-43' }, proof)).toBeNull();
    expect(openProof(key, { ...subject, app: 'app_2' }, proof)).toBeNull();
    expect(openProof(key, subject, proof.replace('.challenger.', '.control.'))).toBeNull();
    expect(openProof(key, subject, proof.replace('.17.', '.18.'))).toBeNull();
    expect(openProof(proofKey(`${secret} `), subject, proof)).toBeNull();
    for (const bad of ['', 'p1.', `${proof}x`, proof.replace('p1.', 'p2.'), 'p1.1.1.champion.1.-.0.' + '!'.repeat(22)])
      expect(openProof(key, subject, bad)).toBeNull();
  });
});
