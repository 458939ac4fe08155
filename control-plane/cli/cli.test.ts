// The CLI end to end, in-process, against the real Worker in workerd on a real port.
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Envelope, verifyInitialRoot } from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGraphModel, buildLayersModel, goldenFor, type ModelArtifacts } from '../../test/fixtures/models.ts';
import { type TestWorker, startWorker } from '../../test/harness/worker.ts';
import { runCli } from '../../test/harness/cli.ts';
import { run } from './main.ts';

let worker: TestWorker;
let cwd: string;
let appKey: string;

/** The CLI as a user runs it, against the current worker (some tests restart it). */
const cli = (...argv: string[]) => runCli(worker, cwd, ...argv);

function writeModelDir(name: string, a: ModelArtifacts, extra: Record<string, unknown> = {}): string {
  const dir = join(cwd, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify(a.modelJson));
  for (const [p, bytes] of Object.entries(a.weightFiles)) writeFileSync(join(dir, p), bytes);
  for (const [p, v] of Object.entries(extra)) writeFileSync(join(dir, p), JSON.stringify(v));
  return name;
}

beforeAll(async () => {
  worker = await startWorker({ http: true, installRoot: false });
  cwd = mkdtempSync(join(tmpdir(), 'modelfleet-cli-'));
});
afterAll(() => worker?.dispose());

describe('modelfleet CLI', () => {
  // The whole keys init sequence (init once, --upload later, --force) is keys-init.test.ts.
  it('keys init --upload writes a verifiable root and secrets, and installs root v1', async () => {
    const r = await cli('keys', 'init', '--upload');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('installed root v1');
    const root = await verifyInitialRoot(
      JSON.parse(readFileSync(join(cwd, '.modelfleet/root.json'), 'utf8')) as Envelope,
    );
    expect(root.roles.release.keyids).toHaveLength(1);
    expect(statSync(join(cwd, '.modelfleet/keys/root-v1.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(cwd, '.dev.vars'), 'utf8')).toMatch(/^RELEASE_KEY='\{.*\}'$/m);
    // This worker signs with the harness's keys, not the new set's: said, not hidden.
    expect(r.err).toMatch(/^warning: the Worker's RELEASE_KEY .* is not in root v1's release role/m);
  });

  it('publish → versions list → alias set → verify, and republishing uploads nothing', async () => {
    // The Worker must sign with the keys `keys init` generated: restart it with them.
    const vars = Object.fromEntries(
      readFileSync(join(cwd, '.dev.vars'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const i = l.indexOf('=');
          return [l.slice(0, i), l.slice(i + 2, -1)];
        }),
    );
    await worker.dispose();
    worker = await startWorker({ http: true, installRoot: false, vars });
    expect(
      (
        await worker.api('/v1/keys/root', {
          method: 'PUT',
          json: JSON.parse(readFileSync(join(cwd, '.modelfleet/root.json'), 'utf8')),
        })
      ).status,
    ).toBe(200);

    const a = await buildLayersModel({ seed: 21, inputs: 5, hidden: 16, outputs: 2, shardBytes: 200 });
    const dir = writeModelDir('fraud-v1', a, {
      'golden.json': await goldenFor(a, 2),
      'metrics.json': { evalSetDigest: 'e'.repeat(64), values: { auc: 0.93 } },
    });
    const pub = await cli(
      'publish',
      dir,
      '--model',
      'fraud',
      '--create',
      '--golden',
      `${dir}/golden.json`,
      '--metrics',
      `${dir}/metrics.json`,
      '--alias',
      'champion',
    );
    expect(pub.code, pub.err).toBe(0);
    expect(pub.out).toMatch(/fraud v1 active \(tfjs-layers\)/);
    expect(pub.err).toContain('100%');
    // What validation ran is printed, and kept with the version (`versions show`).
    expect(pub.out).toContain('validation ran hidden_input float32[1,5] (golden) on golden example 0');
    const again = await cli('publish', dir, '--model', 'fraud');
    expect(again.out).toMatch(/0 of \d+ chunks uploaded/);

    const list = await cli('versions', 'list', '--model', 'fraud');
    expect(list.out).toMatch(/^1\s+active\s+champion/m);
    expect(list.out).toMatch(/^2\s+active/m);
    const show = await cli('versions', 'show', '--model', 'fraud', '2');
    expect(show.code, show.err).toBe(0);
    expect(show.out).toMatch(/^fraud v2 active \(tfjs-layers\), manifest [0-9a-f]{64}$/m);
    expect(show.out).toMatch(/^probe\s+ok\s+[\d.]+\s+hidden_input float32\[1,5\] \(default\) on zeros$/m);
    expect((await cli('alias', 'set', '--model', 'fraud', 'challenger', '2')).out).toContain('challenger → v2');

    appKey = JSON.parse((await cli('--json', 'apps', 'create', '--name', 'web')).out).appKey;
    const v = await cli('verify', 'fraud:champion', '--app-key', appKey);
    expect(v.code, v.err).toBe(0);
    expect(v.out).toContain('verified fraud v1');
    const j = await cli('--json', 'verify', 'fraud:champion', '--app-key', appKey);
    expect(j.code, j.err).toBe(0);
    expect(JSON.parse(j.out)).toMatchObject({
      verified: true,
      model: 'fraud',
      version: 1,
      manifestDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
      root: { pinned: 1, newest: 1 },
      ticket: { version: 1 },
      manifest: { format: 'tfjs-layers' },
    });
    expect(JSON.parse(j.out).steps.map((s: { step: string }) => s.step)).toEqual([
      'root',
      'ticket',
      'manifest',
      'chunks',
    ]);
  });

  it('publishes a graph model', async () => {
    const g = await buildGraphModel({ seed: 4 });
    const r = await cli('publish', writeModelDir('graph', g), '--model', 'graph', '--create');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('(tfjs-graph)');
  });

  it('verify catches a tampered chunk in R2 (the edge withholds it: content_corrupt, a verification failure)', async () => {
    const digest = JSON.parse((await cli('--json', 'versions', 'list', '--model', 'fraud')).out)[1]
      .manifestDigest as string;
    const env = (await (await worker.api(`/v1/edge/manifests/${digest}`, { token: null })).json()) as Envelope;
    const chunk = JSON.parse(Buffer.from(env.payload, 'base64').toString()).chunks[0];
    const original = new Uint8Array(await (await worker.r2.get(`chunks/${chunk.digest}`))!.arrayBuffer());
    const tampered = original.slice();
    tampered[0] = tampered[0]! ^ 0xff;
    await worker.r2.put(`chunks/${chunk.digest}`, tampered);
    const r = await cli('verify', digest);
    expect(r.code).toBe(7);
    expect(r.err).toContain('error content_corrupt');
    const j = await cli('--json', 'verify', digest);
    expect([j.code, j.err]).toEqual([7, '']);
    expect(JSON.parse(j.out)).toEqual({
      error: {
        code: 'content_corrupt',
        message: expect.any(String),
        details: expect.objectContaining({ step: 'chunks', passed: ['root', 'manifest'] }),
      },
    });
    await worker.r2.put(`chunks/${chunk.digest}`, original);
    expect((await cli('verify', digest)).code).toBe(0);
  });

  it('verify refuses a root pinned from another key set', async () => {
    const other = mkdtempSync(join(tmpdir(), 'modelfleet-other-'));
    const prev = cwd;
    cwd = other;
    await cli('keys', 'init');
    cwd = prev;
    const r = await cli(
      'verify',
      'fraud:champion',
      '--app-key',
      appKey,
      '--root',
      join('..', other.split('/').pop()!, '.modelfleet/root.json'),
    );
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/error (unknown_key|bad_signature)/);
  });

  it('rotate-root uploads root v2 and verify follows the chain from the pinned v1', async () => {
    const pinnedV1 = readFileSync(join(cwd, '.modelfleet/roots/v1.json'), 'utf8');
    const r = await cli('keys', 'rotate-root', '--upload');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('installed root v2');
    writeFileSync(join(cwd, 'pinned-v1.json'), pinnedV1);
    const v = await cli('verify', 'fraud:champion', '--app-key', appKey, '--root', 'pinned-v1.json');
    expect(v.code, v.err).toBe(0);
    expect(v.out).toContain('pinned v1, newest v2');
  });

  it('reports API and usage errors with a code and no stack', async () => {
    const dir = writeModelDir('lonely', await buildLayersModel({ seed: 1 }));
    const unknown = await cli('publish', dir, '--model', 'nosuch');
    expect(unknown).toMatchObject({ code: 5 });
    expect(unknown.err).toBe(
      `error unknown_model: there is no model nosuch at ${worker.url}: pass --create to create it with this publish, or run \`modelfleet models create nosuch\` first`,
    );
    const wrong = await run(
      ['--endpoint', worker.url, '--token', 'mft_wrong', 'versions', 'list', '--model', 'fraud'],
      { stdout: () => {}, stderr: () => {}, cwd, env: {} },
    );
    expect(wrong).toBe(4);
    expect((await cli('alias', 'set', '--model', 'fraud', 'champion', 'x')).code).toBe(2);
    expect((await cli('publish')).code).toBe(2);
    writeFileSync(join(cwd, dir, 'group1-shard1of1.bin'), new Uint8Array(3));
    const short = await cli('publish', dir, '--model', 'fraud');
    expect([short.code, short.err]).toEqual([3, expect.stringContaining('error weights_mismatch')]);
    const missing = await cli(
      'publish',
      writeModelDir('nofiles', { ...(await buildLayersModel({ seed: 2 })), weightFiles: {} }),
      '--model',
      'fraud',
    );
    expect([missing.code, missing.err]).toEqual([3, expect.stringContaining('error missing_weight_file')]);
  });

  it('every command prints one JSON document under --json, and nothing on stderr', async () => {
    const dir = writeModelDir('json-model', await buildLayersModel({ seed: 31 }));
    const rollout = JSON.parse(
      (await cli('--json', 'rollout', 'create', '--model', 'fraud', '--challenger', '2', '--draft')).out,
    ) as { id: string };
    const commands: string[][] = [
      ['keys', 'list'],
      ['models', 'create', 'json-model'],
      ['publish', dir, '--model', 'json-model'],
      ['versions', 'list', '--model', 'json-model'],
      ['versions', 'show', '--model', 'json-model', '1'],
      ['alias', 'set', '--model', 'json-model', 'champion', '1'],
      ['tokens', 'create', '--role', 'viewer'],
      ['apps', 'create', '--name', 'json'],
      ['rollout', 'status', rollout.id],
      ['rollout', 'list', '--model', 'fraud'],
      ['rollout', 'abort', rollout.id],
      ['rollout', 'policy', '--model', 'fraud'],
      ['keys', 'rotate-root'],
      ['keys', 'init'],
    ];
    for (const argv of commands) {
      const r = await cli('--json', ...argv);
      expect([r.code, r.err], argv.join(' ')).toEqual([0, '']);
      expect(() => JSON.parse(r.out), `${argv.join(' ')}: ${r.out}`).not.toThrow();
    }
  });

  it('rollout policy shows the defaults, sets a policy from a file, and refuses a bad one without changing it', async () => {
    expect((await cli('rollout', 'policy', '--model', 'fraud')).out).toContain('no policy set, the defaults apply');
    const file = join(mkdtempSync(join(tmpdir(), 'mf-policy-')), 'policy.json');
    writeFileSync(file, JSON.stringify({ minSteps: 2, gate: { metric: 'accuracy', margin: 0.01, source: 'server' } }));
    const set = await cli('rollout', 'policy', '--model', 'fraud', '--set', file);
    expect(set.code, set.err).toBe(0);
    expect(set.out).toMatch(
      /policy set by .*\n.*steps ≥ 2.*\n.*\ngate: accuracy \+0\.01 \(computed by the control plane\)/,
    );
    writeFileSync(file, JSON.stringify({ minSteps: 0 }));
    const bad = await cli('rollout', 'policy', '--model', 'fraud', '--set', file);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('bad_request');
    expect((await cli('rollout', 'policy', '--model', 'fraud')).out).toContain('steps ≥ 2');
  });

  it('tokens revoke and apps rotate-key / revoke-key end credentials; bad input is a usage or refused exit', async () => {
    const t = JSON.parse((await cli('--json', 'tokens', 'create', '--role', 'viewer', '--label', 'leaky')).out) as {
      id: string;
      token: string;
    };
    const revoked = await cli('tokens', 'revoke', t.id, '--reason', 'leaked');
    expect(revoked.code, revoked.err).toBe(0);
    expect(revoked.out).toMatch(
      new RegExp(`^token ${t.id} \\(viewer\\) revoked at \\S+; 0 console session\\(s\\) ended$`),
    );
    expect((await cli('tokens', 'revoke', t.id)).out).toContain('already revoked');
    expect((await cli('tokens', 'list')).out).toMatch(
      new RegExp(`^${t.id}\\s+viewer\\s+leaky\\s+.*\\d\\d:\\d\\d:\\d\\d$`, 'm'),
    );
    expect((await worker.api('/v1/models', { token: t.token })).status).toBe(401);

    const app = JSON.parse((await cli('--json', 'apps', 'create', '--name', 'rotating')).out) as {
      id: string;
      appKey: string;
    };
    const rotated = await cli('apps', 'rotate-key', app.id, '--grace-seconds', '60', '--reason', 'scraped');
    expect(rotated.code, rotated.err).toBe(0);
    expect(rotated.out.split('\n')[0]).toMatch(/^mfa_/);
    const keys = JSON.parse((await cli('--json', 'apps', 'keys', app.id)).out) as {
      keys: { id: string; hint: string; expiresAt: string | null }[];
    };
    const old = keys.keys.find((k) => k.hint === app.appKey.slice(-4))!;
    expect(old.expiresAt).not.toBeNull();
    const gone = await cli('apps', 'revoke-key', app.id, old.id);
    expect(gone.code, gone.err).toBe(0);
    expect(gone.out).toContain(`key ${old.id} (…${old.hint}) revoked`);

    expect((await cli('apps', 'rotate-key', app.id, '--grace-seconds', '-1')).code).toBe(2);
    expect((await cli('tokens', 'revoke', 'nosuchid')).code).toBe(5);
    expect((await cli('apps', 'revoke-key', app.id, 'knosuch')).code).toBe(5);
  });

  describe('an upload request too large for the registry names the file', () => {
    // One example whose input is 530,000 numbers of ~17 characters: 8.6 MiB of JSON, as in issue 12.
    const hugeGolden = {
      examples: [
        {
          inputs: { hidden_input: [Array.from({ length: 530_000 }, (_, i) => 0.1234567891 + i * 1e-12)] },
          outputs: {},
        },
      ],
    };
    let sent: string[];
    const recording =
      (respond?: (url: string, init?: RequestInit) => Response | undefined): typeof fetch =>
      async (input, init) => {
        sent.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
        return respond?.(String(input), init) ?? fetch(input, init);
      };
    const publishWith = (f: typeof fetch, ...argv: string[]) => {
      sent = [];
      const err: string[] = [];
      return run(['--endpoint', worker.url, '--token', worker.adminToken, 'publish', ...argv], {
        stdout: () => {},
        stderr: (l) => err.push(l),
        tty: false,
        cwd,
        env: {},
        fetch: f,
      }).then((code) => ({ code, err: err.join('\n') }));
    };

    it('before anything is sent (the model is not even created)', async () => {
      const dir = writeModelDir('huge', await buildLayersModel({ seed: 3 }), { 'golden.json': hugeGolden });
      const r = await publishWith(recording(), dir, '--model', 'huge', '--create', '--golden', `${dir}/golden.json`);
      expect(r.code).toBe(5);
      expect(r.err).toMatch(
        /^error payload_too_large: --golden huge\/golden\.json is 8\.\d MiB; the upload request \(model\.json, golden examples, baseline and metadata: 8\.\d MiB here\) may be at most 8\.0 MiB: keep fewer golden examples/,
      );
      expect(sent).toEqual([]);
    });

    it("from the server's 413 when its limit is smaller than the CLI's", async () => {
      const golden = {
        examples: [{ inputs: { hidden_input: [Array.from({ length: 2000 }, (_, i) => i / 7)] }, outputs: {} }],
      };
      const dir = writeModelDir('small-limit', await buildLayersModel({ seed: 4 }), { 'golden.json': golden });
      const smaller = recording((url, init) =>
        init?.method === 'POST' && url.endsWith('/uploads')
          ? Response.json(
              {
                error: {
                  code: 'payload_too_large',
                  message: 'request body exceeds 1024 bytes',
                  details: { limit: 1024 },
                },
              },
              { status: 413 },
            )
          : undefined,
      );
      const r = await publishWith(smaller, dir, '--model', 'fraud', '--golden', `${dir}/golden.json`);
      expect(r.code).toBe(5);
      expect(r.err).toMatch(
        /^error payload_too_large: --golden small-limit\/golden\.json is 3\d\.\d KiB; the upload request \(.*: 3\d\.\d KiB here\) may be at most 1\.0 KiB: keep fewer golden examples/,
      );
      expect(sent).toEqual(['POST /v1/models/fraud/uploads']);
    });
  });
});
