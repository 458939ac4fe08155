// Sybil-resistant telemetry (issue 15, "forged device telemetry decides rollouts"), the rollout
// half, against the real Worker in workerd with production settings (./sybil-setup.ts): network cap
// 4, decisions on ≥ 20 networks. Before this change, with only the public app key, invented device
// ids sent step-health into either range and rolled a healthy rollout back. Client networks are
// simulated with CF-Connecting-IP, which Cloudflare sets (and overwrites) in production and workerd
// passes through locally. Proofs, attestation and forged drift sketches: sybil-uploads.test.ts.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pollUntil } from '../harness/poll.ts';
import type { TestWorker } from '../harness/worker.ts';
import {
  CAP,
  FORGED,
  PLAN,
  attackerIp,
  clean,
  erring,
  honestIp,
  pool,
  startRollout,
  startSybil,
  stepHealth,
  stopSybil,
  ticket,
  twoVersions,
} from './sybil-setup.ts';

vi.setConfig({ testTimeout: 400_000, hookTimeout: 120_000 });

let worker: TestWorker;

const decided = (id: string) =>
  pollUntil(
    async () => (await (await worker.api(`/v1/rollouts/${id}`)).json()) as any,
    (r) => (r.decision?.outcome && r.decision.outcome !== 'hold') || r.state !== 'running',
    { timeoutMs: 90_000, what: `rollout ${id} decision` },
  );

/** `perArm` honest devices in each range, each from its own network, all clean. */
async function honestFleet(name: string, perArm: number) {
  const counts = { challenger: 0, control: 0 };
  for (let i = 0; counts.challenger < perArm || counts.control < perArm; i++) {
    const device = `${name}-h${i}`;
    const t = await ticket(name, device, honestIp(i));
    const arm = t.stage as 'challenger' | 'control';
    if (counts[arm] >= perArm) continue;
    expect((await stepHealth(name, device, honestIp(i), t, clean)).status).toBe(202);
    counts[arm]++;
  }
}

/** The report's attack: invented ids from one network; challenger ones err 10 %, control ones are clean. */
async function forge(name: string) {
  const refused: Record<number, number> = {};
  await pool(FORGED, async (i) => {
    const device = `${name}-forged-${i}`;
    const t = await ticket(name, device, attackerIp(i));
    const res = await stepHealth(name, device, attackerIp(i), t, t.stage === 'challenger' ? erring : clean);
    refused[res.status] = (refused[res.status] ?? 0) + 1;
  });
  return refused;
}

beforeAll(async () => ({ worker } = await startSybil()));
afterAll(stopSybil);

describe('forged step telemetry', () => {
  it(`${FORGED} invented ids from one network do not change the rollout's decision (the honest run's promote)`, async () => {
    await twoVersions('honest');
    await twoVersions('attacked');
    // 154 devices an arm before the step's first release: the attacked arms (150 honest + the 4
    // counted forged ones) cannot be released — and decided, moving the step on — while honest
    // devices are still reporting. 150 honest devices an arm, not fewer: the always-valid interval
    // at 60 is wide enough that 4 erring devices (6 % of the arm) turn a pass into a hold.
    const plan = { ...PLAN, analysis: [{ ...PLAN.analysis[0]!, minSample: 154 }] };
    const [honestId, attackedId] = [await startRollout('honest', plan), await startRollout('attacked', plan)];
    // The attack lands first, so the step's release cannot happen before it.
    const refused = await forge('attacked');
    // Per arm, the network's first CAP devices were counted; every other upload was refused as network_limited.
    expect(refused[202]).toBe(2 * CAP);
    expect(refused[403]).toBe(FORGED - 2 * CAP);
    await honestFleet('honest', 154);
    await honestFleet('attacked', 150);
    const [h, a] = [await decided(honestId), await decided(attackedId)];
    expect(h.decision.outcome).toBe('promote');
    expect(a.decision.outcome).toBe(h.decision.outcome);
    expect(a.state).toBe('running');
    // The decision states the networks behind each arm: the honest 150 and the attacker's one.
    const floor = a.decision.metrics.find((m: any) => m.metric === 'distinct_networks');
    expect(floor).toMatchObject({ status: 'pass', threshold: 20, sample: { challenger: 151, control: 151 } });
  });

  it('a decision resting on fewer networks than the floor is withheld, a rollback included', async () => {
    await twoVersions('few');
    const id = await startRollout('few');
    // 60 attested devices per arm (attested devices are not capped) behind only 10 networks.
    const counts = { challenger: 0, control: 0 };
    for (let i = 0; counts.challenger < 60 || counts.control < 60; i++) {
      const [device, ip] = [`few-${i}`, `10.${i % 10}.0.1`];
      const t = await ticket('few', device, ip, { 'x-modelfleet-attestation': 'turnstile:ok' });
      const arm = t.stage as 'challenger' | 'control';
      if (counts[arm] >= 60) continue;
      expect(
        (
          await stepHealth(
            'few',
            device,
            ip,
            t,
            arm === 'challenger' ? { ...clean, predict: { inference_error: 20 } } : clean,
          )
        ).status,
      ).toBe(202);
      counts[arm]++;
    }
    const r = await pollUntil(
      async () => (await (await worker.api(`/v1/rollouts/${id}`)).json()) as any,
      (x) => x.decision?.metrics?.some((m: any) => m.metric === 'distinct_networks'),
      { timeoutMs: 90_000, what: 'a decision' },
    );
    // Every challenger call failed: the metric fails, yet 10 networks cannot roll back on their own.
    expect(r.decision.metrics.find((m: any) => m.metric === 'inference_error_rate').status).toBe('fail');
    expect(r.decision.outcome).toBe('hold');
    expect(r.state).toBe('running');
    expect(r.decision.summary).toMatch(/10 client networks.*< 20.*would fail: inference_error_rate/);
  });
});
