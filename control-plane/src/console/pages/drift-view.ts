/**
 * @module console/pages/drift-view
 * What the drift page shows, as the API gives it: a version's windows with their verdicts, and
 * how a window is labelled (a UTC day, or a start time with shorter windows).
 */
import type { Explanations, PrivacyLedgerView } from '@modelfleet/protocol';
import { DAY_SECONDS, windowStart } from '@modelfleet/protocol';

import type { FeatureEffects, OutputVerdict } from '../../drift/detect.ts';

export interface FeatureVerdictView {
  name: string;
  test: string;
  devices: number;
  p: number | null;
  alarm: boolean;
  effects: FeatureEffects;
  bins?: { labels: string[]; observed: number[]; expected: number[] };
  missing?: { observed: number; expected: number } | null;
}
export interface WindowView {
  version: number;
  window: number;
  devices: number;
  released: boolean;
  alarm: boolean;
  noiseSigma: number | null;
  closedAt: string;
  verdict: {
    features: FeatureVerdictView[];
    outputs:
      | (Partial<OutputVerdict> &
          Pick<OutputVerdict, 'predictionDrift' | 'estimatedAccuracy' | 'baselineAccuracy' | 'accuracyAlarm'>)
      | null;
  } | null;
  retrain: { score: number; cusum: number; reasons: string[] } | null;
}
export interface DriftView {
  model: string;
  version: number;
  versions: number[];
  minDevices: number;
  familyAlpha: number;
  epsilonPerDay: number;
  effectFloor: { sigma: number; share: number };
  /** Window length in seconds (WINDOW_SECONDS); 86400 = UTC days. */
  windowSeconds: number;
  windows: WindowView[];
  /** The version's published feature importance (the publisher's claim), to say which alarmed features it leans on. */
  explanations: Explanations | null;
  ledger: PrivacyLedgerView | null;
}

/** What each ledger channel is (control-plane rollouts/step-budget.ts). */

export const dayOf = (w: number) => windowStart(w).toISOString().slice(0, 10);

/** A window as people read it: its date for day windows, its UTC start time for shorter ones. */
export const windowLabel = (w: number, seconds = DAY_SECONDS) =>
  seconds >= DAY_SECONDS
    ? dayOf(w)
    : windowStart(w, seconds)
        .toISOString()
        .slice(0, seconds % 60 === 0 ? 16 : 19)
        .replace('T', ' ') + ' UTC';
