/**
 * Console page weight and time to first render, in real Chromium against the real Worker with the
 * console suite's seeded data. Weight: each page's HTML plus the shell assets (stylesheet, app
 * island) gzipped, charts (uPlot + chart island) counted apart. First render: first-contentful-
 * paint of each page, median of several cold navigations, beside the same Worker's trivial
 * /v1/health route rendered by the same browser (the anchor).
 */
import { gzipSync } from 'node:zlib';
import { launchChromium } from '../browser/chromium.ts';
import { seedConsole } from '../console/seed.ts';
import { startWorker } from '../harness/worker.ts';

type Row = { bench: string; value: string; anchor: string; ratio: string; target: string };
const RUNS = 7;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function consoleBench(): Promise<Row[]> {
  const worker = await startWorker({
    http: true,
    vars: { DRIFT_MIN_DEVICES: '20', DRIFT_EPSILON_PER_DAY: '1000', ROLLOUT_TICK_SECONDS: '3600' },
  });
  const browser = await launchChromium();
  try {
    const seeded = await seedConsole(worker);
    const { id } = (await (
      await worker.api('/v1/models/fraud/rollouts', { method: 'POST', json: { challenger: 2 } })
    ).json()) as { id: string };
    const login = await fetch(`${worker.url}/console/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: worker.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${seeded.operator}`,
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const pages = {
      models: '/console',
      model: '/console/models/fraud',
      rollout: `/console/rollouts/${id}`,
      drift: '/console/models/fraud/drift',
    };

    // Weight: HTML + the assets each page links, gzipped as a CDN would send them.
    const gz = async (path: string) =>
      gzipSync(Buffer.from(await (await fetch(`${worker.url}${path}`, { headers: { cookie } })).arrayBuffer())).length;
    const sample = await (await fetch(`${worker.url}${pages.drift}`, { headers: { cookie } })).text();
    const assets = [...sample.matchAll(/(?:href|src)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    const sizes = Object.fromEntries(await Promise.all(assets.map(async (a) => [a, await gz(a)] as const)));
    const shellAssets = assets.filter((a) => /\/(console|app)\./.test(a)).reduce((n, a) => n + sizes[a]!, 0);
    const chartAssets = assets.filter((a) => /\/(charts|uplot)\./.test(a)).reduce((n, a) => n + sizes[a]!, 0);
    const html = Object.fromEntries(
      await Promise.all(Object.entries(pages).map(async ([k, p]) => [k, await gz(p)] as const)),
    );
    const heaviest = Math.max(...Object.values(html));

    // First render: cold context per run (no cache, fresh session cookie).
    const context = await browser.newContext();
    await context.addCookies([{ name: 'mf_console', value: cookie.split('=')[1]!, url: `${worker.url}/console` }]);
    const fcp = async (path: string) => {
      const out: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const page = await context.newPage();
        await page.route('**/*', (route) =>
          route.continue({ headers: { ...route.request().headers(), 'cache-control': 'no-cache' } }),
        );
        await page.goto(`${worker.url}${path}`, { waitUntil: 'load' });
        out.push(
          await page.evaluate(
            () =>
              new Promise<number>((resolve) => {
                const entry = performance.getEntriesByName('first-contentful-paint')[0];
                if (entry) return resolve(entry.startTime);
                new PerformanceObserver((list) => resolve(list.getEntries()[0]!.startTime)).observe({
                  type: 'paint',
                  buffered: true,
                });
              }),
          ),
        );
        await page.close();
      }
      return median(out);
    };
    const anchor = await fcp('/v1/health');
    const rows: Row[] = [
      {
        bench: 'console shell: largest page HTML + CSS + app island (gzip)',
        value: kb(heaviest + shellAssets),
        anchor: `HTML ${kb(heaviest)}, assets ${kb(shellAssets)}`,
        ratio: '—',
        target: '≤ 150 KiB',
      },
      {
        bench: '  charts (uPlot + chart island, model and drift pages only, gzip)',
        value: kb(chartAssets),
        anchor: '—',
        ratio: '—',
        target: '(excluded)',
      },
    ];
    for (const [name, path] of Object.entries(pages)) {
      const t = await fcp(path);
      rows.push({
        bench: `console first contentful paint: ${name} page (median of ${RUNS})`,
        value: `${t.toFixed(0)} ms`,
        anchor: `${anchor.toFixed(0)} ms /v1/health`,
        ratio: `${(t / anchor).toFixed(2)}×`,
        target: '≤ 1,000 ms',
      });
    }
    await context.close();
    return rows;
  } finally {
    await browser.close();
    await worker.dispose();
  }
}
