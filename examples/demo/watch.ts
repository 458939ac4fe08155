/**
 * @module demo/watch
 * What the scenario's loop (scenario.ts) does after each round of device traffic: runs the Cron
 * Trigger for the windows that have ended, and reads the registry — drift windows, versions,
 * rollouts — to move the story (story.ts) on and narrate each moment once, when first seen.
 */
import type { Fleet } from './fleet.ts';
import { api } from './plane.ts';
import type { ScenarioOptions, Story } from './story.ts';

/** What every watcher is given: the scenario, the story so far, the narrator, the fleet, the retrain webhook. */
export interface Watch {
  o: ScenarioOptions;
  story: Story;
  say(event: string): void;
  fleet: Fleet;
  hook: { url: string; secret: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const windowOf = (ms: number, seconds: number) => Math.floor(ms / 1000 / seconds);

/** The Cron Trigger, once per window that has ended at least the grace period ago. */
export async function runCron({ o, story, say }: Watch): Promise<void> {
  const closable = windowOf(Date.now() - o.graceSeconds * 1000, o.windowSeconds) - 1;
  if (closable <= story.triggered) return;
  // Fault: the retrain service is down when the alarm fires (the delivery is retried).
  if (o.faults?.retrainDownAtAlarm && story.seen.shift !== null && story.seen.alarm === null && story.retrain) {
    await story.retrain.stop();
    story.retrain = null;
    say('fault: the retrain service goes down');
  }
  await o.plane.trigger();
  story.triggered = closable;
}

type DriftWindow = {
  version: number;
  window: number;
  alarm: boolean;
  retrain: { reasons: string[] } | null;
  closedAt: string;
};

/** The first window that closes with an alarm and a retrain request; a retrain service that is down comes back. */
export async function watchDrift({ o, story, say, hook }: Watch): Promise<void> {
  const { windows } = await api<{ windows: DriftWindow[] }>(o.plane, 'GET', `/v1/models/${o.model}/drift?limit=10`);
  const alarmed = windows.find((w) => w.alarm && w.retrain?.reasons?.length);
  if (!alarmed || story.seen.alarm !== null) return;
  story.seen.alarm = Date.now();
  o.onStage?.({ kind: 'alarm' });
  say(
    `window ${alarmed.window} closed with a drift alarm; retrain requested (${alarmed.retrain!.reasons.join(', ')}) — a signed CloudEvent to the retrain service`,
  );
  if (!story.retrain) {
    await sleep(1000);
    story.retrain = await o.retrain({ url: hook.url, port: o.retrainPort, secret: hook.secret });
    say('the retrain service is back: the control plane retries the delivery');
  }
}

/** The retrain service's challenger, once published. */
export async function watchVersions({ o, story, say }: Watch): Promise<void> {
  const { versions } = await api<{ versions: { version: number; lineage?: { parentVersion?: number } }[] }>(
    o.plane,
    'GET',
    `/v1/models/${o.model}/versions`,
  );
  const child = versions.find((v) => v.version > 1);
  if (!child || story.challenger !== null) return;
  story.challenger = child.version;
  story.seen.published = Date.now();
  o.onStage?.({ kind: 'published', version: story.challenger });
  say(
    `the retrain service published v${story.challenger} (lineage: parent v${(child as any).lineage?.parentVersion ?? '?'})`,
  );
}

/** The challenger's rollout: its start (the offline fault begins), then its decision (the loop ends two polls later). */
export async function watchRollout(w: Watch): Promise<void> {
  const { o, story, say, fleet } = w;
  const { rollouts } = await api<{ rollouts: { id: string; state: string; step: number; percent: number }[] }>(
    o.plane,
    'GET',
    `/v1/models/${o.model}/rollouts`,
  );
  const live = rollouts[0];
  if (live && story.rolloutId === null) {
    story.rolloutId = live.id;
    story.seen.rollout = Date.now();
    story.bytesAtRollout = fleet.devices.map((d) => ({ all: d.bytes, model: d.modelBytes }));
    o.onStage?.({ kind: 'rollout', id: live.id });
    say(`rollout ${live.id} started at ${live.percent} % (steps ${o.steps.join(' → ')} %, bakes ${o.bakeSeconds} s)`);
    if (o.faults?.offlineDevice) {
      story.offline = fleet.devices.at(-1)!.id;
      fleet.setOffline(story.offline, true);
      say(`fault: ${story.offline} goes offline for the rollout`);
    }
  }
  if (live && story.rolloutId && story.seen.decision === null) await watchDecision(w, story.rolloutId);
}

async function watchDecision({ o, story, say, fleet }: Watch, rolloutId: string): Promise<void> {
  const detail = await api<{ state: string; step: number; percent: number; decision: { summary: string } | null }>(
    o.plane,
    'GET',
    `/v1/rollouts/${rolloutId}`,
  );
  if (detail.state !== 'promoted' && detail.state !== 'rolled-back') return;
  story.seen.decision = Date.now();
  story.outcome = detail.state;
  say(`rollout ${detail.state}: ${detail.decision?.summary ?? ''}`);
  o.onStage?.({ kind: 'decided', id: rolloutId, state: detail.state });
  if (story.offline) {
    fleet.setOffline(story.offline, false);
    say(`${story.offline} is back online`);
  }
  story.endAt = Date.now() + 2 * o.pollMs + 2000; // every device within two polls
}
