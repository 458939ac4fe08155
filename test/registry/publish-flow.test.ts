// Publish → validate → sign → ticket → manifest → chunks, for a layers and a graph model, in
// workerd with real D1/R2, then verified from outside with node:crypto only.
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGraphModel, buildLayersModel, goldenFor } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

let worker: TestWorker;
let appKey: string;
beforeAll(async () => {
  worker = await startWorker();
  const res = await worker.api('/v1/apps', { method: 'POST', json: { name: 'web', models: ['*'] } });
  appKey = ((await res.json()) as { appKey: string }).appKey;
});
afterAll(() => worker?.dispose());

/** DSSE verification written against node:crypto alone: no code of ours is trusted here. */
function nodeVerifyEnvelope(
  env: { payloadType: string; payload: string; signatures: { keyid: string; sig: string }[] },
  root: any,
  role: string,
) {
  const payload = Buffer.from(env.payload, 'base64');
  const type = Buffer.from(env.payloadType);
  const message = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${env.payloadType} ${payload.length} `), payload]);
  const valid = env.signatures.filter(({ keyid, sig }) => {
    if (!root.roles[role].keyids.includes(keyid)) return false;
    const spki = Buffer.from(root.keys[keyid].spki, 'base64');
    if (createHash('sha256').update(spki).digest('hex') !== keyid) return false;
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    return nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64'));
  });
  return { ok: new Set(valid.map((s) => s.keyid)).size >= root.roles[role].threshold, payload };
}

describe.each([
  ['tfjs-layers', 'layers', () => buildLayersModel({ seed: 7, inputs: 6, hidden: 8, outputs: 2 })],
  ['tfjs-graph', 'graph', () => buildGraphModel({ seed: 9, inputs: 5, outputs: 3 })],
] as const)('%s model', (format, name, build) => {
  let artifacts: Awaited<ReturnType<typeof build>>;
  let committed: Record<string, any>;

  beforeAll(async () => {
    artifacts = await build();
    await createModel(worker, name);
    const golden = await goldenFor(artifacts, 3);
    const r = await publish(worker, name, artifacts, {
      format,
      golden,
      label: 'first',
      metrics: { evalSetDigest: 'e'.repeat(64), values: { auc: 0.91 } },
      params: { epochs: 3 },
      lineage: { dataDigest: 'd'.repeat(64), codeCommit: 'abc1234' },
    });
    expect(r.res.status, JSON.stringify(r.body)).toBe(201);
    committed = r.body;
  });

  it('is validated, signed and recorded with its metadata', async () => {
    expect(committed).toMatchObject({ model: name, version: 1, status: 'active' });
    const v = (await (await worker.api(`/v1/models/${name}/versions/1`)).json()) as Record<string, any>;
    expect(v).toMatchObject({
      status: 'active',
      format,
      label: 'first',
      metrics: { values: { auc: 0.91 } },
      params: { epochs: 3 },
      lineage: { codeCommit: 'abc1234' },
    });
    expect(v.validation.checks.length).toBeGreaterThanOrEqual(3);
    expect(v.validation.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
    // The commit answer and the version record both say which shapes validation ran (SPEC 9.1).
    const probe = v.validation.checks.find((c: { name: string }) => c.name === 'probe');
    expect(probe.detail).toMatch(/^(hidden_input float32\[1,6\]|x float32\[1,5\]) \(golden\) on golden example 0$/);
    expect(committed.checks).toEqual(v.validation.checks);
  });

  it('serves a signed ticket, manifest and chunks that node:crypto verifies', async () => {
    const alias = await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: 1 } });
    expect(alias.status).toBe(200);
    const headers = { 'x-modelfleet-app-key': appKey };
    const ticketRes = await worker.api(`/v1/edge/tickets/${name}?device=dev-1`, { token: null, headers });
    expect(ticketRes.status).toBe(200);
    const root = JSON.parse(Buffer.from(worker.rootEnvelope.payload, 'base64').toString());
    const t = nodeVerifyEnvelope((await ticketRes.json()) as any, root, 'ticket');
    expect(t.ok).toBe(true);
    const ticket = JSON.parse(t.payload.toString());
    expect(ticket).toMatchObject({
      model: name,
      version: 1,
      manifestDigest: committed.manifestDigest,
      stage: 'champion',
    });
    expect(Date.parse(ticket.expiresAt) - Date.parse(ticket.issuedAt)).toBe(86400_000);

    const manifestRes = await worker.api(`/v1/edge/manifests/${ticket.manifestDigest}`, { token: null });
    expect(manifestRes.headers.get('cache-control')).toContain('immutable');
    const m = nodeVerifyEnvelope((await manifestRes.json()) as any, root, 'release');
    expect(m.ok).toBe(true);
    expect(createHash('sha256').update(m.payload).digest('hex')).toBe(ticket.manifestDigest);
    const manifest = JSON.parse(m.payload.toString());
    expect(manifest).toMatchObject({ model: name, version: 1, format, totalBytes: artifacts.weightData.byteLength });

    const assembled: Buffer[] = [];
    for (const chunk of manifest.chunks) {
      const res = await worker.api(`/v1/edge/chunks/${chunk.digest}`, { token: null });
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(chunk.digest);
      assembled.push(bytes);
    }
    expect(Buffer.concat(assembled).equals(Buffer.from(artifacts.weightData))).toBe(true);
  });

  it('declares the model signature as io when none was given', async () => {
    const v = (await (await worker.api(`/v1/models/${name}/versions/1`)).json()) as Record<string, any>;
    const digest = v.manifestDigest;
    const env = (await (await worker.api(`/v1/edge/manifests/${digest}`, { token: null })).json()) as any;
    const manifest = JSON.parse(Buffer.from(env.payload, 'base64').toString());
    expect(manifest.io.inputs).toHaveLength(1);
    expect(manifest.io.inputs[0].shape[0]).toBeNull();
  });
});
