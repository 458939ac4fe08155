/**
 * @module examples/demo/transactions
 * Seeded synthetic card transactions: the 12 features of examples/fraud-model and a fraud label
 * drawn from a logistic score. Regime 'before' is the distribution make-fraud-model.ts trains on
 * (the same draws in the same order, so the example is reproducible from this module); regime
 * 'after' is a new fraud pattern: larger amounts, riskier merchants, more foreign and online
 * transactions in bursts, from new devices, and a label the old score no longer explains.
 *
 * @example
 * const rows = transactions(2000, { seed: 7, regime: 'after' }); // [{ x: [12 numbers], y: 0 | 1 }, …]
 */

export const FEATURES = [
  'amount',
  'hour',
  'merchant_risk',
  'distance_km',
  'velocity_1h',
  'velocity_24h',
  'card_age_days',
  'foreign',
  'online',
  'avg_amount_30d',
  'declines_7d',
  'device_age_days',
] as const;
export type Feature = (typeof FEATURES)[number];

export type Regime = 'before' | 'after';
export interface Transaction {
  x: number[];
  y: 0 | 1;
}

/** mulberry32: small, fast and the same on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sigmoid = (s: number) => 1 / (1 + Math.exp(-s));

/** One transaction; the draw order of 'before' is make-fraud-model's, which its bytes depend on. */
function draw(rand: () => number, regime: Regime): Transaction {
  // Box–Muller written out (protocol's boxMuller guards log(0) differently): the example depends
  // on nothing, and make-fraud-model's committed bytes depend on these exact draws.
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  if (regime === 'before') {
    const x = [
      Math.exp(3.5 + normal()),
      Math.floor(rand() * 24),
      rand(),
      Math.abs(normal()) * 30,
      Math.floor(rand() * 5),
      Math.floor(rand() * 20),
      Math.floor(rand() * 2000),
      rand() < 0.1 ? 1 : 0,
      rand() < 0.6 ? 1 : 0,
      Math.exp(3.5 + 0.5 * normal()),
      Math.floor(rand() * 3),
      Math.floor(rand() * 900),
    ];
    const score =
      -5 + (0.012 * x[0]!) / 10 + 2.5 * x[2]! + 0.02 * x[3]! + 0.4 * x[4]! + 1.2 * x[7]! + 0.8 * x[10]! - 0.001 * x[6]!;
    return { x, y: rand() < sigmoid(score) ? 1 : 0 };
  }
  // 'after': amounts ×2.7 on average, merchant risk skewed high, three times the foreign share,
  // more online, bursts of transactions within the hour, and many more freshly set-up devices.
  const x = [
    Math.exp(4.5 + normal()),
    Math.floor(rand() * 24),
    Math.sqrt(rand()),
    Math.abs(normal()) * 30,
    Math.floor(rand() * 8),
    Math.floor(rand() * 20),
    Math.floor(rand() * 2000),
    rand() < 0.3 ? 1 : 0,
    rand() < 0.75 ? 1 : 0,
    Math.exp(3.5 + 0.5 * normal()),
    Math.floor(rand() * 3),
    Math.floor(rand() ** 2 * 900),
  ];
  // The new pattern: large online purchases from freshly set-up devices at night, far above the
  // card's usual spend. Merchant risk, distance and declines no longer tell fraud apart.
  const [amount, hour, , , , , , foreign, online, avg, , deviceAge] = x as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const score =
    -4 +
    1.6 * Math.log(amount / avg) +
    2 * (online * (deviceAge < 90 ? 1 : 0)) +
    1.2 * (hour < 6 ? 1 : 0) +
    0.6 * foreign;
  return { x, y: rand() < sigmoid(score) ? 1 : 0 };
}

/** `n` transactions of `regime` from `seed`; the same arguments give the same rows everywhere. */
export function transactions(n: number, o: { seed: number; regime: Regime }): Transaction[] {
  const rand = seededRandom(o.seed);
  return Array.from({ length: n }, () => draw(rand, o.regime));
}
