/**
 * Bridge round-trip overhead per predict at batch 1, in Chromium: the bundled WebView page with a
 * ReactNativeWebView shim and the React Native side's client in the same page, against the web
 * SDK called directly there with the same engine (anchor). The native hop of a real phone (a few
 * hundred µs per message on current devices, not measurable here) is not included.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { launchChromium } from '../browser/chromium.ts';
import { startStaticServer } from '../browser/server.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { ROOT } from '../harness/bundle.ts';
import { createModel, publish } from '../harness/publish.ts';
import type { TestWorker } from '../harness/worker.ts';

type Row = { bench: string; value: string; anchor: string; ratio: string; target: string };

export async function bridgeBench(worker: TestWorker, appKey: string): Promise<Row[]> {
  execFileSync(process.execPath, [join(ROOT, 'mobile-bridge/scripts/build-page.mjs'), '--quiet'], { stdio: 'pipe' });
  const bundle = async (entry: string) =>
    (
      await build({
        entryPoints: [join(ROOT, 'test/bench/pages', entry)],
        bundle: true,
        format: 'iife',
        write: false,
        minify: true,
        logLevel: 'warning',
        define: { 'import.meta.url': '"about:blank"' },
      })
    ).outputFiles[0]!.text;
  const [bridgeHost, directHost] = await Promise.all([bundle('bridge-host.ts'), bundle('direct-host.ts')]);
  const inputs = 20;
  await createModel(worker, 'bridgebench');
  const p = await publish(worker, 'bridgebench', await buildLayersModel({ seed: 91, inputs, hidden: 32, outputs: 2 }));
  await worker.api('/v1/models/bridgebench/aliases/champion', { method: 'PUT', json: { version: p.body.version } });
  const site = await startStaticServer();
  const browser = await launchChromium();
  try {
    site.files.set('/bridge.html', readFileSync(join(ROOT, 'mobile-bridge/dist/page.html'), 'utf8'));
    site.files.set('/blank.html', '<!doctype html><title>direct</title>');
    const config = {
      endpoint: worker.url,
      appKey,
      trustRoot: JSON.stringify(worker.rootEnvelope),
      model: 'bridgebench',
      row: Array.from({ length: inputs }, (_, i) => Math.sin(i)),
      iterations: 300,
    };
    // Two pages (one TF.js each), alternated over rounds so machine drift hits both alike.
    const bridgePage = await browser.newPage();
    await bridgePage.goto(`${site.url}/bridge.html`);
    await bridgePage.addScriptTag({ content: bridgeHost });
    const directPage = await browser.newPage();
    await directPage.goto(`${site.url}/blank.html`);
    await directPage.addScriptTag({ content: directHost });
    const r = { bridgeMs: 0, directMs: 0 };
    let outs: unknown[] = [];
    for (let round = 0; round < 3; round++) {
      const d = (await directPage.evaluate((c) => (globalThis as any).benchDirect(c), config)) as {
        ms: number;
        out: unknown;
      };
      const b = (await bridgePage.evaluate((c) => (globalThis as any).benchBridge(c), config)) as {
        ms: number;
        out: unknown;
      };
      r.directMs += d.ms / 3;
      r.bridgeMs += b.ms / 3;
      outs = [d.out, b.out];
    }
    if (JSON.stringify(outs[0]) !== JSON.stringify(outs[1])) throw new Error('bridge and direct predictions differ');
    const added = r.bridgeMs - r.directMs;
    return [
      {
        bench: `bridge predict, batch 1 (${inputs} inputs, CPU): round trip through the message protocol`,
        value: `${r.bridgeMs.toFixed(3)} ms (+${(added * 1000).toFixed(0)} µs)`,
        anchor: `${r.directMs.toFixed(3)} ms web SDK direct`,
        ratio: `${(r.bridgeMs / r.directMs).toFixed(2)}×`,
        target: '≤ 1 ms added',
      },
    ];
  } finally {
    await browser.close();
    await site.close();
  }
}
