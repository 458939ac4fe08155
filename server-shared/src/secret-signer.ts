/**
 * @module secret-signer
 * Online signing keys come from Worker secrets as JSON key records; each is imported once per
 * isolate. Shared by the ticket signer (edge) and the release signer (control plane).
 */
import { KeyPairRecord, type Signer, signerFrom } from '@modelfleet/protocol';
import { ApiError } from './http-error.ts';

const signers = new Map<string, Promise<Signer>>();

export function signerFromSecret(secretName: string, source: string | undefined): Promise<Signer> {
  if (!source)
    throw new ApiError(
      'signing_key_missing',
      `the ${secretName} secret is not configured; run \`modelfleet keys init\``,
    );
  let signer = signers.get(source);
  if (!signer) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(source);
    } catch {
      parsed = undefined;
    }
    const record = KeyPairRecord.safeParse(parsed);
    if (!record.success)
      throw new ApiError(
        'signing_key_missing',
        `${secretName} is not a valid key record; regenerate it with \`modelfleet keys init\``,
      );
    signer = signerFrom(record.data);
    signers.set(source, signer);
  }
  return signer;
}
