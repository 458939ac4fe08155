// Bad input gets a coded error with the right status, and the registry is left as it was.
import { MAX_UPLOAD_REQUEST_BYTES } from '@modelfleet/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildLayersModel, goldenFor } from '../fixtures/models.ts';
import { chunkArtifacts, createModel, publish, putChunk, registrySnapshot, stageUpload } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let artifacts: Awaited<ReturnType<typeof buildLayersModel>>;
let before: Awaited<ReturnType<typeof registrySnapshot>>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  worker = await startWorker({ vars: { MAX_MODEL_BYTES: String(64 * 1024) } });
  artifacts = await buildLayersModel({ seed: 3, inputs: 4, hidden: 8, outputs: 1 });
  await createModel(worker, 'fraud');
  const ok = await publish(worker, 'fraud', artifacts);
  expect(ok.res.status).toBe(201);
  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
  for (const role of ['viewer', 'publisher', 'operator'] as const) {
    const res = await worker.api('/v1/tokens', { method: 'POST', json: { role, label: role } });
    tokens[role] = ((await res.json()) as { token: string }).token;
  }
  const expired = await worker.api('/v1/tokens', { method: 'POST', json: { role: 'admin', expiresInSeconds: 60 } });
  const expiredBody = (await expired.json()) as { id: string; token: string };
  await worker.db
    .prepare('UPDATE tokens SET expires_at = ? WHERE id = ?')
    .bind('2020-01-01T00:00:00.000Z', expiredBody.id)
    .run();
  tokens.expired = expiredBody.token;
  const app = await worker.api('/v1/apps', { method: 'POST', json: { name: 'web', models: ['fraud'] } });
  tokens.app = ((await app.json()) as { appKey: string }).appKey;
});
afterAll(() => worker?.dispose());
beforeEach(async () => {
  before = await registrySnapshot(worker);
});

async function expectRefused(res: Response, status: number, code: string) {
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(await registrySnapshot(worker)).toEqual(before);
}

describe('auth', () => {
  it('missing token → 401 unauthorized', async () =>
    expectRefused(await worker.api('/v1/models', { token: null }), 401, 'unauthorized'));
  it('invalid token → 401 unauthorized', async () =>
    expectRefused(await worker.api('/v1/models', { token: 'mft_nope' }), 401, 'unauthorized'));
  it('expired token → 401 token_expired', async () =>
    expectRefused(await worker.api('/v1/models', { token: tokens.expired }), 401, 'token_expired'));
  it('viewer cannot publish → 403 forbidden', async () =>
    expectRefused(
      await worker.api('/v1/models', { method: 'POST', token: tokens.viewer, json: { name: 'x' } }),
      403,
      'forbidden',
    ));
  it('publisher cannot move aliases → 403 forbidden', async () =>
    expectRefused(
      await worker.api('/v1/models/fraud/aliases/champion', {
        method: 'PUT',
        token: tokens.publisher,
        json: { version: 1 },
      }),
      403,
      'forbidden',
    ));
  it('operator cannot mint tokens → 403 forbidden', async () =>
    expectRefused(
      await worker.api('/v1/tokens', { method: 'POST', token: tokens.operator, json: { role: 'admin' } }),
      403,
      'forbidden',
    ));
  it('a device app key on an operator route → 403 forbidden', async () =>
    expectRefused(
      await worker.api('/v1/models', { method: 'POST', token: tokens.app, json: { name: 'x' } }),
      403,
      'forbidden',
    ));
  it('device routes cannot write: no PUT/POST exists under /v1/edge', async () => {
    const res = await worker.api('/v1/edge/tickets/fraud?device=d', {
      method: 'POST',
      token: null,
      headers: { 'x-modelfleet-app-key': tokens.app! },
    });
    expect(res.status).toBe(404);
    expect(await registrySnapshot(worker)).toEqual(before);
  });
});

describe('request shape', () => {
  it('unknown field → 400 unknown_field', async () =>
    expectRefused(
      await worker.api('/v1/models', { method: 'POST', json: { name: 'x', colour: 'red' } }),
      400,
      'unknown_field',
    ));
  it('unknown nested field in an upload → 400 unknown_field', async () => {
    const { res } = await stageUpload(worker, 'fraud', artifacts, { lineage: { parentVersoin: 1 } as never });
    await expectRefused(res, 400, 'unknown_field');
  });
  it('wrong type → 400 bad_request', async () =>
    expectRefused(
      await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 'one' } }),
      400,
      'bad_request',
    ));
  it('malformed JSON → 400 bad_request', async () =>
    expectRefused(
      await worker.api('/v1/models', {
        method: 'POST',
        body: '{"name":',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'bad_request',
    ));
  it('wrong content type → 415 unsupported_media_type', async () =>
    expectRefused(
      await worker.api('/v1/models', {
        method: 'POST',
        body: 'name=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'unsupported_media_type',
    ));
  it('unknown model → 404 unknown_model', async () => {
    const { res } = await stageUpload(worker, 'nosuch', artifacts);
    await expectRefused(res, 404, 'unknown_model');
  });
  it('unknown version for an alias → 404 unknown_version', async () =>
    expectRefused(
      await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 99 } }),
      404,
      'unknown_version',
    ));
});

describe('model bytes', () => {
  it('malformed model.json → 400 malformed_model_json', async () => {
    const modelJson = { modelTopology: {}, weightsManifest: [{ paths: 'x' }] };
    const res = await worker.api('/v1/models/fraud/uploads', {
      method: 'POST',
      json: { format: 'tfjs-layers', modelJson, chunks: [] },
    });
    await expectRefused(res, 400, 'bad_request');
  });
  it('a weight listed twice in model.json → 400 malformed_model_json', async () => {
    const mj = structuredClone(artifacts.modelJson);
    mj.weightsManifest[0]!.weights.push(mj.weightsManifest[0]!.weights[0]!);
    const res = await worker.api('/v1/models/fraud/uploads', {
      method: 'POST',
      json: { format: 'tfjs-layers', modelJson: mj, chunks: [] },
    });
    await expectRefused(res, 400, 'malformed_model_json');
  });
  it('string dtype → 400 unsupported_dtype', async () => {
    const mj = structuredClone(artifacts.modelJson) as any;
    mj.weightsManifest[0].weights[0].dtype = 'string';
    const res = await worker.api('/v1/models/fraud/uploads', {
      method: 'POST',
      json: { format: 'tfjs-layers', modelJson: mj, chunks: [] },
    });
    await expectRefused(res, 400, 'unsupported_dtype');
  });
  it('chunk plan that does not match the weight specs → 422 weights_mismatch', async () => {
    const chunks = chunkArtifacts(artifacts).map(({ digest, size }) => ({ digest, size: size + 4 }));
    const res = await worker.api('/v1/models/fraud/uploads', {
      method: 'POST',
      json: { format: 'tfjs-layers', modelJson: artifacts.modelJson, chunks },
    });
    await expectRefused(res, 422, 'weights_mismatch');
  });
  it('oversized model (MAX_MODEL_BYTES) → 413 payload_too_large', async () => {
    const big = await buildLayersModel({ seed: 1, inputs: 64, hidden: 512, outputs: 1 });
    const { res } = await stageUpload(worker, 'fraud', big);
    await expectRefused(res, 413, 'payload_too_large');
  });
  it('oversized JSON body → 413 payload_too_large', async () => {
    const res = await worker.api('/v1/models', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', description: 'y'.repeat(9 * 2 ** 20) }),
      headers: { 'content-type': 'application/json' },
    });
    // The limit travels with the error, so the CLI can say which of its files is too large.
    expect(((await res.clone().json()) as { error: { details: unknown } }).error.details).toEqual({
      limit: MAX_UPLOAD_REQUEST_BYTES,
    });
    await expectRefused(res, 413, 'payload_too_large');
  });
  it('chunk bytes that do not hash to their digest → 422 chunk_digest_mismatch, nothing stored', async () => {
    const { body, chunks } = await stageUpload(
      worker,
      'fraud',
      await buildLayersModel({ seed: 11, inputs: 4, hidden: 8, outputs: 1 }),
    );
    const c = chunks[0]!;
    const bad = c.bytes.slice();
    bad[0] = bad[0]! ^ 0xff;
    await expectRefused(await putChunk(worker, body.uploadId, c.digest, bad), 422, 'chunk_digest_mismatch');
    expect(await worker.r2.head(`chunks/${c.digest}`)).toBeNull();
  });
  it('chunk too large for the limit → 413 payload_too_large', async () => {
    const { body } = await stageUpload(worker, 'fraud', artifacts);
    await expectRefused(
      await putChunk(worker, body.uploadId, 'a'.repeat(64), new Uint8Array(4 * 2 ** 20 + 1)),
      413,
      'payload_too_large',
    );
  });
  it('chunk with the wrong content type → 415', async () => {
    const { body, chunks } = await stageUpload(worker, 'fraud', artifacts);
    const res = await worker.api(`/v1/uploads/${body.uploadId}/chunks/${chunks[0]!.digest}`, {
      method: 'PUT',
      body: chunks[0]!.bytes as unknown as BodyInit,
      headers: { 'content-type': 'text/plain' },
    });
    await expectRefused(res, 415, 'unsupported_media_type');
  });
  it('missing weight file (chunk never uploaded) → 409 upload_incomplete at commit', async () => {
    const fresh = await buildLayersModel({ seed: 12, inputs: 4, hidden: 8, outputs: 1 });
    const { body } = await stageUpload(worker, 'fraud', fresh);
    expect(body.missing.length).toBeGreaterThan(0);
    await expectRefused(
      await worker.api(`/v1/uploads/${body.uploadId}/commit`, { method: 'POST' }),
      409,
      'upload_incomplete',
    );
  });
});

describe('validation failures are recorded as rejected and never served', () => {
  it('a transposed kernel (same bytes, wrong shape) → 422 validation_failed, champion unchanged', async () => {
    const mj = structuredClone(artifacts.modelJson) as any;
    const kernel = mj.weightsManifest[0].weights.find((w: any) => w.shape.length === 2);
    kernel.shape = [...kernel.shape].reverse();
    const r = await publish(worker, 'fraud', { ...artifacts, modelJson: mj });
    expect(r.res.status).toBe(422);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details.reasons.map((x: any) => x.code)).toContain('weights_mismatch');
    const version = r.body.error.details.version;
    const v = (await (await worker.api(`/v1/models/fraud/versions/${version}`)).json()) as any;
    expect(v).toMatchObject({ status: 'rejected', manifestDigest: null });
    const res = await worker.api(`/v1/models/fraud/aliases/champion`, { method: 'PUT', json: { version } });
    expect(res.status).toBe(409);
    const ticket = await worker.api('/v1/edge/tickets/fraud?device=d1', {
      token: null,
      headers: { 'x-modelfleet-app-key': tokens.app! },
    });
    expect(JSON.parse(Buffer.from(((await ticket.json()) as any).payload, 'base64').toString()).version).toBe(1);
    const after = await registrySnapshot(worker);
    expect(after.aliases).toEqual(before.aliases);
  });
  it('golden outputs that do not reproduce → golden_mismatch', async () => {
    const golden = await goldenFor(artifacts, 2);
    const first = golden.examples[0]!;
    const [name] = Object.keys(first.outputs);
    first.outputs[name!] = JSON.parse(
      JSON.stringify(first.outputs[name!]).replace(/(\d)\.(\d)/, (_, a, b) => `${(Number(a) + 3) % 10}.${b}`),
    );
    const r = await publish(worker, 'fraud', artifacts, { golden });
    expect(r.res.status).toBe(422);
    expect(r.body.error.details.reasons.map((x: any) => x.code)).toContain('golden_mismatch');
  });
  it('a baseline declaring statistics of an input the model does not have → io_mismatch', async () => {
    const baseline = {
      features: [{ name: '@input.no_such_input.brightness', kind: 'numeric' as const, edges: [0, 100, 255] }],
    };
    const r = await publish(worker, 'fraud', artifacts, { baseline });
    expect(r.res.status).toBe(422);
    expect(r.body.error.details.reasons).toEqual([
      {
        code: 'io_mismatch',
        message: expect.stringMatching(
          /^the baseline declares statistics of input\(s\) no_such_input; the model's inputs are \S+/,
        ),
      },
    ]);
  });
});
