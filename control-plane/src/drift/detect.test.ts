import {
  type Baseline,
  OUTPUT_CLASS,
  OUTPUT_CONFIDENCE,
  addReleaseNoise,
  numericBaseline,
  outputBaseline,
  seededNormal,
  healthLayout,
  healthUpload,
  addUpload,
  emptyAggregate,
  monitoredFeatures,
  sketchCategorical,
  sketchLayout,
  sketchNumeric,
} from '@modelfleet/protocol';
import { seededUniform, seededWords } from '@modelfleet/protocol/testing';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECT, detectDrift } from './detect.ts';
import { HEALTH_SPLIT, epsilonFor, releaseNoise, releaseNoiseForRho, rhoFor, rhoSpent } from './privacy.ts';

const edges = [-4, -1.28, -0.84, -0.52, -0.25, 0, 0.25, 0.52, 0.84, 1.28, 4];
const vocabulary = ['card', 'bank', 'wallet'];
const frequencies = [0.5, 0.3, 0.15, 0.04, 0.01]; // + OTHER, MISSING
const baseline: Baseline = {
  features: [
    { name: 'x', kind: 'numeric', edges },
    { name: 'c', kind: 'categorical', vocabulary, frequencies },
  ],
};
const noNoise = { components: 0, componentProducts: 0, numericBins: 0, categoricalBins: 0, categoricalSquares: 0 };
const opts = { ...DEFAULT_DETECT, minDevices: 100, noise: noNoise };

const rng = seededUniform;
const categories = [...vocabulary, 'something-else', null];

/**
 * Devices whose category mix differs from the fleet's: each mixes the fleet's p with weight τ on
 * a favourite category drawn from p itself, so the fleet mean stays p while devices differ.
 */
function categoricalFleet(devices: number, shift: number, random: () => number, tau = 0.4) {
  const p = frequencies.map((f, j) => (j === 2 ? f + shift : j === 0 ? f - shift : f));
  const draw = () => {
    let u = random();
    for (let j = 0; j < p.length; j++) if ((u -= p[j]!) < 0) return categories[j]!;
    return null;
  };
  return Array.from({ length: devices }, () => {
    const favourite = draw();
    return Array.from({ length: 30 }, () => (random() < tau ? favourite : draw()));
  });
}

describe('privacy accounting', () => {
  it('zCDP conversion round-trips; the split spends exactly the daily ρ; noise shrinks as ε grows', async () => {
    expect(epsilonFor(rhoFor(2, 1e-6), 1e-6)).toBeCloseTo(2, 10);
    const layout = await sketchLayout(baseline);
    expect(rhoSpent(layout, releaseNoise(layout, 2, 1e-6))).toBeCloseTo(rhoFor(2, 1e-6), 12);
    const [a, b] = [releaseNoise(layout, 1, 1e-6), releaseNoise(layout, 4, 1e-6)];
    for (const g of [
      'components',
      'componentProducts',
      'numericBins',
      'categoricalBins',
      'categoricalSquares',
    ] as const)
      expect(a[g]).toBeGreaterThan(b[g]);
    // A layout without numeric features spends nothing on components: the whole ρ goes to bins.
    const cat = await sketchLayout({ features: [baseline.features[1]!] });
    const n = releaseNoise(cat, 2, 1e-6);
    expect(n.components).toBe(0);
    expect(rhoSpent(cat, n)).toBeCloseTo(rhoFor(2, 1e-6), 12);
  });

  it('a health release spends its whole budget on bin shares and withholds the rest', async () => {
    const layout = await healthLayout();
    const noise = releaseNoiseForRho(layout, 0.5, HEALTH_SPLIT);
    expect(noise.components).toBe(Infinity);
    expect(noise.componentProducts).toBe(Infinity);
    expect(noise.categoricalSquares).toBe(Infinity);
    expect(rhoSpent(layout, noise)).toBeCloseTo(0.5, 12);
    const agg = emptyAggregate(layout, 1);
    addUpload(
      agg,
      (await healthUpload(
        { load: { ok: 1 }, predict: { ok: 30 }, latencies: new Array(20).fill(3), backend: { wasm: 30 } },
        1,
      ))!,
    );
    addReleaseNoise(agg, noise, seededWords(1));
    for (const f of agg.features) {
      expect(f.sumComponents.every((x) => x === 0)).toBe(true);
      expect(f.sumComponentProducts.every((x) => x === 0)).toBe(true);
      expect(f.sumBinSquares.every((x) => x === 0)).toBe(true);
    }
    // The bins stay, noised (discrete Gaussian: integers, never exactly the raw [0, 4096, 0] here).
    const wasm = agg.features[3]!.sumBins.slice(0, 3);
    expect(wasm.every(Number.isInteger)).toBe(true);
    expect(wasm).not.toEqual([0, 4096, 0]);
  });

  it('the release noises every group it lets out and zeroes what it keeps back', async () => {
    const layout = await sketchLayout(baseline);
    const agg = emptyAggregate(layout, 1);
    addUpload(agg, {
      schemaDigest: layout.schemaDigest,
      window: 1,
      features: [
        sketchNumeric(new Array(20).fill(0.1), edges),
        sketchCategorical(new Array(20).fill('bank'), vocabulary),
      ],
    });
    const raw = structuredClone(agg);
    addReleaseNoise(
      agg,
      { components: 1, componentProducts: 2, numericBins: 3, categoricalBins: 4, categoricalSquares: 5 },
      seededWords(2),
    );
    const [num, cat] = agg.features;
    const [rawNum, rawCat] = raw.features;
    // Each released sum moves by integer noise within 6σ (in its integer units); none stays exact.
    const noisedBy = (out: number[], before: number[], sigma: number) => {
      expect(out.every(Number.isInteger)).toBe(true);
      expect(out.every((x, i) => x !== before[i] && Math.abs(x - before[i]!) < 6 * sigma)).toBe(true);
    };
    noisedBy(num!.sumBins, rawNum!.sumBins, 3 * 4096);
    expect(num!.sumBinSquares.every((x) => x === 0)).toBe(true); // numeric bin squares are not released
    noisedBy(num!.sumComponents, rawNum!.sumComponents, 16384);
    noisedBy(num!.sumComponentProducts, rawNum!.sumComponentProducts, 2 * 16384 ** 2);
    noisedBy(cat!.sumBins, rawCat!.sumBins, 4 * 4096);
    noisedBy(cat!.sumBinSquares, rawCat!.sumBinSquares, 5 * 4096 ** 2);
  });
});

describe('drift detection', () => {
  it('flags a strong numeric shift with its effect sizes', async () => {
    const layout = await sketchLayout(baseline);
    const agg = emptyAggregate(layout, 1);
    for (let d = 0; d < 300; d++) {
      const values = Array.from({ length: 30 }, (_, i) => Math.sin(d * 97 + i * 13) * 1.2 + 0.8); // far from N(0,1)
      addUpload(agg, { schemaDigest: layout.schemaDigest, window: 1, features: [sketchNumeric(values, edges), null] });
    }
    const r = detectDrift(layout, agg, opts);
    expect(r.alarm).toBe(true);
    expect(r.features[0]).toMatchObject({ test: 'smooth', alarm: true, devices: 300 });
    expect(r.features[0]!.p!).toBeLessThan(1e-10);
    expect(r.features[0]!.effects.psi).toBeGreaterThan(0.1);
    expect(r.features[1]).toMatchObject({ test: 'rao-scott', alarm: false, devices: 0 });
    expect(detectDrift(layout, agg, { ...opts, minDevices: 1000 }).alarm).toBe(false); // too few devices
    // The chart's bins: released shares beside the baseline's equiprobable ones, labelled by edges.
    const bins = r.features[0]!.bins;
    expect(bins.labels).toHaveLength(edges.length - 1);
    expect(bins.labels[0]).toMatch(/^<…/);
    expect(bins.expected.every((q) => Math.abs(q - 1 / (edges.length - 1)) < 1e-4)).toBe(true);
    expect(bins.observed.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(Math.max(...bins.observed.map((p, i) => Math.abs(p - bins.expected[i]!)))).toBeCloseTo(
      r.features[0]!.effects.linf,
      3,
    );
  });

  it('Rao–Scott stays near nominal on heterogeneous devices where pooled Pearson over-alarms, and finds a 5-point shift', async () => {
    const layout = await sketchLayout(baseline);
    const random = rng(7);
    const runs = 200;
    let alarms = 0;
    let naive = 0;
    for (let run = 0; run < runs; run++) {
      const agg = emptyAggregate(layout, 1);
      let pooled = new Array(5).fill(0);
      for (const values of categoricalFleet(400, 0, random)) {
        const s = sketchCategorical(values, vocabulary)!;
        pooled = pooled.map((x, j) => x + (s.bins[j]! / 4096) * 30);
        addUpload(agg, { schemaDigest: layout.schemaDigest, window: 1, features: [null, s] });
      }
      const r = detectDrift(layout, agg, { ...opts, familyAlpha: 0.05 }).features[1]!;
      if (r.p! < 0.05) alarms++;
      const n = pooled.reduce((a, b) => a + b, 0);
      const pearson = pooled.reduce((s, o, j) => s + (o - n * frequencies[j]!) ** 2 / (n * frequencies[j]!), 0);
      if (pearson > 9.488) naive++; // χ²₄ at 0.05
    }
    expect(alarms / runs).toBeLessThanOrEqual(0.09);
    expect(alarms / runs).toBeGreaterThanOrEqual(0.01);
    expect(naive / runs).toBeGreaterThan(0.3);

    const agg = emptyAggregate(layout, 1);
    for (const values of categoricalFleet(2000, 0.05, random))
      addUpload(agg, {
        schemaDigest: layout.schemaDigest,
        window: 1,
        features: [null, sketchCategorical(values, vocabulary)],
      });
    addReleaseNoise(agg, releaseNoise(layout, 2, 1e-6), seededWords(3));
    const shifted = detectDrift(layout, agg, { ...opts, noise: releaseNoise(layout, 2, 1e-6) }).features[1]!;
    expect(shifted).toMatchObject({ test: 'rao-scott', alarm: true });
    expect(shifted.effects.linf).toBeGreaterThan(0.02);
  });

  it('without training frequencies a categorical feature is described, not tested', async () => {
    const layout = await sketchLayout({ features: [{ name: 'c', kind: 'categorical', vocabulary }] });
    const agg = emptyAggregate(layout, 1);
    for (let d = 0; d < 200; d++)
      addUpload(agg, {
        schemaDigest: layout.schemaDigest,
        window: 1,
        features: [sketchCategorical(new Array(20).fill('card'), vocabulary)],
      });
    const f = detectDrift(layout, agg, opts).features[0]!;
    expect(f).toMatchObject({ test: 'none', alarm: false, p: null });
    expect(f.bins.labels).toEqual([...vocabulary, 'OTHER', 'MISSING']);
    expect(f.bins.observed[vocabulary.indexOf('card')]).toBeCloseTo(1, 3);
  });
});

describe('prediction drift and label-free accuracy', () => {
  // An over-confident binary model: validation confidence c ~ U(0.5, 1), but P(correct | c) = 2c − 1,
  // so its validation accuracy is 50 % while its mean confidence says 75 %.
  const correctGiven = (c: number) => 2 * c - 1;
  const random = rng(7);
  const validation = Array.from({ length: 4000 }, (_, i) => {
    const c = 0.5 + (i + 0.5) / 8000;
    const predicted = i % 2;
    return {
      probs: predicted === 1 ? [1 - c, c] : [c, 1 - c],
      label: random() < correctGiven(c) ? predicted : 1 - predicted,
    };
  });
  const labelled: Baseline = {
    features: [],
    outputs: outputBaseline(
      validation.map((v) => v.probs),
      validation.map((v) => v.label),
    ),
  };
  const unlabelled: Baseline = { features: [], outputs: outputBaseline(validation.map((v) => v.probs)) };

  /** 400 devices × 40 predictions with confidences from `confidence`; returns the verdict and the fleet's true accuracy. */
  async function fleet(
    b: Baseline,
    confidence: (d: number, i: number) => number,
    positive: (d: number, i: number) => boolean,
    context = {},
  ) {
    const layout = await sketchLayout(b);
    const agg = emptyAggregate(layout, 1);
    const [cls, conf] = monitoredFeatures(b) as any[];
    let truth = 0;
    for (let d = 0; d < 400; d++) {
      const classes = Array.from({ length: 40 }, (_, i) => (positive(d, i) ? '1' : '0'));
      const confidences = Array.from({ length: 40 }, (_, i) => confidence(d, i));
      truth += confidences.reduce((s, c) => s + correctGiven(c), 0) / 40 / 400;
      addUpload(agg, {
        schemaDigest: layout.schemaDigest,
        window: 1,
        features: [sketchCategorical(classes, cls.vocabulary), sketchNumeric(confidences, conf.edges, conf.pit)],
      });
    }
    return { r: detectDrift(layout, agg, opts, context), truth };
  }
  const likeValidation = (d: number, i: number) => 0.5 + (((d * 7 + i * 13) % 40) + 0.5) / 80;
  const lessConfident = (d: number, i: number) => 0.5 + (((d * 7 + i * 13) % 40) + 0.5) / 133;

  it('a fleet like validation: no prediction drift, calibrated estimate ≈ the real validation accuracy, not the mean confidence', async () => {
    expect(labelled.outputs!.reliability!.validationAccuracy).toBeCloseTo(0.5, 1);
    const { r, truth } = await fleet(labelled, likeValidation, (d, i) => (d + i) % 2 === 0);
    expect(r.outputs).toMatchObject({ predictionDrift: false, accuracyAlarm: false, calibrated: true });
    expect(r.outputs!.baselineAccuracy!).toBe(labelled.outputs!.reliability!.validationAccuracy);
    expect(Math.abs(r.outputs!.estimatedAccuracy! - truth)).toBeLessThan(0.03);
    expect(Math.abs(r.outputs!.accuracyDrop!)).toBeLessThan(0.03);
  });

  it('less confident, more positive predictions: prediction drift, and an accuracy alarm from the calibrated estimate', async () => {
    const { r, truth } = await fleet(labelled, lessConfident, (d, i) => (d + i) % 3 !== 0);
    expect(r.features.map((f) => [f.name, f.alarm])).toEqual([
      [OUTPUT_CLASS, true],
      [OUTPUT_CONFIDENCE, true],
    ]);
    expect(r.outputs).toMatchObject({ predictionDrift: true, accuracyAlarm: true, calibrated: true });
    expect(Math.abs(r.outputs!.estimatedAccuracy! - truth)).toBeLessThan(0.03); // true ≈ 0.38; mean confidence would say ≈ 0.69
    expect(r.outputs!.accuracyDrop!).toBeGreaterThan(0.05);
  });

  it('without labels the estimate is uncalibrated: shown, never an alarm; metrics.accuracy is the reference', async () => {
    const { r } = await fleet(unlabelled, lessConfident, (d, i) => (d + i) % 3 !== 0, { metricsAccuracy: 0.5 });
    expect(r.outputs).toMatchObject({
      predictionDrift: true,
      calibrated: false,
      accuracyAlarm: false,
      baselineAccuracy: 0.5,
      accuracyDrop: null,
    });
    expect(r.outputs!.estimatedAccuracy!).toBeGreaterThan(0.6); // mean confidence: what the old estimate reported
  });

  it('label feedback is preferred when enough devices send it: it alarms without confidence drift', async () => {
    const { r } = await fleet(labelled, likeValidation, (d, i) => (d + i) % 2 === 0, {
      feedback: { devices: 400, accuracy: 0.15 },
    });
    expect(r.outputs).toMatchObject({ predictionDrift: false, feedbackAccuracy: 0.15, accuracyAlarm: true });
    expect(r.outputs!.accuracyDrop!).toBeCloseTo(r.outputs!.baselineAccuracy! - 0.15, 10);
    const few = await fleet(labelled, likeValidation, (d, i) => (d + i) % 2 === 0, {
      feedback: { devices: 10, accuracy: 0.15 },
    });
    expect(few.r.outputs).toMatchObject({ feedbackAccuracy: null, accuracyAlarm: false });
  });
});

describe('non-finite device values', () => {
  // A baseline from 5,000 rows of which 2 % had no value; devices send NaN/±Infinity at some rate.
  const normal = seededNormal(8);
  const training = Array.from({ length: 5000 }, (_, i) => (i % 50 === 0 ? NaN : normal()));
  const b: Baseline = { features: [numericBaseline('x', training)] };

  async function window(nonFiniteShare: number) {
    const layout = await sketchLayout(b);
    const f = b.features[0] as { edges: number[]; pit: [number, number, number][] };
    const agg = emptyAggregate(layout, 1);
    const bad = [NaN, Infinity, -Infinity];
    for (let d = 0; d < 500; d++) {
      const values = Array.from({ length: 40 }, (_, i) =>
        ((d * 40 + i) * 0.6180339887) % 1 < nonFiniteShare ? bad[i % 3]! : normal(),
      );
      addUpload(agg, {
        schemaDigest: layout.schemaDigest,
        window: 1,
        features: [sketchNumeric(values, f.edges, f.pit)],
      });
    }
    return detectDrift(layout, agg, opts).features[0]!;
  }

  it('count as missing: at the baseline’s missing rate nothing alarms, and the location ignores them', async () => {
    const f = await window(0.02);
    expect(f.alarm).toBe(false);
    expect(f.missing!.observed).toBeCloseTo(0.02, 2);
    expect(Math.abs(f.effects.location!.estimate)).toBeLessThan(0.05);
  });

  it('a pipeline that starts sending NaN alarms on the missing share, named as such, not as a location shift', async () => {
    const f = await window(0.1);
    expect(f.alarm).toBe(true);
    expect(f.missing).toMatchObject({ expected: 0.002 * 10 });
    expect(f.missing!.observed).toBeCloseTo(0.1, 2);
    expect(Math.abs(f.effects.location!.estimate)).toBeLessThan(0.05);
  });
});
