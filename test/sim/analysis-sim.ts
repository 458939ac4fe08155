/**
 * @module sim/analysis-sim
 * Rollout decisions under simulation: step health records of simulated devices aggregated and
 * released by the production code (healthFleet), A/A runs that must never roll back, and the real
 * Worker rolling back a regression or a drifted output within a step, at the default ε.
 */
import { fromBase64, rolloutCohort } from '@modelfleet/protocol';
import { type TicketBody, bucket } from './rollout-sim.ts';
import { boxMuller, seededUniform, seededWords } from '@modelfleet/protocol/testing';
import { buildLayersModel } from '../fixtures/models.ts';
import { createApp, monitoredBaseline, outputSketch } from '../fixtures/drift.ts';
import { createModel, publish } from '../harness/publish.ts';
import { PROOF_HEADER, proofMinter } from '../harness/proofs.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

/**
 * Simulated devices' step health records, aggregated and released with the production code:
 * `honest(n, extra)` adds n devices whose inference-error rates are heterogeneous around `rate`
 * (each ~ rate·lognormal, plus `extra`), `record(errors, calls)` encodes one device's record, and
 * `release` adds the discrete Gaussian noise of a step release at ε and summarises the arm.
 */
export async function healthFleet(opts: { rate?: number; epsilon?: number; seed?: number } = {}) {
  const { addReleaseNoise, addUpload, emptyAggregate, healthLayout, healthUpload } = await import(
    '@modelfleet/protocol'
  );
  const { summarizeHealth } = await import('../../control-plane/src/drift/health-summary.ts');
  const { HEALTH_SHARE, HEALTH_SPLIT, releaseNoiseForRho, rhoFor } = await import(
    '../../control-plane/src/drift/privacy.ts'
  );
  type Aggregate = ReturnType<typeof emptyAggregate>;
  const layout = await healthLayout();
  const noise = releaseNoiseForRho(layout, rhoFor(opts.epsilon ?? 2, 1e-6) * HEALTH_SHARE, HEALTH_SPLIT);
  const uniform = seededUniform(opts.seed ?? 7);
  const normal = boxMuller(uniform);
  const words = seededWords((opts.seed ?? 7) ^ 0x5eed); // the release noise's own stream
  const rate = opts.rate ?? 0.002;
  const record = async (errors: number, calls: number) =>
    (await healthUpload(
      {
        load: { ok: 1 },
        predict: { ok: calls - errors, inference_error: errors },
        latencies: Array.from({ length: 20 }, () => 2 + uniform() * 6),
        backend: { wasm: calls },
      },
      1,
    ))!;
  return {
    record,
    async honest(devices: number, extra = 0, into: Aggregate = emptyAggregate(layout, 1)): Promise<Aggregate> {
      for (let d = 0; d < devices; d++) {
        const deviceRate = Math.min(1, Math.max(0, rate * Math.exp(0.5 * normal() - 0.125) + extra)); // heterogeneous devices
        const calls = 50 + Math.floor(uniform() * 150);
        let errors = 0;
        for (let c = 0; c < calls; c++) if (uniform() < deviceRate) errors++;
        addUpload(into, await record(errors, calls));
      }
      return into;
    },
    add: addUpload,
    clone: (agg: Aggregate): Aggregate => structuredClone(agg),
    /** Adds the release noise (from `noiseSeed`'s own stream when given: paired runs get equal noise). */
    release(agg: Aggregate, noiseSeed?: number) {
      addReleaseNoise(agg, noise, noiseSeed === undefined ? words : seededWords(noiseSeed));
      return {
        devices: agg.devices,
        summary: summarizeHealth(agg),
        noise: noise.categoricalBins,
        closedAt: new Date().toISOString(),
      };
    },
  };
}

/**
 * A/A runs of the step analysis: challenger and champion devices drawn from the same error-rate
 * distribution (device heterogeneity: each device's rate ~ Beta around `rate`), aggregated, noised
 * and summarised with the production code, judged with the default safety metrics. A run that
 * rolls back is a false rollback.
 */
export async function aaRuns(
  runs: number,
  devicesPerArm: number,
  opts: { rate?: number; epsilon?: number; regressionPp?: number; seed?: number } = {},
): Promise<{ runs: number; rollbacks: number; promotes: number; holds: number }> {
  const { DEFAULT_ANALYSIS } = await import('@modelfleet/protocol');
  const { judge } = await import('../../control-plane/src/rollouts/judge.ts');
  const fleet = await healthFleet(opts);
  const arm = async (extra: number) => fleet.release(await fleet.honest(devicesPerArm, extra));
  const counts = { runs, rollbacks: 0, promotes: 0, holds: 0 };
  for (let r = 0; r < runs; r++) {
    const [challenger, control] = [await arm((opts.regressionPp ?? 0) / 100), await arm(0)];
    const metrics = DEFAULT_ANALYSIS.map((c) =>
      judge({ ...c, minSample: Math.min(c.minSample, devicesPerArm) }, challenger, control),
    );
    if (metrics.some((m) => m.status === 'fail' && m.critical)) counts.rollbacks++;
    else if (metrics.every((m) => m.status === 'pass')) counts.promotes++;
    else counts.holds++;
  }
  return counts;
}

/** The real-Worker sims' plane: the default ε, 1-s ticks, releases at `devicesPerArm`. */
const simWorker = (devicesPerArm: number) =>
  startWorker({
    http: true,
    vars: {
      EDGE_CACHE_TTL_MS: '1000',
      ROLLOUT_TICK_SECONDS: '1',
      DRIFT_MIN_DEVICES: String(devicesPerArm),
      DRIFT_EPSILON_PER_DAY: '2',
    },
  });

/** Model `name` with champion v1 and challenger v2, a rollout of v2 at 50 % judged on `metric` alone, and an app key. */
async function halfRollout(
  worker: TestWorker,
  name: string,
  metric: Record<string, unknown>,
  champion: Parameters<typeof publish>[2],
  challenger: Parameters<typeof publish>[2],
  extra?: Parameters<typeof publish>[3],
): Promise<{ appKey: string; id: string }> {
  await createModel(worker, name);
  for (const m of [champion, challenger]) await publish(worker, name, m, extra);
  await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: 1 } });
  const appKey = await createApp(worker);
  const steps = [
    { percent: 50, bakeSeconds: 1 },
    { percent: 100, bakeSeconds: 3600 },
  ];
  const plan = { steps, salt: `${name}-salt`, analysis: [metric] };
  const res = await worker.api(`/v1/models/${name}/rollouts`, { method: 'POST', json: { challenger: 2, plan } });
  return { appKey, id: ((await res.json()) as { id: string }).id };
}

/**
 * An injected regression against the real Worker: the challenger's devices report 2 pp more
 * inference errors — in the day's health records (then the window closes by a Cron Trigger at an
 * injected time) or in per-step records; the rollout's alarm analyses and rolls back. Measured:
 * from the data being complete to a challenger device being served a signed champion ticket.
 */
export async function regressionToRollback(
  devicesPerArm: number,
  via: 'window' | 'step' = 'window',
): Promise<{ ms: number; decision: string }> {
  const { healthLayout, healthUpload, encodeUpload, windowOf } = await import('@modelfleet/protocol');
  const worker = await simWorker(devicesPerArm);
  try {
    const metric = { metric: 'inference_error_rate', tolerance: 0.005, minSample: devicesPerArm, critical: true };
    const { appKey, id } = await halfRollout(
      worker,
      'reg',
      metric,
      await buildLayersModel({ seed: 1 }),
      await buildLayersModel({ seed: 2 }),
    );
    const layout = await healthLayout();
    const sequence = ((await (await worker.api('/v1/models/reg')).json()) as { sequence: number }).sequence;
    const window = via === 'step' ? sequence : windowOf(new Date());
    const path = (version: number, device: string) =>
      via === 'step'
        ? `/v1/edge/step-health/reg/${version}?device=${device}&rollout=${id}`
        : `/v1/edge/health/reg/${version}?device=${device}${version === 1 ? `&rollout=${id}` : ''}`;
    let canary = '';
    const refused = new Map<string, number>();
    // Devices as the edge assigns them: the challenger's from the challenger range, the champion's
    // from the equal control range.
    const rangeIds = (cohort: 'challenger' | 'control') => {
      const out: string[] = [];
      for (let i = 0; out.length < devicesPerArm; i++)
        if (rolloutCohort(bucket('reg-salt', `reg-${i}`), 50) === cohort) out.push(`reg-${i}`);
      return out;
    };
    // Each device carries the proof its ticket gave it (protocol SPEC §11), minted as the edge does.
    const proofOf = await proofMinter(worker.db, worker.ticketSecret, appKey);
    for (const [version, errors] of [
      [1, 2],
      [2, 6],
    ] as const) {
      // 1 % vs 3 % of 200 calls: +2 pp
      const ids = rangeIds(version === 2 ? 'challenger' : 'control');
      const assigned = { stage: version === 2 ? 'challenger' : 'control', sequence, rollout: id } as const;
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < devicesPerArm) {
            const d = ids[next++]!;
            const record = await healthUpload(
              {
                load: { ok: 1 },
                predict: { ok: 200 - errors, inference_error: errors },
                latencies: [3, 4, 5, 6, 7, 3, 4, 5, 6, 7],
                backend: { wasm: 200 },
              },
              window,
            );
            const headers = {
              'content-type': 'application/octet-stream',
              'x-modelfleet-app-key': appKey,
              [PROOF_HEADER]: await proofOf('reg', version, d, assigned),
            };
            const res = await fetch(`${worker.url}${path(version, d)}`, {
              method: 'POST',
              body: encodeUpload(layout, record!) as unknown as BodyInit,
              headers,
            });
            const text = await res.text();
            if (res.status !== 202) refused.set(text.slice(0, 120), (refused.get(text.slice(0, 120)) ?? 0) + 1);
          }
        }),
      );
    }
    if (refused.size > 0) throw new Error(`uploads refused: ${JSON.stringify([...refused])}`);
    for (let i = 0; !canary; i++)
      if (rolloutCohort(bucket('reg-salt', `c-${i}`), 50) === 'challenger') canary = `c-${i}`;
    const version = async () => {
      const res = await fetch(`${worker.url}/v1/edge/tickets/reg?device=${canary}`, {
        headers: { 'x-modelfleet-app-key': appKey },
      });
      return (
        JSON.parse(
          new TextDecoder().decode(fromBase64(((await res.json()) as { payload: string }).payload)),
        ) as TicketBody
      ).version;
    };
    if ((await version()) !== 2) throw new Error('the canary is not on the challenger');
    const started = Date.now();
    if (via === 'window') await worker.trigger('15 0 * * *', new Date((window + 1) * 86_400_000 + 15 * 60_000));
    while ((await version()) !== 1 && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 100));
    const r = (await (await worker.api(`/v1/rollouts/${id}`)).json()) as {
      state: string;
      decision: { summary: string } | null;
    };
    return { ms: Date.now() - started, decision: `${r.state}: ${r.decision?.summary ?? 'no decision'}` };
  } finally {
    await worker.dispose();
  }
}

/**
 * Prediction drift judged within a step from the ranges' step sketches (no window close): the
 * challenger's devices predict like their validation baseline (`drifted: false`, an A/A run) or
 * say one class with low confidence (`drifted: true`). Measured: the decision, and the time from
 * the last sketch to it.
 */
export async function stepOutputDecision(
  devicesPerArm: number,
  drifted: boolean,
): Promise<{ ms: number; state: string; summary: string }> {
  const worker = await simWorker(devicesPerArm);
  try {
    const metric = { metric: 'prediction_drift', tolerance: 0, minSample: devicesPerArm, critical: true };
    const model = (seed: number) => buildLayersModel({ seed, inputs: 3 });
    const { appKey, id } = await halfRollout(worker, 'po', metric, await model(1), await model(2), {
      baseline: monitoredBaseline,
    });
    const sequence = ((await (await worker.api('/v1/models/po')).json()) as { sequence: number }).sequence;
    const refused = new Map<string, number>();
    const proofOf = await proofMinter(worker.db, worker.ticketSecret, appKey);
    for (const version of [1, 2] as const) {
      const assigned = { stage: version === 2 ? 'challenger' : 'control', sequence, rollout: id } as const;
      const ids: string[] = [];
      for (let i = 0; ids.length < devicesPerArm; i++)
        if (rolloutCohort(bucket('po-salt', `po-${i}`), 50) === (version === 2 ? 'challenger' : 'control'))
          ids.push(`po-${i}`);
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < ids.length) {
            const k = next++;
            const body = await outputSketch(k, ids[k]!, version === 2 && drifted ? 2 : 1, sequence);
            const headers = {
              'content-type': 'application/octet-stream',
              'x-modelfleet-app-key': appKey,
              [PROOF_HEADER]: await proofOf('po', version, ids[k]!, assigned),
            };
            const res = await fetch(
              `${worker.url}/v1/edge/step-sketches/po/${version}?device=${ids[k]}&rollout=${id}`,
              { method: 'POST', body: body as unknown as BodyInit, headers },
            );
            const text = await res.text();
            if (res.status !== 202) refused.set(text.slice(0, 120), (refused.get(text.slice(0, 120)) ?? 0) + 1);
          }
        }),
      );
    }
    if (refused.size > 0) throw new Error(`uploads refused: ${JSON.stringify([...refused])}`);
    const started = Date.now();
    for (;;) {
      const r = (await (await worker.api(`/v1/rollouts/${id}`)).json()) as {
        state: string;
        step: number;
        decision: { summary: string; metrics: { status: string }[] } | null;
      };
      const decided =
        r.state !== 'running' || r.step > 0 || (r.decision?.metrics[0] && r.decision.metrics[0].status !== 'no_data');
      if (decided || Date.now() - started > 60_000)
        return {
          ms: Date.now() - started,
          state: r.step > 0 ? 'promoted a step' : r.state,
          summary: r.decision?.summary ?? 'no decision',
        };
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    await worker.dispose();
  }
}
