// The packed SDK in fresh apps, built by their own tools: Vite (vanilla-ts, its `tsc && vite
// build` under skipLibCheck: false), webpack 5, and Next.js (app router, static export, the SDK in
// a client component). Each app is served as built and runs a real third-party model (facemesh)
// in Chromium against the local control plane: load, predict, then reload with the control plane
// unreachable — the model comes from IndexedDB and gives the same outputs.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../browser/chromium.ts';
import { readRealModel } from '../fixtures/real-models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { buildApp, freshApp, pack } from './packs.ts';

const APPS = [
  { name: 'vite', out: 'dist' },
  { name: 'webpack', out: 'dist' },
  { name: 'next', out: 'out' },
] as const;
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.html': 'text/html',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.css': 'text/css',
};

let worker: TestWorker;
let browser: Browser;
let tarballs: string[];
let config: Record<string, unknown>;

/** Serves a built app as a static host would, plus the app's /config.json. */
async function serve(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/config.json')
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config));
    let file = normalize(join(root, path));
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(root) || !existsSync(file)) return res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

beforeAll(async () => {
  [worker, browser] = await Promise.all([startWorker({ http: true }), launchChromium()]);
  tarballs = [pack('protocol'), pack('web-sdk')];
  const appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'ecosystem', models: ['*'] } })).json()) as {
      appKey: string;
    }
  ).appKey;
  const facemesh = readRealModel('facemesh');
  await createModel(worker, 'facemesh');
  const r = await publish(worker, 'facemesh', facemesh, { format: facemesh.format });
  expect(r.res.status).toBe(201);
  await worker.api('/v1/models/facemesh/aliases/champion', { method: 'PUT', json: { version: r.body.version } });
  config = { endpoint: worker.url, appKey, trustRoot: worker.rootEnvelope, model: 'facemesh' };
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await worker?.dispose();
});

/** Lists a tarball's files and reads its manifest (without installing it). */
function tarball(path: string): { files: string[]; manifest: Record<string, any> } {
  const files = execFileSync('tar', ['-tzf', path], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((f) => f.replace(/^package\//, ''));
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', path, 'package/package.json'], { encoding: 'utf8' }));
  return { files, manifest };
}

it.each([0, 1])(
  'tarball %i is ready to publish: licence, metadata, exports that resolve inside it, no sources',
  (i) => {
    const { files, manifest } = tarball(tarballs[i]!);
    expect(manifest).toMatchObject({ license: 'Apache-2.0', engines: { node: '>=20.19' }, type: 'module' });
    expect(manifest).toHaveProperty('sideEffects'); // false, or the files that must not be shaken out
    expect(manifest.repository?.url).toMatch(/^https:\/\/github\.com\//);
    expect(manifest.private).toBeUndefined();
    expect(files).toContain('dist/LICENSE');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    // Every export target (types and import) is a file in the tarball.
    const targets = Object.values(manifest.exports as Record<string, string | Record<string, string>>).flatMap((t) =>
      typeof t === 'string' ? [t] : Object.values(t),
    );
    for (const target of targets) expect(files, target).toContain(target.replace(/^\.\//, ''));
    // Only what runs on a device is a dependency: TF.js is an optional peer, never installed for the page.
    for (const dep of Object.keys(manifest.dependencies ?? {}))
      expect(['@modelfleet/protocol', 'idb', 'comlink', 'zod']).toContain(dep);
  },
);

describe.each(APPS)('a $name app', ({ name, out }) => {
  it('installs the packed tarballs, builds with its own command, runs a real model, and reloads it offline', async () => {
    const dir = freshApp(name, tarballs);
    buildApp(dir);
    const site = await serve(join(dir, out));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const result = async () => {
        await page.waitForFunction(() => (globalThis as { result?: unknown }).result !== undefined, null, {
          timeout: 120_000,
        });
        return page.evaluate(() => (globalThis as unknown as { result: any }).result);
      };
      await page.goto(site.url);
      const online = await result();
      expect(online, JSON.stringify(online)).toMatchObject({ version: 1, backend: 'cpu', state: 'ready' });
      expect(Object.keys(online.outputs).sort()).toEqual(['Identity', 'Identity_1', 'Identity_2']);
      const values = Object.values(online.outputs as Record<string, { head: number[] }>).flatMap((o) => o.head);
      expect(values.every(Number.isFinite)).toBe(true);

      // The control plane is gone: the model is served from IndexedDB, same version, same outputs.
      await context.route(`${worker.url}/**`, (route) => route.abort('internetdisconnected'));
      await page.reload();
      const offline = await result();
      expect(offline).toMatchObject({ version: 1, backend: 'cpu', state: 'offline', outputs: online.outputs });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await site.close();
    }
  }, 600_000);
});
