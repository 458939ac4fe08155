// Crash-safe releases and commits (issue 15), against the real Worker in workerd: for every step
// of a drift window's close, of a rollout step's release and of a publish commit, the Worker is
// killed there (an armed crash point, fault/crash-points.ts), workerd is restarted on the same
// D1/R2/DO state, and the operation is retried the way production retries it (the next cron run,
// the rollout's next tick, the publisher committing again). Nothing may be lost or duplicated:
// the window's released devices are the devices that uploaded, one row per cohort, the privacy
// spend ledgered once; a commit makes one version and leaves one manifest, and no manifest that
// no version names is ever served. Before this change a crash between a Durable Object's release
// and the D1 write lost the window (the raw sums were deleted, the retry found it closed), and a
// crash after a commit's manifest reached R2 left a signed manifest served with 200 beside the
// retry's.
import {
  bucketOf,
  encodeUpload,
  healthLayout,
  healthUpload,
  rolloutCohort,
  sha256Hex,
  utf8,
  windowOf,
} from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rhoFor } from '../../control-plane/src/drift/privacy.ts';
import { baseline, createApp, monitoredBaseline, outputSketch, uploadHealth, uploadSketch } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { pollUntil } from '../harness/poll.ts';
import { createModel, publish, putChunk, stageUpload } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

const today = windowOf(new Date());
const DEVICES = 6;
const STEP_DEVICES = 5; // DRIFT_MIN_DEVICES and the plan's minSample
const EPSILON = 100_000; // noise far below one device: 5 devices an arm decide the same way every run
let worker: TestWorker;
let appKey: string;

beforeAll(async () => {
  // Room for four rollout steps' releases in one day; a crashed commit's claim lapses after 1 s.
  worker = await startWorker({
    vars: {
      DRIFT_MIN_DEVICES: '5',
      DRIFT_EPSILON_PER_DAY: String(EPSILON),
      ROLLOUT_TICK_SECONDS: '1',
      ROLLOUT_STEP_EPSILON_PER_DAY: String(5 * EPSILON),
      COMMIT_LEASE_SECONDS: '1',
    },
  });
  appKey = await createApp(worker);
});
afterAll(() => worker?.dispose());

/** Restarts workerd with `point` armed, runs `action` (which the crash cuts short), restarts disarmed. */
async function crashAt<T>(point: string, action: () => Promise<T>): Promise<T | Error> {
  await worker.restart({ FAULT_POINTS: point });
  const outcome = await action().catch((e: Error) => e);
  await worker.restart();
  return outcome;
}

const q = async <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  (
    await worker.db
      .prepare(sql)
      .bind(...params)
      .all<T>()
  ).results;
const modelId = async (name: string) => (await q<{ id: number }>('SELECT id FROM models WHERE name = ?', name))[0]!.id;
const aggregate = async (model: string, version: number, window: number, cohort: string) =>
  (await (await worker.api(`/v1/models/${model}/versions/${version}/sketches/${window}?cohort=${cohort}`)).json()) as {
    devices: number;
    closed: boolean;
    unreleased?: number;
    pending?: number;
    pendingDigest?: string;
  };
/** The daily Cron Trigger as it fires `days` after today, at 00:15 UTC: 1 closes today's window. */
const dailyClose = (days = 1) => worker.trigger('15 0 * * *', new Date((today + days) * 86_400_000 + 15 * 60_000));

describe('a drift window close crashed at each step', () => {
  const points = [
    'close:after-health-release',
    'close:after-release',
    'close:after-commit',
    'close:after-ack',
  ] as const;
  it.each(points.map((p, i) => [p, i] as const))(
    '%s: the retry releases every device once and ledgers the spend once',
    async (point, i) => {
      const model = `close-${i}`;
      await createModel(worker, model);
      expect(
        (await publish(worker, model, await buildLayersModel({ seed: 3, inputs: 3 }), { baseline })).res.status,
      ).toBe(201);
      for (let d = 0; d < DEVICES; d++) {
        expect((await uploadSketch(worker, appKey, `device-${'x'.repeat(d)}`, 0, { model })).status).toBe(202);
        expect(
          (
            await uploadHealth(
              worker,
              appKey,
              `device-${'x'.repeat(d)}`,
              { load: { ok: 1 }, predict: { ok: 10 }, latencies: [2, 3], backend: { cpu: 10 } },
              { model },
            )
          ).status,
        ).toBe(202);
      }
      const id = await modelId(model);
      const rows = () =>
        q<{ cohort: string; devices: number; released: number; aggregate: string }>(
          'SELECT cohort, devices, released, aggregate FROM drift_windows WHERE model_id = ? AND window = ? ORDER BY cohort',
          id,
          today,
        );
      const ledger = () => q<{ rho: number }>('SELECT rho FROM privacy_ledger WHERE model_id = ?', id);

      await crashAt(point, () => dailyClose());
      // The crash happened where it was armed: what is durable so far says so.
      const [health, all] = [await aggregate(model, 1, today, 'health'), await aggregate(model, 1, today, 'all')];
      expect(health).toMatchObject({ devices: DEVICES, closed: true });
      expect(all.closed).toBe(point !== 'close:after-health-release');
      expect(await rows()).toHaveLength(point === 'close:after-commit' || point === 'close:after-ack' ? 2 : 0);

      // Cron runs are not retried: the next day's run finds the window unrecorded and completes it.
      await dailyClose(2);
      const closed = await rows();
      expect(closed.map(({ cohort, devices, released }) => ({ cohort, devices, released }))).toEqual([
        { cohort: 'all', devices: DEVICES, released: 1 },
        { cohort: 'health', devices: DEVICES, released: 1 },
      ]);
      const spent = await ledger();
      expect(spent).toHaveLength(1);
      expect(spent[0]!.rho).toBeCloseTo(rhoFor(EPSILON, 1e-6), 9); // the drift and health shares: the day's whole budget, once
      expect(
        await q(
          'SELECT id FROM audit WHERE action = ? AND subject = ?',
          'drift.close',
          `model/${model}/version/1/drift/${today}`,
        ),
      ).toHaveLength(1);

      // Another run changes nothing: no second release, no fresh noise.
      await dailyClose(2);
      expect(await rows()).toEqual(closed);
      expect(await ledger()).toHaveLength(1);
      expect((await uploadSketch(worker, appKey, 'late-device', 0, { model })).status).toBe(422); // window_closed
    },
  );
});

describe('a rollout step release crashed at each step', () => {
  const salt = 'crash-salt';
  const points = [
    'step-health:after-release',
    'step-health:after-commit',
    'step-sketches:after-release',
    'step-sketches:after-commit',
  ] as const;
  const percents = [10, 20, 30, 40];
  let rollout: string;
  let id: number;
  const get = async () =>
    (await (await worker.api(`/v1/rollouts/${rollout}`)).json()) as { state: string; step: number };
  const sequence = async () =>
    ((await (await worker.api('/v1/models/stepped')).json()) as { sequence: number }).sequence;
  const cohortOf = (point: string) =>
    point.startsWith('step-health') ? `step-${rollout}` : `step-${rollout}-sketches`;
  const stepRows = (seq: number, cohort: string) =>
    q<{ version: number; devices: number }>(
      'SELECT version, devices FROM drift_windows WHERE model_id = ? AND window = ? AND cohort = ? ORDER BY version',
      id,
      seq,
      cohort,
    );
  const stepLedger = () => q('SELECT rho FROM privacy_ledger WHERE model_id = ? AND scope = ?', id, 'step');
  // Step health is released in increments (issue 16), recorded in step_increments.
  const increments = (seq: number) =>
    q<{ version: number; devices: number; aggregate: string }>(
      'SELECT version, devices, aggregate FROM step_increments WHERE rollout_id = ? AND sequence = ? ORDER BY version, increment',
      rollout,
      seq,
    );
  const recorded = async (seq: number, cohort: string) =>
    cohort.endsWith('-sketches')
      ? stepRows(seq, cohort)
      : (await increments(seq)).map(({ version, devices }) => ({ version, devices }));

  /** STEP_DEVICES devices in each of the step's ranges send a healthy step record and an undrifted sketch (a tick releases once both arms have them all). */
  async function reportStep(percent: number, seq: number): Promise<void> {
    const record = encodeUpload(
      await healthLayout(),
      (await healthUpload({ load: { ok: 1 }, predict: { ok: 20 }, latencies: [2, 2, 2], backend: { cpu: 20 } }, seq))!,
    );
    const found = { challenger: 0, control: 0 };
    for (let i = 0; found.challenger < STEP_DEVICES || found.control < STEP_DEVICES; i++) {
      const device = `s${percent}-${i}`;
      const cohort = rolloutCohort(await bucketOf(salt, device), percent);
      if (cohort === 'rest' || found[cohort] >= STEP_DEVICES) continue;
      found[cohort]++;
      const post = (channel: string, body: Uint8Array) =>
        worker.api(
          `/v1/edge/${channel}/stepped/${cohort === 'challenger' ? 2 : 1}?device=${device}&rollout=${rollout}`,
          {
            method: 'POST',
            token: null,
            body: body as unknown as BodyInit,
            headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': appKey },
          },
        );
      expect((await post('step-health', record)).status).toBe(202);
      expect((await post('step-sketches', await outputSketch(i, device, 1, seq))).status).toBe(202);
    }
  }

  beforeAll(async () => {
    await createModel(worker, 'stepped');
    for (const seed of [1, 2])
      expect(
        (await publish(worker, 'stepped', await buildLayersModel({ seed, inputs: 3 }), { baseline: monitoredBaseline }))
          .res.status,
      ).toBe(201);
    await worker.api('/v1/models/stepped/aliases/champion', { method: 'PUT', json: { version: 1 } });
    id = await modelId('stepped');
    const plan = {
      steps: [...percents.map((percent) => ({ percent, bakeSeconds: 1 })), { percent: 100, bakeSeconds: 3600 }],
      salt,
      // 5 devices an arm: a wide tolerance, so that the healthy challenger passes.
      analysis: [
        { metric: 'inference_error_rate', tolerance: 0.5, minSample: 5, critical: true },
        { metric: 'prediction_drift', tolerance: 0, minSample: 5, critical: true },
      ],
    };
    const res = await worker.api('/v1/models/stepped/rollouts', { method: 'POST', json: { challenger: 2, plan } });
    expect(res.status).toBe(201);
    rollout = ((await res.json()) as { id: string }).id;
  });

  it.each(points.map((p, step) => [p, step] as const))(
    '%s: the next tick judges the step on all its devices, ledgered once',
    async (point, step) => {
      expect(await get()).toMatchObject({ state: 'running', step });
      const seq = await sequence();
      const cohort = cohortOf(point);
      await worker.restart({ FAULT_POINTS: point });
      await reportStep(percents[step]!, seq);
      // The tick crashes at the point (and again on each retry) until workerd restarts disarmed.
      const pendingDigests = new Map<number, string>();
      if (point === 'step-health:after-release') {
        // The increment is released and stored in each arm's aggregate, which goes on collecting.
        for (const version of [1, 2]) {
          const a = await pollUntil(
            () => aggregate('stepped', version, seq, cohort),
            (x) => x.pending === 1,
            { what: `v${version}'s step increment released` },
          );
          expect(a).toMatchObject({ closed: false, devices: STEP_DEVICES, unreleased: 0 });
          pendingDigests.set(version, a.pendingDigest!);
        }
        expect(await increments(seq)).toEqual([]);
      } else if (point.endsWith('after-release')) {
        for (const version of [1, 2])
          await pollUntil(
            () => aggregate('stepped', version, seq, cohort),
            (a) => a.closed,
            { what: `v${version}'s step aggregate released` },
          );
        expect(await stepRows(seq, cohort)).toEqual([]);
      } else {
        await pollUntil(
          () => recorded(seq, cohort),
          (rows) => rows.length === 2,
          { what: 'the step recorded in D1' },
        );
      }
      expect((await get()).step).toBe(step); // crashed before deciding
      await worker.restart();
      const after = await pollUntil(get, (r) => r.step === step + 1 || r.state !== 'running', {
        what: `step ${step} promoted after the crash`,
        timeoutMs: 30_000,
      });
      expect(after).toMatchObject({ state: 'running', step: step + 1 });
      for (const c of [`step-${rollout}`, `step-${rollout}-sketches`]) {
        expect(await recorded(seq, c)).toEqual([
          { version: 1, devices: STEP_DEVICES },
          { version: 2, devices: STEP_DEVICES },
        ]);
      }
      // The recorded increment is the one released before the crash: its stored noised sums, not fresh noise.
      for (const { version, aggregate: sums } of pendingDigests.size ? await increments(seq) : [])
        expect(await sha256Hex(utf8(sums))).toBe(pendingDigests.get(version));
      for (const version of [1, 2])
        expect((await aggregate('stepped', version, seq, `step-${rollout}`)).pending).toBeUndefined(); // acknowledged
      expect(await stepLedger()).toHaveLength(2 * (step + 1)); // per step: its health and its sketches, once each
    },
  );
});

describe('a publish commit crashed at each step', () => {
  const manifests = async () =>
    new Set((await worker.r2.list({ prefix: 'manifests/' })).objects.map((o) => o.key.slice('manifests/'.length)));
  const served = async (digest: string) => (await worker.api(`/v1/edge/manifests/${digest}`, { token: null })).status;
  const points = ['commit:after-claim', 'commit:after-manifest', 'commit:after-batch'] as const;

  it.each(points.map((p, i) => [p, i] as const))(
    '%s: one version, one manifest in R2, nothing unreferenced served',
    async (point, i) => {
      const model = `pub-${i}`;
      await createModel(worker, model);
      const staged = await stageUpload(worker, model, await buildLayersModel({ seed: 10 + i, inputs: 2 }));
      for (const c of staged.chunks)
        expect((await putChunk(worker, staged.body.uploadId, c.digest, c.bytes)).status).toBe(200);
      const commit = () => worker.api(`/v1/uploads/${staged.body.uploadId}/commit`, { method: 'POST' });
      const before = await manifests();

      const crashed = await crashAt(point, commit);
      expect(crashed instanceof Error ? 500 : crashed.status).toBe(500);
      const stray = [...(await manifests())].filter((d) => !before.has(d));
      expect(stray).toHaveLength(point === 'commit:after-claim' ? 0 : 1);
      // A manifest no version names yet is not served, whatever a client guesses.
      if (point === 'commit:after-manifest') expect(await served(stray[0]!)).toBe(404);

      // The publisher commits again; a claim left by the crash holds until its lease (1 s here) runs out.
      const retry = await pollUntil(commit, (res) => res.status !== 409 || point === 'commit:after-batch', {
        what: 'the crashed claim to lapse',
        timeoutMs: 15_000,
      });
      const body = (await retry.json()) as { version?: number; manifestDigest?: string; error?: { code: string } };
      if (point === 'commit:after-batch') expect(body.error?.code).toBe('upload_committed');
      else expect(body).toMatchObject({ version: 1 });

      const versions = await q<{ version: number; manifest_digest: string }>(
        'SELECT version, manifest_digest FROM versions WHERE model_id = ?',
        await modelId(model),
      );
      expect(versions).toHaveLength(1);
      const added = [...(await manifests())].filter((d) => !before.has(d));
      expect(added).toEqual([versions[0]!.manifest_digest]);
      expect(await served(versions[0]!.manifest_digest)).toBe(200);
    },
  );
});
