// Attack and fault suite: each attack on an update must leave the previous model running and
// the cache intact (every stored chunk hashes to its name; active versions are complete).
import {
  type Envelope,
  PAYLOAD_TYPES,
  type Ticket,
  createKeySet,
  fromBase64,
  fromUtf8,
  signEnvelope,
  signTicket,
  signerFrom,
  toBase64,
} from '@modelfleet/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildLayersModel, type ModelArtifacts } from '../../test/fixtures/models.ts';
import type { TestWorker } from '../../test/harness/worker.ts';
import type { ClientOptions } from '../src/client.ts';
import { type ModelStore, openStore } from '../src/store.ts';
import {
  assertCacheIntact,
  controlPlane,
  faultyFetch,
  freshDbName,
  publishAs,
  referencePredict,
  sdkClient,
  setChampion,
} from './helpers.ts';
import { toArrays } from '../src/tensors.ts';

let worker: TestWorker & { appKey: string };
let v1: ModelArtifacts;
let v1Ticket: Envelope;
let v2: { version: number; digest: string };
const rows = [Array.from({ length: 64 }, (_, i) => Math.sin(i))];
let store: ModelStore;

const json = (value: unknown, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
const payloadOf = (env: Envelope) => JSON.parse(fromUtf8(fromBase64(env.payload)));

beforeAll(async () => {
  worker = await controlPlane();
  v1 = await buildLayersModel({ seed: 41, inputs: 64, hidden: 1024, outputs: 2 });
  await publishAs(worker, 'fraud', v1);
  v1Ticket = (await (
    await fetch(`${worker.url}/v1/edge/tickets/fraud?device=rec`, {
      headers: { 'x-modelfleet-app-key': worker.appKey },
    })
  ).json()) as Envelope;
  v2 = await publishAs(
    worker,
    'fraud',
    await buildLayersModel({ seed: 42, inputs: 64, hidden: 1024, outputs: 2 }),
    false,
  );
});
afterAll(() => worker?.dispose());

beforeEach(async () => {
  // Each case starts from a device running v1, then the champion moves to v2.
  await setChampion(worker, 'fraud', 1);
  store = await openStore(freshDbName());
  const { client } = await sdkClient(worker, { store });
  expect((await client.load('fraud')).version).toBe(1);
  await client.close();
  await setChampion(worker, 'fraud', v2.version);
});

/**
 * A network that edits the manifest envelope wherever the device gets it: inside the ticket
 * bundle (SPEC 1.6) or from /manifests/ (SPEC 2.1).
 */
function editManifest(edit: (env: Envelope) => Envelope | Promise<Envelope>): typeof fetch {
  return faultyFetch([
    { match: /\/manifests\//, rewrite: async (_, res) => json(await edit((await res.json()) as Envelope)) },
    {
      match: /\/tickets\//,
      rewrite: async (_, res) => {
        if (res.status !== 200) return res;
        const bundle = (await res.json()) as { manifest?: Envelope };
        if (bundle.manifest) bundle.manifest = await edit(bundle.manifest);
        return json(bundle);
      },
    },
  ]);
}

/** Loads with a hostile network or device; the update must fail with `code` and v1 must keep running. */
async function expectRefusedUpdate(code: string, extra: Partial<ClientOptions>) {
  const { client } = await sdkClient(worker, { store, ...extra });
  const model = await client.load('fraud');
  expect(model.version).toBe(1);
  expect(toArrays(await model.predict(rows))).toEqual({ out: await referencePredict(v1, rows) });
  expect((await client.status())['fraud']!.lastError?.code).toBe(code);
  expect((await store.state('fraud')).active?.version).toBe(1);
  await assertCacheIntact(store);
  await client.close();
}

describe('attacks on an update', () => {
  it('flipped byte in a chunk → chunk_digest_mismatch', () =>
    expectRefusedUpdate('chunk_digest_mismatch', {
      fetch: faultyFetch([
        {
          match: /\/chunks\//,
          rewrite: async (_, res) => {
            const bytes = new Uint8Array(await res.arrayBuffer());
            bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
            return new Response(bytes, { status: res.status, headers: res.headers });
          },
        },
      ]),
    }));

  it('swapped chunks → chunk_digest_mismatch', async () => {
    const env = (await (await fetch(`${worker.url}/v1/edge/manifests/${v2.digest}`)).json()) as Envelope;
    const digests = (payloadOf(env).chunks as { digest: string }[]).map((c) => c.digest);
    expect(digests.length).toBeGreaterThan(1);
    const swap = (d: string) => digests[(digests.indexOf(d) + 1) % digests.length]!;
    await expectRefusedUpdate('chunk_digest_mismatch', {
      fetch: faultyFetch([
        {
          match: /\/chunks\//,
          rewrite: (url) => fetch(`${worker.url}/v1/edge/chunks/${swap(url.pathname.split('/').pop()!)}`),
        },
      ]),
    });
  });

  it('manifest re-signed by an unknown key → unknown_key', async () => {
    const stranger = await signerFrom((await createKeySet()).release[0]!);
    await expectRefusedUpdate('unknown_key', {
      fetch: editManifest((env) => signEnvelope(PAYLOAD_TYPES.manifest, fromBase64(env.payload), [stranger])),
    });
  });

  it('manifest bytes edited after signing → bad signature or digest mismatch', async () => {
    await expectRefusedUpdate('manifest_digest_mismatch', {
      fetch: editManifest((env) => {
        const m = payloadOf(env);
        m.params = { evil: true };
        return { ...env, payload: toBase64(new TextEncoder().encode(JSON.stringify(m))) };
      }),
    });
  });

  it('expired ticket (device clock two days ahead) → ticket_expired', () =>
    expectRefusedUpdate('ticket_expired', { now: () => new Date(Date.now() + 2 * 86400_000) }));

  it('replayed older ticket (lower sequence) → ticket_replayed', async () => {
    // The device accepts v2 (sequence grows), then an attacker replays the recorded v1 ticket.
    const { client } = await sdkClient(worker, { store });
    expect((await client.load('fraud')).version).toBe(2);
    await client.close();
    const { client: c2 } = await sdkClient(worker, {
      store,
      fetch: faultyFetch([{ match: /\/tickets\//, rewrite: () => json(v1Ticket) }]),
    });
    const model = await c2.load('fraud');
    expect(model.version).toBe(2);
    expect((await c2.status())['fraud']!.lastError?.code).toBe('ticket_replayed');
    await assertCacheIntact(store);
    await c2.close();
  });

  it('ticket and manifest that disagree (mix-and-match) → ticket_manifest_mismatch', async () => {
    // A ticket signed with the real ticket key that names v2's manifest but claims version 7.
    const ticket: Ticket = {
      ...payloadOf(v1Ticket),
      version: 7,
      manifestDigest: v2.digest,
      sequence: 999,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    };
    const forged = await signTicket(ticket, await signerFrom(worker.keys.ticket[0]!));
    await expectRefusedUpdate('ticket_manifest_mismatch', {
      fetch: faultyFetch([{ match: /\/tickets\//, rewrite: () => json(forged) }]),
    });
  });

  it('manifest larger than the device cap → manifest_too_large, nothing downloaded', async () => {
    let chunkRequests = 0;
    await expectRefusedUpdate('manifest_too_large', {
      caps: { maxTotalBytes: 1024, maxChunkBytes: 4 * 2 ** 20 },
      fetch: faultyFetch([{ match: /\/chunks\//, rewrite: (_, res) => (chunkRequests++, res) }]),
    });
    expect(chunkRequests).toBe(0);
  });

  it('storage quota exceeded while storing → storage_quota', async () => {
    const full = {
      ...store,
      putChunk: async () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
    } as ModelStore;
    const { client } = await sdkClient(worker, { store: full });
    const model = await client.load('fraud');
    expect(model.version).toBe(1);
    expect((await client.status())['fraud']!.lastError?.code).toBe('storage_quota');
    await assertCacheIntact(store);
    await client.close();
  });

  it('storage quota exceeded on a first load → storage_quota thrown, nothing activated', async () => {
    const fresh = await openStore(freshDbName());
    const full = {
      ...fresh,
      putChunk: async () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
    } as ModelStore;
    const { client } = await sdkClient(worker, { store: full });
    await expect(client.load('fraud')).rejects.toMatchObject({ code: 'storage_quota' });
    expect((await fresh.state('fraud')).active).toBeUndefined();
    expect(await fresh.db.getAllKeys('chunks')).toEqual([]);
    await client.close();
  });

  it('control plane answering 5xx → server_error, model keeps running', () =>
    expectRefusedUpdate('server_error', {
      fetch: faultyFetch([
        { match: /\/tickets\//, rewrite: () => json({ error: { code: 'internal', message: 'boom' } }, 503) },
      ]),
    }));

  it('a root not signed by the pinned root keys → refused before any ticket is trusted', async () => {
    const other = await createKeySet();
    const { signRotatedRoot } = await import('@modelfleet/protocol');
    const fake = await signRotatedRoot(other.root, 1, other, new Date(Date.now() + 86400_000));
    await expectRefusedUpdate('unknown_key', {
      fetch: faultyFetch([
        { match: /\/roots$/, rewrite: () => json({ roots: [fake] }) },
        { match: /\/tickets\//, rewrite: async (_, res) => json({ ...(await res.json()), roots: [fake] }) }, // the bundle's roots (SPEC 1.6)
      ]),
    });
  });
});

describe('attacks on a model small enough to travel inside the ticket bundle (SPEC 1.6)', () => {
  it('flipped byte in an inline chunk → chunk_digest_mismatch, nothing stored', async () => {
    const tiny1 = await buildLayersModel({ seed: 43 });
    await publishAs(worker, 'tiny', tiny1);
    const tinyStore = await openStore(freshDbName());
    const { client } = await sdkClient(worker, { store: tinyStore });
    expect((await client.load('tiny')).version).toBe(1);
    await client.close();
    await publishAs(worker, 'tiny', await buildLayersModel({ seed: 44 }));
    const before = await tinyStore.db.getAllKeys('chunks');
    const flip = faultyFetch([
      {
        match: /\/tickets\//,
        rewrite: async (_, res) => {
          const bundle = (await res.json()) as { chunks?: { digest: string; data: string }[] };
          expect(bundle.chunks?.length).toBeGreaterThan(0);
          const bytes = fromBase64(bundle.chunks![0]!.data);
          bytes[0] = bytes[0]! ^ 0x01;
          bundle.chunks![0]!.data = toBase64(bytes);
          return json(bundle);
        },
      },
    ]);
    const { client: c2 } = await sdkClient(worker, { store: tinyStore, fetch: flip });
    const model = await c2.load('tiny');
    expect(model.version).toBe(1);
    expect((await c2.status())['tiny']!.lastError?.code).toBe('chunk_digest_mismatch');
    expect(await tinyStore.db.getAllKeys('chunks')).toEqual(before);
    await assertCacheIntact(tinyStore);
    await c2.close();
  });
});
