// `npm start` from scratch: keys, migrations, wrangler dev, root, demo app and model — then a
// device fetches a ticket. Runs against temporary state so a developer's own stays untouched.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

it('npm start publishes the demo model and serves signed tickets', async () => {
  const deadline = Date.now() + 90_000;
  while (!output.includes('modelfleet is running') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
  expect(output, output).toContain('modelfleet is running');
  expect(output).toContain('fraud-demo v1 active');
  const appKey = output.match(/app key\s+(mfa_\S+)/)![1]!;
  const res = await fetch(`http://127.0.0.1:${port}/v1/edge/tickets/fraud-demo?device=test`, { headers: { 'x-modelfleet-app-key': appKey } });
  expect(res.status).toBe(200);
  const ticket = JSON.parse(Buffer.from(((await res.json()) as { payload: string }).payload, 'base64').toString());
  expect(ticket).toMatchObject({ model: 'fraud-demo', version: 1, stage: 'champion' });
  expect((await fetch(`http://127.0.0.1:${port}/console`)).status).toBe(200);
}, 120_000);
