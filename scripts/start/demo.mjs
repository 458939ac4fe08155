/**
 * @module start/demo
 * What `npm start` puts in a fresh registry: root v1, a demo app key, `examples/fraud-model` as
 * fraud-demo v1 (champion), the same network again as a challenger, and a rollout at 5 %.
 *
 * Idempotent by reading before writing: each step first asks the registry whether its result
 * is already there, so a retry after a failure part-way, or a second `npm start` on the same
 * state, finishes the set-up without publishing a second challenger or starting a second
 * rollout. The challenger is recognised by its label.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEMO_MODEL = 'fraud-demo';
export const CHALLENGER_LABEL = 'demo challenger';
const EXAMPLE = 'examples/fraud-model';
const exampleFiles = [
  '--metrics',
  `${EXAMPLE}/metrics.json`,
  '--params',
  `${EXAMPLE}/params.json`,
  '--golden',
  `${EXAMPLE}/golden.json`,
  '--baseline',
  `${EXAMPLE}/baseline.json`,
  '--lineage',
  `${EXAMPLE}/lineage.json`,
];

/**
 * @param {object} o
 * @param {(method: string, path: string, body?: unknown) => Promise<any>} o.api  createApi(…)
 * @param {(args: string[]) => void} o.publish  runs `modelfleet publish <args>` against the endpoint
 * @param {string} o.keysDir  holds root.json (installed if the registry has no root) and dev.json
 * @param {string} o.endpoint
 * @param {string} o.stateDir
 * @param {string} o.token  the admin token, remembered in dev.json for the CLI
 * @param {(line: string) => void} o.log
 * @returns {Promise<{ appKey: string, challenger: number, rollouts: number }>}
 */
export async function setUpDemo({ api, publish, keysDir, endpoint, stateDir, token, log }) {
  // Root of trust.
  if (!(await api('GET', '/v1/keys')).root) {
    log('installing root v1');
    await api('PUT', '/v1/keys/root', JSON.parse(readFileSync(join(keysDir, 'root.json'), 'utf8')));
  }

  // A demo app (device key), remembered in dev.json for the CLI: its key is shown once, so a new
  // one is made only when dev.json has none for this endpoint and state.
  const devJsonPath = join(keysDir, 'dev.json');
  const dev = existsSync(devJsonPath) ? JSON.parse(readFileSync(devJsonPath, 'utf8')) : {};
  if (!dev.appKey || dev.endpoint !== endpoint || dev.stateDir !== stateDir) {
    dev.appKey = (await api('POST', '/v1/apps', { name: 'demo', models: ['*'] })).appKey;
  }
  Object.assign(dev, { endpoint, adminToken: token, stateDir });
  writeFileSync(devJsonPath, JSON.stringify(dev, null, 2), { mode: 0o600 });

  // The champion: the example as published (no label).
  let versions = await demoVersions(api);
  if (!versions.some((v) => v.label !== CHALLENGER_LABEL && v.status === 'active')) {
    log(`publishing ${EXAMPLE} as ${DEMO_MODEL} (validated in the Worker, signed, champion)`);
    publish([EXAMPLE, '--model', DEMO_MODEL, '--create', '--alias', 'champion', ...exampleFiles]);
    versions = await demoVersions(api);
  }
  const { aliases } = await api('GET', `/v1/models/${DEMO_MODEL}`);
  if (aliases.champion === undefined) {
    // The publish stored the version but did not get to set the alias.
    const champion = versions.find((v) => v.label !== CHALLENGER_LABEL && v.status === 'active');
    await api('PUT', `/v1/models/${DEMO_MODEL}/aliases/champion`, {
      version: champion.version,
      reason: 'demo champion, set by npm start',
    });
  }

  // The challenger: the same network republished under a label, so that a rollout has two versions.
  let challenger = versions.find((v) => v.label === CHALLENGER_LABEL && v.status === 'active');
  if (!challenger) {
    log(`publishing a demo challenger (${DEMO_MODEL}, label "${CHALLENGER_LABEL}")`);
    publish([EXAMPLE, '--model', DEMO_MODEL, '--label', CHALLENGER_LABEL, ...exampleFiles]);
    challenger = (await demoVersions(api)).find((v) => v.label === CHALLENGER_LABEL && v.status === 'active');
    if (!challenger)
      throw new Error(
        `the demo challenger was published but ${DEMO_MODEL} lists no active version labelled "${CHALLENGER_LABEL}"`,
      );
  }

  // The demo rollout, once: at 5 % with hour-long bakes (nothing promotes without device data).
  // Any rollout of the model, running or finished, counts: a finished demo stays finished.
  let { rollouts } = await api('GET', `/v1/models/${DEMO_MODEL}/rollouts`);
  if (rollouts.length === 0) {
    log(`starting a demo rollout of v${challenger.version} at 5 %`);
    await api('POST', `/v1/models/${DEMO_MODEL}/rollouts`, {
      challenger: challenger.version,
      reason: 'demo rollout started by npm start',
      plan: {
        salt: 'modelfleet-demo',
        steps: [
          { percent: 5, bakeSeconds: 3600 },
          { percent: 25, bakeSeconds: 3600 },
          { percent: 100, bakeSeconds: 0 },
        ],
      },
    });
    rollouts = [{}];
  }
  return { appKey: dev.appKey, challenger: challenger.version, rollouts: rollouts.length };
}

/** The demo model's versions, or none when the model does not exist yet. */
async function demoVersions(api) {
  const { models } = await api('GET', '/v1/models');
  if (!models.some((m) => m.name === DEMO_MODEL)) return [];
  return (await api('GET', `/v1/models/${DEMO_MODEL}/versions`)).versions;
}
