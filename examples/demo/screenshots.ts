/**
 * @module demo/screenshots
 * The README tour's pictures, taken from a live `npm run demo` (DEMO_SCREENSHOTS=<dir>): an
 * operator signed in to the console in Chromium photographs each stage as the scenario reaches
 * it — the fleet on v1, the drift page at the alarm, champion and challenger compared when it is
 * published, the rollout's evidence while it runs and once it has decided, and the fleet on the
 * new version at the end. Shots are queued so the scenario never waits for the camera.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import type { Stage } from './story.ts';

export interface Camera {
  onStage(stage: Stage): void;
  /** Waits for the queued shots, closes the browser and returns the files written. */
  close(): Promise<string[]>;
}

export async function startCamera(o: {
  url: string;
  token: string;
  model: string;
  dir: string;
  log(line: string): void;
}): Promise<Camera> {
  mkdirSync(o.dir, { recursive: true });
  const browser: Browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const page: Page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${o.url}/console`);
  await page.getByLabel('Operator token').fill(o.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${o.url}/console`);
  const files: string[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  const model = `${o.url}/console/models/${o.model}`;

  const fleet = async (name: string) => {
    await page.goto(model);
    await page.locator('[data-chart="fleet"][data-drawn] canvas').waitFor({ timeout: 15_000 });
    await save(name, page.locator('#fleet'));
  };
  const save = async (name: string, target: Page | ReturnType<Page['locator']>) => {
    const path = join(o.dir, `${name}.png`);
    await (target === page
      ? page.screenshot({ path, fullPage: true })
      : (target as ReturnType<Page['locator']>).screenshot({ path }));
    files.push(path);
  };
  const shots: { [K in Stage['kind']]: (s: Extract<Stage, { kind: K }>) => Promise<void> } = {
    running: () => fleet('1-fleet-on-v1'),
    alarm: async () => {
      await page.goto(`${model}/drift`);
      await page.locator('[data-chart][data-drawn] canvas').first().waitFor({ timeout: 15_000 });
      await save('2-drift-alarm', page);
    },
    published: async (s) => {
      await page.goto(model);
      await page.getByLabel('First').selectOption('1');
      await page.getByLabel('Second').selectOption(String(s.version));
      await page.getByRole('button', { name: 'Compare' }).click();
      await page.locator('#importances tbody tr').first().waitFor({ timeout: 15_000 });
      await save('3-challenger-compared', page.locator('#comparison'));
    },
    rollout: async (s) => {
      await page.goto(`${o.url}/console/rollouts/${s.id}`);
      await save('4-rollout-running', page);
    },
    decided: async (s) => {
      await page.goto(`${o.url}/console/rollouts/${s.id}`);
      await save('5-rollout-decided', page);
    },
    end: () => fleet('6-fleet-on-v2'),
  };
  return {
    onStage(stage) {
      queue = queue
        .then(() => (shots[stage.kind] as (s: Stage) => Promise<void>)(stage))
        .catch((e: Error) => o.log(`screenshots: ${stage.kind}: ${e.message}`));
    },
    async close() {
      await queue;
      await browser.close();
      return files;
    },
  };
}
