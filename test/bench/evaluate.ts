/**
 * @module bench/evaluate
 * What server-side evaluation costs in workerd (docs/rollouts.md, "The gate and evaluation sets"): for each model, an
 * evaluation set of N rows is registered, then a fresh version is scored through
 * POST …/versions/{v}/evaluate. Reported: the request's wall time seen by the client, the
 * server's own `ms` (load + inference, performance.now in workerd) and that per row.
 * `node --import tsx test/bench/evaluate.ts`
 */
import { buildLargeLayersModel, buildImageModel, buildLayersModel, type ModelArtifacts } from '../fixtures/models.ts';
import { bundleWorker } from '../harness/bundle.ts';
import { createModel, publish } from '../harness/publish.ts';
import { startWorker } from '../harness/worker.ts';

interface Case {
  name: string;
  build: (seed: number) => Promise<ModelArtifacts>;
  row: (i: number) => unknown;
  rows: number;
  classes: number;
}

const wave = (i: number, j: number) => Math.round(Math.sin(i * 12.9898 + j * 78.233) * 1000) / 1000;
const cases: Case[] = [
  {
    name: 'fixture dense 4 → 8 → 3 (buildLayersModel)',
    build: (seed) => buildLayersModel({ seed, inputs: 4, outputs: 3 }),
    row: (i) => [0, 1, 2, 3].map((j) => wave(i, j)),
    rows: 2000,
    classes: 3,
  },
  {
    name: 'fixture dense 20 → 64 → 10',
    build: (seed) => buildLayersModel({ seed, inputs: 20, hidden: 64, outputs: 10 }),
    row: (i) => Array.from({ length: 20 }, (_, j) => wave(i, j)),
    rows: 10_000,
    classes: 10,
  },
  {
    name: 'image 16×16×3 conv → softmax(4) (buildImageModel)',
    build: (seed) => buildImageModel({ seed }),
    row: (i) =>
      Array.from({ length: 16 }, (_, y) =>
        Array.from({ length: 16 }, (_, x) => [0, 1, 2].map((c) => ((i * 7 + y * 3 + x + c) % 10) / 10)),
      ),
    rows: 1000,
    classes: 4,
  },
  {
    name: 'dense 512 → 256 → 256 → 10 (1.3 MiB, buildLargeLayersModel)',
    build: (seed) => buildLargeLayersModel(1.3 * 2 ** 20, seed),
    row: (i) => Array.from({ length: 512 }, (_, j) => (i + j) % 10),
    rows: 2000,
    classes: 10,
  },
];

bundleWorker();
const worker = await startWorker();
console.log('| model | rows | request wall ms | server ms | µs per row |\n|---|---|---|---|---|');
for (const [n, c] of cases.entries()) {
  const name = `bench-${n}`;
  await createModel(worker, name);
  for (const seed of [1, 2, 3])
    if ((await publish(worker, name, await c.build(seed))).res.status !== 201) throw new Error('publish failed');
  await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: 1 } });
  const inputs = Array.from({ length: c.rows }, (_, i) => c.row(i));
  const labels = inputs.map((_, i) => i % c.classes);
  const put = await worker.api(`/v1/models/${name}/eval-set`, { method: 'PUT', json: { inputs, labels } });
  if (put.status !== 200) throw new Error(`register: ${put.status} ${await put.text()}`);
  for (const version of [2, 3]) {
    const started = performance.now();
    const res = await worker.api(`/v1/models/${name}/versions/${version}/evaluate`, { method: 'POST' });
    const wall = performance.now() - started;
    const body = (await res.json()) as { ms: number; metrics: { accuracy: number } };
    if (res.status !== 200) throw new Error(JSON.stringify(body));
    console.log(
      `| ${c.name} v${version} | ${c.rows} | ${wall.toFixed(0)} | ${body.ms.toFixed(0)} | ${((body.ms * 1000) / c.rows).toFixed(1)} |`,
    );
  }
}
await worker.dispose();
