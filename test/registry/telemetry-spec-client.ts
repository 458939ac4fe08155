/**
 * @module telemetry-spec-client (test/registry)
 * A device telemetry client written from protocol/SPEC.md §10 alone: plain Node (node:crypto,
 * DataView), no web SDK and none of protocol's sketch code. It derives a baseline's layout and
 * schemaDigest (10.2), encodes values (10.4) into sketch bytes (10.3), and health records from
 * counters (10.5). telemetry-spec.test.ts runs it against the real edge.
 */
import { createHash, randomBytes } from 'node:crypto';

// ---- The spec's numbers, copied from SPEC.md (the first test checks protocol agrees) ----------
export const SKETCH_SCALE = 4096;
export const COMPONENT_SCALE = 16384;
export const K = 4;
export const MIN_SAMPLES = 10;
export const MAX_SAMPLES = 64;
export const HEADER_BYTES = 44;
export const MAX_UPLOAD_BYTES = 65_536;
export const VECTOR_BASELINE = {
  features: [
    { name: 'amount', kind: 'numeric', edges: [0, 10, 100] },
    { name: 'channel', kind: 'categorical', vocabulary: ['web', 'app'] },
  ],
};
export const VECTOR_DIGEST = 'a9697b67ff8ab37e65919e0fd1572ba45eb22060ca6c7ca34366635cbe92ee1d';
export const HEALTH_DIGEST = 'd7c2ab417cb66718c19de720d6a830bc3ebdcba2790c4f20d0ef667c50d9dc9a';
export const HEALTH_BASELINE = {
  features: [
    { name: 'load', kind: 'categorical', vocabulary: ['ok', 'load_failed', 'verify_failed'] },
    { name: 'predict', kind: 'categorical', vocabulary: ['ok', 'inference_error', 'non_finite'] },
    { name: 'latency_ms', kind: 'numeric', edges: [0, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] },
    { name: 'backend', kind: 'categorical', vocabulary: ['webgpu', 'wasm', 'cpu'] },
    { name: 'feedback', kind: 'categorical', vocabulary: ['correct', 'incorrect'] },
  ],
};

// ---- SPEC 10.2: the layout ------------------------------------------------------------------------
export type Point = [number, number] | [number, number, number];
type Numeric = { name: string; kind: 'numeric'; edges: number[]; pit?: Point[] };
type Categorical = { name: string; kind: 'categorical'; vocabulary: string[] };
type Feature = Numeric | Categorical;
export interface SpecBaseline {
  features: Feature[];
  outputs?: { classCounts?: number[]; confidenceDeciles?: number[]; confidence?: Omit<Numeric, 'name' | 'kind'> };
}
export interface Layout {
  digest: string;
  features: (Feature & { bins: number; components: number })[];
  bytes: number;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export function specLayout(baseline: SpecBaseline): Layout {
  const monitored: Feature[] = [...baseline.features];
  const classes = baseline.outputs?.classCounts;
  if (classes)
    monitored.push({ name: '@output.class', kind: 'categorical', vocabulary: classes.map((_, i) => String(i)) });
  const d = baseline.outputs?.confidenceDeciles;
  const confidence = baseline.outputs?.confidence;
  if (confidence)
    monitored.push({
      name: '@output.confidence',
      kind: 'numeric',
      edges: confidence.edges,
      ...(confidence.pit ? { pit: confidence.pit } : {}),
    });
  else if (d) {
    const edges: number[] = [];
    for (const e of [Math.min(1 / (classes?.length ?? 2), d[0]!), ...d, 1])
      if (edges.length === 0 || e > edges[edges.length - 1]!) edges.push(e);
    if (edges.length >= 2) monitored.push({ name: '@output.confidence', kind: 'numeric', edges });
  }
  const features = monitored.map((f) => ({
    ...f,
    bins: f.kind === 'numeric' ? f.edges.length - 1 + 3 : f.vocabulary.length + 2,
    components: f.kind === 'numeric' ? K : 0,
  }));
  const described = monitored.map((f) =>
    f.kind === 'numeric' ? ['n', f.name, f.edges, f.pit ?? null] : ['c', f.name, f.vocabulary],
  );
  const digest = sha256(JSON.stringify(['modelfleet/sketch/v1', SKETCH_SCALE, COMPONENT_SCALE, described]));
  return { digest, features, bytes: HEADER_BYTES + features.reduce((n, f) => n + 2 * (f.bins + f.components), 0) };
}

// ---- SPEC 10.4: values --------------------------------------------------------------------------
export type Value = number | string | null;
interface Encoded {
  bins: number[];
  components: number[];
}

function quantise(counts: number[]): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  const q = counts.map((c) => Math.floor((SKETCH_SCALE * c) / n));
  const frac = counts
    .map((c, j) => [(SKETCH_SCALE * c) / n - q[j]!, j] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  let left = SKETCH_SCALE - q.reduce((a, b) => a + b, 0);
  for (const [, j] of frac) if (left-- > 0) q[j]!++;
  return q;
}

function numericBin(x: Value, edges: number[]): number {
  const B = edges.length - 1;
  if (typeof x !== 'number' || !Number.isFinite(x)) return B + 2;
  if (x < edges[0]!) return 0;
  if (x > edges[B]!) return B + 1;
  for (let i = 1; i <= B; i++) if (x < edges[i]!) return i;
  return B; // x = e_B
}

/** v uniform in [0, 1) from a CSPRNG (SPEC 10.4), drawn only inside a jump. */
const v = () => randomBytes(4).readUInt32LE(0) / 2 ** 32;

/** SPEC 10.4's randomized PIT on points [x, F(x−), F(x)] (a 2-element point has F(x−) = F(x)). */
function pit(x: number, table: Point[]): number {
  const points = table.map((p) => (p.length === 2 ? [p[0], p[1], p[1]] : p) as [number, number, number]);
  const within = (lo: number, hi: number) => (hi > lo ? lo + v() * (hi - lo) : lo);
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (x < first[0]) return within(0, first[1]);
  if (x > last[0]) return within(last[2], 1);
  const j = points.findIndex((p) => p[0] >= x);
  if (points[j]![0] === x) return within(points[j]![1], points[j]![2]);
  const [x0, , f0] = points[j - 1]!;
  const [x1, f1minus] = points[j]!;
  return f0 + ((x - x0) / (x1 - x0)) * (f1minus - f0);
}

export function encodeFeature(
  f: Layout['features'][number],
  values: Value[],
  minSamples = MIN_SAMPLES,
): Encoded | null {
  if (values.length < minSamples) return null; // absent
  const counts = new Array<number>(f.bins).fill(0);
  if (f.kind === 'categorical') {
    for (const v of values)
      counts[
        v === null
          ? f.vocabulary.length + 1
          : f.vocabulary.indexOf(String(v)) >= 0
            ? f.vocabulary.indexOf(String(v))
            : f.vocabulary.length
      ]!++;
    return { bins: quantise(counts), components: [] };
  }
  const points = f.pit ?? f.edges.map((e, k) => [e, k / (f.edges.length - 1)] as Point);
  const sums = [0, 0, 0, 0];
  let m = 0;
  for (const raw of values) {
    const x = typeof raw === 'number' ? Math.fround(raw) : raw; // float32 first
    counts[numericBin(x, f.edges)]!++;
    if (typeof x !== 'number' || !Number.isFinite(x)) continue;
    m++;
    const t = 2 * pit(x, points) - 1;
    const p = [t, (3 * t * t - 1) / 2, (5 * t ** 3 - 3 * t) / 2, (35 * t ** 4 - 30 * t * t + 3) / 8];
    p.forEach((v, k) => (sums[k]! += v));
  }
  return {
    bins: quantise(counts),
    components: sums.map((s) => (m === 0 ? 0 : Math.floor((COMPONENT_SCALE * s) / m + 0.5))),
  };
}

// ---- SPEC 10.3: bytes ---------------------------------------------------------------------------
export function encode(
  layout: Layout,
  window: number,
  features: (Encoded | null)[],
  digest = layout.digest,
): Uint8Array {
  const bytes = new Uint8Array(layout.bytes);
  const view = new DataView(bytes.buffer);
  bytes.set([0x4d, 0x46, 0x53, 0x31], 0); // "MFS1"
  view.setUint8(4, 1);
  view.setUint8(5, 0);
  view.setUint16(6, layout.features.length, true);
  bytes.set(Buffer.from(digest, 'hex'), 8);
  view.setUint32(40, window, true);
  let at = HEADER_BYTES;
  layout.features.forEach((f, i) => {
    for (let b = 0; b < f.bins; b++, at += 2) view.setUint16(at, features[i]?.bins[b] ?? 0, true);
    for (let k = 0; k < f.components; k++, at += 2) view.setInt16(at, features[i]?.components[k] ?? 0, true);
  });
  return bytes;
}

// ---- SPEC 10.5: a health record from counters ---------------------------------------------------
export function healthRecord(
  layout: Layout,
  counters: Record<string, number>[],
  latencies: number[],
  window: number,
): Uint8Array {
  const expand = (c: Record<string, number>) => {
    const total = Object.values(c).reduce((a, b) => a + b, 0);
    const scale = total > SKETCH_SCALE ? SKETCH_SCALE / total : 1;
    return Object.entries(c).flatMap(([k, n]) => new Array<string>(Math.round(n * scale)).fill(k));
  };
  const [load, predict, backend, feedback] = counters;
  const f = layout.features;
  return encode(layout, window, [
    encodeFeature(f[0]!, expand(load!), 1),
    encodeFeature(f[1]!, expand(predict!), 1),
    encodeFeature(f[2]!, latencies.slice(0, MAX_SAMPLES)),
    encodeFeature(f[3]!, expand(backend!), 1),
    encodeFeature(f[4]!, expand(feedback!), 1),
  ]);
}
