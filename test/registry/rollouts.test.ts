// Staged rollouts in workerd with the real coordinator Durable Object and its alarms: creation
// rules, tickets that follow the rollout per device bucket, no flip-flops on growth, the alarm's
// analysis (NoData holds), races, pause/resume, kill switch, supersede by a hand-set champion,
// final promotion, and audit replay reproducing every rollout's state.
import { bucketOf, fromBase64, rolloutCohort } from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../../control-plane/src/rollouts/machine.ts';
import { createApp, createToken } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { pollUntil } from '../harness/poll.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let appKey: string;
const devices = Array.from({ length: 400 }, (_, i) => `dev-${i}`);
const plan = {
  steps: [
    { percent: 10, bakeSeconds: 1 },
    { percent: 50, bakeSeconds: 3600 },
    { percent: 100, bakeSeconds: 0 },
  ],
};

async function ticket(device: string) {
  const res = await worker.api(`/v1/edge/tickets/fraud?device=${device}`, {
    token: null,
    headers: { 'x-modelfleet-app-key': appKey },
  });
  const env = (await res.json()) as { payload: string };
  return JSON.parse(new TextDecoder().decode(fromBase64(env.payload))) as {
    version: number;
    stage: string;
    sequence: number;
    rolloutId: string | null;
  };
}
const create = (body: Record<string, unknown>, token?: string) =>
  worker.api('/v1/models/fraud/rollouts', { method: 'POST', json: body, ...(token ? { token } : {}) });
const act = (id: string, action: string, body: Record<string, unknown> = {}, token?: string) =>
  worker.api(`/v1/rollouts/${id}/${action}`, { method: 'POST', json: body, ...(token ? { token } : {}) });
const get = async (id: string) => (await (await worker.api(`/v1/rollouts/${id}`)).json()) as any;
const rows = async () =>
  (await worker.db.prepare('SELECT id, state, step, percent FROM rollouts ORDER BY created_at').all()).results;

beforeAll(async () => {
  worker = await startWorker({ vars: { ROLLOUT_TICK_SECONDS: '1' } });
  await createModel(worker, 'fraud');
  for (const seed of [1, 2, 3])
    expect((await publish(worker, 'fraud', await buildLayersModel({ seed }))).res.status).toBe(201);
  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
  appKey = await createApp(worker);
});
afterAll(() => worker?.dispose());

describe('creating a rollout', () => {
  it('refuses bad plans, unknown models, low roles and expired tokens, writing nothing', async () => {
    const viewer = await createToken(worker, 'viewer');
    const expired = (await (
      await worker.api('/v1/tokens', { method: 'POST', json: { role: 'admin', expiresInSeconds: 60 } })
    ).json()) as { id: string; token: string };
    await worker.db
      .prepare('UPDATE tokens SET expires_at = ? WHERE id = ?')
      .bind('2020-01-01T00:00:00.000Z', expired.id)
      .run();
    const cases: [Promise<Response>, number, string][] = [
      [
        create({
          challenger: 2,
          plan: {
            steps: [
              { percent: 50, bakeSeconds: 1 },
              { percent: 5, bakeSeconds: 1 },
              { percent: 100, bakeSeconds: 1 },
            ],
          },
        }),
        400,
        'bad_request',
      ],
      [create({ challenger: 2, plan: { steps: [{ percent: 5, bakeSeconds: 1 }] } }), 400, 'bad_request'],
      [create({ challenger: 1 }), 409, 'conflict'], // already the champion
      [create({ challenger: 9 }), 404, 'unknown_version'],
      [worker.api('/v1/models/ghost/rollouts', { method: 'POST', json: { challenger: 2 } }), 404, 'unknown_model'],
      [create({ challenger: 2 }, viewer), 403, 'forbidden'],
      [create({ challenger: 2 }, expired.token), 401, 'token_expired'],
    ];
    for (const [request, status, code] of cases) {
      const res = await request;
      expect([res.status, ((await res.json()) as any).error.code]).toEqual([status, code]);
    }
    expect(await rows()).toEqual([]);
  });
});

describe('a rollout from v1 to v2', () => {
  let id: string;
  const challengers = new Set<string>();

  it('starts at its first step; tickets follow each device bucket with a control range kept on the champion', async () => {
    const before = (await ticket('dev-0')).sequence;
    const res = await create({ challenger: 2, plan, reason: 'retrained on October data' });
    expect(res.status).toBe(201);
    const r = (await res.json()) as any;
    id = r.id;
    expect(r).toMatchObject({ state: 'running', step: 0, percent: 10, champion: 1, challenger: 2 });
    expect((await create({ challenger: 3 })).status).toBe(409); // one live rollout per model
    // The salt is the server's secret (SPEC 11.2): the test reads it where the edge does.
    const { salt } = (await worker.db
      .prepare('SELECT salt FROM rollouts WHERE id = ?')
      .bind(id)
      .first<{ salt: string }>())!;
    const stages: Record<string, number> = {};
    for (const d of devices) {
      const t = await ticket(d);
      const cohort = rolloutCohort(await bucketOf(salt, d), 10);
      expect(t.sequence).toBeGreaterThan(before);
      expect(t.rolloutId).toBe(id);
      expect([t.version, t.stage]).toEqual(
        cohort === 'challenger' ? [2, 'challenger'] : [1, cohort === 'control' ? 'control' : 'champion'],
      );
      if (t.version === 2) challengers.add(d);
      stages[t.stage] = (stages[t.stage] ?? 0) + 1;
    }
    expect(stages.challenger! / devices.length).toBeGreaterThan(0.05);
    expect(stages.challenger! / devices.length).toBeLessThan(0.16);
    expect(stages.control).toBeGreaterThan(0);
  });

  it('its alarm analyses a baked step and holds on NoData, never promoting', async () => {
    const r = await pollUntil(
      () => get(id),
      (x: any) => !!x.decision,
      { what: `a decision on ${id}` },
    );
    expect(r.decision).toMatchObject({ outcome: 'hold', step: 0 });
    expect(r.decision.metrics.every((m: any) => m.status === 'no_data' && m.observed === null)).toBe(true);
    expect(r).toMatchObject({ state: 'running', step: 0, percent: 10 });
  });

  it('two operators promoting at once: one advances, the other gets a conflict', async () => {
    const [a, b] = await Promise.all([act(id, 'promote', { step: 0 }), act(id, 'promote', { step: 0 })]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect((await get(id)).history.filter((h: any) => h.action === 'rollout.promote')).toHaveLength(1);
    expect((await act(id, 'promote', {})).status).toBe(400); // promote must say which step it saw
  });

  it('growing to 50 % moves no device back to the champion', async () => {
    expect(await get(id)).toMatchObject({ step: 1, percent: 50 });
    for (const d of challengers) expect((await ticket(d)).version).toBe(2);
  });

  it('pause, resume, and the kill switch returns the whole fleet to the champion with a higher sequence', async () => {
    expect((await act(id, 'pause')).status).toBe(200);
    expect((await act(id, 'pause')).status).toBe(409);
    expect((await act(id, 'resume')).status).toBe(200);
    const seq = (await ticket('dev-1')).sequence;
    const kill = await act(id, 'kill');
    expect(await kill.json()).toMatchObject({ state: 'rolled-back', percent: 0 });
    for (const d of devices.slice(0, 100)) {
      const t = await ticket(d);
      expect([t.version, t.stage, t.rolloutId]).toEqual([1, 'champion', null]);
      expect(t.sequence).toBeGreaterThan(seq);
    }
    const again = await act(id, 'promote', { step: 1 });
    expect([again.status, ((await again.json()) as any).error.code]).toEqual([409, 'conflict']);
    expect((await get(id)).history.at(-1)).toMatchObject({ action: 'rollout.kill', reason: 'kill switch' });
  });
});

describe('ending rollouts', () => {
  it('setting the champion by hand supersedes a live rollout in the same change', async () => {
    const r = (await (await create({ challenger: 3, plan })).json()) as any;
    expect(
      (await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 2, reason: 'hotfix' } }))
        .status,
    ).toBe(200);
    expect(await get(r.id)).toMatchObject({ state: 'aborted', percent: 0 });
    expect((await ticket('dev-5')).version).toBe(2);
    expect((await act(r.id, 'resume')).status).toBe(409);
  });

  it('promoting through every step makes the challenger the champion; abort ends a draft', async () => {
    const r = (await (await create({ challenger: 3, plan })).json()) as any;
    for (const step of [0, 1, 2]) expect((await act(r.id, 'promote', { step })).status).toBe(200);
    expect(await get(r.id)).toMatchObject({ state: 'promoted', percent: 100 });
    const model = (await (await worker.api('/v1/models/fraud')).json()) as any;
    expect(model.aliases.champion).toBe(3);
    expect((await ticket('dev-7')).version).toBe(3);
    const draft = (await (await create({ challenger: 1, plan, start: false })).json()) as any;
    expect(draft.state).toBe('draft');
    expect(await (await act(draft.id, 'abort', { reason: 'changed our mind' })).json()).toMatchObject({
      state: 'aborted',
    });
  });

  it('replaying each rollout’s audit log reproduces its state', async () => {
    const all = (await (await worker.api('/v1/models/fraud/rollouts')).json()) as any;
    expect(all.rollouts.length).toBe(4);
    for (const r of all.rollouts) {
      const { history, decision: _d, ...view } = await get(r.id);
      expect(replay(history)).toEqual(view);
    }
  });
});
