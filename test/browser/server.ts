/**
 * @module browser/server
 * A static server for browser suites: the built SDK under /sdk/, test pages under /, model
 * files written by the test under /models/, and the TF.js bundle under /tfjs/ for reference
 * loads. Loopback only; the control plane runs separately (cross-origin, as in production).
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { ROOT } from '../harness/bundle.ts';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.html': 'text/html',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.map': 'application/json',
};

/** A file the test serves from memory; with `type`, under that content type whatever its extension. */
export type ServedFile = Uint8Array | string | { body: Uint8Array | string; type: string };
export interface StaticServer {
  url: string;
  files: Map<string, ServedFile>;
  close(): Promise<void>;
}

/**
 * `cacheLibraries`: the SDK and TF.js bundles are sent cacheable (an hour), so a page can put
 * them in the HTTP cache before a timer starts, as a returning visitor would have them.
 */
export async function startStaticServer(
  opts: { cacheLibraries?: boolean; cors?: boolean } = {},
): Promise<StaticServer> {
  const files = new Map<string, ServedFile>();
  // `cors`: readable from any origin, as a CDN serves the SDK (unpkg, jsDelivr).
  const cors = opts.cors ? { 'access-control-allow-origin': '*' } : {};
  const mounts: [string, string][] = [
    ['/sdk/', join(ROOT, 'web-sdk/dist')],
    ['/tfjs/', join(ROOT, 'node_modules/@tensorflow/tfjs/dist')],
    // Plain TF.js's own WASM and WebGPU backends, for reference runs on the same backend as the SDK.
    ['/tfjs-wasm/', join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist')],
    ['/tfjs-webgpu/', join(ROOT, 'node_modules/@tensorflow/tfjs-backend-webgpu/dist')],
    ['/', join(ROOT, 'test/browser/pages')],
  ];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    const memory = files.get(path);
    if (memory !== undefined) {
      const typed = typeof memory === 'object' && 'body' in memory ? memory : undefined;
      res.writeHead(200, { 'content-type': typed?.type ?? type, ...cors });
      return res.end(typed ? typed.body : memory);
    }
    for (const [prefix, dir] of mounts) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(dir, path.slice(prefix.length)));
      if (file.startsWith(dir) && existsSync(file) && statSync(file).isFile()) {
        res.writeHead(200, {
          'content-type': type,
          ...cors,
          ...(opts.cacheLibraries && prefix !== '/' ? { 'cache-control': 'public, max-age=3600' } : {}),
        });
        return res.end(readFileSync(file));
      }
    }
    res.writeHead(404, cors).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, files, close: () => new Promise((r) => server.close(() => r())) };
}
