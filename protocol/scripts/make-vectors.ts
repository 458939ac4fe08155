/**
 * Regenerates protocol/vectors/*.json. Vectors are committed: consumers check against fixed
 * bytes, so regenerate only when a format changes on purpose (then every runtime must agree).
 *   npm run vectors
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type KeyPairRecord,
  type Manifest,
  PAYLOAD_TYPES,
  createKeySet,
  generateKeyPair,
  manifestDigest,
  pae,
  addUpload,
  decodeUpload,
  emptyAggregate,
  encodeUpload,
  serializeManifest,
  signEnvelope,
  signInitialRoot,
  signManifest,
  signRotatedRoot,
  signerFrom,
  sketchCategorical,
  sketchLayout,
  sketchNumeric,
  toBase64,
  uploadSize,
  utf8,
  bucketOf,
  DEFAULT_MAX_CHUNK_BYTES,
  DEFAULT_PACK_BYTES,
  type WeightSpec,
  planChunks,
} from '../src/index.ts';

const out = join(import.meta.dirname, '..', 'vectors');
const write = (name: string, value: unknown) => writeFileSync(join(out, name), JSON.stringify(value, null, 2) + '\n');

async function signingCases() {
  const cases = [];
  for (const alg of ['ecdsa-p256-sha256', 'ed25519'] as const) {
    const key = await generateKeyPair(alg);
    const other = await generateKeyPair(alg);
    const payload = utf8(JSON.stringify({ hello: 'modelfleet', alg, unicode: 'Grüße 👋' }));
    const env = await signEnvelope(PAYLOAD_TYPES.ticket, payload, [await signerFrom(key)]);
    const base = {
      alg,
      keyid: key.keyid,
      publicKey: key.publicKey,
      payloadType: env.payloadType,
      pae: toBase64(pae(env.payloadType, payload)),
    };
    cases.push({
      description: `${alg}: valid signature`,
      ...base,
      payload: env.payload,
      sig: env.signatures[0]!.sig,
      valid: true,
    });
    const tampered = payload.slice();
    tampered[2] = tampered[2]! ^ 1;
    cases.push({
      description: `${alg}: payload changed after signing`,
      ...base,
      payload: toBase64(tampered),
      pae: toBase64(pae(env.payloadType, tampered)),
      sig: env.signatures[0]!.sig,
      valid: false,
    });
    const foreign = await signEnvelope(PAYLOAD_TYPES.ticket, payload, [await signerFrom(other)]);
    cases.push({
      description: `${alg}: signed by another key`,
      ...base,
      payload: env.payload,
      sig: foreign.signatures[0]!.sig,
      valid: false,
    });
  }
  return {
    description: 'DSSE signatures: verify sig over pae (base64) with the SPKI public key; keyid = sha256(spki).',
    cases,
  };
}

function demoManifest(version: number): Manifest {
  return {
    type: 'modelfleet/manifest',
    specVersion: 1,
    model: 'vector-model',
    version,
    format: 'tfjs-layers',
    modelJson: { format: 'layers-model', modelTopology: { class_name: 'Sequential' } },
    weights: [
      { name: 'dense/kernel', dtype: 'float32', shape: [2, 1], offset: 0, size: 8, chunks: [0] },
      { name: 'dense/bias', dtype: 'float32', shape: [1], offset: 8, size: 4, chunks: [0] },
    ],
    chunks: [{ digest: 'a'.repeat(64), size: 12 }],
    totalBytes: 12,
    io: {
      inputs: [{ name: 'x', dtype: 'float32', shape: [null, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [null, 1] }],
    },
    runtime: { backends: ['webgpu', 'wasm', 'cpu'] },
    monitoring: { baseline: null },
    metrics: { values: { auc: 0.9 } },
    params: {},
    lineage: {},
    publishedAt: '2026-01-01T00:00:00.000Z',
    publishedBy: 'vectors',
  };
}

async function manifestCases() {
  const cases = [];
  for (const version of [1, 2]) {
    const payload = serializeManifest(demoManifest(version));
    cases.push({
      description: `manifest v${version}`,
      payload: toBase64(payload),
      digest: await manifestDigest(payload),
    });
  }
  return { description: 'manifest digest = sha256 of the exact payload bytes (hex).', cases };
}

async function rotationCase() {
  const v1Keys = await createKeySet();
  const expires = new Date('2099-01-01T00:00:00Z');
  const rootV1 = await signInitialRoot(v1Keys, expires);
  const newRootKey: KeyPairRecord = await generateKeyPair();
  const v2Keys = { ...v1Keys, root: [newRootKey] };
  const rootV2 = await signRotatedRoot(v1Keys.root, 1, v2Keys, expires);
  const release = await signerFrom(v1Keys.release[0]!);
  const manifest = await signManifest(demoManifest(1), [release]);
  const stranger = await signerFrom(await generateKeyPair());
  const forged = await signManifest(demoManifest(1), [stranger]);
  // A v2 signed only by the new key (not by root v1) must be refused.
  const selfOnly = await signRotatedRoot([], 1, v2Keys, expires);
  return {
    description: 'Pin rootV1, update through chain, verify manifests against the release role of the newest root.',
    pinned: rootV1,
    chain: [rootV2],
    badChain: [selfOnly],
    manifest: { envelope: manifest.envelope, digest: manifest.digest, valid: true },
    foreignManifest: { envelope: forged.envelope, digest: forged.digest, valid: false, code: 'unknown_key' },
  };
}

async function sketchCases() {
  const edges = [-2, -1.28, -0.84, -0.52, -0.25, 0, 0.25, 0.52, 0.84, 1.28, 2];
  const baseline = {
    features: [
      { name: 'amount', kind: 'numeric' as const, edges },
      { name: 'country', kind: 'categorical' as const, vocabulary: ['de', 'fr', 'us'] },
    ],
  };
  const layout = await sketchLayout(baseline);
  const devices = [0, 1, 2].map((d) => ({
    amount: Array.from({ length: 12 + 20 * d }, (_, i) => (i % 7 === 6 ? null : Math.sin(i * 1.7 + d) * 2.5)),
    country: Array.from({ length: 10 + d }, (_, i) => (['de', 'fr', 'us', 'zz', null] as const)[(i + d) % 5]!),
  }));
  const agg = emptyAggregate(layout, 20_000);
  const cases = devices.map((d) => {
    const upload = {
      schemaDigest: layout.schemaDigest,
      window: 20_000,
      features: [sketchNumeric(d.amount, edges), sketchCategorical(d.country, ['de', 'fr', 'us'])],
    };
    const bytes = encodeUpload(layout, upload);
    addUpload(agg, decodeUpload(layout, bytes));
    return { values: d, sketches: upload.features, upload: toBase64(bytes) };
  });
  return {
    description:
      'Sketch layout v1: schemaDigest from the baseline, per-device sketches, encoded uploads, and their exact aggregate.',
    baseline,
    schemaDigest: layout.schemaDigest,
    uploadBytes: uploadSize(layout),
    cases,
    aggregate: agg,
  };
}

/**
 * Bucketing: ASCII, non-ASCII (accents, CJK, emoji, combining marks) and odd ids, several salts,
 * and ids found by search so that buckets 0, 9999 and the edges of common percentages appear.
 */
async function bucketingCases() {
  const salts = ['fraud:v2', 'rollout-7f3a', 'Sälz-🧂', ''];
  const ids: string[] = [];
  for (let i = 0; i < 2500; i++) ids.push(`device-${i}`);
  for (let i = 0; i < 200; i++) ids.push(`Gerät-ü-${i}`, `设备-${i}`, `📱-${i}`, `e\u0301-${i}`); // the last: e + combining acute (not NFC-normalised)
  ids.push('', ' ', ':', 'a:b:c', 'x'.repeat(128));
  const cases: { salt: string; deviceKey: string; bucket: number }[] = [];
  for (const salt of salts.slice(0, 3))
    for (const deviceKey of ids) cases.push({ salt, deviceKey, bucket: await bucketOf(salt, deviceKey) });
  for (const deviceKey of ids.slice(0, 200)) cases.push({ salt: '', deviceKey, bucket: await bucketOf('', deviceKey) });
  // Edges: find ids landing on buckets at either side of 1 %, 5 %, 25 %, 50 % and the ends.
  const wanted = new Set([0, 99, 100, 499, 500, 2499, 2500, 4999, 5000, 9899, 9900, 9999]);
  for (let i = 0; wanted.size > 0 && i < 5_000_000; i++) {
    const deviceKey = `edge-${i}`;
    const bucket = await bucketOf('fraud:v2', deviceKey);
    if (wanted.delete(bucket)) cases.push({ salt: 'fraud:v2', deviceKey, bucket });
  }
  return {
    description:
      'bucket = uint32 big-endian of the first 4 bytes of SHA-256(utf8(salt + ":" + deviceKey)), mod 10000. Challenger: bucket < percent·100.',
    cases,
  };
}

/**
 * Chunk plans (SPEC 5.1) for weight lists a publisher in any language must cut the same way:
 * names that share no layer, the packing target's edges, a split tensor, empty and quantized ones.
 */
function chunkPlanCases() {
  const KiB = 1024;
  const f32 = (name: string, bytes: number): WeightSpec => ({ name, shape: [bytes / 4], dtype: 'float32' });
  const graph = Array.from({ length: 12 }, (_, i) =>
    f32(`StatefulPartitionedCall/op_${i}/ReadVariableOp`, 4 * (1 + ((i * 37) % 500))),
  );
  const lists: { description: string; weights: WeightSpec[] }[] = [
    { description: 'converted graph model: neighbours share no layer name, all packed into one chunk', weights: graph },
    {
      description: 'small tensors up to the target, then one that would overflow it starts the next chunk',
      weights: [f32('a/k', 200 * KiB), f32('a/b', 56 * KiB), f32('b/k', 4), f32('b/b', 4)],
    },
    {
      description: 'a tensor of exactly the target gets its own chunk and closes the open one',
      weights: [f32('x', 400), f32('y', DEFAULT_PACK_BYTES), f32('z', 400)],
    },
    {
      description: 'a tensor above the chunk limit is split every 4 MiB',
      weights: [f32('head/bias', 40), f32('body/kernel', 9 * 1024 * KiB), f32('tail/bias', 40)],
    },
    {
      description: 'empty tensors occupy no chunk; quantized tensors count their stored bytes',
      weights: [
        { name: 'empty', shape: [0, 3], dtype: 'float32' },
        { name: 'q8', shape: [1000], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.01, min: -1 } },
        { name: 'q16', shape: [1000], dtype: 'float32', quantization: { dtype: 'float16' } },
        { name: 'axis', shape: [], dtype: 'int32' },
        { name: 'mask', shape: [3], dtype: 'bool' },
      ],
    },
  ];
  const cases = lists.map(({ description, weights }) => {
    const plan = planChunks(weights);
    return {
      description,
      weights,
      totalBytes: plan.totalBytes,
      chunks: plan.chunks,
      tensorChunks: plan.tensors.map((t) => t.chunks),
    };
  });
  return {
    description:
      'planChunks (SPEC 5.1): tensors in order; one below packBytes joins the open chunk while it stays within packBytes, else opens one; one of packBytes or more gets its own chunks, split every maxChunkBytes. Names and values never matter.',
    packBytes: DEFAULT_PACK_BYTES,
    maxChunkBytes: DEFAULT_MAX_CHUNK_BYTES,
    cases,
  };
}

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);
if (want('signing')) write('signing.json', await signingCases());
if (want('sketch')) write('sketch.json', await sketchCases());
if (want('manifest-digests')) write('manifest-digests.json', await manifestCases());
if (want('root-rotation')) write('root-rotation.json', await rotationCase());
if (want('bucketing')) write('bucketing.json', await bucketingCases());
if (want('chunk-plan')) write('chunk-plan.json', chunkPlanCases());

console.log(
  `wrote protocol/vectors/${only.length ? only.join(', ') : 'all'} (npm run vectors -- bucketing writes one)`,
);
