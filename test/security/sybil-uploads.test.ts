// Sybil-resistant telemetry (issue 15), the upload half, against the real Worker in workerd with
// production settings (./sybil-setup.ts): network cap 4, alarms on ≥ 20 networks. Each upload
// carries its ticket's proof, for one device and one version; a rollout's salt stays secret; a
// device that passes Turnstile is not capped; and before this change daily drift windows could be
// poisoned by invented ids from one network. Client networks are simulated with CF-Connecting-IP.
// Forged step telemetry deciding rollouts: sybil-rollouts.test.ts.
import { PROOF_HEADER, encodeUpload, healthLayout, healthUpload } from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { baseline, createToken } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import type { TestWorker } from '../harness/worker.ts';
import {
  CAP,
  FORGED,
  type Issued,
  PLAN,
  type Turnstile,
  attackerIp,
  clean,
  honestIp,
  pool,
  sketch,
  startRollout,
  startSybil,
  stopSybil,
  ticket,
  today,
  twoVersions,
} from './sybil-setup.ts';

vi.setConfig({ testTimeout: 400_000, hookTimeout: 120_000 });

let worker: TestWorker;
let appKey: string;
let turnstile: Turnstile;

beforeAll(async () => ({ worker, appKey, turnstile } = await startSybil()));
afterAll(stopSybil);

describe('proofs', () => {
  let t: Issued;
  beforeAll(async () => {
    await twoVersions('proofs', true);
    t = await ticket('proofs', 'dev-a', honestIp(1));
  });
  const count = async () =>
    ((await (await worker.api(`/v1/models/proofs/versions/1/sketches/${today}`)).json()) as { devices: number })
      .devices;

  it("an upload without the ticket's proof, or with another device's, is refused and counts nothing", async () => {
    const none = await sketch('proofs', 'dev-a', honestIp(1), null, 0);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'proof_required' } });
    const stolen = await sketch('proofs', 'dev-b', honestIp(2), t.proof, 0);
    expect(stolen.status).toBe(403);
    expect(await stolen.json()).toMatchObject({ error: { code: 'proof_invalid' } });
    const tampered = await sketch('proofs', 'dev-a', honestIp(1), t.proof.replace('.champion.', '.control.'), 0);
    expect(await tampered.json()).toMatchObject({ error: { code: 'proof_invalid' } });
    expect(await count()).toBe(0);
    expect((await sketch('proofs', 'dev-a', honestIp(1), t.proof, 0)).status).toBe(202);
    expect(await count()).toBe(1);
  });

  it("a proof is for one version: v1's proof does not carry a v2 upload", async () => {
    const body = encodeUpload(await healthLayout(), (await healthUpload(clean, today))!);
    const res = await worker.api(`/v1/edge/health/proofs/2?device=dev-a`, {
      method: 'POST',
      token: null,
      proof: null,
      body: body as unknown as BodyInit,
      headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': appKey, [PROOF_HEADER]: t.proof },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      error: { code: 'proof_invalid', message: expect.stringContaining('v1') },
    });
  });

  it('the rollout salt is 256 secret bits: in no response, no audit record; a publisher cannot pin one', async () => {
    await twoVersions('salted');
    const id = await startRollout('salted');
    const view = await (await worker.api(`/v1/rollouts/${id}`)).text();
    const audit = await (await worker.api(`/v1/audit?subject=rollout/${id}`)).text();
    const { salt } = (await worker.db
      .prepare('SELECT salt FROM rollouts WHERE id = ?')
      .bind(id)
      .first<{ salt: string }>())!;
    expect(salt).toMatch(/^[0-9a-f]{64}$/);
    expect(salt).not.toBe(`salted:2:${id}`);
    expect(view).not.toContain(salt);
    expect(audit).not.toContain(salt);
    expect(view).not.toContain('"salt"');
    const publisher = await createToken(worker, 'publisher');
    await worker.api(`/v1/rollouts/${id}/abort`, { method: 'POST', json: {} });
    const pinned = await worker.api('/v1/models/salted/rollouts', {
      method: 'POST',
      token: publisher,
      json: { challenger: 2, plan: { ...PLAN, salt: 'chosen' } },
    });
    expect(pinned.status).toBe(403);
    expect(
      await worker.db.prepare("SELECT COUNT(*) AS n FROM rollouts WHERE plan LIKE '%chosen%'").first<{ n: number }>(),
    ).toEqual({ n: 0 });
  });
});

describe('attestation', () => {
  it('a device that passes Turnstile (verified server side) is not capped; a failed token leaves it capped', async () => {
    await twoVersions('attest', true);
    const before = turnstile.calls.length;
    // The attacker's network is full after CAP unattested devices…
    for (let i = 0; i < CAP; i++) {
      const t = await ticket('attest', `crowd-${i}`, attackerIp(i));
      expect((await sketch('attest', `crowd-${i}`, attackerIp(i), t.proof, 0)).status).toBe(202);
    }
    const bad = await ticket('attest', 'crowd-bad', attackerIp(7), { 'x-modelfleet-attestation': 'turnstile:forged' });
    const refused = await sketch('attest', 'crowd-bad', attackerIp(7), bad.proof, 0);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'network_limited' } });
    // …but an attested device on it still counts.
    const good = await ticket('attest', 'crowd-good', attackerIp(8), { 'x-modelfleet-attestation': 'turnstile:ok' });
    expect((await sketch('attest', 'crowd-good', attackerIp(8), good.proof, 0)).status).toBe(202);
    // The edge asked the provider with its secret, the token and the client address.
    expect(turnstile.calls.slice(before)).toEqual([
      { secret: 'turnstile-secret', response: 'forged', remoteip: attackerIp(7) },
      { secret: 'turnstile-secret', response: 'ok', remoteip: attackerIp(8) },
    ]);
  });
});

describe('forged drift sketches', () => {
  it(`${FORGED} shifted sketches from one network do not change the window's verdict (the honest window's)`, async () => {
    for (const name of ['drift-honest', 'drift-attacked']) {
      await createModel(worker, name);
      expect(
        (await publish(worker, name, await buildLayersModel({ seed: 1, inputs: 3 }), { baseline })).res.status,
      ).toBe(201);
      await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: 1 } });
    }
    let accepted = 0;
    await pool(FORGED, async (i) => {
      const device = `forged-${i}`;
      const t = await ticket('drift-attacked', device, attackerIp(i));
      if ((await sketch('drift-attacked', device, attackerIp(i), t.proof, 3)).status === 202) accepted++;
    });
    expect(accepted).toBe(CAP);
    for (const name of ['drift-honest', 'drift-attacked']) {
      for (let i = 0; i < 60; i++) {
        const t = await ticket(name, `${name}-${i}`, honestIp(i));
        expect((await sketch(name, `${name}-${i}`, honestIp(i), t.proof, 0)).status).toBe(202);
      }
    }
    const close = async (name: string) =>
      (await (
        await worker.api(`/v1/models/${name}/versions/1/sketches/${today}/close`, { method: 'POST' })
      ).json()) as any;
    const [h, a] = [await close('drift-honest'), await close('drift-attacked')];
    expect(h.released).toBe(true);
    expect(a.devices).toBe(60 + CAP);
    expect(a.alarm).toBe(h.alarm);
    expect(a.alarm).toBe(false);
  });
});
