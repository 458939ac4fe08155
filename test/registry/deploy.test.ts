// `wrangler deploy --dry-run` must always pass, and the bundle must fit a Worker.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUNDLE_ENTRY, bundleWorker } from '../harness/bundle.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
beforeAll(async () => {
  worker = await startWorker();
});
afterAll(() => worker?.dispose());

it('wrangler deploy --dry-run bundles the Worker within the size limits: 3 MiB gzip (the former Free limit), 64 MiB uncompressed', () => {
  const { entry, bytes } = bundleWorker();
  const gz = gzipSync(readFileSync(entry)).length;
  expect(gz).toBeGreaterThan(10_000);
  expect(gz).toBeLessThan(3 * 2 ** 20);
  expect(bytes).toBeLessThan(64 * 2 ** 20);
});

it('the bundle is minified, keeps function names for stack traces, and has a source map back to our files', () => {
  const source = readFileSync(BUNDLE_ENTRY, 'utf8');
  // esbuild writes a `// path` line before each module unless it minifies.
  expect(source).not.toContain('// control-plane/src/publish/commit.ts');
  // keep_names: the original name is set on the renamed function, and V8 prints it in stacks.
  expect(source).toContain('"commitUpload"');
  const map = JSON.parse(readFileSync(`${BUNDLE_ENTRY}.map`, 'utf8')) as { sources: string[] };
  expect(map.sources.some((s) => s.endsWith('control-plane/src/publish/commit.ts'))).toBe(true);
});

it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
  const res = await worker.api('/v1/openapi.json', { token: null });
  expect(res.status).toBe(200);
  const doc = (await res.json()) as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
    components: { securitySchemes: object };
  };
  expect(doc.openapi).toBe('3.1.0');
  for (const [path, method] of [
    ['/v1/models', 'post'],
    ['/v1/models/{model}/uploads', 'post'],
    ['/v1/uploads/{upload}/chunks/{digest}', 'put'],
    ['/v1/uploads/{upload}/commit', 'post'],
    ['/v1/models/{model}/aliases/{alias}', 'put'],
    ['/v1/keys/root', 'put'],
    ['/v1/tokens', 'post'],
    ['/v1/edge/tickets/{model}', 'get'],
    ['/v1/edge/manifests/{digest}', 'get'],
    ['/v1/edge/chunks/{digest}', 'get'],
    ['/v1/edge/roots', 'get'],
  ] as const) {
    expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
  }
  const upload = doc.paths['/v1/models/{model}/uploads']!.post as any;
  expect(upload.requestBody.content['application/json'].schema).toBeDefined();
  expect(doc.components.securitySchemes).toHaveProperty('bearer');
});

it('answers unknown routes with a coded 404', async () => {
  const res = await worker.api('/v1/nothing-here');
  expect(res.status).toBe(404);
  expect(((await res.json()) as any).error.code).toBe('not_found');
});

it('records every state change in the audit log, newest first', async () => {
  await worker.api('/v1/models', { method: 'POST', json: { name: 'audited' } });
  await worker.api('/v1/tokens', { method: 'POST', json: { role: 'viewer', label: 'ci' } });
  const { records } = (await (await worker.api('/v1/audit')).json()) as {
    records: { action: string; actor: string; subject: string }[];
  };
  expect(records.map((r) => r.action)).toEqual(['token.create', 'model.create', 'root.init']);
  expect(records[1]).toMatchObject({ actor: 'admin (bootstrap token)', subject: 'model/audited' });
});
