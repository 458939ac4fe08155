// Devices parse with protocol's zod/mini schemas as a bundler packs them for a page: zod's core,
// no classic API, no locale set globally (parseOrThrow passes English per parse). This builds
// that bundle, runs it in a worker thread (zod keeps its config on globalThis, and this process
// loads classic zod, which sets one) and checks it gives every verdict the server gives here: on
// the shared vectors and on fuzzed variants of them, the same acceptance, the same parsed value
// (unknown fields kept), the same code, message and issues.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import * as server from './index.ts';

const DEVICE = [
  'Envelope',
  'Root',
  'Ticket',
  'TicketBundle',
  'Manifest',
  'Baseline',
  'IoSchema',
  'ApiErrorBody',
] as const;
type Name = (typeof DEVICE)[number];
type Verdict = { ok: true; value: unknown } | { ok: false; code: string; message: string; details: unknown };
let bundle: string;
let bundledInputs: string[];

beforeAll(async () => {
  bundle = join(mkdtempSync(join(tmpdir(), 'mf-device-parsers-')), 'device.js');
  const result = await build({
    stdin: {
      contents: `export { parseOrThrow, ${DEVICE.join(', ')} } from '@modelfleet/protocol';`,
      resolveDir: import.meta.dirname,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: bundle,
    metafile: true,
    logLevel: 'warning',
  });
  // What ended up in the output (metafile.inputs also lists modules tree shaking dropped).
  bundledInputs = Object.entries(Object.values(result.metafile.outputs)[0]!.inputs)
    .filter(([, i]) => i.bytesInOutput > 0)
    .map(([p]) => p);
});

function verdict(p: Pick<typeof server, 'parseOrThrow' | Name>, name: Name, value: unknown): Verdict {
  try {
    return { ok: true, value: p.parseOrThrow(p[name] as never, value, name) as unknown };
  } catch (e) {
    const { code, message, details } = e as server.ProtocolError;
    return { ok: false, code, message, details };
  }
}

/** The bundle's verdicts on `cases`, from a worker thread with a globalThis of its own. */
function deviceVerdicts(cases: [Name, unknown][]): Promise<Verdict[]> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.url).then((p) => parentPort.postMessage(workerData.cases.map(([name, value]) => {
      try { return { ok: true, value: p.parseOrThrow(p[name], value, name) }; }
      catch (e) { return { ok: false, code: e.code, message: e.message, details: e.details }; }
    })));`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { url: pathToFileURL(bundle).href, cases } });
    worker.once('message', (v) => void worker.terminate().then(() => resolve(v)));
    worker.once('error', reject);
  });
}

const vector = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '../vectors', name), 'utf8'));
const payload = (envelope: { payload: string }) =>
  JSON.parse(new TextDecoder().decode(server.fromBase64(envelope.payload)));

function seeds(): [Name, unknown][] {
  const rotation = vector('root-rotation.json');
  const baseline = vector('sketch.json').baseline;
  const manifests = vector('manifest-digests.json').cases.map(payload);
  const manifest = { ...manifests[0], monitoring: { baseline } };
  const ticket = {
    type: 'modelfleet/ticket',
    specVersion: 1,
    model: manifest.model,
    version: manifest.version,
    manifestDigest: 'a'.repeat(64),
    rolloutId: 'r1',
    stage: 'challenger',
    sequence: 3,
    issuedAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-02T00:00:00.000Z',
  };
  const bundle = {
    type: 'modelfleet/ticket-bundle',
    ticket: rotation.pinned,
    roots: rotation.chain,
    manifest: rotation.pinned,
    chunks: [{ digest: 'b'.repeat(64), data: 'AAEC' }],
  };
  return [
    ['Envelope', rotation.pinned],
    ['Root', payload(rotation.pinned)],
    ...rotation.chain.map((e: { payload: string }) => ['Root', payload(e)] as const),
    ['Ticket', ticket],
    ['TicketBundle', bundle],
    ...manifests.map((m: unknown) => ['Manifest', m] as const),
    ['Manifest', manifest],
    ['Baseline', baseline],
    ['IoSchema', manifest.io],
    ['ApiErrorBody', { error: { code: 'not_found', message: 'no such model', details: { model: 'x' } } }],
  ];
}

/** Every path in a JSON value, root first. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

// Values that sit on the schemas' edges (bounds, patterns, enums, types), and any JSON.
const edgy = fc.oneof(
  fc.constantFrom(
    -1,
    0,
    1,
    1.5,
    2 ** 53,
    1e308,
    '',
    'x',
    'a'.repeat(64),
    'A'.repeat(64),
    '2026-13-01T00:00:00Z',
    '2026-01-01T00:00:00+01:00',
    null,
    true,
    [],
    {},
    [1, 2],
    ['x'],
    'numeric',
    'categorical',
    'webgpu',
    'float32',
    'tfjs-graph',
    'modelfleet/root',
    'ed25519',
    8,
    9,
    16,
    17,
    257,
    undefined,
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
const mutation = fc.record({
  pick: fc.nat(),
  kind: fc.constantFrom('set', 'delete', 'add', 'dup'),
  value: edgy,
  key: fc.constantFrom('extra', 'type', 'version', '__proto__'),
});
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(doc: unknown, m: Mutation): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  const all = paths(copy);
  const at = all[m.pick % all.length]!;
  if (at.length === 0) return m.kind === 'set' ? m.value : copy;
  const parent = at.slice(0, -1).reduce<any>((o, k) => o[k], copy);
  const key = at[at.length - 1]!;
  const target = parent[key];
  if (m.kind === 'set') parent[key] = m.value;
  else if (m.kind === 'delete') Array.isArray(parent) ? parent.splice(key as number, 1) : delete parent[key];
  // As JSON.parse adds a key: an own property, even "__proto__".
  else if (m.kind === 'add' && target && typeof target === 'object' && !Array.isArray(target))
    Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  else if (m.kind === 'dup' && Array.isArray(target) && target.length > 0) target.push(structuredClone(target[0]));
  return copy;
}

it('the device bundle carries zod core and mini, never classic zod', () => {
  expect(bundledInputs.some((p) => p.includes('zod/v4/mini/'))).toBe(true);
  expect(bundledInputs.filter((p) => p.includes('zod/v4/classic/'))).toEqual([]);
});

it('bundled device parsers and the server agree on every vector', async () => {
  const cases = seeds();
  const expected = cases.map(([name, doc]) => verdict(server, name, doc));
  expect(expected.every((v) => v.ok)).toBe(true);
  expect(await deviceVerdicts(cases)).toEqual(expected);
});

it('bundled device parsers and the server agree on fuzzed vectors: acceptance, value, code and message', async () => {
  const cases = seeds().flatMap(([name, doc]) =>
    fc
      .sample(fc.array(mutation, { minLength: 1, maxLength: 3 }), { numRuns: 150, seed: 13 })
      .map((ms) => [name, ms.reduce(mutate, doc)] as [Name, unknown]),
  );
  const expected = cases.map(([name, value]) => verdict(server, name, value));
  const got = await deviceVerdicts(cases);
  const differ = cases
    .map((c, i) => ({ case: c, server: expected[i], device: got[i] }))
    .filter((d) => !isDeepStrictEqual(d.server, d.device));
  expect(differ.slice(0, 3)).toEqual([]);
  expect(expected.filter((v) => !v.ok && v.code !== 'malformed_document')).toEqual([]);
  // Both outcomes were exercised, not one of them only.
  expect(expected.filter((v) => v.ok).length).toBeGreaterThan(300);
  expect(expected.filter((v) => !v.ok).length).toBeGreaterThan(300);
});
