// `--json` errors: one JSON document on stdout in the API's error shape, nothing on stderr (no
// progress either: under --json stderr carries warnings only), and
// the exit code of the error's family (errors.ts, docs/deploy.md "Exit codes") — one case per family,
// against the real Worker in workerd.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel, type ModelArtifacts } from '../../test/fixtures/models.ts';
import { type TestWorker, startWorker } from '../../test/harness/worker.ts';
import { EXIT_CODES } from './errors.ts';
import { run } from './main.ts';

let worker: TestWorker;
const cwd = mkdtempSync(join(tmpdir(), 'mf-json-'));

async function cli(argv: string[], fetchImpl?: typeof fetch) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    tty: false,
    cwd,
    env: {},
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const as = (token: string | null, ...argv: string[]) =>
  cli(['--json', '--endpoint', worker.url, ...(token === null ? [] : ['--token', token]), ...argv]);

function modelDir(name: string, a: ModelArtifacts): string {
  mkdirSync(join(cwd, name), { recursive: true });
  writeFileSync(join(cwd, name, 'model.json'), JSON.stringify(a.modelJson));
  for (const [p, bytes] of Object.entries(a.weightFiles)) writeFileSync(join(cwd, name, p), bytes);
  return name;
}

/** Exit code, the error object, and that stdout held exactly that JSON and stderr nothing. */
function expectJsonError(r: { code: number; out: string; err: string }, exit: number, code: string) {
  expect(r.err, 'stderr').toBe('');
  const body = JSON.parse(r.out) as { error: { code: string; message: string; details?: unknown } };
  expect(Object.keys(body)).toEqual(['error']);
  expect([r.code, body.error.code], body.error.message).toEqual([exit, code]);
  expect(body.error.message.length).toBeGreaterThan(10);
  return body.error;
}

beforeAll(async () => {
  worker = await startWorker({ http: true });
  expect((await as(worker.adminToken, 'models', 'create', 'fraud')).code).toBe(0);
});
afterAll(() => worker?.dispose());

describe('--json errors, one per exit code family', () => {
  it('exit codes are the documented ones', () => {
    expect(EXIT_CODES).toEqual({
      internal: 1,
      usage: 2,
      input: 3,
      auth: 4,
      refused: 5,
      rejected: 6,
      verification: 7,
      unavailable: 8,
    });
  });

  it("2 usage: a missing argument or flag, as JSON instead of commander's text", async () => {
    expectJsonError(await cli(['--json', 'publish', '--model', 'fraud']), 2, 'missing_argument');
    expectJsonError(await cli(['versions', 'list', '--json']), 2, 'missing_mandatory_option_value');
    expectJsonError(await cli(['--json', 'nosuch']), 2, 'unknown_command');
    expectJsonError(await cli(['--json']), 2, 'missing_command');
  });

  it('3 input: a missing model directory', async () => {
    const e = expectJsonError(
      await as(worker.adminToken, 'publish', 'nowhere', '--model', 'fraud'),
      3,
      'file_not_found',
    );
    expect(e.message).toContain('nowhere/model.json not found');
  });

  it('4 auth: a wrong token, and no token at all (said how to give one)', async () => {
    expect(
      expectJsonError(await as('mft_wrong', 'versions', 'list', '--model', 'fraud'), 4, 'unauthorized').message,
    ).toContain('(token from --token)');
    expect(expectJsonError(await as(null, 'versions', 'list', '--model', 'fraud'), 4, 'unauthorized').message).toMatch(
      /^no operator token: pass --token or set MODELFLEET_TOKEN/,
    );
  });

  it("5 refused: an unknown model, with the API's code", async () => {
    expectJsonError(await as(worker.adminToken, 'versions', 'list', '--model', 'nosuch'), 5, 'unknown_model');
  });

  it('6 rejected: validation refused the model; the reasons travel in details', async () => {
    const a = await buildLayersModel({ seed: 5, inputs: 5, hidden: 16, outputs: 2 });
    const mj = structuredClone(a.modelJson) as { weightsManifest: { weights: { shape: number[] }[] }[] };
    const kernel = mj.weightsManifest[0]!.weights.find((w) => w.shape.length === 2)!;
    kernel.shape = [...kernel.shape].reverse(); // same bytes, wrong shape: only the Worker's load finds it
    const e = expectJsonError(
      await as(
        worker.adminToken,
        'publish',
        modelDir('transposed', { ...a, modelJson: mj as never }),
        '--model',
        'fraud',
      ),
      6,
      'validation_failed',
    );
    expect(e.message).toMatch(/^version \d+ was recorded as rejected and will never be served$/);
    expect((e.details as { reasons: { code: string }[] }).reasons.map((r) => r.code)).toContain('weights_mismatch');
  });

  it('7 verification: a pinned root that does not verify', async () => {
    writeFileSync(
      join(cwd, 'forged-root.json'),
      JSON.stringify({
        ...worker.rootEnvelope,
        signatures: worker.rootEnvelope.signatures.map((s) => ({ ...s, sig: Buffer.alloc(64).toString('base64') })),
      }),
    );
    const e = expectJsonError(
      await as(null, 'verify', 'f'.repeat(64), '--root', 'forged-root.json'),
      7,
      'bad_signature',
    );
    expect(e.details).toMatchObject({ step: 'root', passed: [] });
  });

  it('8 unavailable: nothing listens at the endpoint; the hint names it and how to change it', async () => {
    const closed = await new Promise<number>((done) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => done(port));
      });
    });
    const endpoint = `http://127.0.0.1:${closed}`;
    const e = expectJsonError(
      await cli(['--json', '--endpoint', endpoint, 'versions', 'list', '--model', 'fraud']),
      8,
      'unreachable',
    );
    expect(e.message).toBe(
      `cannot reach the control plane at ${endpoint} (ECONNREFUSED; endpoint from --endpoint): pass --endpoint <url> or set MODELFLEET_ENDPOINT to your control plane's URL; for a local one, \`npm start\` in the modelfleet repository serves http://127.0.0.1:8787`,
    );
    expect(e.details).toEqual({ endpoint, endpointSource: '--endpoint', cause: 'ECONNREFUSED' });
  });

  it('1 internal: an answer the CLI cannot read', async () => {
    const garbled: typeof fetch = async () => new Response('<html>proxy login</html>', { status: 200 });
    const r = await cli(
      ['--json', '--endpoint', worker.url, '--token', 'x', 'versions', 'list', '--model', 'fraud'],
      garbled,
    );
    expect(expectJsonError(r, 1, 'internal').details).toMatchObject({ stack: expect.stringContaining('SyntaxError') });
  });
});

it('without --json the same errors are one `error <code>: <message>` line on stderr', async () => {
  const r = await cli([
    '--endpoint',
    worker.url,
    '--token',
    worker.adminToken,
    'versions',
    'list',
    '--model',
    'nosuch',
  ]);
  expect([r.code, r.out]).toEqual([5, '']);
  expect(r.err).toMatch(/^error unknown_model: [^\n]+$/);
});
