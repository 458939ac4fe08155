// Issue 15: "a publisher (CI) token ships to the whole fleet. The gate and the plan come from the
// publisher: publish v2 with metrics.values.auc = 0.9999 and the champion's evalSetDigest…". The
// gate's numbers must be computable without the publisher: an operator registers an evaluation
// set, the control plane scores the stored model bytes on it, and the gate (source 'server') reads
//   SELECT e.metrics FROM evaluations e JOIN eval_sets s ON s.model_id = e.model_id AND s.digest = e.eval_set_digest
//    WHERE e.model_id = ? AND e.version = ?
// Against the real Worker in workerd. Every test here failed on the code before this change (the
// routes and tables did not exist).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../fixtures/drift.ts';
import { type ModelArtifacts, buildLayersModel, outputsInNode } from '../fixtures/models.ts';
import { createModel, publish, registrySnapshot } from '../harness/publish.ts';
import { consolePage, signIn } from './console-session.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

const SERVER_METRICS = `SELECT e.metrics FROM evaluations e JOIN eval_sets s ON s.model_id = e.model_id AND s.digest = e.eval_set_digest
 WHERE e.model_id = ? AND e.version = ?`;

let worker: TestWorker;
let ci: string;
let viewer: string;
let champion: ModelArtifacts;
let rows: number[][];
let labels: number[];
let fraudId: number;

const argmax = (r: number[]) => r.reduce((best, v, i) => (v > r[best]! ? i : best), 0);

const serverMetrics = async (version: number) =>
  (await worker.db.prepare(SERVER_METRICS).bind(fraudId, version).all<{ metrics: string }>()).results.map(
    (r) => JSON.parse(r.metrics) as { accuracy: number; logLoss: number | null; rows: number },
  );
const putSet = (json: unknown, token?: string) =>
  worker.api('/v1/models/fraud/eval-set', { method: 'PUT', json, ...(token ? { token } : {}) });
const evaluate = (version: number, token?: string) =>
  worker.api(`/v1/models/fraud/versions/${version}/evaluate`, { method: 'POST', ...(token ? { token } : {}) });
const errorOf = async (res: Response) => ({
  status: res.status,
  code: ((await res.json()) as { error?: { code?: string } }).error?.code,
});
const stored = async () => ({
  registry: await registrySnapshot(worker),
  evalSets: (await worker.db.prepare('SELECT * FROM eval_sets').all()).results,
  evaluations: (await worker.db.prepare('SELECT * FROM evaluations ORDER BY model_id, version, eval_set_digest').all())
    .results,
  objects: (await worker.r2.list({ prefix: 'evalsets/' })).objects.map((o) => o.key).sort(),
});

beforeAll(async () => {
  worker = await startWorker();
  await createModel(worker, 'fraud');
  champion = await buildLayersModel({ seed: 1, inputs: 4, outputs: 3 });
  expect((await publish(worker, 'fraud', champion)).res.status).toBe(201);
  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
  fraudId = (await worker.db.prepare("SELECT id FROM models WHERE name = 'fraud'").first<{ id: number }>())!.id;
  ci = await createToken(worker, 'publisher');
  viewer = await createToken(worker, 'viewer');
  // Rows whose labels are the champion's own top class: the champion scores 1, any other model less.
  rows = Array.from({ length: 400 }, (_, i) => [0, 1, 2, 3].map((j) => Math.sin(i * 12.9898 + j * 78.233) * 2));
  labels = (await outputsInNode(champion, rows)).map(argmax);
});
afterAll(() => worker?.dispose());

describe('who may register and evaluate', () => {
  it('a publisher cannot register an evaluation set (403), and nothing is stored', async () => {
    const before = await stored();
    expect(await errorOf(await putSet({ inputs: rows, labels }, ci))).toEqual({ status: 403, code: 'forbidden' });
    expect(await errorOf(await putSet({ inputs: rows, labels }, viewer))).toEqual({ status: 403, code: 'forbidden' });
    expect(await stored()).toEqual(before);
  });

  it('a viewer cannot trigger an evaluation; without a set there is nothing to evaluate on', async () => {
    expect(await errorOf(await evaluate(1, viewer))).toEqual({ status: 403, code: 'forbidden' });
    expect(await errorOf(await evaluate(1, ci))).toEqual({ status: 404, code: 'no_eval_set' });
  });
});

describe('registration refuses bad sets with coded errors and stores nothing', () => {
  const cases: [string, () => unknown, number, string, RegExp][] = [
    [
      'ragged rows',
      () => ({
        inputs: [
          [1, 2, 3, 4],
          [1, 2, 3],
        ],
        labels: [0, 1],
      }),
      400,
      'bad_request',
      /ragged/,
    ],
    [
      'the wrong width for the champion',
      () => ({
        inputs: [
          [1, 2, 3],
          [4, 5, 6],
        ],
        labels: [0, 1],
      }),
      400,
      'bad_request',
      /takes \[\?,4\]/,
    ],
    [
      'a non-finite value (1e999 parses as Infinity)',
      () => '{"inputs":[[1,2,3,1e999]],"labels":[0]}',
      400,
      'bad_request',
      /non-finite/,
    ],
    [
      'a string where a number belongs',
      () => ({ inputs: [[1, 2, 3, '4']], labels: [0] }),
      400,
      'bad_request',
      /string where a number/,
    ],
    ['a label past the classes', () => ({ inputs: [[1, 2, 3, 4]], labels: [3] }), 400, 'bad_request', /classes 0 … 2/],
    ['a negative label', () => ({ inputs: [[1, 2, 3, 4]], labels: [-1] }), 400, 'bad_request', /labels/],
    [
      'fewer labels than rows',
      () => ({
        inputs: [
          [1, 2, 3, 4],
          [1, 2, 3, 4],
        ],
        labels: [0],
      }),
      400,
      'bad_request',
      /one label per row/,
    ],
    [
      'more than 10,000 rows',
      () => ({
        inputs: Array.from({ length: 10_001 }, () => [0, 0, 0, 0]),
        labels: Array.from({ length: 10_001 }, () => 0),
      }),
      400,
      'bad_request',
      /10000/,
    ],
    [
      'an unknown field',
      () => ({ inputs: [[1, 2, 3, 4]], labels: [0], weights: [1] }),
      400,
      'unknown_field',
      /weights/,
    ],
  ];
  for (const [name, body, status, code, message] of cases) {
    it(name, async () => {
      const before = await stored();
      const value = body();
      const res =
        typeof value === 'string'
          ? await worker.api('/v1/models/fraud/eval-set', {
              method: 'PUT',
              body: value,
              headers: { 'content-type': 'application/json' },
            })
          : await putSet(value);
      const answer = (await res.json()) as { error: { code: string; message: string } };
      expect([res.status, answer.error.code]).toEqual([status, code]);
      expect(answer.error.message).toMatch(message);
      expect(await stored()).toEqual(before);
    });
  }

  it('a body over 8 MiB is refused before it is read (payload_too_large)', async () => {
    const before = await stored();
    const huge = `{"inputs":[${Array.from({ length: 9_000 }, () => `[${'1.2345678901234567,'.repeat(60)}1]`).join(',')}],"labels":[0]}`;
    expect(huge.length).toBeGreaterThan(8 * 2 ** 20);
    const res = await worker.api('/v1/models/fraud/eval-set', {
      method: 'PUT',
      body: huge,
      headers: { 'content-type': 'application/json' },
    });
    expect(await errorOf(res)).toEqual({ status: 413, code: 'payload_too_large' });
    expect(await stored()).toEqual(before);
  });
});

describe("the numbers a gate reads are the control plane's, not the publisher's", () => {
  let digest: string;

  it('registering scores the champion on the stored bytes; the set is content-addressed and audited', async () => {
    const res = await putSet({ label: 'holdout 2026-11', inputs: rows, labels });
    expect(res.status).toBe(200);
    const view = (await res.json()) as {
      digest: string;
      rows: number;
      rowShape: number[];
      classes: number;
      evaluations: { version: number; metrics: { accuracy: number } }[];
    };
    digest = createHash('sha256')
      .update(JSON.stringify({ inputs: rows, labels }))
      .digest('hex');
    expect(view).toMatchObject({
      digest,
      rows: 400,
      rowShape: [4],
      classes: 3,
      evaluations: [{ version: 1, metrics: { accuracy: 1, rows: 400 } }],
    });
    expect((await worker.r2.list({ prefix: 'evalsets/' })).objects.map((o) => o.key)).toEqual([`evalsets/${digest}`]);
    const audit = await worker.db
      .prepare("SELECT actor, after FROM audit WHERE action = 'evalset.register'")
      .all<{ actor: string; after: string }>();
    expect(audit.results.map((r) => JSON.parse(r.after).digest)).toEqual([digest]);
    expect(await serverMetrics(1)).toEqual([{ accuracy: 1, logLoss: null, rows: 400, correct: 400, classes: 3 }]); // sigmoid outputs: no log loss
  });

  it("v2 published with self-reported accuracy 0.9999 on the champion's set digest scores what its bytes score", async () => {
    const challenger = await buildLayersModel({ seed: 9, inputs: 4, outputs: 3 });
    const lie = { evalSetDigest: digest, values: { accuracy: 0.9999, auc: 0.9999 } };
    const published = await publish(worker, 'fraud', challenger, { metrics: lie });
    expect(published.res.status).toBe(201);
    expect(await serverMetrics(2)).toEqual([]); // nothing until the control plane has scored it

    const before = await stored();
    const res = await evaluate(2, ci); // CI may ask for the score, not choose it
    expect(res.status).toBe(200);
    const evaluation = (await res.json()) as { metrics: { accuracy: number }; source: string; evalSetDigest: string };
    const truth =
      (await outputsInNode(challenger, rows)).filter((r, i) => argmax(r) === labels[i]).length / rows.length;
    expect(evaluation).toMatchObject({ source: 'control-plane', evalSetDigest: digest });
    expect(evaluation.metrics.accuracy).toBeCloseTo(truth, 6);
    expect(truth).toBeLessThan(0.9);
    const [v1] = await serverMetrics(1);
    const [v2] = await serverMetrics(2);
    expect(v2!.accuracy).toBeCloseTo(truth, 6);
    expect(v2!.accuracy).toBeLessThan(v1!.accuracy);
    // The publisher's number is still only in the version's own (self-reported) metrics.
    const version = (await (await worker.api('/v1/models/fraud/versions/2')).json()) as { metrics: unknown };
    expect(version.metrics).toEqual(lie);
    // Nothing but the evaluation row changed.
    const after = await stored();
    expect({ ...after, evaluations: [] }).toEqual({ ...before, evaluations: [] });
    expect(after.evaluations).toHaveLength(before.evaluations.length + 1);
  });

  it("the console labels the control plane's numbers apart from the publisher's", async () => {
    const { cookie } = await signIn(worker, viewer);
    const { status, html } = await consolePage(worker, cookie, '/console/models/fraud');
    expect(status).toBe(200);
    const row = html.match(/<tr data-eval-version="2">(.*?)<\/tr>/s)?.[1] ?? '';
    const [v2] = await serverMetrics(2);
    expect(row).toContain(`>${v2!.accuracy.toFixed(4)}<`); // computed by the control plane
    expect(row).toContain('>0.9999<'); // self-reported, in its own column
    expect(html).toContain('computed by the control plane');
    expect(html).toContain('self-reported');
  });

  it('asking again does not run the model again: the row stands as it was', async () => {
    const first = await (await worker.api('/v1/models/fraud/versions/2/evaluation', { token: viewer })).json();
    expect(first).toMatchObject({ version: 2, source: 'control-plane', metrics: { rows: 400 } });
    const again = await (await evaluate(2, ci)).json();
    expect(again).toEqual(first); // the same evaluatedAt and ms: the stored row, not a second run
  });

  it('evaluations are keyed by the set: a new set needs new evaluations, and the old ones survive', async () => {
    const fewer = { inputs: rows.slice(0, 100), labels: labels.slice(0, 100) };
    const res = await putSet(fewer);
    expect(res.status).toBe(200);
    const next = ((await res.json()) as { digest: string }).digest;
    expect(next).not.toBe(digest);
    // The champion was scored on the new set at registration; v2 not yet, so a gate has nothing for it.
    expect(await serverMetrics(1)).toMatchObject([{ accuracy: 1, rows: 100 }]);
    expect(await serverMetrics(2)).toEqual([]);
    expect(await errorOf(await worker.api('/v1/models/fraud/versions/2/evaluation'))).toEqual({
      status: 404,
      code: 'not_found',
    });
    // The evaluations on the old set are still there (history), only no longer current.
    const all = await worker.db
      .prepare('SELECT version, eval_set_digest FROM evaluations ORDER BY eval_set_digest, version')
      .all();
    expect(all.results).toHaveLength(3);
    expect((await evaluate(2, ci)).status).toBe(200);
    expect(await serverMetrics(2)).toMatchObject([{ rows: 100 }]);

    // Registering the first set again brings its evaluations back without running anything.
    const old = (await worker.db
      .prepare('SELECT evaluated_at FROM evaluations WHERE version = 2 AND eval_set_digest = ?')
      .bind(digest)
      .first<{ evaluated_at: string }>())!;
    const back = (await (await putSet({ inputs: rows, labels })).json()) as {
      digest: string;
      evaluations: { version: number; evaluatedAt: string }[];
    };
    expect(back.digest).toBe(digest);
    expect(back.evaluations.find((e) => e.version === 2)?.evaluatedAt).toBe(old.evaluated_at);
  });

  it('a set stored in R2 that no longer matches its digest is never scored', async () => {
    const challenger = await buildLayersModel({ seed: 11, inputs: 4, outputs: 3 });
    expect((await publish(worker, 'fraud', challenger)).res.status).toBe(201);
    const forged = JSON.stringify({ inputs: rows, labels: labels.map(() => 0) });
    await worker.r2.put(`evalsets/${digest}`, forged);
    const before = await stored();
    expect(await errorOf(await evaluate(3, ci))).toEqual({ status: 500, code: 'internal' });
    expect(await stored()).toEqual(before);
  });
});

describe("one evaluation's work is bounded", () => {
  it('a model × set past rows × weights = 2^32 is refused before it runs (eval_set_mismatch); the set stands', async () => {
    await createModel(worker, 'big');
    // 4 → 110,000 → 3: ~880k weights (3.5 MB); 5,000 rows of it would be ~4.4 G multiply-adds.
    expect(
      (await publish(worker, 'big', await buildLayersModel({ seed: 2, inputs: 4, hidden: 110_000, outputs: 3 }))).res
        .status,
    ).toBe(201);
    const half = rows.map((r) => r.map((x) => x / 2)); // rows of its own: the sets above are not touched
    const set = { inputs: half.slice(0, 100), labels: labels.slice(0, 100) };
    expect((await worker.api('/v1/models/big/eval-set', { method: 'PUT', json: set })).status).toBe(200); // no champion: nothing scored yet
    expect((await worker.api('/v1/models/big/versions/1/evaluate', { method: 'POST', token: ci })).status).toBe(200); // 88 M: fine
    const many = {
      inputs: Array.from({ length: 5000 }, (_, i) => half[i % half.length]!),
      labels: Array.from({ length: 5000 }, (_, i) => labels[i % rows.length]!),
    };
    expect((await worker.api('/v1/models/big/eval-set', { method: 'PUT', json: many })).status).toBe(200);
    const before = await stored();
    const res = await worker.api('/v1/models/big/versions/1/evaluate', { method: 'POST', token: ci });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect([res.status, body.error.code]).toEqual([422, 'eval_set_mismatch']);
    expect(body.error.message).toMatch(/more work than one evaluation may do/);
    expect(await stored()).toEqual(before);
  }, 120_000);
});
