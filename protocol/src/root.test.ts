import { describe, expect, it } from 'vitest';
import {
  createKeySet,
  generateKeyPair,
  rootFor,
  signInitialRoot,
  signRoot,
  signRotatedRoot,
  signerFrom,
  updateRoot,
  verifyInitialRoot,
} from './index.ts';
import { inDays } from './testing.ts';

const now = new Date();

describe('root of trust', () => {
  it('accepts a self-signed v1 and refuses a v1 signed by a foreign key', async () => {
    const keys = await createKeySet();
    expect((await verifyInitialRoot(await signInitialRoot(keys, inDays(30)))).version).toBe(1);
    const stranger = await signerFrom(await generateKeyPair());
    const forged = await signRoot(rootFor(keys, 1, inDays(30)), [stranger]);
    await expect(verifyInitialRoot(forged)).rejects.toMatchObject({ code: 'unknown_key' });
  });

  it('walks a chain of rotations, with a 2-of-3 root role in the middle', async () => {
    const k1 = await createKeySet();
    const v1 = await verifyInitialRoot(await signInitialRoot(k1, inDays(30)));
    const k2 = {
      ...k1,
      root: await Promise.all([generateKeyPair(), generateKeyPair(), generateKeyPair()]),
      thresholds: { root: 2 },
    };
    const e2 = await signRotatedRoot(k1.root, 1, { ...k2, root: k2.root.slice(0, 3) }, inDays(30));
    // v3 signed by only one of v2's three root keys (threshold 2) plus its own key: refused.
    const k3 = { ...k1, root: [await generateKeyPair()] };
    const weak = await signRotatedRoot([k2.root[0]!], 2, k3, inDays(30));
    const strong = await signRotatedRoot([k2.root[0]!, k2.root[2]!], 2, k3, inDays(30));
    await expect(updateRoot(v1, [e2, weak], now)).rejects.toMatchObject({ code: 'threshold_not_met' });
    expect((await updateRoot(v1, [e2, strong], now)).version).toBe(3);
  });

  it('refuses a skipped version and an expired newest root', async () => {
    const k1 = await createKeySet();
    const v1 = await verifyInitialRoot(await signInitialRoot(k1, inDays(30)));
    const skipped = await signRotatedRoot(k1.root, 2, k1, inDays(30)); // claims v3 after v1
    await expect(updateRoot(v1, [skipped], now)).rejects.toMatchObject({ code: 'root_invalid' });
    const expired = await signRotatedRoot(k1.root, 1, k1, inDays(-1));
    await expect(updateRoot(v1, [expired], now)).rejects.toMatchObject({ code: 'root_expired' });
  });
});
