// The operator console in real Chromium against the real Worker (workerd through Miniflare) with
// seeded data (./setup.ts): what the pages say about the fleet — devices per version over time
// (live), two versions' claimed feature importances, the drift alarm on the feature chart and the
// alarmed feature the version leans on — and what the console refuses: a viewer sees no buttons and
// the API refuses them; expired and wrong tokens, forged CSRF, XSS in names.
// Screenshots go to .screenshots/console/ (git-ignored).
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorker } from '../harness/worker.ts';
import { IMPORTANCES, type Seeded, seedHealth, seedModel } from './seed.ts';
import { SHOTS, audit, rollout, shot, signIn, startConsole, stopConsole } from './setup.ts';

let worker: TestWorker;
let seeded: Seeded;
let browser: Browser;

beforeAll(async () => ({ worker, seeded, browser } = await startConsole()), 180_000);
afterAll(stopConsole);

describe('operator', () => {
  let page: Page;
  let context: BrowserContext;
  beforeAll(async () => ({ page, context } = await signIn(seeded.operator)));
  afterAll(() => context?.close());

  it('shows devices per version over time, rising live as the open window fills', async () => {
    await page.goto(`${worker.url}/console/models/fraud`);
    await page.locator('[data-chart="fleet"][data-drawn] canvas').waitFor();
    expect(await page.locator('#fleet').getAttribute('data-versions')).toBe('1,2');
    expect(await page.locator('#fleet .u-legend').textContent()).toMatch(/v1.*v2.*all/s); // a series per version
    const data = JSON.parse((await page.locator('#fleet-data').textContent())!);
    expect(data).toMatchObject({ windowSeconds: 86_400, current: seeded.today, versions: [1, 2] });
    const cell = (window: number, version: number) =>
      page.locator(`#fleet-table tr[data-window="${window}"] td[data-version="${version}"]`);
    // v1's windows are closed (D1), v2's still open: counted live from their aggregates.
    expect([await cell(seeded.today - 1, 1).textContent(), await cell(seeded.today - 1, 2).textContent()]).toEqual([
      '30',
      '6',
    ]);
    expect([await cell(seeded.today, 1).textContent(), await cell(seeded.today, 2).textContent()]).toEqual([
      '30',
      '14',
    ]);
    expect(await page.locator(`#fleet-table tr[data-window="${seeded.today}"]`).getAttribute('data-open')).toBe('1');
    await page.evaluate(() => ((globalThis as any).stillHere = true)); // survives only if nothing reloads
    await seedHealth(worker, seeded.appKey, 'fraud', 2, seeded.today, 3, 'late');
    await expect.poll(() => cell(seeded.today, 2).textContent(), { timeout: 30_000 }).toBe('17');
    await page.locator('[data-chart="fleet"][data-drawn] canvas').waitFor(); // drawn again after the swap
    expect(await page.locator('[data-chart="fleet"] canvas').count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as any).stillHere)).toBe(true);
    await page.locator('#fleet').screenshot({ path: join(SHOTS, 'fleet.png') });
  });

  it("compares two versions' claimed feature importances side by side, largest first", async () => {
    await page.getByLabel('First').selectOption('1');
    await page.getByLabel('Second').selectOption('3');
    await page.getByRole('button', { name: 'Compare' }).click();
    const importances = page.locator('#importances');
    expect(await importances.textContent()).toMatch(
      /self-reported.*publishers' claims.*drop of auc when a feature is permuted/s,
    );
    // Sorted by the larger of the two: f0 (v1 0.09), f1 (v3 0.06), f2 (v3 0.05).
    expect(
      await importances.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-feature'))),
    ).toEqual(['f0', 'f1', 'f2']);
    for (const version of [1, 3]) {
      for (const [feature, value] of Object.entries(IMPORTANCES[version]!)) {
        const td = importances.locator(`td[data-importance="${version}/${feature}"]`);
        expect(Number(await td.locator('progress').getAttribute('value')), `v${version} ${feature}`).toBe(value);
      }
    }
    expect(await importances.locator('td[data-importance="1/f0"]').textContent()).toMatch(/0\.09 #1, 74 %/);
    expect(await importances.locator('td[data-importance="3/f1"]').textContent()).toMatch(/0\.06 #1/);
    await page.locator('#comparison').screenshot({ path: join(SHOTS, 'explanations.png') });
  });

  it('shows the drift alarm on the feature chart, with bins against the baseline and the ledger', async () => {
    await page.goto(`${worker.url}/console/models/fraud/drift`);
    await page.locator('[data-chart="score"][data-feature="f0"][data-drawn] canvas').waitFor();
    expect(await page.locator('section[data-feature="f0"] .badge.alarm').count()).toBe(1);
    expect(await page.locator('section[data-feature="f1"] .badge.alarm').count()).toBe(0);
    const data = JSON.parse((await page.locator('#drift-data').textContent())!);
    const latest = data.windows.at(-1);
    expect(latest.verdict.features[0]).toMatchObject({ name: 'f0', alarm: true });
    expect(latest.verdict.features[0].bins.observed).toHaveLength(10);
    expect(await page.locator(`tr[data-window="${seeded.today}"]`).textContent()).toContain('f0');
    expect(await page.locator('#ledger').textContent()).toMatch(/Releases, last 365 days\s*2/);
    expect(await page.locator('#ledger').textContent()).toContain('ε = 1,000'); // the per-day budget beside the yearly total
    // Where the budget went, by channel (issue 16): both releases were daily windows.
    const windowRow = page.locator('#ledger-split tr[data-channel="window"]');
    expect(await windowRow.locator('th').textContent()).toContain("a day's window");
    expect(await windowRow.locator('td').nth(2).textContent()).toBe('2');
    expect(await page.locator('#ledger-split tbody tr').count()).toBe(1);
    // Signed effects with intervals: the fixture moves f0 up, so its location is positive and its interval excludes 0.
    const effects = await page.locator('[data-effects="f0"]').textContent();
    expect(effects).toMatch(/Location \+\d\.\d\dσ \[\+\d\.\d\d, \+\d\.\d\d\]/);
    expect(await page.locator('#effect-floor').textContent()).toContain('0.05 baseline σ');
    await shot(page, 'drift');
  });

  it('marks the alarmed feature the version leans on, by its claimed importance', async () => {
    await page.goto(`${worker.url}/console/models/fraud/drift`);
    await page.locator('[data-chart="score"][data-feature="f0"][data-drawn] canvas').waitFor();
    expect(await page.locator('#leaning').getAttribute('data-leaned')).toBe('f0');
    expect(await page.locator('#leaning').textContent()).toMatch(
      /v1 leans on the alarmed feature f0.*carry 74 % of its importance/s,
    );
    expect(await page.locator('section[data-feature="f0"] .badge.leaned').textContent()).toBe('v1 leans on it');
    // f1 is important too (25 %) but did not alarm; f2 alarmed nowhere and is barely used.
    expect(await page.locator('section[data-feature="f1"] .badge.leaned').count()).toBe(0);
    expect(await page.locator('[data-importance="f2"]').textContent()).toMatch(/#3, 2 %/);
    expect(await page.locator(`tr[data-window="${seeded.today}"] td[data-label="Alarmed"]`).textContent()).toBe(
      'f0 (leaned on)',
    );
    await shot(page, 'drift-leaned');
  });
});

describe('refusals', () => {
  it('a viewer sees no action buttons, and the API refuses the action anyway', async () => {
    await worker.api('/v1/models/fraud/rollouts', {
      method: 'POST',
      json: {
        challenger: 3,
        plan: {
          steps: [
            { percent: 10, bakeSeconds: 3600 },
            { percent: 100, bakeSeconds: 0 },
          ],
        },
      },
    });
    const id = ((await (await worker.api('/v1/models/fraud/rollouts')).json()) as { rollouts: any[] }).rollouts.find(
      (r) => r.state === 'running',
    ).id;
    const { page, context } = await signIn(seeded.viewer);
    await page.goto(`${worker.url}/console/rollouts/${id}`);
    expect(await page.locator('#rollout-panel').textContent()).toContain('v1 → v3');
    expect(await page.locator('[data-action-form]').count()).toBe(0);
    await page.goto(`${worker.url}/console/models/fraud`);
    expect(await page.getByTestId('start-rollout').count()).toBe(0);
    expect(await page.getByTestId('set-alias').count()).toBe(0);
    const before = await audit(`rollout/${id}`);
    // The form the viewer does not have, posted by hand with a valid CSRF token: the API says no.
    const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    const res = await page.evaluate(
      async ([rid, token]) => {
        const r = await fetch(`/console/rollouts/${rid}/promote`, {
          method: 'POST',
          headers: {
            accept: 'application/json',
            'x-csrf-token': token!,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: 'step=0',
        });
        return { status: r.status, body: await r.json() };
      },
      [id, csrf] as const,
    );
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await audit(`rollout/${id}`)).toEqual(before);
    await context.close();
  });

  it('refuses a forged or missing CSRF token and a cross-site Origin; nothing changes', async () => {
    const { page, context } = await signIn(seeded.operator);
    const id = ((await (await worker.api('/v1/models/fraud/rollouts')).json()) as { rollouts: any[] }).rollouts.find(
      (r) => r.state === 'running',
    ).id;
    const before = await audit(`rollout/${id}`);
    const csrf = (await page.locator('meta[name="csrf-token"]').getAttribute('content'))!;
    const post = (headers: Record<string, string>) =>
      page.request.post(`${worker.url}/console/rollouts/${id}/abort`, {
        headers: { accept: 'application/json', ...headers },
        form: { reason: 'x' },
        maxRedirects: 0,
      });
    for (const [headers, why] of [
      [{ 'x-csrf-token': 'f'.repeat(40), origin: worker.url }, 'forged token'],
      [{ origin: worker.url }, 'no token'],
      [{ 'x-csrf-token': csrf, origin: 'http://evil.example' }, 'cross-site origin'],
    ] as const) {
      const res = await post(headers);
      expect(res.status(), why).toBe(403);
      expect((await res.json()).error.code, why).toBe('csrf_failed');
    }
    expect(await audit(`rollout/${id}`)).toEqual(before);
    // The same form without script: the token in the form field, a 303 back with the effect done.
    const plain = await page.request.post(`${worker.url}/console/rollouts/${id}/pause`, {
      headers: { origin: worker.url },
      form: { _csrf: csrf, reason: 'no script' },
      maxRedirects: 0,
    });
    expect(plain.status()).toBe(303);
    expect(plain.headers().location).toBe(`/console/rollouts/${id}`);
    expect((await rollout(id)).state).toBe('paused');
    expect((await audit(`rollout/${id}`))[0]).toMatchObject({ action: 'rollout.pause', reason: 'no script' });
    await context.close();
  });

  it('a wrong token is refused at sign-in; an expired one ends the session with the reason', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${worker.url}/console/login`);
    await page.getByLabel('Operator token').fill('mft_not_a_real_token');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/console/login') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    expect(res.status()).toBe(401);
    expect(await page.getByRole('alert').textContent()).toContain('unknown or revoked');
    expect((await context.cookies()).some((c) => c.name === 'mf_console')).toBe(false);
    await context.close();

    const token = (
      (await (
        await worker.api('/v1/tokens', { method: 'POST', json: { role: 'operator', expiresInSeconds: 3600 } })
      ).json()) as { token: string }
    ).token;
    const session = await signIn(token);
    await worker.db
      .prepare("UPDATE tokens SET expires_at = '2020-01-01T00:00:00.000Z' WHERE expires_at IS NOT NULL")
      .run();
    await session.page.goto(`${worker.url}/console/models/fraud`);
    expect(new URL(session.page.url()).pathname).toBe('/console/login');
    expect(await session.page.getByRole('alert').textContent()).toContain('expired');
    expect((await session.context.cookies()).some((c) => c.name === 'mf_console')).toBe(false);
    await session.context.close();
  });

  it('renders a script in a model description or version label as text', async () => {
    const evil = '<img src=x onerror="window.__xss=1"></script><script>window.__xss=2</script>';
    await seedModel(worker, 'xss', 1, { description: evil, label: () => evil.slice(0, 120) });
    const { page, context } = await signIn(seeded.operator);
    for (const path of ['/console', '/console/models/xss', '/console/audit?subject=model/xss']) {
      await page.goto(`${worker.url}${path}`);
      expect(await page.evaluate(() => (globalThis as any).__xss), path).toBeUndefined();
      expect(await page.locator('img[src="x"]').count(), path).toBe(0);
    }
    await page.goto(`${worker.url}/console/models/xss`);
    expect(await page.locator('main').textContent()).toContain('<img src=x onerror=');
    await context.close();
  });
});
