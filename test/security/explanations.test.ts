// Feature importance in the signed manifest (issue 17): `metrics.explanations` is published with
// the version (the console compares it, the drift page reads it), so it is typed — a publisher
// cannot smuggle a thousands-of-keys blob, non-numbers or an unknown method into every device's
// manifest. Malformed explanations are refused at the first publish step with a coded error, and
// nothing is stored; well-formed ones come back from the API and inside the signed manifest.
import {
  Explanations,
  MAX_EXPLAINED_FEATURES,
  Metrics,
  fromBase64,
  parseEnvelope,
  parseManifest,
} from '@modelfleet/protocol';
import * as z from 'zod/mini';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { type ModelArtifacts, createModel, publish, registrySnapshot, stageUpload } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

const SET = 'e'.repeat(64);
const good = {
  method: 'permutation',
  metric: 'auc',
  evalSetDigest: SET,
  features: { amount: 0.12, merchant_risk: 0.07, hour: 0.004, foreign: -0.001 },
};
const tooMany = {
  ...good,
  features: Object.fromEntries(Array.from({ length: MAX_EXPLAINED_FEATURES + 1 }, (_, i) => [`f${i}`, 0.001])),
};
let worker: TestWorker;
let artifacts: ModelArtifacts;

const metricsWith = (explanations: unknown) => ({ evalSetDigest: SET, values: { auc: 0.91 }, explanations }) as never;
/** Everything a refused publish could have touched: the registry, staged uploads, stored objects. */
async function state() {
  const uploads = (await worker.db.prepare('SELECT COUNT(*) AS n FROM uploads').first<{ n: number }>())!.n;
  const objects = (await worker.r2.list()).objects.map((o) => o.key).sort();
  return { registry: await registrySnapshot(worker), uploads, objects };
}

beforeAll(async () => {
  worker = await startWorker();
  await createModel(worker, 'fraud');
  artifacts = await buildLayersModel({ seed: 4, inputs: 3 });
});
afterAll(() => worker?.dispose());

describe('publish', () => {
  it('takes well-formed explanations: returned by the API and signed into the manifest', async () => {
    const { res, body } = await publish(worker, 'fraud', artifacts, { metrics: metricsWith(good) });
    expect(res.status).toBe(201);
    expect(body.status).toBe('active');
    const version = (await (await worker.api('/v1/models/fraud/versions/1')).json()) as any;
    expect(version.metrics.explanations).toEqual(good);
    // What devices and the console read: the signed manifest's own bytes.
    const envelope = await (await worker.api(`/v1/edge/manifests/${body.manifestDigest}`, { token: null })).text();
    expect(parseManifest(fromBase64(parseEnvelope(envelope, 'manifest').payload)).metrics.explanations).toEqual(good);
  });

  const cases: [string, unknown, string, RegExp][] = [
    ['more than 1000 features', tooMany, 'bad_request', /metrics\.explanations\.features.*at most 1000 features/],
    [
      'a value that is not a number',
      { ...good, features: { amount: '0.12' } },
      'bad_request',
      /metrics\.explanations\.features\.amount/,
    ],
    [
      'Infinity (JSON sends null)',
      { ...good, features: { amount: Infinity } },
      'bad_request',
      /metrics\.explanations\.features\.amount/,
    ],
    ['a method the console does not know', { ...good, method: 'shap' }, 'bad_request', /metrics\.explanations\.method/],
    [
      'an evaluation set that is no digest',
      { ...good, evalSetDigest: 'holdout-2026' },
      'bad_request',
      /metrics\.explanations\.evalSetDigest/,
    ],
    [
      'no metric',
      { method: 'permutation', evalSetDigest: SET, features: good.features },
      'bad_request',
      /metrics\.explanations\.metric/,
    ],
    ['an empty feature name', { ...good, features: { '': 0.1 } }, 'bad_request', /metrics\.explanations\.features/],
    ['explanations that are a list', [good], 'bad_request', /metrics\.explanations/],
    ['a stray field', { ...good, note: 'trust me' }, 'unknown_field', /note in metrics\.explanations/],
  ];
  it.each(cases)('refuses %s with a coded error and stores nothing', async (_, explanations, code, message) => {
    const before = await state();
    const { res, body } = await stageUpload(worker, 'fraud', artifacts, { metrics: metricsWith(explanations) });
    expect(res.status).toBe(400);
    expect(body.error.code).toBe(code);
    expect(body.error.message).toMatch(message);
    expect(await state()).toEqual(before);
  });
});

it('is described in the API document', async () => {
  const doc = (await (await worker.api('/v1/openapi.json', { token: null })).json()) as any;
  const upload = doc.paths['/v1/models/{model}/uploads'].post.requestBody.content['application/json'].schema;
  const explanations = upload.properties.metrics.properties.explanations;
  expect(explanations.required.sort()).toEqual(['evalSetDigest', 'features', 'method', 'metric']);
  expect(explanations.properties.method.enum).toEqual(['permutation']);
  expect(explanations.properties.features.additionalProperties).toEqual({ type: 'number' });
  expect(explanations.additionalProperties).toBe(false);
});

describe('reading manifests', () => {
  it('keeps old manifests valid and reads a method it does not know (devices never refuse a model for it)', () => {
    const metrics = (m: unknown) => z.safeParse(Metrics, m).success;
    expect(metrics({ values: { auc: 0.9 } })).toBe(true);
    expect(metrics({ values: {}, explanations: { ...good, method: 'shap', seed: 7 } })).toBe(true);
    expect(z.safeParse(Explanations, { ...good, features: { amount: Number.NaN } }).success).toBe(false);
    expect(z.safeParse(Explanations, tooMany).success).toBe(false);
  });
});
