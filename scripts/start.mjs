#!/usr/bin/env node
// `npm start`: the control plane and edge runtime under `wrangler dev` on local D1/R2/KV, with a
// development key set, root v1, a demo app key and the demo model published as champion.
// Idempotent: state persists in .wrangler/state (or MODELFLEET_STATE_DIR) between starts.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const port = Number(process.env.PORT ?? 8787);
const endpoint = `http://127.0.0.1:${port}`;
const stateDir = process.env.MODELFLEET_STATE_DIR ? resolve(process.env.MODELFLEET_STATE_DIR) : join(root, '.wrangler', 'state');
const keysDir = resolve(root, process.env.MODELFLEET_KEYS_DIR ?? '.modelfleet');
const devVars = resolve(root, process.env.MODELFLEET_DEV_VARS ?? '.dev.vars');
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_UPDATE_NOTIFIER: '1' };
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const cli = join(root, 'control-plane', 'cli', 'bin.mjs');
const step = (text) => console.log(`modelfleet: ${text}`);

function runOrDie(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`modelfleet: ${what} failed (exit ${r.status})\n${r.stdout}\n${r.stderr}`);
    process.exit(1);
  }
  return r.stdout;
}

function readDevVars() {
  return Object.fromEntries(
    readFileSync(devVars, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i), l.slice(i + 1).replace(/^'(.*)'$/, '$1')];
    }),
  );
}

async function api(method, path, token, body) {
  const res = await fetch(endpoint + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// 1. Keys: generated once, kept in .dev.vars (Worker secrets) and .modelfleet/ (root keys, root.json).
if (!existsSync(devVars) || !existsSync(join(keysDir, 'root.json'))) {
  step('generating a development key set (.dev.vars, .modelfleet/; both git-ignored)');
  runOrDie(process.execPath, [cli, 'keys', 'init', '--force', '--dir', keysDir, '--dev-vars', devVars], 'keys init');
}
const secrets = readDevVars();

// 2. Migrations on the local D1.
step('applying D1 migrations');
mkdirSync(stateDir, { recursive: true });
runOrDie(wrangler, ['d1', 'migrations', 'apply', 'modelfleet', '--local', '--persist-to', stateDir], 'wrangler d1 migrations apply');

// 3. wrangler dev, held as our child so signals reach it.
step(`starting wrangler dev on ${endpoint}`);
const dev = spawn(wrangler, ['dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', stateDir, '--env-file', devVars, '--log-level', 'warn', '--show-interactive-dev-session=false'], {
  cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'], detached: true, // own process group: wrangler's bin wrapper, its cli and workerd go down together
});
let exiting = false;
const stop = (signal) => {
  exiting = true;
  try {
    process.kill(-dev.pid, signal);
  } catch {}
};
process.on('exit', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
dev.on('exit', (code) => {
  if (!exiting) console.error(`modelfleet: wrangler dev exited (${code})`);
  process.exit(code ?? 0);
});

const deadline = Date.now() + 60_000;
for (;;) {
  try {
    if ((await fetch(`${endpoint}/v1/health`)).ok) break;
  } catch {}
  if (Date.now() > deadline) {
    console.error(`modelfleet: ${endpoint}/v1/health did not answer within 60 s; is port ${port} free? (set PORT to use another)`);
    stop('SIGTERM');
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 250));
}

try {
  // 4. Root of trust.
  const token = secrets.ADMIN_TOKEN;
  const keys = await api('GET', '/v1/keys', token);
  if (!keys.root) {
    step('installing root v1');
    await api('PUT', '/v1/keys/root', token, JSON.parse(readFileSync(join(keysDir, 'root.json'), 'utf8')));
  }
  // 5. A demo app (device key), remembered in .modelfleet/dev.json for the CLI.
  const devJsonPath = join(keysDir, 'dev.json');
  const dev = existsSync(devJsonPath) ? JSON.parse(readFileSync(devJsonPath, 'utf8')) : {};
  if (!dev.appKey || dev.endpoint !== endpoint || dev.stateDir !== stateDir) {
    const app = await api('POST', '/v1/apps', token, { name: 'demo', models: ['*'] });
    dev.appKey = app.appKey;
  }
  Object.assign(dev, { endpoint, adminToken: token, stateDir });
  writeFileSync(devJsonPath, JSON.stringify(dev, null, 2), { mode: 0o600 });

  // 6. The demo model, published once.
  const models = await api('GET', '/v1/models', token);
  const demo = models.models.find((m) => m.name === 'fraud-demo');
  if (!demo || demo.latestVersion === null) {
    step('publishing examples/fraud-model as fraud-demo (validated in the Worker, signed, champion)');
    const d = 'examples/fraud-model';
    process.stdout.write(runOrDie(process.execPath, [cli, '--endpoint', endpoint, '--token', token, 'publish', d, '--model', 'fraud-demo', '--create', '--alias', 'champion',
      '--metrics', `${d}/metrics.json`, '--params', `${d}/params.json`, '--golden', `${d}/golden.json`, '--baseline', `${d}/baseline.json`, '--lineage', `${d}/lineage.json`], 'publish demo model'));
  }

  // 7. A demo rollout, so the console has one to show: the same network republished as a
  // challenger, at 5 % of the fleet with hour-long bakes (nothing promotes without data).
  const { rollouts } = await api('GET', '/v1/models/fraud-demo/rollouts', token);
  if (rollouts.length === 0) {
    step('publishing a demo challenger (fraud-demo v2) and starting a demo rollout at 5 %');
    const d = 'examples/fraud-model';
    process.stdout.write(runOrDie(process.execPath, [cli, '--endpoint', endpoint, '--token', token, 'publish', d, '--model', 'fraud-demo', '--label', 'demo challenger',
      '--metrics', `${d}/metrics.json`, '--params', `${d}/params.json`, '--golden', `${d}/golden.json`, '--baseline', `${d}/baseline.json`, '--lineage', `${d}/lineage.json`], 'publish demo challenger'));
    const { latestVersion } = await api('GET', '/v1/models/fraud-demo', token);
    await api('POST', '/v1/models/fraud-demo/rollouts', token, {
      challenger: latestVersion, reason: 'demo rollout started by npm start',
      plan: { salt: 'modelfleet-demo', steps: [{ percent: 5, bakeSeconds: 3600 }, { percent: 25, bakeSeconds: 3600 }, { percent: 100, bakeSeconds: 0 }] },
    });
  }

  console.log(`
  modelfleet is running — ${endpoint}
    console      ${endpoint}/console  (sign in with the admin token below)
    admin token  ${token}
    app key      ${dev.appKey}
    OpenAPI      ${endpoint}/v1/openapi.json

  try:
    curl -s -H 'x-modelfleet-app-key: ${dev.appKey}' '${endpoint}/v1/edge/tickets/fraud-demo?device=my-laptop'
    npx modelfleet verify fraud-demo:champion
    npx modelfleet versions list --model fraud-demo

  Ctrl-C stops it; state stays in ${stateDir.replace(root + '/', '')}.
`);
} catch (e) {
  console.error(`modelfleet: setup failed: ${e.message}`);
  stop('SIGTERM');
  process.exitCode = 1;
}
