/**
 * @module demo/scenario
 * The story modelfleet exists for, end to end, on a live control plane: a fraud model runs on a
 * fleet; the fraud pattern changes; the windows' sketches raise a drift alarm and a retrain
 * request (signed CloudEvents); the retrain service trains, evaluates and publishes a challenger
 * with lineage; the control plane gates it and rolls it out in steps judged on the devices' own
 * step records; it is promoted and every device moves to it. Time is compressed by configuration only (window
 * length, bakes, minimum samples, ε) — the Worker runs its production code paths.
 *
 * `runScenario` prints a narrated timeline through `log` and returns the summary figures.
 */
import { api, type Plane } from './plane.ts';
import { type BrowserDevices, startBrowserDevices } from './browser-devices.ts';
import { type Fleet, startFleet } from './fleet.ts';
import type { Regime } from './transactions.ts';

export interface RetrainHandle { stop(): Promise<void>; start(): Promise<void> }

export interface ScenarioOptions {
  plane: Plane;
  model: string;
  /** The Worker's WINDOW_SECONDS, and the grace after a window's end before the cron closes it. */
  windowSeconds: number; graceSeconds: number;
  devices: number; browsers: number; pollMs: number; perTick: number; seed: number;
  /** Seconds after the fleet starts when the new fraud pattern begins. */
  shiftAfterSeconds: number;
  /** The rollout the retrain service's challenger gets. */
  steps: number[]; bakeSeconds: number; minSample: number;
  /** Starts the retrain service for the webhook registered with `secret` at `url` (its receiving endpoint). */
  retrain(o: { url: string; port: number; secret: string }): Promise<RetrainHandle>;
  retrainPort: number;
  faults?: { retrainDownAtAlarm?: boolean; offlineDevice?: boolean };
  timeoutSeconds: number;
  log(line: string): void;
  /** Called at each stage of the story (not awaited: the loop never waits for an observer). */
  onStage?(stage: Stage): void;
}

/** The story's stages, as the console shows them (scripts/demo.ts screenshots each). */
export type Stage =
  | { kind: 'running' } | { kind: 'alarm' } | { kind: 'published'; version: number }
  | { kind: 'rollout'; id: string } | { kind: 'decided'; id: string; state: string } | { kind: 'end'; id: string | null };

export interface Summary {
  outcome: 'promoted' | 'rolled-back' | 'timed-out';
  challenger: number | null;
  seconds: { shiftToAlarm: number | null; alarmToPublished: number | null; rolloutToDecision: number | null; total: number };
  accuracy: { beforeShift: number | null; afterShiftOldModel: number | null; afterPromotion: number | null };
  /** Bytes each device fetched between the rollout's start and the end: tickets, manifest and chunks (median, max). */
  updateBytes: { median: number; max: number } | null;
  /** Devices per version at the end (Node and browser). */
  versions: Record<string, number>;
  timeline: { at: number; event: string }[];
  deliveries: { attempts: number; status: string }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const windowOf = (ms: number, seconds: number) => Math.floor(ms / 1000 / seconds);

export async function runScenario(o: ScenarioOptions): Promise<Summary> {
  const t0 = Date.now();
  const timeline: Summary['timeline'] = [];
  const say = (event: string) => {
    const at = (Date.now() - t0) / 1000;
    timeline.push({ at, event });
    o.log(`[${at.toFixed(1).padStart(6)} s] ${event}`);
  };
  const { plane, model } = o;

  // 1. The model, its policy, the fleet's app key, the retrain service and its webhook.
  const { appKey } = await api<{ appKey: string }>(plane, 'POST', '/v1/apps', { name: `demo-${model}`, models: [model] });
  await plane.publish('examples/fraud-model', ['--model', model, '--create', '--alias', 'champion', '--metrics', 'examples/fraud-model/metrics.json',
    '--baseline', 'examples/fraud-model/baseline.json', '--lineage', 'examples/fraud-model/lineage.json', '--params', 'examples/fraud-model/params.json', '--golden', 'examples/fraud-model/golden.json']);
  say(`published examples/fraud-model as ${model} v1 (champion), with its monitoring baseline`);
  await api(plane, 'PUT', `/v1/models/${model}/rollout-policy`, {
    minSteps: o.steps.length, maxFirstStepPercent: o.steps[0], minBakeSeconds: o.bakeSeconds, gate: { metric: 'accuracy', margin: 0, source: 'server' }, // the control plane's own score on the fresh set
  });
  const hookUrl = `http://127.0.0.1:${o.retrainPort}/events`;
  const hook = await api<{ secret: string }>(plane, 'POST', '/v1/webhooks', { url: hookUrl, events: ['dev.modelfleet.drift.retrain_requested'] });
  let retrain: RetrainHandle | null = await o.retrain({ url: hookUrl, port: o.retrainPort, secret: hook.secret });
  say(`retrain service listening on ${hookUrl} (signed CloudEvents: dev.modelfleet.drift.retrain_requested)`);

  // 2. The fleet.
  const fleet: Fleet = await startFleet({ endpoint: plane.url, appKey, root: plane.root, model, devices: o.devices, pollMs: o.pollMs, perTick: o.perTick, seed: o.seed });
  const browsers: BrowserDevices | null = o.browsers > 0
    ? await startBrowserDevices({ endpoint: plane.url, appKey, root: plane.root, model, count: o.browsers, pollMs: o.pollMs, perTick: o.perTick, seed: o.seed })
    : null;
  say(`${o.devices} SDK devices in Node${browsers ? ` and ${o.browsers} in Chromium` : ''} run v1 on the transaction stream`);

  // 3. Run: ticks of scoring and feedback; the cron after each window; watch the registry.
  const started = Date.now();
  let triggered = windowOf(started, o.windowSeconds) - 1;
  const seen = { alarm: null as number | null, shift: null as number | null, published: null as number | null, rollout: null as number | null, decision: null as number | null };
  let challenger: number | null = null;
  let rolloutId: string | null = null;
  let outcome: Summary['outcome'] = 'timed-out';
  const acc: Record<'before' | 'oldAfter' | 'promoted', [number, number]> = { before: [0, 0], oldAfter: [0, 0], promoted: [0, 0] };
  let offline: string | null = null;
  let bytesAtRollout: number[] | null = null;
  let round = 0;
  let endAt: number | null = null;
  while (Date.now() - t0 < o.timeoutSeconds * 1000) {
    const now = Date.now();
    const regime: Regime = now - started >= o.shiftAfterSeconds * 1000 ? 'after' : 'before';
    if (regime === 'after' && seen.shift === null) {
      seen.shift = now;
      o.onStage?.({ kind: 'running' }); // the fleet chart has two windows of v1 by now
      say('the fraud pattern changes: larger amounts, riskier merchants, more foreign transactions');
    }
    const r = await fleet.tick(regime);
    const b = browsers ? await browsers.tick(regime, round) : { scored: 0, correct: 0 };
    round++;
    const bucket = regime === 'before' ? acc.before : outcome === 'promoted' ? acc.promoted : challenger === null ? acc.oldAfter : null;
    if (bucket) {
      bucket[0] += r.correct + b.correct;
      bucket[1] += r.scored + b.scored;
    }
    // The Cron Trigger, once per window that has ended at least the grace period ago.
    const closable = windowOf(Date.now() - o.graceSeconds * 1000, o.windowSeconds) - 1;
    if (closable > triggered) {
      // Fault: the retrain service is down when the alarm fires (the delivery is retried).
      if (o.faults?.retrainDownAtAlarm && seen.shift !== null && seen.alarm === null && retrain) {
        await retrain.stop();
        retrain = null;
        say('fault: the retrain service goes down');
      }
      await plane.trigger();
      triggered = closable;
    }
    const windows = (await api<{ windows: { version: number; window: number; alarm: boolean; retrain: { reasons: string[] } | null; closedAt: string }[] }>(plane, 'GET', `/v1/models/${model}/drift?limit=10`)).windows;
    const alarmed = windows.find((w) => w.alarm && w.retrain?.reasons?.length);
    if (alarmed && seen.alarm === null) {
      seen.alarm = Date.now();
      o.onStage?.({ kind: 'alarm' });
      say(`window ${alarmed.window} closed with a drift alarm; retrain requested (${alarmed.retrain!.reasons.join(', ')}) — a signed CloudEvent to the retrain service`);
      if (!retrain) {
        await sleep(1000);
        retrain = await o.retrain({ url: hookUrl, port: o.retrainPort, secret: hook.secret });
        say('the retrain service is back: the control plane retries the delivery');
      }
    }
    const { versions } = await api<{ versions: { version: number; lineage?: { parentVersion?: number } }[] }>(plane, 'GET', `/v1/models/${model}/versions`);
    const child = versions.find((v) => v.version > 1);
    if (child && challenger === null) {
      challenger = child.version;
      seen.published = Date.now();
      o.onStage?.({ kind: 'published', version: challenger });
      say(`the retrain service published v${challenger} (lineage: parent v${(child as any).lineage?.parentVersion ?? '?'})`);
    }
    const { rollouts } = await api<{ rollouts: { id: string; state: string; step: number; percent: number }[] }>(plane, 'GET', `/v1/models/${model}/rollouts`);
    const live = rollouts[0];
    if (live && rolloutId === null) {
      rolloutId = live.id;
      seen.rollout = Date.now();
      bytesAtRollout = fleet.devices.map((d) => d.bytes);
      o.onStage?.({ kind: 'rollout', id: live.id });
      say(`rollout ${live.id} started at ${live.percent} % (steps ${o.steps.join(' → ')} %, bakes ${o.bakeSeconds} s)`);
      if (o.faults?.offlineDevice) {
        offline = fleet.devices.at(-1)!.id;
        fleet.setOffline(offline, true);
        say(`fault: ${offline} goes offline for the rollout`);
      }
    }
    if (live && rolloutId && seen.decision === null) {
      const detail = await api<{ state: string; step: number; percent: number; decision: { summary: string } | null }>(plane, 'GET', `/v1/rollouts/${rolloutId}`);
      if (detail.state === 'promoted' || detail.state === 'rolled-back') {
        seen.decision = Date.now();
        outcome = detail.state;
        say(`rollout ${detail.state}: ${detail.decision?.summary ?? ''}`);
        o.onStage?.({ kind: 'decided', id: rolloutId, state: detail.state });
        if (offline) {
          fleet.setOffline(offline, false);
          say(`${offline} is back online`);
        }
        endAt = Date.now() + 2 * o.pollMs + 2000; // every device within two polls
      }
    }
    if (endAt !== null && Date.now() >= endAt) break;
    await sleep(250);
  }

  o.onStage?.({ kind: 'end', id: rolloutId });
  const versions: Record<string, number> = {};
  for (const [v, n] of fleet.versions()) versions[`v${v}`] = (versions[`v${v}`] ?? 0) + n;
  if (browsers) for (const v of (await browsers.tick('after', round)).versions) versions[`v${v}`] = (versions[`v${v}`] ?? 0) + 1;
  const deliveries = (await api<{ deliveries: { attempts: number; status: string }[] }>(plane, 'GET', '/v1/deliveries?type=dev.modelfleet.drift.retrain_requested'))
    .deliveries.map(({ attempts, status }) => ({ attempts, status }));
  const updated = bytesAtRollout ? fleet.devices.map((d, i) => d.bytes - bytesAtRollout![i]!).sort((a, b) => a - b) : null;
  await fleet.close();
  await browsers?.close();
  await retrain?.stop();
  const rate = ([c, n]: [number, number]) => (n > 0 ? c / n : null);
  const span = (a: number | null, b: number | null) => (a !== null && b !== null ? (b - a) / 1000 : null);
  return {
    outcome, challenger,
    seconds: { shiftToAlarm: span(seen.shift, seen.alarm), alarmToPublished: span(seen.alarm, seen.published), rolloutToDecision: span(seen.rollout, seen.decision), total: (Date.now() - t0) / 1000 },
    accuracy: { beforeShift: rate(acc.before), afterShiftOldModel: rate(acc.oldAfter), afterPromotion: rate(acc.promoted) },
    updateBytes: updated ? { median: updated[updated.length >> 1]!, max: updated.at(-1)! } : null,
    versions, timeline, deliveries,
  };
}
