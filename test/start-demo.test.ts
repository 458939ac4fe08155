// The demo set-up of `npm start` (scripts/start/demo.mjs) against the bundled Worker, through
// the real CLI: a set-up cut off at two points after its writes reached the server, then run
// to the end, then once more (a second `npm start` on the same state), leaves one champion, one
// challenger and one rollout.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApi } from '../scripts/start/api.mjs';
import { CHALLENGER_LABEL, DEMO_MODEL, setUpDemo } from '../scripts/start/demo.mjs';
import { type TestWorker, startWorker } from './harness/worker.ts';

const root = resolve(import.meta.dirname, '..');
const keysDir = mkdtempSync(join(tmpdir(), 'modelfleet-demo-'));
let worker: TestWorker;
beforeAll(async () => {
  worker = await startWorker({ http: true });
});
afterAll(async () => {
  await worker?.dispose();
  rmSync(keysDir, { recursive: true, force: true });
});

it('set-ups cut off part-way and run again publish one challenger and start one rollout', async () => {
  const published: string[][] = [];
  const publish = (args: string[]) => {
    published.push(args);
    execFileSync(
      process.execPath,
      [
        join(root, 'control-plane/cli/bin.mjs'),
        '--endpoint',
        worker.url,
        '--token',
        worker.adminToken,
        'publish',
        ...args,
      ],
      { cwd: root, stdio: 'pipe' },
    );
  };
  const api = createApi(worker.url, worker.adminToken);
  const options = { publish, keysDir, endpoint: worker.url, stateDir: 'test', token: worker.adminToken, log: () => {} };

  // 1. Cut off right after the challenger is published (the old set-up then published another
  // one on every retry, as it looked only for a rollout).
  const cutAfterChallenger = (args: string[]) => {
    publish(args);
    if (args.includes('--label')) throw new Error('setup interrupted');
  };
  await expect(setUpDemo({ ...options, api, publish: cutAfterChallenger })).rejects.toThrow('setup interrupted');
  expect(published.map((a) => a.includes('--label'))).toEqual([false, true]);

  // 2. Cut off after the rollout is created, its response lost (the socket closed under it).
  const lossy = async (method: string, path: string, body?: unknown) => {
    const result = await api(method, path, body);
    if (method === 'POST' && path.endsWith('/rollouts')) throw new Error('other side closed');
    return result;
  };
  await expect(setUpDemo({ ...options, api: lossy })).rejects.toThrow('other side closed');

  // 3. Run to the end, then 4. once more, as a second `npm start` on the same state.
  const second = await setUpDemo({ ...options, api });
  const third = await setUpDemo({ ...options, api });
  expect(published).toHaveLength(2);
  expect(third).toEqual(second);
  expect(second).toMatchObject({ challenger: 2, rollouts: 1 });

  const { versions } = (await (await worker.api(`/v1/models/${DEMO_MODEL}/versions`)).json()) as {
    versions: { version: number; label: string | null; aliases: string[] }[];
  };
  expect(versions.map((v) => [v.version, v.label, v.aliases])).toEqual([
    [2, CHALLENGER_LABEL, []],
    [1, null, ['champion']],
  ]);
  const { rollouts } = (await (await worker.api(`/v1/models/${DEMO_MODEL}/rollouts`)).json()) as {
    rollouts: { challenger: number }[];
  };
  expect(rollouts).toHaveLength(1);
  expect(rollouts[0]).toMatchObject({ challenger: 2 });
}, 120_000);
