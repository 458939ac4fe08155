/**
 * @module rollouts/sequential
 * Always-valid decisions on the difference of two rates (challenger − control), for a step whose
 * evidence grows release by release. Pure math, no I/O: judge.ts applies it, the simulations and
 * the power analysis can import it.
 *
 * The test is the normal-mixture sequential probability ratio test (Robbins 1970; Johari, Pekelis &
 * Walsh 2019) read as a confidence sequence (Howard, Ramdas, McAuliffe & Sekhon 2021). With D the
 * observed difference after any number of releases, V its variance (binomial spread of both arms
 * plus the DP noise of every release they summed) and τ² the variance of the normal mixture over
 * the true difference Δ, the mixture likelihood ratio
 *
 *   Λ(Δ) = √(V / (V + τ²)) · exp(τ² (D − Δ)² / (2 V (V + τ²)))
 *
 * is a nonnegative martingale under Δ, so by Ville's inequality P(∃ release: Λ ≥ 1/α) ≤ α. The
 * Δ it does not reject form the interval D ± w with
 *
 *   w = √( V (V + τ²) / τ² · ln((V + τ²) / (V α²)) ),
 *
 * which covers Δ at every release at once: a decision may be checked after each release (and the
 * step stopped at the first that decides) without the error growing with the number of looks —
 * unlike "D ± 2 SE", whose error grows with every peek. τ is the metric's tolerance: it is fixed
 * before any data, and it nearly minimises the variance at which a true difference of 0 passes
 * (the optimum τ² ≈ 0.9 tol² at α = 0.0125, worth < 1 %).
 *
 * α: 0.05 for a plan's rate metrics together, Bonferroni-split (α/m per metric for m metrics).
 * A false rollback needs the lower end above the tolerance while Δ ≤ tolerance, a one-sided
 * error of at most α/2 per metric; a false promotion the upper end below it while Δ > tolerance.
 *
 * Gaussian increments: each release's noise is the discrete Gaussian (known σ), and each arm's
 * share is a mean over ≥ `minSample` devices (near normal); V uses the observed shares (a plug-in,
 * as every asymptotic confidence sequence does).
 */

/** The family error rate of a step's rate metrics (false rollbacks and false promotions together). */
export const SEQUENTIAL_ALPHA = 0.05;

/** α for one of `metrics` rate metrics (Bonferroni). */
export const alphaPerMetric = (metrics: number, family = SEQUENTIAL_ALPHA): number => family / Math.max(1, metrics);

/**
 * Half-width of the confidence sequence for a difference with variance `variance`, mixture
 * variance `tau2`, level `alpha`. 0 when the variance is 0 (nothing uncertain to cover).
 */
export function halfWidth(variance: number, tau2: number, alpha: number): number {
  if (!(variance > 0)) return 0;
  const v = variance;
  return Math.sqrt(((v * (v + tau2)) / tau2) * Math.log((v + tau2) / (v * alpha * alpha)));
}

/** The mixture likelihood ratio at Δ (the e-value against "the true difference is Δ"). */
export function mixtureRatio(observed: number, variance: number, tau2: number, delta = 0): number {
  const v = variance;
  return Math.sqrt(v / (v + tau2)) * Math.exp((tau2 * (observed - delta) ** 2) / (2 * v * (v + tau2)));
}

/**
 * τ² for a metric: its tolerance squared, at least (0.1 point)² — a zero tolerance can only fail,
 * and the mixture should then weigh differences of the size a plan cares about, not vanish.
 */
export const MIN_MIXTURE_SD = 0.001;
export const mixtureVariance = (tolerance: number): number => Math.max(tolerance, MIN_MIXTURE_SD) ** 2;

export interface Sequence {
  lower: number;
  upper: number;
  halfWidth: number;
}

export function confidenceSequence(observed: number, variance: number, tolerance: number, alpha: number): Sequence {
  const w = halfWidth(variance, mixtureVariance(tolerance), alpha);
  return { lower: observed - w, upper: observed + w, halfWidth: w };
}

/** Pass when the whole sequence is within tolerance, fail when all of it is beyond, else continue. */
export function sequentialStatus(
  observed: number,
  variance: number,
  tolerance: number,
  alpha: number,
): { status: 'pass' | 'fail' | 'inconclusive' } & Sequence {
  const cs = confidenceSequence(observed, variance, tolerance, alpha);
  const status = cs.upper <= tolerance ? 'pass' : cs.lower > tolerance ? 'fail' : 'inconclusive';
  return { status, ...cs };
}

/**
 * Variance of one arm's share after releases summing `devices` devices with release noise σ
 * `noiseSigmas` (one per release, in devices): binomial spread of the share plus each release's
 * noise on the count — sums add, so their variances do.
 */
export function armVariance(share: number, devices: number, noiseSigmas: readonly number[]): number {
  const p = Math.min(1, Math.max(0, share));
  return (p * (1 - p)) / devices + noiseSigmas.reduce((s, x) => s + x * x, 0) / devices ** 2;
}

/**
 * Increments grow geometrically. Every release adds its own noise (σ in devices, whatever its
 * size), so an arm summed from K releases carries K·σ² on its count: many small increments would
 * drown the evidence they add. An arm's next increment therefore waits for (GROWTH − 1) times the
 * devices it has released (and at least the release floor): the released totals run floor·1, 4,
 * 16, … and K ≈ 1 + log₄(N / floor) looks cost a factor √K on the noise, not N / floor.
 */
export const INCREMENT_GROWTH = 4;

export const incrementNeed = (floor: number, released: number): number =>
  Math.max(floor, Math.ceil((INCREMENT_GROWTH - 1) * released));

/** The σ of a sum of releases with noise σ each (what one combined release would carry). */
export const combinedNoise = (noiseSigmas: readonly number[]): number =>
  Math.sqrt(noiseSigmas.reduce((s, x) => s + x * x, 0));

/**
 * The smallest true difference above the tolerance that the test rolls back — and the largest
 * below it that it promotes — about half the time, with `devicesPerArm` in each arm released in
 * `releases` releases of noise σ `noiseSigma` (devices), at base rate `rate`: the tolerance
 * ± the half-width at the final variance. Exported for the plan's power analysis.
 */
export function minimumDetectableEffect(opts: {
  devicesPerArm: number;
  releases: number;
  noiseSigma: number;
  rate: number;
  tolerance: number;
  alpha: number;
}): { halfWidth: number; rollbackAbove: number; promoteBelow: number } {
  const sigmas = new Array<number>(Math.max(1, opts.releases)).fill(opts.noiseSigma);
  const v = 2 * armVariance(opts.rate, opts.devicesPerArm, sigmas);
  const w = halfWidth(v, mixtureVariance(opts.tolerance), opts.alpha);
  return { halfWidth: w, rollbackAbove: opts.tolerance + w, promoteBelow: opts.tolerance - w };
}

/** Where an undecided metric is heading if its estimate holds: the look that would decide it, and when. */
export interface Projection {
  outcome: 'pass' | 'fail';
  devicesPerArm: number;
  seconds: number | null;
}

/**
 * The first of the next increments (the arm's released devices × 4, × 16 …, at most six looks
 * ahead) at which the sequence would decide if the observed difference stayed where it is: the
 * binomial part of the variance shrinks as 1/n, the noise part gains one release per look.
 * `perSecond`: devices the thinner arm gains a second (null: unknown, no time given). Null when no
 * look within reach decides — an estimate sitting on the tolerance never does.
 */
export function projectDecision(opts: {
  observed: number;
  variance: number;
  tolerance: number;
  alpha: number;
  devices: number;
  releases: number;
  noiseSigma: number;
  reported: number;
  perSecond: number | null;
}): Projection | null {
  const { observed, tolerance, devices: n } = opts;
  if (!(n > 0) || !Number.isFinite(opts.variance)) return null;
  const perRelease = opts.releases > 0 ? opts.noiseSigma ** 2 / opts.releases : 0; // σ² of one release (the arm carries their sum)
  const noise = (2 * opts.releases * perRelease) / n ** 2;
  const binomial = Math.max(0, opts.variance - noise) * n; // × 1/n at a larger sample
  for (let j = 1, size = n; j <= 6; j++) {
    size *= INCREMENT_GROWTH;
    const v = binomial / size + (2 * (opts.releases + j) * perRelease) / size ** 2;
    const s = sequentialStatus(observed, v, tolerance, opts.alpha).status;
    if (s !== 'inconclusive') {
      const more = Math.max(0, size - opts.reported);
      return {
        outcome: s,
        devicesPerArm: Math.ceil(size),
        seconds: opts.perSecond && opts.perSecond > 0 ? Math.ceil(more / opts.perSecond) : null,
      };
    }
  }
  return null;
}
