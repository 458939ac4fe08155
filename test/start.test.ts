// `npm start` from scratch: keys, migrations, wrangler dev, root, demo app and model — then a
// device fetches a ticket. Runs against temporary state so a developer's own stays untouched.
// Two starts at once, with the inspector's usual ports (9229, 9230) held by someone else: before,
// both wranglers picked the same next inspector port and one died with EADDRINUSE. Then a second
// start on the same state, which must publish nothing and start no second rollout.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bucketOf, rolloutCohort } from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'modelfleet-start-'));
const port = 18787 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;
const envFor = (p: number, dir: string) => ({
  ...process.env,
  PORT: String(p),
  MODELFLEET_STATE_DIR: join(tmp, dir, 'state'),
  MODELFLEET_KEYS_DIR: join(tmp, dir, 'keys'),
  MODELFLEET_DEV_VARS: join(tmp, dir, 'dev.vars'),
});
const startEnv = envFor(port, 'a');

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}
function start(env: NodeJS.ProcessEnv = startEnv): Run {
  const child = spawn(process.execPath, [join(root, 'scripts/start.mjs')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}
async function untilRunning(run: Run, ms = 200_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!run.output().includes('modelfleet is running') && Date.now() < deadline && run.child.exitCode === null)
    await new Promise((r) => setTimeout(r, 200));
  expect(run.output(), run.output()).toContain('modelfleet is running');
}
async function stop(run: Run): Promise<void> {
  if (run.child.exitCode === null && run.child.signalCode === null) {
    run.child.kill('SIGTERM');
    await run.exited;
  }
}

// Someone else's debugger or dev server on the inspector ports wrangler would pick by default.
// Bound on every address, as a debugger would be; a port another process already holds is held
// all the same.
const holders: net.Server[] = [];
beforeAll(async () => {
  for (const p of [9229, 9230]) {
    const server = net.createServer();
    if (await new Promise<boolean>((r) => server.once('error', () => r(false)).listen(p, () => r(true))))
      holders.push(server);
  }
});
const runs: Run[] = [];
afterAll(async () => {
  for (const run of runs) await stop(run);
  for (const server of holders) server.close();
  rmSync(tmp, { recursive: true, force: true });
});

it('npm start publishes the demo model and a demo rollout, serves signed tickets and the console', async () => {
  const first = start();
  const alongside = start(envFor(port + 1000, 'b'));
  runs.push(first, alongside);
  await Promise.all([untilRunning(first), untilRunning(alongside)]);
  await stop(alongside);
  expect(first.output()).toContain('fraud-demo v1 active');
  const appKey = first.output().match(/app key\s+(mfa_\S+)/)![1]!;
  const res = await fetch(`${base}/v1/edge/tickets/fraud-demo?device=test`, {
    headers: { 'x-modelfleet-app-key': appKey },
  });
  expect(res.status).toBe(200);
  const ticket = JSON.parse(Buffer.from(((await res.json()) as { payload: string }).payload, 'base64').toString());
  // The demo rollout (salt modelfleet-demo, 5 %) decides which version this device runs.
  const cohort = rolloutCohort(await bucketOf('modelfleet-demo', 'test'), 5);
  expect(ticket).toMatchObject({
    model: 'fraud-demo',
    version: cohort === 'challenger' ? 2 : 1,
    stage: cohort === 'rest' ? 'champion' : cohort,
  });
  // The console: sign in with the admin token, see the demo rollout.
  const adminToken = first.output().match(/admin token\s+(mft_\S+)/)![1]!;
  const login = await fetch(`${base}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${encodeURIComponent(adminToken)}`,
  });
  expect(login.status).toBe(303);
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fetch(`${base}/console/rollouts`, { headers: { cookie } })).text();
  expect(page, `${page}\n--- npm start said:\n${first.output().slice(-4000)}`).toContain('fraud-demo');
  expect(page).toMatch(/badge running/);

  // A second start on the same port finds the first and says so, before touching anything.
  const again = start();
  runs.push(again);
  expect(await again.exited).toBe(1);
  expect(again.output()).toContain(`modelfleet is already running on ${base}`);

  // A second start on the same state, once the first has stopped: nothing published again.
  await stop(first);
  const second = start();
  runs.push(second);
  await untilRunning(second);
  expect(second.output()).not.toMatch(/publishing|starting a demo rollout|generating/);
  const auth = { headers: { authorization: `Bearer ${adminToken}` } };
  const { versions } = (await (await fetch(`${base}/v1/models/fraud-demo/versions`, auth)).json()) as {
    versions: { version: number; label: string | null }[];
  };
  expect(versions.map((v) => [v.version, v.label])).toEqual([
    [2, 'demo challenger'],
    [1, null],
  ]);
  const { rollouts } = (await (await fetch(`${base}/v1/models/fraud-demo/rollouts`, auth)).json()) as {
    rollouts: unknown[];
  };
  expect(rollouts).toHaveLength(1);
}, 480_000);

it('names the process that holds the HTTP port and what to do, before writing anything', async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const taken = (busy.address() as net.AddressInfo).port;
  try {
    const run = start({ ...startEnv, PORT: String(taken), MODELFLEET_STATE_DIR: join(tmp, 'never') });
    runs.push(run);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(`port ${taken} on 127.0.0.1 is taken by`);
    expect(run.output()).toContain(`(pid ${process.pid})`);
    expect(run.output()).toContain(`PORT=${taken + 1} npm start`);
    expect(run.output()).not.toContain('applying D1 migrations');
  } finally {
    busy.close();
  }
}, 30_000);
