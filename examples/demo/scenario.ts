/**
 * @module demo/scenario
 * The story modelfleet exists for, end to end, on a live control plane: a fraud model runs on a
 * fleet; the fraud pattern changes; the windows' sketches raise a drift alarm and a retrain
 * request (signed CloudEvents); the retrain service trains, evaluates and publishes a challenger
 * with lineage; the control plane gates it and rolls it out in steps judged on the devices' own
 * step records; it is promoted and every device moves to it. Time is compressed by configuration only (window
 * length, bakes, minimum samples, ε) — the Worker runs its production code paths.
 *
 * `runScenario` prints a narrated timeline through `log` and returns the summary figures. The
 * story's types are in story.ts; what the loop watches after each round of traffic, in watch.ts.
 */
import { type BrowserDevices, startBrowserDevices } from './browser-devices.ts';
import { type Fleet, startFleet } from './fleet.ts';
import { api } from './plane.ts';
import { type RetrainHandle, type ScenarioOptions, type Story, type Summary, newStory } from './story.ts';
import type { Regime } from './transactions.ts';
import { type Watch, runCron, watchDrift, watchRollout, watchVersions, windowOf } from './watch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runScenario(o: ScenarioOptions): Promise<Summary> {
  const t0 = Date.now();
  const timeline: Summary['timeline'] = [];
  const say = (event: string) => {
    const at = (Date.now() - t0) / 1000;
    timeline.push({ at, event });
    o.log(`[${at.toFixed(1).padStart(6)} s] ${event}`);
  };
  const { appKey, hook, retrain } = await setUp(o, say);
  const { fleet, browsers } = await startDevices(o, appKey, say);

  // 3. Run: ticks of scoring and feedback; the cron after each window; watch the registry.
  const started = Date.now();
  const story = newStory(windowOf(started, o.windowSeconds) - 1, retrain);
  const watch: Watch = { o, story, say, fleet, hook };
  let round = 0;
  while (Date.now() - t0 < o.timeoutSeconds * 1000) {
    const now = Date.now();
    const regime: Regime = now - started >= o.shiftAfterSeconds * 1000 ? 'after' : 'before';
    if (regime === 'after' && story.seen.shift === null) {
      story.seen.shift = now;
      o.onStage?.({ kind: 'running' }); // the fleet chart has two windows of v1 by now
      say('the fraud pattern changes: larger amounts, riskier merchants, more foreign transactions');
    }
    await tickDevices(story, fleet, browsers, regime, round);
    round++;
    await runCron(watch);
    await watchDrift(watch);
    await watchVersions(watch);
    await watchRollout(watch);
    if (story.endAt !== null && Date.now() >= story.endAt) break;
    await sleep(250);
  }

  o.onStage?.({ kind: 'end', id: story.rolloutId });
  return finish(o, story, { fleet, browsers, round, t0, timeline });
}

/** 1. The model, its policy, the fleet's app key, the retrain service and its webhook. */
async function setUp(o: ScenarioOptions, say: (event: string) => void) {
  const { plane, model } = o;
  const { appKey } = await api<{ appKey: string }>(plane, 'POST', '/v1/apps', {
    name: `demo-${model}`,
    models: [model],
  });
  await plane.publish('examples/fraud-model', [
    '--model',
    model,
    '--create',
    '--alias',
    'champion',
    '--metrics',
    'examples/fraud-model/metrics.json',
    '--baseline',
    'examples/fraud-model/baseline.json',
    '--lineage',
    'examples/fraud-model/lineage.json',
    '--params',
    'examples/fraud-model/params.json',
    '--golden',
    'examples/fraud-model/golden.json',
  ]);
  say(`published examples/fraud-model as ${model} v1 (champion), with its monitoring baseline`);
  await api(plane, 'PUT', `/v1/models/${model}/rollout-policy`, {
    minSteps: o.steps.length,
    maxFirstStepPercent: o.steps[0],
    minBakeSeconds: o.bakeSeconds,
    gate: { metric: 'accuracy', margin: 0, source: 'server' }, // the control plane's own score on the fresh set
  });
  const url = `http://127.0.0.1:${o.retrainPort}/events`;
  const { secret } = await api<{ secret: string }>(plane, 'POST', '/v1/webhooks', {
    url,
    events: ['dev.modelfleet.drift.retrain_requested'],
  });
  const retrain: RetrainHandle = await o.retrain({ url, port: o.retrainPort, secret });
  say(`retrain service listening on ${url} (signed CloudEvents: dev.modelfleet.drift.retrain_requested)`);
  return { appKey, hook: { url, secret }, retrain };
}

/** 2. The fleet: SDK devices in Node, and in Chromium when asked. */
async function startDevices(o: ScenarioOptions, appKey: string, say: (event: string) => void) {
  const { plane, model } = o;
  const fleet: Fleet = await startFleet({
    endpoint: plane.url,
    appKey,
    root: plane.root,
    model,
    devices: o.devices,
    pollMs: o.pollMs,
    perTick: o.perTick,
    seed: o.seed,
  });
  const browsers: BrowserDevices | null =
    o.browsers > 0
      ? await startBrowserDevices({
          endpoint: plane.url,
          appKey,
          root: plane.root,
          model,
          count: o.browsers,
          pollMs: o.pollMs,
          perTick: o.perTick,
          seed: o.seed,
        })
      : null;
  say(
    `${o.devices} SDK devices in Node${browsers ? ` and ${o.browsers} in Chromium` : ''} run v1 on the transaction stream`,
  );
  return { fleet, browsers };
}

/** One round of scoring and feedback on every device, counted towards the accuracy of the story's phase. */
async function tickDevices(
  story: Story,
  fleet: Fleet,
  browsers: BrowserDevices | null,
  regime: Regime,
  round: number,
): Promise<void> {
  const r = await fleet.tick(regime);
  const b = browsers ? await browsers.tick(regime, round) : { scored: 0, correct: 0 };
  const { acc } = story;
  const bucket =
    regime === 'before'
      ? acc.before
      : story.outcome === 'promoted'
        ? acc.promoted
        : story.challenger === null
          ? acc.oldAfter
          : null;
  if (bucket) {
    bucket[0] += r.correct + b.correct;
    bucket[1] += r.scored + b.scored;
  }
}

/** Median and max of a list of byte counts (0 for none). */
const spread = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { median: sorted[sorted.length >> 1] ?? 0, max: sorted.at(-1) ?? 0 };
};

/** What the update cost each device that took it, apart from what polling cost every device. */
function bytesSince(
  fleet: Fleet,
  at: { all: number; model: number }[],
  challenger: number | null,
): NonNullable<Summary['updateBytes']> {
  const moved = fleet.devices
    .filter((d) => d.model.version === challenger)
    .map((d) => d.modelBytes - at[fleet.devices.indexOf(d)]!.model);
  const polling = fleet.devices.map((d, i) => d.bytes - d.modelBytes - (at[i]!.all - at[i]!.model));
  return { model: { ...spread(moved), devices: moved.length }, polling: spread(polling) };
}

/** Stops everything and sums the story up: times between its moments, accuracy per phase, bytes, versions, deliveries. */
async function finish(
  o: ScenarioOptions,
  story: Story,
  run: { fleet: Fleet; browsers: BrowserDevices | null; round: number; t0: number; timeline: Summary['timeline'] },
): Promise<Summary> {
  const { fleet, browsers, t0 } = run;
  const { seen, acc, bytesAtRollout } = story;
  const versions: Record<string, number> = {};
  for (const [v, n] of fleet.versions()) versions[`v${v}`] = (versions[`v${v}`] ?? 0) + n;
  if (browsers)
    for (const v of (await browsers.tick('after', run.round)).versions)
      versions[`v${v}`] = (versions[`v${v}`] ?? 0) + 1;
  const deliveries = (
    await api<{ deliveries: { attempts: number; status: string }[] }>(
      o.plane,
      'GET',
      '/v1/deliveries?type=dev.modelfleet.drift.retrain_requested',
    )
  ).deliveries.map(({ attempts, status }) => ({ attempts, status }));
  const updateBytes = bytesAtRollout ? bytesSince(fleet, bytesAtRollout, story.challenger) : null;
  await fleet.close();
  await browsers?.close();
  await story.retrain?.stop();
  const rate = ([c, n]: [number, number]) => (n > 0 ? c / n : null);
  const span = (a: number | null, b: number | null) => (a !== null && b !== null ? (b - a) / 1000 : null);
  return {
    outcome: story.outcome,
    challenger: story.challenger,
    seconds: {
      shiftToAlarm: span(seen.shift, seen.alarm),
      alarmToPublished: span(seen.alarm, seen.published),
      rolloutToDecision: span(seen.rollout, seen.decision),
      total: (Date.now() - t0) / 1000,
    },
    accuracy: {
      beforeShift: rate(acc.before),
      afterShiftOldModel: rate(acc.oldAfter),
      afterPromotion: rate(acc.promoted),
    },
    updateBytes,
    versions,
    timeline: run.timeline,
    deliveries,
  };
}
