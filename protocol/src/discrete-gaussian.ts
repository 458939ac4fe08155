/**
 * @module discrete-gaussian
 * Exact sampling of the discrete Gaussian N_ℤ(0, σ²) — P(x) ∝ exp(−x²/(2σ²)) on the integers —
 * after Canonne, Kamath and Steinke, "The Discrete Gaussian for Differential Privacy" (NeurIPS
 * 2020), Algorithms 1–3: Bernoulli(exp(−γ)) for a rational γ, the discrete Laplace, and rejection
 * from the discrete Laplace to the discrete Gaussian.
 *
 * Why: the released sums are integers, and a floating-point Gaussian added to them leaks through
 * the low bits of its doubles (Mironov 2012: some outputs are reachable from one input and not
 * from a neighbouring one). Here every step is integer or rational arithmetic (BigInt where a
 * number could lose bits) driven by uniform 32-bit words, so the output distribution is exactly
 * the discrete Gaussian whatever σ is, and the output is an integer by construction.
 *
 * Privacy accounting is unchanged: adding N_ℤ(0, σ²) to each coordinate of an integer vector
 * whose L2 sensitivity is Δ is ρ-zCDP with ρ = Δ²/(2σ²) (CKS Theorem 4) — the same ρ as the
 * continuous Gaussian with the same σ, so the ledger (control-plane drift/privacy.ts) stands.
 * σ² is taken as a rational rounded UP from the float σ (`varianceOf`), so the noise actually
 * drawn is never smaller than the noise the ledger accounts for. (The discrete Gaussian's
 * variance is at most σ², slightly below it for σ < 1; its privacy is governed by the parameter
 * σ², not by its variance.)
 *
 * Randomness comes from a `RandomWords` source: the platform CSPRNG (`cryptoWords`) wherever a
 * release leaves the system, a seeded generator in simulations and tests.
 */

/** Uniform, independent 32-bit unsigned integers (each call: one word in [0, 2³²)). */
export type RandomWords = () => number;

/** A non-negative rational num/den (den > 0). */
export interface Rational {
  num: bigint;
  den: bigint;
}

const TWO32 = 4294967296;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Words from the platform CSPRNG (crypto.getRandomValues), fetched 256 at a time. */
export function cryptoWords(): RandomWords {
  const buffer = new Uint32Array(256);
  let at = buffer.length;
  return () => {
    if (at === buffer.length) {
      crypto.getRandomValues(buffer);
      at = 0;
    }
    return buffer[at++]!;
  };
}

/** A uniform integer in [0, n) for 1 ≤ n ≤ 2⁵³, by rejection (no modulo bias). */
function belowNumber(n: number, words: RandomWords): number {
  if (n <= TWO32) {
    const limit = TWO32 - (TWO32 % n); // the largest multiple of n that fits
    for (;;) {
      const w = words();
      if (w < limit) return w % n;
    }
  }
  const range = 2 ** 53;
  const limit = range - (range % n);
  for (;;) {
    const x = (words() & 0x1fffff) * TWO32 + words(); // 21 + 32 bits: uniform in [0, 2⁵³)
    if (x < limit) return x % n;
  }
}

/** Bits of n > 0: from its hex digits (a quarter of the work of toString(2); this is hot). */
function bitLength(n: bigint): number {
  const hex = n.toString(16);
  return hex.length * 4 - Math.clz32(parseInt(hex[0]!, 16)) + 28;
}

/** A uniform BigInt in [0, n), n ≥ 1: the fewest words that cover n − 1, top bits masked, rejection. */
export function uniformBelow(n: bigint, words: RandomWords): bigint {
  if (n <= SAFE) return BigInt(belowNumber(Number(n), words));
  const bits = bitLength(n - 1n);
  const count = Math.ceil(bits / 32);
  const excess = BigInt(count * 32 - bits);
  for (;;) {
    let x = 0n;
    for (let i = 0; i < count; i++) x = (x << 32n) | BigInt(words());
    x >>= excess;
    if (x < n) return x;
  }
}

/**
 * Bernoulli(num/den), 0 ≤ num ≤ den: exact. For a big den, a uniform U ∈ [0, 1) is compared with
 * p = num/den 32 bits at a time (long division of p against fresh words), which almost always
 * settles on the first word: one BigInt division instead of a multi-word uniform below den.
 */
function bernoulli(num: bigint, den: bigint, words: RandomWords): boolean {
  if (den <= SAFE) return belowNumber(Number(den), words) < Number(num);
  let r = num;
  for (;;) {
    r <<= 32n;
    const digit = r / den; // p's next 32 bits, in [0, 2³²] (2³² only when p = 1)
    r -= digit * den;
    const w = words();
    const d = Number(digit);
    if (w !== d) return w < d;
    if (r === 0n) return false; // p ended here: U's remaining bits cannot fall below zeros
  }
}

/** Bernoulli(num/den) on numbers, den ≤ 2⁵³ (the hot path of the discrete Laplace). */
const bernoulliN = (num: number, den: number, words: RandomWords) => belowNumber(den, words) < num;

/** CKS Algorithm 1 for γ = num/den ∈ [0, 1]: Bernoulli(exp(−γ)) with K-th trial Bernoulli(γ/K). */
function bernoulliExpSmall(num: bigint, den: bigint, words: RandomWords): boolean {
  let k = 1n;
  while (bernoulli(num, den * k, words)) k++;
  return (k & 1n) === 1n;
}

/** Bernoulli(exp(−1)) on numbers: the same algorithm with γ = 1. */
function bernoulliExpMinusOne(words: RandomWords): boolean {
  let k = 1;
  while (bernoulliN(1, k, words)) k++;
  return (k & 1) === 1;
}

/** Bernoulli(exp(−u/t)) for integers 0 ≤ u < t ≤ 2⁴⁸ (so t·K stays exact as a number). */
function bernoulliExpFraction(u: number, t: number, words: RandomWords): boolean {
  let k = 1;
  // t·k past 2⁵³ needs ~30 consecutive successes of probability ≤ 1/k each; exact all the same.
  while (
    t * k <= Number.MAX_SAFE_INTEGER ? bernoulliN(u, t * k, words) : bernoulli(BigInt(u), BigInt(t) * BigInt(k), words)
  )
    k++;
  return (k & 1) === 1;
}

/** CKS Algorithm 1: Bernoulli(exp(−γ)) for any rational γ = num/den ≥ 0. */
export function bernoulliExp(gamma: Rational, words: RandomWords): boolean {
  const { num, den } = gamma;
  if (num <= den) return bernoulliExpSmall(num, den, words);
  // exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)): stop at the first failure.
  const whole = num / den;
  for (let i = 0n; i < whole; i++) if (!bernoulliExpMinusOne(words)) return false;
  return bernoulliExpSmall(num - whole * den, den, words);
}

/**
 * CKS Algorithm 2 with s = 1: the discrete Laplace with scale t (P(x) ∝ exp(−|x|/t)), t a
 * positive integer. A uniform remainder U < t kept with probability exp(−U/t), plus t times a
 * geometric count of Bernoulli(exp(−1)) successes; a random sign, refusing −0 so that 0 is not
 * counted twice.
 */
export function discreteLaplace(t: bigint, words: RandomWords): bigint {
  const small = t <= 2n ** 48n;
  const tn = Number(t);
  for (;;) {
    let u: bigint;
    if (small) {
      const un = belowNumber(tn, words);
      if (!bernoulliExpFraction(un, tn, words)) continue;
      u = BigInt(un);
    } else {
      u = uniformBelow(t, words);
      if (!bernoulliExpSmall(u, t, words)) continue;
    }
    let v = 0n;
    while (bernoulliExpMinusOne(words)) v++;
    const x = u + t * v;
    const negative = (words() & 1) === 1;
    if (negative && x === 0n) continue;
    return negative ? -x : x;
  }
}

/** ⌊√n⌋ for a BigInt n ≥ 0 (Newton's method from above). */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n)))) + 1n; // ≥ ⌊√n⌋ unless the float was far off
  if (x * x <= n) x = n; // fall back to a certain upper bound
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * CKS Algorithm 3: the discrete Gaussian with variance parameter σ² = num/den > 0. Discrete
 * Laplace proposals with t = ⌊σ⌋ + 1, each accepted with probability
 * exp(−(|Y| − σ²/t)² / (2σ²)) — for that rational γ = (|Y|·t·den − num)² / (2·num·den·t²).
 */
export function discreteGaussian(sigma2: Rational, words: RandomWords): bigint {
  const { num, den } = sigma2;
  if (num <= 0n || den <= 0n) throw new RangeError('the discrete Gaussian needs σ² > 0');
  const t = isqrt(num / den) + 1n; // ⌊σ⌋ + 1, since ⌊√x⌋ = ⌊√⌊x⌋⌋
  const gammaDen = 2n * num * den * t * t;
  for (;;) {
    const y = discreteLaplace(t, words);
    const a = (y < 0n ? -y : y) * t * den - num;
    if (bernoulliExp({ num: a * a, den: gammaDen }, words)) return y;
  }
}

/**
 * σ² as a rational, rounded UP from the float σ (never below it): the exact square of the double
 * σ (a dyadic rational), its denominator then shortened to keep about 64 significant bits, with
 * the numerator rounded up. Shorter numbers keep the sampler fast; rounding up keeps the noise
 * at or above what the ledger accounts (ρ = Δ²/(2σ²) can only shrink).
 */
export function varianceOf(sigma: number): Rational {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new RangeError(`σ must be positive and finite, got ${sigma}`);
  // σ = m / 2^shift exactly: doubling a double is exact, and at most ~1074 doublings make it whole.
  let scaled = sigma;
  let shift = 0;
  while (!Number.isInteger(scaled)) {
    scaled *= 2;
    shift++;
  }
  const m = BigInt(scaled);
  let num = m * m;
  let den = 1n << BigInt(2 * shift);
  const excess = Math.min(bitLength(num) - 64, 2 * shift);
  if (excess > 0) {
    const e = BigInt(excess);
    num = (num + (1n << e) - 1n) >> e; // ceiling
    den >>= e;
  }
  return { num, den };
}

/**
 * A sampler of N_ℤ(0, σ²) as numbers, for a float σ (in the integer units of what is noised).
 * σ² is rounded up once (`varianceOf`); draws are exact integers. Values beyond 2⁵³ would not
 * survive the conversion; σ would have to be ~10¹⁴ for that to happen with any probability.
 */
export function discreteGaussianSampler(sigma: number, words: RandomWords): () => number {
  const sigma2 = varianceOf(sigma);
  return () => Number(discreteGaussian(sigma2, words));
}
