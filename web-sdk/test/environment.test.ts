// Server-side rendering and Node: importing the built SDK is safe (nothing touches window,
// document, Worker or IndexedDB at import), and createClient says what to do instead of failing
// somewhere inside.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { ROOT } from '../../test/harness/bundle.ts';

it('the built ESM imports in Node, and createClient there is unsupported_environment with a way out', async () => {
  expect(typeof (globalThis as { Worker?: unknown }).Worker).toBe('undefined');
  const sdk = (await import(
    pathToFileURL(join(ROOT, 'web-sdk/dist/index.js')).href
  )) as typeof import('../src/index.ts');
  expect(typeof sdk.createClient).toBe('function');
  const error = await sdk
    .createClient({ endpoint: 'https://models.example', appKey: 'mfa_x', trustRoot: '{}' })
    .catch((e: unknown) => e);
  expect(error).toMatchObject({ name: 'SdkError', code: 'unsupported_environment' });
  expect((error as Error).message).toMatch(/useEffect|runner: createEngine\(\)/);
});
