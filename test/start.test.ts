// `npm start` from scratch: keys, migrations, wrangler dev, root, demo app and model — then a
// device fetches a ticket. Runs against temporary state so a developer's own stays untouched.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bucketOf, rolloutCohort } from '@modelfleet/protocol';
import { afterAll, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'modelfleet-start-'));
const port = 18787 + Math.floor(Math.random() * 1000);
const child = spawn(process.execPath, [join(root, 'scripts/start.mjs')], {
  cwd: root,
  env: { ...process.env, PORT: String(port), MODELFLEET_STATE_DIR: join(tmp, 'state'), MODELFLEET_KEYS_DIR: join(tmp, 'keys'), MODELFLEET_DEV_VARS: join(tmp, 'dev.vars') },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
child.stdout.on('data', (d) => (output += d));
child.stderr.on('data', (d) => (output += d));

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  rmSync(tmp, { recursive: true, force: true });
});

it('npm start publishes the demo model and a demo rollout, serves signed tickets and the console', async () => {
  const deadline = Date.now() + 90_000;
  while (!output.includes('modelfleet is running') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
  expect(output, output).toContain('modelfleet is running');
  expect(output).toContain('fraud-demo v1 active');
  const appKey = output.match(/app key\s+(mfa_\S+)/)![1]!;
  const res = await fetch(`http://127.0.0.1:${port}/v1/edge/tickets/fraud-demo?device=test`, { headers: { 'x-modelfleet-app-key': appKey } });
  expect(res.status).toBe(200);
  const ticket = JSON.parse(Buffer.from(((await res.json()) as { payload: string }).payload, 'base64').toString());
  // The demo rollout (salt modelfleet-demo, 5 %) decides which version this device runs.
  const cohort = rolloutCohort(await bucketOf('modelfleet-demo', 'test'), 5);
  expect(ticket).toMatchObject({ model: 'fraud-demo', version: cohort === 'challenger' ? 2 : 1, stage: cohort === 'rest' ? 'champion' : cohort });
  // The console: sign in with the admin token, see the demo rollout.
  const base = `http://127.0.0.1:${port}`;
  const adminToken = output.match(/admin token\s+(mft_\S+)/)![1]!;
  const login = await fetch(`${base}/console/login`, { method: 'POST', redirect: 'manual', headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(adminToken)}` });
  expect(login.status).toBe(303);
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fetch(`${base}/console/rollouts`, { headers: { cookie } })).text();
  expect(page).toContain('fraud-demo');
  expect(page).toMatch(/badge running/);
}, 120_000);
