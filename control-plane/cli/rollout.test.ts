// `modelfleet rollout …` against the real Worker: create, status, promote, list, kill, and a
// coded error for an action on a finished rollout.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLayersModel } from '../../test/fixtures/models.ts';
import { createModel, publish } from '../../test/harness/publish.ts';
import { type TestWorker, startWorker } from '../../test/harness/worker.ts';
import { run } from './main.ts';

let worker: TestWorker;

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(['--endpoint', worker.url, '--token', worker.adminToken, ...argv], {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    tty: false,
    cwd: process.cwd(),
    env: {},
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  worker = await startWorker({ http: true });
  await createModel(worker, 'fraud');
  for (const seed of [1, 2]) await publish(worker, 'fraud', await buildLayersModel({ seed }));
  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
});
afterAll(() => worker?.dispose());

it('creates, shows, promotes, lists and kills a rollout', async () => {
  const created = await cli(
    '--json',
    'rollout',
    'create',
    '--model',
    'fraud',
    '--challenger',
    '2',
    '--reason',
    'weekly retrain',
  );
  expect(created.code, created.err).toBe(0);
  const { id } = JSON.parse(created.out) as { id: string };
  const status = await cli('rollout', 'status', id);
  expect(status.out).toContain('fraud: v1 → v2  running  1% on the challenger');
  expect(status.out).toContain('[1%] → 5% → 25% → 50% → 100%');
  expect((await cli('rollout', 'promote', id)).out).toContain('running  5% on the challenger');
  expect((await cli('rollout', 'list', '--model', 'fraud')).out).toMatch(/ro_[0-9a-f]{16}\s+v1\s+v2\s+running\s+5%/);
  expect((await cli('rollout', 'kill', id)).out).toContain('rolled-back  0% on the challenger');
  const again = await cli('rollout', 'resume', id);
  expect(again.code).toBe(5); // refused
  expect(again.err).toMatch(/^error conflict: cannot resume rollout/);
});
