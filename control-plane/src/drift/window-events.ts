/**
 * @module drift/window-events
 * The CloudEvents a closed window raises (close.ts): a drift alarm, and a retrain request to the
 * training pipeline. They are written in the window's D1 batch and delivered after it commits.
 */
import type { EventInput } from '../webhooks/events.ts';
import type { detectDrift } from './detect.ts';
import type { RetrainDecision } from './retrain.ts';
import type { WindowKey } from './window-release.ts';
import type { WindowVerdict } from './window-verdict.ts';

type ModelRef = { id: number; name: string };
type Verdict = ReturnType<typeof detectDrift>;

/** The events of a window: an alarm when it alarmed, a retrain request when the trigger has reasons. */
export function windowEvents(
  m: ModelRef,
  key: WindowKey,
  devices: number,
  sigma: number,
  judged: WindowVerdict,
  at: string,
): EventInput[] {
  const { verdict, retrain } = judged;
  const alarm = verdict?.alarm ? driftAlarmEvent(m, key, devices, sigma, verdict, at) : null;
  const request =
    retrain && retrain.reasons.length > 0 ? retrainRequestedEvent(m, key, devices, retrain, verdict!, at) : null;
  const events: EventInput[] = [alarm, request].filter((e) => e !== null);
  return events;
}

/** A window event's envelope: the id is stable per (kind, model, version, window), so receivers deduplicate. */
function windowEnvelope(kind: 'alarm' | 'retrain', m: ModelRef, key: WindowKey, at: string) {
  const { version, window } = key;
  return {
    id: `drift.${kind}/${m.name}/${version}/${window}`,
    model: m,
    subject: `versions/${version}/drift/${window}`,
    time: at,
  };
}

/** An alarmed window: the alarmed features with their p-values and effect sizes. */
function driftAlarmEvent(
  m: ModelRef,
  key: WindowKey,
  devices: number,
  sigma: number,
  verdict: Verdict,
  at: string,
): EventInput<'dev.modelfleet.drift.alarm'> {
  const features = verdict.features
    .filter((f) => f.alarm)
    .map((f) => ({ name: f.name, test: f.test, p: f.p, statistic: f.statistic, effects: f.effects }));
  return {
    ...windowEnvelope('alarm', m, key, at),
    type: 'dev.modelfleet.drift.alarm',
    data: {
      model: m.name,
      version: key.version,
      window: key.window,
      devices,
      noiseSigma: sigma,
      outputs: verdict.outputs,
      features,
    },
  };
}

/** A request to the training pipeline for a new model, with the reasons and evidence. */
function retrainRequestedEvent(
  m: ModelRef,
  key: WindowKey,
  devices: number,
  retrain: RetrainDecision,
  verdict: Verdict,
  at: string,
): EventInput<'dev.modelfleet.drift.retrain_requested'> {
  return {
    ...windowEnvelope('retrain', m, key, at),
    type: 'dev.modelfleet.drift.retrain_requested',
    data: {
      model: m.name,
      version: key.version,
      window: key.window,
      devices,
      reasons: retrain.reasons,
      windowScore: retrain.score,
      outputs: verdict.outputs,
      alarmedFeatures: verdict.features.filter((f) => f.alarm).map((f) => f.name),
    },
  };
}
