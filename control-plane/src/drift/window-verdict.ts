/**
 * @module drift/window-verdict
 * What a closing window's releases say (close.ts): the drift tests on the released sketches, an
 * alarm withheld when too few networks stand behind it, and the retrain trigger, whose CUSUM
 * carries over from the version's last released window.
 */
import { vars } from '@modelfleet/server-shared';
import type { SketchLayout } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { DEFAULT_DETECT, detectDrift } from './detect.ts';
import type { HealthSummary } from './health-summary.ts';
import { networkShortfall } from './networks.ts';
import { type RetrainDecision, retrainDecision } from './retrain.ts';
import type { WindowKey, WindowReleases } from './window-release.ts';

export interface WindowVerdict {
  verdict: ReturnType<typeof detectDrift> | null;
  /** The retrain trigger after this window (null when nothing was released or the alarm was withheld). */
  retrain: RetrainDecision | null;
}

/** Judges the window's drift release (none: no verdict); `health` is the window's released health summary. */
export async function judgeWindow(
  env: Env,
  modelId: number,
  key: WindowKey,
  layout: SketchLayout | null,
  releases: WindowReleases,
  health: HealthSummary | null,
  minDevices: number,
): Promise<WindowVerdict> {
  const { released, noise } = releases.drift;
  const outputs = async () => ({
    feedback: feedbackOf(health),
    metricsAccuracy: await metricsAccuracy(env, modelId, key.version),
  });
  const detected =
    layout && noise && released
      ? detectDrift(layout, released, { ...DEFAULT_DETECT, minDevices, noise }, await outputs())
      : null;
  // An alarm that a few networks could have made by inventing devices is withheld, and says so.
  const shortfall = networkShortfall(releases.networks.all!, vars(env).DRIFT_MIN_NETWORKS);
  const verdict =
    detected?.alarm && shortfall
      ? { ...detected, alarm: false, withheld: `alarm withheld: the window ${shortfall}` }
      : detected;
  const previous = await env.DB.prepare(
    'SELECT cusum FROM drift_windows WHERE model_id = ? AND version = ? AND window < ? AND released = 1 ORDER BY window DESC LIMIT 1',
  )
    .bind(modelId, key.version, key.window)
    .first<{ cusum: number | null }>();
  const retrain = verdict && !verdict.withheld ? retrainDecision(previous?.cusum ?? 0, verdict) : null;
  return { verdict, retrain };
}

/** Label accuracy from the window's released feedback counts (devices that sent labels). */
function feedbackOf(h: HealthSummary | null) {
  if (!h || h.feedback.devices === 0) return null;
  const correct = h.feedback.shares.correct ?? 0;
  const incorrect = h.feedback.shares.incorrect ?? 0;
  return correct + incorrect > 0 ? { devices: h.feedback.devices, accuracy: correct / (correct + incorrect) } : null;
}

/** The version's published `metrics.values.accuracy`, the reference when its baseline has no reliability table. */
async function metricsAccuracy(env: Env, modelId: number, version: number): Promise<number | null> {
  const row = await env.DB.prepare('SELECT metrics FROM versions WHERE model_id = ? AND version = ?')
    .bind(modelId, version)
    .first<{ metrics: string }>();
  const value = row ? (JSON.parse(row.metrics) as { values?: Record<string, unknown> }).values?.accuracy : undefined;
  return typeof value === 'number' && value >= 0 && value <= 1 ? value : null;
}
