/**
 * `npm run demo` — the whole loop, live (README "Tour"). Starts its own local control plane
 * (`npm start` on DEMO_PORT, default 8788, with a fresh state directory, so it runs beside an
 * `npm start` on 8787 or without one), then runs examples/demo/scenario.ts against it and prints
 * the narrated timeline and a summary. Everything that compresses time is a Worker setting
 * (MODELFLEET_VARS below), and the Cron Trigger is fired through wrangler's /__scheduled.
 *   npm run demo    the fraud pattern changes, a retrained challenger is promoted
 * DEMO_DEVICES, DEMO_BROWSERS, DEMO_WINDOW_SECONDS, DEMO_SEED override the scenario's defaults;
 * DEMO_SCREENSHOTS=<dir> photographs the console at each stage (the README tour's pictures).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Envelope } from '@modelfleet/protocol';
import { run as cli } from '../control-plane/cli/main.ts';
import { wranglerPlane } from '../examples/demo/plane.ts';
import { freePort } from '../examples/demo/ports.ts';
import { startDemoRetrain } from '../examples/demo/retrain.ts';
import { runScenario } from '../examples/demo/scenario.ts';
import { printSummary } from '../examples/demo/summary.ts';

const root = resolve(import.meta.dirname, '..');
const port = Number(process.env.DEMO_PORT ?? 8788);
const url = `http://127.0.0.1:${port}`;
const windowSeconds = Number(process.env.DEMO_WINDOW_SECONDS ?? 30);
const stateDir = join(root, '.wrangler', 'demo-state');

/** The demo's Worker settings: short windows and bakes for a fleet of a hundred or so devices. */
export const DEMO_VARS = (window: number) => [
  `WINDOW_SECONDS:${window}`,
  'DRIFT_MIN_DEVICES:20',
  // ε = 1,000 per window: a hundred devices cannot decide anything at ε = 2 (docs/rollouts.md, "Plans that can
  // decide"); the demo shows the loop, not the privacy guarantee.
  'DRIFT_EPSILON_PER_DAY:1000',
  'ROLLOUT_STEP_EPSILON_PER_DAY:100000',
  'ROLLOUT_TICK_SECONDS:2',
  'EDGE_CACHE_TTL_MS:1000',
  'WEBHOOK_RETRY_BASE_SECONDS:2',
];

function startPlane(): Promise<{ child: ChildProcess; token: string }> {
  rmSync(stateDir, { recursive: true, force: true }); // a fresh registry: the run is reproducible
  const child = spawn(process.execPath, [join(root, 'scripts/start.mjs')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      PORT: String(port),
      MODELFLEET_STATE_DIR: stateDir,
      MODELFLEET_VARS: DEMO_VARS(windowSeconds).join(';'),
      MODELFLEET_TEST_SCHEDULED: '1',
    },
  });
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const token = /modelfleet is running[\s\S]*admin token\s+(mft_\S+)/.exec(out)?.[1];
      if (token) ok({ child, token });
    });
    child.on('exit', (code) =>
      fail(new Error(`npm start (port ${port}) exited with ${code} before it was ready:\n${out}`)),
    );
  });
}

if (!existsSync(join(root, 'web-sdk/dist/modelfleet.esm.js'))) {
  console.log('demo: building the web SDK (web-sdk/dist) for the browser devices');
  execFileSync(process.execPath, [join(root, 'web-sdk/scripts/build.mjs')], { stdio: 'inherit' });
}
console.log(
  `demo: starting a local control plane on ${url} (fresh state in .wrangler/demo-state; ${windowSeconds}-s windows)`,
);
const { child, token } = await startPlane();
const stop = () => {
  try {
    process.kill(child.pid!, 'SIGTERM');
  } catch {}
};
process.on('SIGINT', () => {
  stop();
  process.exit(130);
});
try {
  console.log(`demo: console ${url}/console — sign in with the admin token ${token}\n`);
  const trustRoot = JSON.parse(readFileSync(join(root, '.modelfleet/root.json'), 'utf8')) as Envelope;
  const plane = wranglerPlane({
    url,
    token,
    root: trustRoot,
    async publish(dir, args) {
      const lines: string[] = [];
      const code = await cli(['--endpoint', url, '--token', token, 'publish', join(root, dir), ...args], {
        stdout: (l) => lines.push(l),
        stderr: (l) => lines.push(l),
        tty: false,
        cwd: root,
        env: {},
      });
      if (code !== 0) throw new Error(`modelfleet publish ${dir}: exit ${code}\n${lines.join('\n')}`);
    },
  });
  const seed = Number(process.env.DEMO_SEED ?? 17);
  // ~30 devices an arm (the first step) vouch for differences of 15–20 points: the plan's power analysis refuses tighter tolerances here.
  const rollout = { steps: [25, 50, 100], bakeSeconds: 15, minSample: 20, tolerance: 0.2 };
  const log = (l: string) => console.log(l);
  const shotsDir = process.env.DEMO_SCREENSHOTS;
  const camera = shotsDir
    ? await (await import('../examples/demo/screenshots.ts')).startCamera({
        url,
        token,
        model: 'fraud-live',
        dir: resolve(root, shotsDir),
        log,
      })
    : null;
  const summary = await runScenario({
    plane,
    model: 'fraud-live',
    windowSeconds,
    graceSeconds: Math.min(900, windowSeconds / 2),
    devices: Number(process.env.DEMO_DEVICES ?? 120),
    browsers: Number(process.env.DEMO_BROWSERS ?? 2),
    pollMs: 5000,
    perTick: 8,
    seed,
    shiftAfterSeconds: 2 * windowSeconds,
    ...rollout,
    retrainPort: await freePort(),
    retrain: (o) => startDemoRetrain({ ...o, endpoint: url, token, root: trustRoot, rollout, seed, log }),
    timeoutSeconds: 280,
    log,
    onStage: camera?.onStage,
  });
  if (camera)
    console.log(`demo: screenshots ${(await camera.close()).map((f) => f.slice(root.length + 1)).join(', ')}`);
  printSummary(summary, (l) => console.log(l));
  process.exitCode = summary.outcome === 'promoted' ? 0 : 1;
} finally {
  stop();
}
