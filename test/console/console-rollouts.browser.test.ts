// The operator console in real Chromium against the real Worker (workerd through Miniflare) with
// seeded data (./setup.ts): sign in and the models list, compare versions, start / promote / pause
// and resume / abort rollouts, the kill switch returning the fleet, the audit and webhook delivery
// logs those actions fill, aliases, and the rollout page on a phone. The tests share one signed-in
// page and the rollout they start, in this order. Screenshots go to .screenshots/console/ (git-ignored).
import { type HealthCounts, encodeUpload, healthLayout, healthUpload } from '@modelfleet/protocol';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receiver } from '../harness/webhook-receiver.ts';
import type { TestWorker } from '../harness/worker.ts';
import type { Seeded } from './seed.ts';
import { audit, rollout, shot, signIn, startConsole, stopConsole } from './setup.ts';

let worker: TestWorker;
let seeded: Seeded;
let receiver: Receiver;

beforeAll(async () => ({ worker, seeded, receiver } = await startConsole()), 180_000);
afterAll(stopConsole);

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
