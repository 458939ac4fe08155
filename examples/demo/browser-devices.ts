/**
 * @module demo/browser-devices
 * A few demo devices in real Chromium (playwright-core, the system's Chromium), so the browser
 * path — the ESM build, the inference Web Worker on WASM, IndexedDB — is in the loop beside the
 * Node fleet. The page and the built SDK (web-sdk/dist) are served from loopback.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import type { Envelope } from '@modelfleet/protocol';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type Regime, transactions } from './transactions.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.html': 'text/html',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** Serves /sdk/ (web-sdk/dist) and / (this folder's page/). */
async function serve(): Promise<{ url: string; close(): Promise<void> }> {
  const mounts: [string, string][] = [
    ['/sdk/', join(ROOT, 'web-sdk/dist')],
    ['/', join(import.meta.dirname, 'page')],
  ];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    for (const [prefix, dir] of mounts) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(dir, path.slice(prefix.length)));
      if (file.startsWith(dir) && existsSync(file) && statSync(file).isFile()) {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
        return res.end(readFileSync(file));
      }
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface BrowserDevices {
  readonly ids: readonly string[];
  tick(regime: Regime, round: number): Promise<{ scored: number; correct: number; versions: number[] }>;
  close(): Promise<void>;
}

export async function startBrowserDevices(o: {
  endpoint: string;
  appKey: string;
  root: Envelope;
  model: string;
  count: number;
  pollMs: number;
  perTick: number;
  seed: number;
  chromium?: string;
}): Promise<BrowserDevices> {
  const executablePath = o.chromium ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath))
    throw new Error(`${executablePath} not found (apt-get install -y chromium, or CHROMIUM_PATH=…)`);
  const site = await serve();
  const browser: Browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const pages: Page[] = [];
  const ids = Array.from({ length: o.count }, (_, i) => `demo-browser-${i}`);
  for (const id of ids) {
    const page = await (await browser.newContext()).newPage(); // own context: own IndexedDB, as a separate device
    page.on('pageerror', (e) => console.error(`[${id}] ${e.message}`));
    await page.goto(`${site.url}/device.html`);
    await page.waitForFunction(() => (globalThis as { deviceReady?: boolean }).deviceReady === true);
    await page.evaluate((cfg) => (globalThis as any).device.open(cfg), {
      endpoint: o.endpoint,
      appKey: o.appKey,
      trustRoot: o.root,
      deviceId: id,
      model: o.model,
      pollMs: o.pollMs,
    });
    pages.push(page);
  }
  return {
    ids,
    async tick(regime, round) {
      const results = await Promise.all(
        pages.map((page, i) => {
          const rows = transactions(o.perTick, { seed: o.seed * 7 + i * 1009 + round * 7919, regime });
          return page.evaluate((arg) => (globalThis as any).device.tick(arg), {
            rows: rows.map((r) => r.x),
            labels: rows.map((r) => r.y),
          }) as Promise<{ version: number; correct: number }>;
        }),
      );
      return {
        scored: o.perTick * pages.length,
        correct: results.reduce((s, r) => s + r.correct, 0),
        versions: results.map((r) => r.version),
      };
    },
    async close() {
      await Promise.all(pages.map((p) => p.evaluate(() => (globalThis as any).device.close()).catch(() => {})));
      await browser.close();
      await site.close();
    },
  };
}
