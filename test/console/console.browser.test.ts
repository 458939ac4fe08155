// The operator console in real Chromium against the real Worker (workerd through Miniflare) with
// seeded data: sign in, models, compare versions (and their claimed feature importances), the
// fleet by version (live), start / promote / abort rollouts, the kill switch returning the fleet,
// a drift alarm on the chart and the alarmed feature the version leans on; a viewer sees no buttons and the API
// refuses them; expired and wrong tokens, forged CSRF, double clicks and XSS in names.
// Screenshots of each page go to .screenshots/console/ (git-ignored).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type HealthCounts, encodeUpload, healthLayout, healthUpload } from '@modelfleet/protocol';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../harness/bundle.ts';
import { type Receiver, startReceiver } from '../harness/webhook-receiver.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { launchChromium } from '../browser/chromium.ts';
import { IMPORTANCES, type Seeded, seedConsole, seedHealth, seedModel } from './seed.ts';

const SHOTS = join(ROOT, '.screenshots/console');
let worker: TestWorker;
let seeded: Seeded;
let browser: Browser;
let receiver: Receiver;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [worker, browser] = await Promise.all([
    startWorker({
      http: true,
      vars: {
        DRIFT_MIN_DEVICES: '20',
        DRIFT_EPSILON_PER_DAY: '1000',
        EDGE_CACHE_TTL_MS: '0',
        ROLLOUT_TICK_SECONDS: '3600',
      },
    }),
    launchChromium(),
  ]);
  seeded = await seedConsole(worker);
  // Rollout decisions go to a local receiver: the delivery log has rows to show and filter.
  receiver = await startReceiver();
  const hook = await worker.api('/v1/webhooks', {
    method: 'POST',
    json: { url: `${receiver.url}/hooks`, events: ['dev.modelfleet.rollout.transition'] },
  });
  expect(hook.status).toBe(201);
}, 180_000);
afterAll(async () => {
  await receiver?.close();
  await browser?.close();
  await worker?.dispose();
});

async function signIn(
  token: string,
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (e) => {
    throw e;
  });
  await page.goto(`${worker.url}/console`);
  expect(new URL(page.url()).pathname).toBe('/console/login');
  await page.getByLabel('Operator token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${worker.url}/console`);
  return { context, page };
}
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const rollout = async (id: string) => (await (await worker.api(`/v1/rollouts/${id}`)).json()) as any;
const audit = async (subject: string) =>
  ((await (await worker.api(`/v1/audit?subject=${subject}&limit=1000`)).json()) as { records: any[] }).records;

describe('operator', () => {
  let page: Page;
  let context: BrowserContext;
  beforeAll(async () => ({ page, context } = await signIn(seeded.operator)));
  afterAll(() => context?.close());

  it('signs in with an HttpOnly session cookie and lists the models with their champion and drift', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'mf_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    expect(await page.evaluate(() => (globalThis as any).document.cookie)).not.toContain('mft_'); // scripts cannot read the token
    const fraud = page.getByRole('row', { name: /fraud/ });
    await expect.poll(() => fraud.textContent(), { timeout: 15_000 }).toContain('v1');
    expect(await fraud.textContent()).toContain('alarm');
    expect(await page.getByRole('row', { name: /quiet/ }).textContent()).toContain('no closed window');
    await shot(page, 'models');
  });

  it('opens a model and compares two versions, with deltas on the same evaluation set', async () => {
    await page.getByRole('link', { name: 'fraud' }).first().click();
    await page.getByLabel('First').selectOption('1');
    await page.getByLabel('Second').selectOption('3');
    await page.getByRole('button', { name: 'Compare' }).click();
    const comparison = page.locator('#comparison');
    expect(await comparison.getByRole('row', { name: /^auc/ }).textContent()).toMatch(/0\.91.*0\.93.*\(\+0\.02\)/);
    expect(await comparison.getByRole('row', { name: /^parent/ }).textContent()).toContain('v2');
    // Signatures: each version's manifest key id, from the signed manifest itself.
    expect(await page.locator('tr[data-version="3"]').textContent()).toMatch(/[0-9a-f]{16}/);
    // The validation record says what ran: the probe's shapes and where they came from.
    expect(await page.locator('tr[data-version="3"] [data-check="probe"]').textContent()).toMatch(
      /^probe ok, [\d.]+ ms: hidden_input float32\[1,3\] \(default\) on zeros$/,
    );
    // Published metrics are labelled as the publisher's claims; the rollout policy in force is shown.
    expect(await page.getByRole('columnheader', { name: /auc/ }).textContent()).toContain('self-reported');
    expect(await page.locator('[data-policy]').textContent()).toMatch(
      /at least 3, the first at most 10 %.*load_failure_rate.*self-reported/s,
    );
    await shot(page, 'model');
  });

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

  let id = '';
  it('starts a rollout, promotes it without a reload, and a double click promotes once', async () => {
    await page.goto(`${worker.url}/console/models/fraud`);
    // The power panel (issue 16): the seeded fleet is tiny, so the derived plan cannot decide, and
    // the panel says so per step — devices per arm a day, MDE against each tolerance, time to decision.
    const power = page.locator('#power-panel');
    expect(await power.getAttribute('data-status')).toBe('cannot-decide');
    expect(await power.textContent()).toMatch(/cannot decide.*devices a day \(median of \d+ daily window/s);
    expect(await power.locator('tr[data-step="0"] li[data-metric="verify_failure_rate"]').textContent()).toMatch(
      /^verify_failure_rate: MDE [0-9.,]+ \/ 0\.05 \(needs/,
    );
    expect(await power.locator('tr[data-step="0"] td[data-label="Decides after"]').textContent()).toBe('never');
    expect(await power.locator('[data-suggestions]').textContent()).toMatch(/To decide: /);
    await page.getByLabel('Challenger').selectOption('2');
    await page.getByLabel(/Steps/).selectOption('10,50,100');
    await page.getByTestId('start-rollout').click();
    await page.getByTestId('confirm').click();
    await page.waitForURL(/\/console\/rollouts\/ro_/);
    id = page.url().split('/').at(-1)!;
    expect(await rollout(id)).toMatchObject({ state: 'running', percent: 10, challenger: 2 });
    // The rollout's page keeps the power report of its creation.
    expect(await page.locator('#power-panel tr[data-step="0"]').textContent()).toMatch(/^1: 10 %/);
    await page.evaluate(() => ((globalThis as any).stillHere = true)); // survives only if nothing reloads
    await page.getByTestId('promote').dblclick();
    await page.getByTestId('confirm').click();
    await page.locator('#rollout-panel[data-step="1"]').waitFor();
    expect(await page.locator('#rollout-panel').textContent()).toContain('50 % of eligible devices');
    expect(await page.evaluate(() => (globalThis as any).stillHere)).toBe(true);
    expect(await page.locator('dialog').count()).toBe(0);
    expect((await rollout(id)).step).toBe(1);
    expect((await audit(`rollout/${id}`)).filter((r) => r.action === 'rollout.promote')).toHaveLength(1);
    await shot(page, 'rollout');
  });

  it('shows an action taken elsewhere without a reload (live panel)', async () => {
    expect(
      (await worker.api(`/v1/rollouts/${id}/pause`, { method: 'POST', json: { reason: 'from the CLI' } })).status,
    ).toBe(200);
    await page.locator('#rollout-panel[data-state="paused"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('resume').click();
    await page.locator('#rollout-panel[data-state="running"]').waitFor();
  });

  it('the kill switch, after confirmation, returns the fleet to the champion', async () => {
    const ticketOf = async (device: string) => {
      const res = await worker.api(`/v1/edge/tickets/fraud?device=${device}`, {
        token: null,
        headers: { 'x-modelfleet-app-key': seeded.appKey },
      });
      const env = (await res.json()) as { payload: string };
      return JSON.parse(Buffer.from(env.payload, 'base64').toString()) as { version: number; stage: string };
    };
    // The salt is the server's secret (protocol SPEC 11.2): a device learns its range from its ticket.
    const challengerDevice = await (async () => {
      for (let i = 0; ; i++) if ((await ticketOf(`k-${i}`)).stage === 'challenger') return `k-${i}`;
    })();
    const ticketVersion = async () => (await ticketOf(challengerDevice)).version;
    expect(await ticketVersion()).toBe(2);
    // The device reports as the SDK does: it runs the challenger ("loaded"), then used it; the bars follow.
    const { sequence } = (await (await worker.api('/v1/models/fraud')).json()) as { sequence: number };
    const layout = await healthLayout();
    const report = async (phase: string, counts: HealthCounts) =>
      worker.api(`/v1/edge/step-health/fraud/2?device=${challengerDevice}&rollout=${id}${phase}`, {
        method: 'POST',
        token: null,
        body: encodeUpload(layout, (await healthUpload(counts, sequence))!) as unknown as BodyInit,
        headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': seeded.appKey },
      });
    expect((await report('&phase=loaded', { load: { ok: 1 }, predict: {}, latencies: [], backend: {} })).status).toBe(
      202,
    );
    await expect
      .poll(() => page.locator('[data-bar="downloaded"]').textContent(), { timeout: 30_000 })
      .toContain('1 device');
    expect(await page.locator('[data-bar="active"]').textContent()).toContain('0 challenger / 0 control');
    expect(
      (await report('', { load: { ok: 1 }, predict: { ok: 20 }, latencies: [2, 3, 4], backend: { wasm: 20 } })).status,
    ).toBe(202);
    await expect
      .poll(() => page.locator('[data-bar="active"]').textContent(), { timeout: 30_000 })
      .toContain('1 challenger / 0 control');
    await shot(page, 'rollout-progress');
    await page.getByTestId('kill').click();
    expect(await page.locator('dialog').textContent()).toContain('KILL SWITCH');
    await page.getByRole('button', { name: 'Cancel' }).click(); // cancelling does nothing
    expect((await rollout(id)).state).toBe('running');
    await page.getByTestId('kill').click();
    await page.getByTestId('confirm').click();
    await page.locator('#rollout-panel[data-state="rolled-back"]').waitFor();
    expect(await ticketVersion()).toBe(1);
    expect(await page.getByTestId('promote').count()).toBe(0); // nothing left to act on
    await shot(page, 'rollout-killed');
  });

  it('aborts another rollout from the rollouts list', async () => {
    const created = await worker.api('/v1/models/quiet/rollouts', {
      method: 'POST',
      json: {
        challenger: 2,
        plan: {
          steps: [
            { percent: 5, bakeSeconds: 3600 },
            { percent: 100, bakeSeconds: 0 },
          ],
        },
      },
    });
    const other = ((await created.json()) as { id: string }).id;
    await page.goto(`${worker.url}/console/rollouts`);
    await page.getByRole('link', { name: other }).click();
    await page.getByLabel('Reason for abort').fill('wrong build');
    await page.getByTestId('abort').click();
    await page.getByTestId('confirm').click();
    await page.locator('#rollout-panel[data-state="aborted"]').waitFor();
    expect(await page.locator('.timeline').textContent()).toContain('wrong build');
    expect((await rollout(other)).state).toBe('aborted');
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

  it('filters the audit log by action family and the webhook log by status', async () => {
    await page.goto(`${worker.url}/console/audit`);
    await page.getByLabel('Action').fill('rollout');
    await page.getByRole('button', { name: 'Filter' }).click();
    const actions = await page
      .locator('#audit tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    expect(actions.length).toBeGreaterThan(3);
    expect(actions.every((a) => a!.startsWith('rollout.'))).toBe(true);
    await shot(page, 'audit');
    await receiver.waitFor(3);
    await page.goto(`${worker.url}/console/deliveries`);
    await page.getByLabel('Status').selectOption('delivered');
    await page.getByRole('button', { name: 'Filter' }).click();
    const delivered = await page
      .locator('#deliveries tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
    expect(delivered.length).toBeGreaterThanOrEqual(3);
    expect(new Set(delivered)).toEqual(new Set(['delivered']));
    expect(await page.locator('#deliveries').textContent()).toContain('dev.modelfleet.rollout.transition');
    await shot(page, 'deliveries');
    await page.goto(`${worker.url}/console/deliveries?status=failed`);
    expect(await page.locator('#deliveries tbody tr').count()).toBe(0);
  });

  it('sets an alias from the model page', async () => {
    await page.goto(`${worker.url}/console/models/quiet`);
    await page.getByLabel('Alias', { exact: true }).fill('staging');
    await page.locator('#alias-version').selectOption('2');
    await page.getByTestId('set-alias').click();
    await page.getByTestId('confirm').click();
    await page.locator('tr[data-version="2"]', { hasText: 'staging' }).waitFor();
    expect(
      ((await (await worker.api('/v1/models/quiet')).json()) as { aliases: Record<string, number> }).aliases.staging,
    ).toBe(2);
    // A bad alias name comes back as the API's coded error, shown on the page; nothing changes.
    await page.getByLabel('Alias', { exact: true }).evaluate((el) => el.removeAttribute('pattern'));
    await page.getByLabel('Alias', { exact: true }).fill('Not An Alias!');
    await page.getByTestId('set-alias').click();
    await page.getByTestId('confirm').click();
    await expect
      .poll(() => page.getByRole('alert').textContent(), { timeout: 15_000 })
      .toMatch(/bad_request|unknown_field|invalid/i);
    expect(
      Object.keys(
        ((await (await worker.api('/v1/models/quiet')).json()) as { aliases: Record<string, number> }).aliases,
      ).sort(),
    ).toEqual(['champion', 'staging']);
  });

  it('fits a phone: no horizontal scrolling on the rollout page at 390 px', async () => {
    const phone = await signIn(seeded.operator, { width: 390, height: 844 });
    await phone.page.goto(`${worker.url}/console/rollouts/${id}`);
    expect(
      await phone.page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth),
    ).toBeLessThanOrEqual(390);
    await shot(phone.page, 'rollout-phone');
    await phone.context.close();
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
