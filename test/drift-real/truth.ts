/**
 * @module drift-real/truth
 * The independent answer to "did this feature move?": classical two-sample tests on the raw rows
 * (every baseline row against every shifted row), computed here without any of the project's
 * drift code — two-sample Kolmogorov–Smirnov for numeric columns, χ² of homogeneity for
 * categorical ones — and the direction of a numeric move, P(shifted > baseline) − ½ (ties half).
 */

/** Q(a, x), the regularised upper incomplete gamma (series below a + 1, continued fraction above). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnGammaA = lnGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 500; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - lnGammaA);
  }
  // Lentz's continued fraction.
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGammaA) * h;
}

/** ln Γ(x), Lanczos (g = 7, n = 9). */
function lnGamma(x: number): number {
  const g = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = g[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += g[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

export const chi2Survival = (x: number, df: number) => gammaQ(df / 2, x / 2);

/** Kolmogorov's limiting survival function, P(K > λ). */
function kolmogorovQ(lambda: number): number {
  if (lambda < 0.2) return 1;
  let s = 0;
  for (let k = 1; k <= 100; k++) s += 2 * (-1) ** (k - 1) * Math.exp(-2 * k * k * lambda * lambda);
  return Math.min(1, Math.max(0, s));
}

/** Two-sample KS: D and its asymptotic p (with Stephens' small-sample correction; conservative with ties). */
export function ksTwoSample(a: number[], b: number[]): { d: number; p: number } {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const ne = Math.sqrt((x.length * y.length) / (x.length + y.length));
  return { d, p: kolmogorovQ((ne + 0.12 + 0.11 / ne) * d) };
}

/** χ² of homogeneity, 2 × k (categories seen in either sample; empty columns dropped). */
export function chi2Homogeneity(a: string[], b: string[]): { statistic: number; df: number; p: number } {
  const cats = [...new Set([...a, ...b])];
  const count = (xs: string[]) => cats.map((c) => xs.filter((x) => x === c).length);
  const ca = count(a);
  const cb = count(b);
  const n = a.length + b.length;
  let statistic = 0;
  cats.forEach((_, k) => {
    const col = ca[k]! + cb[k]!;
    for (const [row, size] of [
      [ca[k]!, a.length],
      [cb[k]!, b.length],
    ] as const) {
      const e = (col * size) / n;
      statistic += (row - e) ** 2 / e;
    }
  });
  const df = Math.max(cats.length - 1, 1);
  return { statistic, df, p: cats.length < 2 ? 1 : chi2Survival(statistic, df) };
}

/** P(Y > X) + ½ P(Y = X) − ½ for Y from `shifted`, X from `base`: > 0 when the shifted values are larger. */
export function direction(base: number[], shifted: number[]): number {
  const x = [...base].sort((p, q) => p - q);
  let sum = 0;
  for (const y of shifted) {
    let below = 0;
    let equal = 0;
    for (const v of x) {
      if (v < y) below++;
      else if (v === y) equal++;
    }
    sum += (below + equal / 2) / x.length;
  }
  return sum / shifted.length - 0.5;
}

export interface FeatureTruth {
  name: string;
  kind: 'numeric' | 'categorical';
  test: 'ks' | 'chi2';
  statistic: number;
  p: number;
  direction: number | null;
}

/** Per column of `base` and `shifted` (rows of model inputs): the classical test and, for numbers, the direction. */
export function truthOf(
  features: { name: string; kind: 'numeric' | 'categorical' }[],
  base: number[][],
  shifted: number[][],
): FeatureTruth[] {
  return features.map((f, i) => {
    const a = base.map((r) => r[i]!);
    const b = shifted.map((r) => r[i]!);
    if (f.kind === 'categorical') {
      const r = chi2Homogeneity(a.map(String), b.map(String));
      return { name: f.name, kind: f.kind, test: 'chi2', statistic: r.statistic, p: r.p, direction: null };
    }
    const r = ksTwoSample(a, b);
    return { name: f.name, kind: f.kind, test: 'ks', statistic: r.d, p: r.p, direction: direction(a, b) };
  });
}
