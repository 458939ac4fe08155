/**
 * @module bench/accuracy
 * Label-free accuracy against the truth, beside the old estimate (mean top-class confidence) in
 * the same run: a deliberately mis-calibrated binary model — over-confident, P(correct | c) =
 * 2c − 1 — and an under-confident one, P(correct | c) = √c, each on its validation mix and on a
 * shifted mix. 2,000 devices × 20 predictions, sketched and released with the ε = 2 noise, the
 * baseline's reliability table from 5,000 labelled validation predictions. The truth is the
 * share of the fleet's predictions that were correct (drawn from P(correct | c)).
 */
import {
  type Baseline,
  addReleaseNoise,
  addUpload,
  emptyAggregate,
  monitoredFeatures,
  outputBaseline,
  seededUniform,
  seededWords,
  sketchCategorical,
  sketchLayout,
  sketchNumeric,
} from '@modelfleet/protocol';
import { DEFAULT_DETECT, detectDrift } from '../../control-plane/src/drift/detect.ts';
import { HEALTH_SHARE, releaseNoiseForRho, rhoFor } from '../../control-plane/src/drift/privacy.ts';
import type { Row } from './drift.ts';

const models = {
  'over-confident (P(correct | c) = 2c − 1)': (c: number) => 2 * c - 1,
  'under-confident (P(correct | c) = √c)': (c: number) => Math.sqrt(c),
};
const mixes = {
  'validation mix': (u: number) => 0.5 + u / 2,
  'shifted: less confident': (u: number) => 0.5 + u ** 2 / 2,
};

async function one(correct: (c: number) => number, mix: (u: number) => number, seed: number) {
  const uniform = seededUniform(seed);
  const validation = Array.from({ length: 5000 }, () => 0.5 + uniform() / 2); // validation confidence ~ U(0.5, 1) for both mixes
  const predictions = validation.map((c) => [1 - c, c]);
  const labels = validation.map((c) => (uniform() < correct(c) ? 1 : 0));
  const baseline: Baseline = { features: [], outputs: outputBaseline(predictions, labels) };
  const layout = await sketchLayout(baseline);
  const [cls, conf] = monitoredFeatures(baseline) as {
    vocabulary?: string[];
    edges?: number[];
    pit?: [number, number, number][];
  }[];
  const agg = emptyAggregate(layout, 1);
  let right = 0;
  let total = 0;
  let confidenceSum = 0;
  for (let d = 0; d < 2000; d++) {
    const cs = Array.from({ length: 20 }, () => mix(uniform()));
    for (const c of cs) {
      right += uniform() < correct(c) ? 1 : 0;
      confidenceSum += c;
      total++;
    }
    addUpload(agg, {
      schemaDigest: layout.schemaDigest,
      window: 1,
      features: [
        sketchCategorical(
          cs.map(() => '1'),
          cls!.vocabulary!,
        ),
        sketchNumeric(cs, conf!.edges!, conf!.pit, uniform),
      ],
    });
  }
  const noise = releaseNoiseForRho(layout, rhoFor(2, 1e-6) * (1 - HEALTH_SHARE));
  addReleaseNoise(agg, noise, seededWords(seed + 1));
  const verdict = detectDrift(layout, agg, { ...DEFAULT_DETECT, noise });
  return {
    truth: right / total,
    estimate: verdict.outputs!.estimatedAccuracy!,
    meanConfidence: confidenceSum / total,
    alarm: verdict.outputs!.accuracyAlarm,
  };
}

export async function accuracyBench(): Promise<Row[]> {
  const rows: Row[] = [];
  let seed = 1;
  for (const [model, correct] of Object.entries(models)) {
    for (const [mixName, mix] of Object.entries(mixes)) {
      const r = await one(correct, mix, seed++);
      const err = Math.abs(r.estimate - r.truth);
      const anchor = Math.abs(r.meanConfidence - r.truth);
      rows.push({
        bench: `label-free accuracy, ${model}, ${mixName}`,
        value: `estimate ${(100 * r.estimate).toFixed(1)} % vs true ${(100 * r.truth).toFixed(1)} % (error ${(100 * err).toFixed(1)} pt)${r.alarm ? ', accuracy alarm' : ''}`,
        anchor: `mean confidence ${(100 * r.meanConfidence).toFixed(1)} % (error ${(100 * anchor).toFixed(1)} pt)`,
        ratio: `${(err / anchor).toFixed(2)}×`,
        target: '≤ 2 pt',
      });
    }
  }
  return rows;
}
