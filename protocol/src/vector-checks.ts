/**
 * @module vector-checks
 * The shared vectors (protocol/vectors/*.json) checked with this package's own functions and
 * nothing platform-specific (WebCrypto, TextEncoder), so the same code runs in Node, in workerd
 * and in a browser: `protocol/src/vectors.test.ts` runs it in Node beside independent node:crypto
 * checks, and `test/conformance/vectors-runtimes.test.ts` runs it inside workerd and Chromium.
 * Each check reports instead of throwing, so a runtime's answer is one JSON document.
 *
 * @example
 * const results = await checkVectors({ signing, chunkPlan, manifestDigests, rootRotation, sketch, bucketing });
 * results.filter((r) => !r.ok); // what this runtime disagrees on
 */
import type { Envelope } from './envelope.ts';
import { type WeightSpec, planChunks } from './tfjs-model.ts';
import {
  addUpload,
  bucketOf,
  decodeUpload,
  emptyAggregate,
  encodeUpload,
  fromBase64,
  manifestDigest,
  pae,
  sketchCategorical,
  sketchLayout,
  sketchNumeric,
  toBase64,
  updateRoot,
  uploadSize,
  verifyBytes,
  verifyInitialRoot,
  verifyManifest,
} from './index.ts';

/** The vector files, parsed (the names are the files' in camelCase). */
export interface VectorFiles {
  signing: any;
  chunkPlan: any;
  manifestDigests: any;
  rootRotation: any;
  sketch: any;
  bucketing: any;
}
export interface VectorResult {
  vector: string;
  ok: boolean;
  detail?: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

async function check(vector: string, f: () => Promise<true | string>): Promise<VectorResult> {
  try {
    const r = await f();
    return r === true ? { vector, ok: true } : { vector, ok: false, detail: r };
  } catch (e) {
    return { vector, ok: false, detail: `threw ${(e as Error).message}` };
  }
}

async function rootChecks(v: any): Promise<VectorResult[]> {
  const now = new Date('2030-01-01T00:00:00Z');
  return Promise.all([
    check('root-rotation: manifest through the pinned root and the chain', async () => {
      const newest = await updateRoot(await verifyInitialRoot(v.pinned as Envelope), v.chain as Envelope[], now);
      const { manifest } = await verifyManifest(v.manifest.envelope as Envelope, v.manifest.digest, newest);
      return newest.version === 2 && manifest.model === 'vector-model'
        ? true
        : `root v${newest.version}, model ${manifest.model}`;
    }),
    check('root-rotation: a next root not signed by the previous keys is refused', async () => {
      const pinned = await verifyInitialRoot(v.pinned as Envelope);
      const code = await updateRoot(pinned, v.badChain as Envelope[], now).then(
        () => 'accepted',
        (e: { code?: string }) => e.code,
      );
      return code === 'unknown_key' ? true : `got ${code}`;
    }),
    check('root-rotation: a manifest signed outside the root is refused', async () => {
      const pinned = await verifyInitialRoot(v.pinned as Envelope);
      const f = v.foreignManifest;
      const code = await verifyManifest(f.envelope as Envelope, f.digest, pinned).then(
        () => 'accepted',
        (e: { code?: string }) => e.code,
      );
      return code === f.code ? true : `got ${code}, expected ${f.code}`;
    }),
  ]);
}

async function sketchCheck(v: any): Promise<true | string> {
  const layout = await sketchLayout(v.baseline);
  if (layout.schemaDigest !== v.schemaDigest) return `schema digest ${layout.schemaDigest}`;
  if (uploadSize(layout) !== v.uploadBytes) return `upload size ${uploadSize(layout)}`;
  const agg = emptyAggregate(layout, 20_000);
  const [num, cat] = v.baseline.features;
  for (const c of v.cases) {
    const features = [sketchNumeric(c.values.amount, num.edges), sketchCategorical(c.values.country, cat.vocabulary)];
    if (!same(features, c.sketches)) return 'sketches differ';
    const bytes = encodeUpload(layout, { schemaDigest: layout.schemaDigest, window: 20_000, features });
    if (toBase64(bytes) !== c.upload) return 'upload bytes differ';
    addUpload(agg, decodeUpload(layout, bytes));
  }
  return same(agg, v.aggregate) ? true : 'aggregate differs';
}

/** Every vector file's cases in this runtime; one result per case (bucketing: one for all of them). */
export async function checkVectors(files: VectorFiles): Promise<VectorResult[]> {
  const signing = files.signing.cases.map((c: any) =>
    check(`signing: ${c.description}`, async () => {
      const message = pae(c.payloadType, fromBase64(c.payload));
      if (toBase64(message) !== c.pae) return 'PAE differs';
      const valid = await verifyBytes({ alg: c.alg, spki: c.publicKey }, message, fromBase64(c.sig));
      return valid === c.valid ? true : `verified ${valid}, expected ${c.valid}`;
    }),
  );
  const plans = files.chunkPlan.cases.map((c: any) =>
    check(`chunk-plan: ${c.description}`, async () => {
      const plan = planChunks(c.weights as WeightSpec[], {
        packBytes: files.chunkPlan.packBytes,
        maxChunkBytes: files.chunkPlan.maxChunkBytes,
      });
      const got = { totalBytes: plan.totalBytes, chunks: plan.chunks, tensorChunks: plan.tensors.map((t) => t.chunks) };
      return same(got, { totalBytes: c.totalBytes, chunks: c.chunks, tensorChunks: c.tensorChunks })
        ? true
        : 'plan differs';
    }),
  );
  const digests = files.manifestDigests.cases.map((c: any) =>
    check(`manifest-digest: ${c.description}`, async () =>
      (await manifestDigest(fromBase64(c.payload))) === c.digest ? true : 'digest differs',
    ),
  );
  const bucketing = check(`bucketing: ${files.bucketing.cases.length} cases`, async () => {
    for (const c of files.bucketing.cases) {
      const b = await bucketOf(c.salt, c.deviceKey);
      if (b !== c.bucket) return `${c.salt} / ${c.deviceKey}: ${b}, expected ${c.bucket}`;
    }
    return true;
  });
  return [
    ...(await Promise.all([...signing, ...plans, ...digests])),
    ...(await rootChecks(files.rootRotation)),
    await check('sketch: schema digest, sketches, upload bytes, aggregate', () => sketchCheck(files.sketch)),
    await bucketing,
  ];
}
