// Server-side evaluation on a real public data set (Seattle daily weather 2012–2015, vega-datasets:
// test/fixtures/real-data.ts). Two classifiers that guess the day's weather from precipitation,
// temperatures and wind are trained in Node (drift-real/model.ts): v1 on 2012–2014, v2 on the
// first 60 days of 2012 only. The held-out 2015 rows become the evaluation set; the control plane
// scores both versions in workerd, and its numbers must be the ones TF.js gives in Node on the
// same rows and the same model bytes.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ModelArtifacts, outputsInNode } from '../fixtures/models.ts';
import { realDataFile } from '../fixtures/real-data.ts';
import { trainModel } from '../drift-real/model.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

const WEATHER = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
let worker: TestWorker;
let models: ModelArtifacts[];
let holdout: { inputs: number[][]; labels: number[] };

function seattle() {
  const lines = readFileSync(realDataFile('seattle-weather.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const [date, precipitation, tempMax, tempMin, wind, weather] = l.split(',');
    return {
      year: Number(date!.slice(0, 4)),
      x: [precipitation, tempMax, tempMin, wind].map(Number),
      y: WEATHER.indexOf(weather!),
    };
  });
}

/** Accuracy and mean log loss as computed here, in Node, from TF.js's own outputs. */
async function nodeMetrics(a: ModelArtifacts, x: number[][], y: number[]) {
  const p = await outputsInNode(a, x);
  const top = (r: number[]) => r.indexOf(Math.max(...r));
  const correct = p.filter((r, i) => top(r) === y[i]).length;
  const logLoss = -p.reduce((s, r, i) => s + Math.log(Math.min(1 - 1e-7, Math.max(1e-7, r[y[i]!]!))), 0) / p.length;
  return { accuracy: correct / p.length, logLoss };
}

beforeAll(async () => {
  const days = seattle();
  const train = days.filter((d) => d.year <= 2014);
  const test = days.filter((d) => d.year === 2015);
  holdout = { inputs: test.map((d) => d.x), labels: test.map((d) => d.y) };
  const better = await trainModel(
    train.map((d) => d.x),
    train.map((d) => d.y),
    WEATHER.length,
  );
  const worse = await trainModel(
    train.slice(0, 60).map((d) => d.x),
    train.slice(0, 60).map((d) => d.y),
    WEATHER.length,
  );
  models = [better.artifacts, worse.artifacts];
  worker = await startWorker();
  await createModel(worker, 'weather');
  for (const m of models) expect((await publish(worker, 'weather', m)).res.status).toBe(201);
  await worker.api('/v1/models/weather/aliases/champion', { method: 'PUT', json: { version: 1 } });
}, 120_000);
afterAll(() => worker?.dispose());

it('scores both versions on the held-out 2015 rows exactly as TF.js does in Node, and the better model higher', async () => {
  const put = await worker.api('/v1/models/weather/eval-set', {
    method: 'PUT',
    json: { label: 'Seattle 2015 (held out)', ...holdout },
  });
  expect(put.status).toBe(200);
  const view = (await put.json()) as {
    rows: number;
    classes: number;
    rowShape: number[];
    evaluations: { version: number }[];
  };
  expect(view).toMatchObject({ rows: 365, classes: 5, rowShape: [4] });
  expect(view.evaluations.map((e) => e.version)).toEqual([1]); // the champion, scored at registration

  const evaluated = await worker.api('/v1/models/weather/versions/2/evaluate', { method: 'POST' });
  expect(evaluated.status).toBe(200);
  const listed = (await (await worker.api('/v1/models/weather/eval-set')).json()) as {
    evaluations: { version: number; metrics: { accuracy: number; logLoss: number | null; rows: number } }[];
  };
  const server = Object.fromEntries(listed.evaluations.map((e) => [e.version, e.metrics]));
  for (const [i, artifacts] of models.entries()) {
    const node = await nodeMetrics(artifacts, holdout.inputs, holdout.labels);
    expect(server[i + 1]!.rows).toBe(365);
    expect(Math.abs(server[i + 1]!.accuracy - node.accuracy)).toBeLessThan(1e-6);
    expect(Math.abs(server[i + 1]!.logLoss! - node.logLoss)).toBeLessThan(1e-5);
  }
  expect(server[1]!.accuracy).toBeGreaterThan(server[2]!.accuracy);
  expect(server[1]!.logLoss!).toBeLessThan(server[2]!.logLoss!);
});
