// `modelfleet eval-set put|show` and `modelfleet evaluate` against the real Worker: a set checked
// before it is sent (a ragged file is an input error and reaches nothing), registered, shown with
// the control plane's metrics, and a second version scored.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLayersModel } from '../../test/fixtures/models.ts';
import { createModel, publish } from '../../test/harness/publish.ts';
import { type TestWorker, startWorker } from '../../test/harness/worker.ts';
import { run } from './main.ts';

let worker: TestWorker;
const dir = mkdtempSync(join(tmpdir(), 'mf-evalset-'));

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(['--endpoint', worker.url, '--token', worker.adminToken, ...argv], {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    tty: false,
    cwd: dir,
    env: {},
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  worker = await startWorker({ http: true });
  await createModel(worker, 'fraud');
  for (const seed of [1, 2]) await publish(worker, 'fraud', await buildLayersModel({ seed, inputs: 3 }));
  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
});
afterAll(() => worker?.dispose());

it('registers a set from a file, shows it, and scores a version', async () => {
  writeFileSync(
    join(dir, 'ragged.json'),
    JSON.stringify({
      inputs: [
        [1, 2, 3],
        [1, 2],
      ],
      labels: [0, 1],
    }),
  );
  const ragged = await cli('eval-set', 'put', 'fraud', 'ragged.json');
  expect(ragged.code).toBe(3); // input: refused before sending
  expect(ragged.err).toMatch(/ragged/);
  expect((await worker.db.prepare('SELECT COUNT(*) AS n FROM eval_sets').first<{ n: number }>())!.n).toBe(0);

  const inputs = Array.from({ length: 50 }, (_, i) => [Math.sin(i), Math.cos(i), (i % 7) / 7]);
  writeFileSync(join(dir, 'set.json'), JSON.stringify({ inputs, labels: inputs.map((_, i) => i % 2) }));
  const put = await cli('eval-set', 'put', 'fraud', 'set.json', '--label', 'holdout');
  expect(put.code, put.err).toBe(0);
  expect(put.out).toMatch(/"holdout" 50 rows of \[3\], 2 classes/);
  const scored = await cli('--json', 'evaluate', 'fraud', '2');
  expect(scored.code, scored.err).toBe(0);
  expect(JSON.parse(scored.out)).toMatchObject({ version: 2, source: 'control-plane', metrics: { rows: 50 } });
  const shown = await cli('eval-set', 'show', 'fraud');
  expect(shown.out).toContain('computed by the control plane');
  expect(shown.out).toMatch(/^2\s+0\.\d{4}\s+0\.\d{4}/m); // sigmoid: a log loss
  expect(shown.out).toMatch(/^1\s+0\.\d{4}/m);
});
