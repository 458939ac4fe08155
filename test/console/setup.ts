/**
 * @module console/setup
 * The console suites' shared set-up: the real Worker (workerd through Miniflare, over HTTP) with
 * seeded data, Chromium, and a local webhook receiver subscribed to rollout decisions; plus the
 * helpers the suites share (signing in a browser context, screenshots to .screenshots/console/,
 * reading a rollout and an audit trail through the API). Each suite file calls `startConsole` in
 * its beforeAll and `stopConsole` in its afterAll; the state lives in that file's module graph.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchChromium } from '../browser/chromium.ts';
import { ROOT } from '../harness/bundle.ts';
import { type Receiver, startReceiver } from '../harness/webhook-receiver.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { type Seeded, seedConsole } from './seed.ts';

export const SHOTS = join(ROOT, '.screenshots/console');

export interface ConsoleEnv {
  worker: TestWorker;
  seeded: Seeded;
  browser: Browser;
  receiver: Receiver;
}
const env: Partial<ConsoleEnv> = {};
const current = (): ConsoleEnv => {
  if (!env.receiver) throw new Error('startConsole() has not run (call it in beforeAll)');
  return env as ConsoleEnv;
};

/** Starts the Worker and Chromium, seeds the console's data and subscribes the webhook receiver. */
export async function startConsole(): Promise<ConsoleEnv> {
  mkdirSync(SHOTS, { recursive: true });
  [env.worker, env.browser] = await Promise.all([
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
  env.seeded = await seedConsole(env.worker);
  // Rollout decisions go to a local receiver: the delivery log has rows to show and filter.
  env.receiver = await startReceiver();
  const hook = await env.worker.api('/v1/webhooks', {
    method: 'POST',
    json: { url: `${env.receiver.url}/hooks`, events: ['dev.modelfleet.rollout.transition'] },
  });
  expect(hook.status).toBe(201);
  return current();
}

/** Closes what `startConsole` started, as far as it got. */
export async function stopConsole(): Promise<void> {
  await env.receiver?.close();
  await env.browser?.close();
  await env.worker?.dispose();
}

export async function signIn(
  token: string,
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; page: Page }> {
  const { browser, worker } = current();
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
export const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
export const rollout = async (id: string) => (await (await current().worker.api(`/v1/rollouts/${id}`)).json()) as any;
export const audit = async (subject: string) =>
  ((await (await current().worker.api(`/v1/audit?subject=${subject}&limit=1000`)).json()) as { records: any[] })
    .records;
