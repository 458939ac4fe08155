#!/usr/bin/env node
// `npm start`: the control plane and edge runtime under `wrangler dev` on local D1/R2/KV, with a
// development key set, root v1, a demo app key and the demo model published as champion.
// Idempotent: state persists in .wrangler/state (or MODELFLEET_STATE_DIR) between starts, and a
// second start finds the demo in place (start/demo.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createApi } from './start/api.mjs';
import { setUpDemo } from './start/demo.mjs';
import { listenerOf, portIsFree } from './start/ports.mjs';

const root = resolve(import.meta.dirname, '..');
const host = '127.0.0.1';
const port = Number(process.env.PORT ?? 8787);
const endpoint = `http://${host}:${port}`;
const stateDir = process.env.MODELFLEET_STATE_DIR
  ? resolve(process.env.MODELFLEET_STATE_DIR)
  : join(root, '.wrangler', 'state');
const keysDir = resolve(root, process.env.MODELFLEET_KEYS_DIR ?? '.modelfleet');
const devVars = resolve(root, process.env.MODELFLEET_DEV_VARS ?? '.dev.vars');
// A loaded 2-core machine has taken over 60 s to bring wrangler dev up (PLATFORM.md).
const readyTimeoutMs = Number(process.env.MODELFLEET_START_TIMEOUT_MS ?? 180_000);
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  NO_UPDATE_NOTIFIER: '1',
};
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const cli = join(root, 'control-plane', 'cli', 'bin.mjs');
const shown = (path) => (path.startsWith(root + '/') ? relative(root, path) : path);
const step = (text) => console.log(`modelfleet: ${text}`);
const fail = (text) => {
  console.error(`modelfleet: ${text}`);
  process.exit(1);
};

function runOrDie(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) fail(`${what} failed (exit ${r.status})\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function readDevVars() {
  return Object.fromEntries(
    readFileSync(devVars, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => {
        const i = l.indexOf('=');
        return [l.slice(0, i), l.slice(i + 1).replace(/^'(.*)'$/, '$1')];
      }),
  );
}

// 0. The HTTP port, before anything is written: a taken port is a sentence, not a stack trace.
if (!(await portIsFree(port, host))) {
  const answer = await fetch(`${endpoint}/v1/health`, {
    headers: { connection: 'close' },
    signal: AbortSignal.timeout(2000),
  })
    .then(
      (r) => r.json(),
      () => null,
    )
    .catch(() => null);
  const holder = listenerOf(port);
  fail(
    answer?.ok === true
      ? `modelfleet is already running on ${endpoint}${holder ? ` (${holder})` : ''}. Use that one, stop it (Ctrl-C in its terminal), or start another with PORT=<port> and its own MODELFLEET_STATE_DIR.`
      : `port ${port} on ${host} is taken by ${holder ?? 'another process'}. Stop it, or start on another port: PORT=${port + 1} npm start`,
  );
}

// 1. Keys: generated once, kept in .dev.vars (Worker secrets) and .modelfleet/ (root keys, root.json).
// Never regenerated over existing root keys: a registry that trusts them would refuse new ones.
if (!existsSync(join(keysDir, 'root.json'))) {
  step(`generating a development key set (${shown(devVars)}, ${shown(keysDir)}/; both git-ignored)`);
  runOrDie(process.execPath, [cli, 'keys', 'init', '--dir', keysDir, '--dev-vars', devVars], 'keys init');
} else if (!existsSync(devVars)) {
  fail(
    `${shown(keysDir)}/root.json exists but ${shown(devVars)} (the Worker's keys and admin token) does not. Restore it, or start over: remove ${shown(keysDir)}/ and ${shown(stateDir)}/ (local data is lost).`,
  );
}
const secrets = readDevVars();

// 2. Migrations on the local D1.
step('applying D1 migrations');
mkdirSync(stateDir, { recursive: true });
runOrDie(
  wrangler,
  ['d1', 'migrations', 'apply', 'modelfleet', '--local', '--persist-to', stateDir],
  'wrangler d1 migrations apply',
);

// 3. wrangler dev, held as our child so signals reach it. Inspector on port 0: the system picks a
// free one when it binds (the default 9229, 9230… collides with any other dev server or debugger).
step(`starting wrangler dev on ${endpoint}`);
// Local use: every device shares 127.0.0.1, one client network, so the per-network cap and the
// network floor of protocol SPEC §11.3 (wrangler.toml's production values) are lifted; webhook
// receivers on this machine are allowed (production refuses loopback and private targets).
// MODELFLEET_VARS (`KEY:VALUE;KEY:VALUE`) adds settings — `npm run demo` shortens windows and bakes
// this way — and MODELFLEET_TEST_SCHEDULED=1 lets a local driver fire the Cron Trigger
// (GET /__scheduled), as Cloudflare does on the deployed Worker's schedule.
const extraVars = (process.env.MODELFLEET_VARS ?? '').split(';').filter(Boolean);
const localVars = [
  'NETWORK_DEVICE_CAP:0',
  'DRIFT_MIN_NETWORKS:1',
  'ROLLOUT_MIN_NETWORKS:1',
  'WEBHOOK_ALLOW_HOSTS:127.0.0.1,localhost,[::1]',
  ...extraVars,
]
  .flatMap((v) => ['--var', v])
  .concat(process.env.MODELFLEET_TEST_SCHEDULED === '1' ? ['--test-scheduled'] : []);
const dev = spawn(
  wrangler,
  [
    'dev',
    '--ip',
    host,
    '--port',
    String(port),
    '--inspector-port',
    '0',
    '--persist-to',
    stateDir,
    '--env-file',
    devVars,
    ...localVars,
    '--log-level',
    'warn',
    '--show-interactive-dev-session=false',
  ],
  {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true, // own process group: wrangler's bin wrapper, its cli and workerd go down together
  },
);
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

const deadline = Date.now() + readyTimeoutMs;
for (;;) {
  try {
    if (
      (await fetch(`${endpoint}/v1/health`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(5000) })).ok
    )
      break;
  } catch {}
  if (Date.now() > deadline) {
    console.error(
      `modelfleet: ${endpoint}/v1/health did not answer within ${readyTimeoutMs / 1000} s (a busy machine can be this slow: MODELFLEET_START_TIMEOUT_MS raises the wait)`,
    );
    stop('SIGTERM');
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 250));
}

// 4–7. Root, demo app, demo model, challenger and rollout: each only if not there yet.
try {
  const token = secrets.ADMIN_TOKEN;
  const publish = (args) =>
    process.stdout.write(
      runOrDie(
        process.execPath,
        [cli, '--endpoint', endpoint, '--token', token, 'publish', ...args],
        `publish ${args.join(' ')}`,
      ),
    );
  const { appKey } = await setUpDemo({
    api: createApi(endpoint, token),
    publish,
    keysDir,
    endpoint,
    stateDir,
    token,
    log: step,
  });

  console.log(`
  modelfleet is running — ${endpoint}
    console      ${endpoint}/console  (sign in with the admin token below)
    admin token  ${token}
    app key      ${appKey}
    OpenAPI      ${endpoint}/v1/openapi.json

  try:
    curl -s -H 'x-modelfleet-app-key: ${appKey}' '${endpoint}/v1/edge/tickets/fraud-demo?device=my-laptop'
    npx modelfleet verify fraud-demo:champion
    npx modelfleet versions list --model fraud-demo

  Ctrl-C stops it; state stays in ${shown(stateDir)}.
`);
} catch (e) {
  console.error(
    `modelfleet: setup failed: ${e.message}\n  Run npm start again: the set-up finishes what is missing and repeats nothing.`,
  );
  stop('SIGTERM');
  process.exitCode = 1;
}
