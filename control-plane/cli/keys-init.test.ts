// The deploy sequence of docs/deploy.md, against the real Worker in workerd: `keys init` once, the
// Worker started with secrets.json as its secrets (what `wrangler secret bulk` does), then
// `keys init --upload --endpoint …` with no token given installs root v1 — and nothing is
// regenerated on the way, nor replaced on a control plane that holds another root.
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Envelope, verifyInitialRoot } from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type TestWorker, startWorker } from '../../test/harness/worker.ts';
import { run } from './main.ts';

let worker: TestWorker | undefined;
const project = mkdtempSync(join(tmpdir(), 'mf-keys-'));
const other = mkdtempSync(join(tmpdir(), 'mf-keys-other-'));

/** The CLI as an operator runs it: no token unless given, no environment. */
async function cli(cwd: string, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l), tty: false, cwd, env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');

beforeAll(async () => {
  const init = await cli(project, 'keys', 'init');
  expect(init.code, init.err).toBe(0);
  // "npx wrangler secret bulk .modelfleet/secrets.json", then "npx wrangler deploy":
  worker = await startWorker({
    http: true,
    installRoot: false,
    vars: JSON.parse(read(project, '.modelfleet/secrets.json')),
  });
});
afterAll(() => worker?.dispose());

it('keys init writes the key set, secrets.json for wrangler and the next commands', async () => {
  expect(await verifyInitialRoot(JSON.parse(read(project, '.modelfleet/root.json')) as Envelope)).toMatchObject({
    version: 1,
  });
  expect(read(project, '.modelfleet/roots/v1.json')).toBe(read(project, '.modelfleet/root.json'));
  for (const secret of ['.modelfleet/keys/root-v1.json', '.modelfleet/secrets.json', '.dev.vars'])
    expect(statSync(join(project, secret)).mode & 0o777, secret).toBe(0o600);
  const secrets = JSON.parse(read(project, '.modelfleet/secrets.json'));
  expect(Object.keys(secrets)).toEqual(['RELEASE_KEY', 'TICKET_KEY', 'ADMIN_TOKEN']);
  expect(read(project, '.dev.vars')).toContain(`ADMIN_TOKEN='${secrets.ADMIN_TOKEN}'`);
  const again = await cli(project, '--json', 'keys', 'init');
  expect(JSON.parse(again.out)).toMatchObject({
    generated: false,
    secretsFile: '.modelfleet/secrets.json',
    next: [
      'npx wrangler secret bulk .modelfleet/secrets.json',
      'npx wrangler deploy',
      'npx modelfleet keys init --upload --endpoint https://<your-worker>',
    ],
  });
});

it('keys init again keeps the key set: nothing regenerated, exit 0', async () => {
  const before = ['root.json', 'secrets.json', 'keys/root-v1.json'].map((f) => read(project, `.modelfleet/${f}`));
  const again = await cli(project, 'keys', 'init');
  expect(again.code, again.err).toBe(0);
  expect(again.out).toContain(
    'kept the key set in .modelfleet: root v1 (.modelfleet/root.json), nothing generated (--force makes a new one)',
  );
  expect(['root.json', 'secrets.json', 'keys/root-v1.json'].map((f) => read(project, `.modelfleet/${f}`))).toEqual(
    before,
  );
});

it("keys init --upload --endpoint installs root v1 with the key set's ADMIN_TOKEN, then has nothing to do", async () => {
  const up = await cli(project, 'keys', 'init', '--upload', '--endpoint', worker!.url);
  expect(up.code, up.err).toBe(0);
  expect(up.out).toContain(`installed root v1 on ${worker!.url}`);
  expect(up.err).toBe(''); // the Worker's online keys are this key set's: no warning
  const keys = (await (await worker!.api('/v1/keys')).json()) as { root: { version: number } };
  expect(keys.root.version).toBe(1);
  const again = await cli(project, '--json', 'keys', 'init', '--upload', '--endpoint', worker!.url);
  expect(again.code, again.err).toBe(0);
  expect(JSON.parse(again.out).upload).toEqual({
    endpoint: worker!.url,
    installed: [],
    current: 1,
    online: { release: 'ok', ticket: 'ok' },
  });
});

it('keys init --upload refuses a control plane that holds another root (exit 5), and warns of secrets from another key set', async () => {
  expect((await cli(other, 'keys', 'init')).code).toBe(0);
  const refused = await cli(
    other,
    '--json',
    'keys',
    'init',
    '--upload',
    '--endpoint',
    worker!.url,
    '--token',
    worker!.adminToken,
  );
  expect(refused.code).toBe(5);
  const { error } = JSON.parse(refused.out);
  expect(error.code).toBe('conflict');
  expect(error.message).toMatch(
    /already has root v1 \(root key [0-9a-f]{12}…\), which is not this key set's \(\.modelfleet\); keys init never replaces an installed root/,
  );
  // A fresh control plane whose Worker secrets came from elsewhere: root installed, both keys flagged.
  const fresh = await startWorker({ http: true, installRoot: false });
  try {
    const up = await cli(other, 'keys', 'init', '--upload', '--endpoint', fresh.url, '--token', fresh.adminToken);
    expect(up.code, up.err).toBe(0);
    expect(up.out).toContain('installed root v1');
    expect(up.err).toMatch(
      /^warning: the Worker's RELEASE_KEY \(key [0-9a-f]{12}…\) is not in root v1's release role \(this key set's is [0-9a-f]{12}…\): it was set from another key set; set this one's with `npx wrangler secret bulk \.modelfleet\/secrets\.json`/m,
    );
    expect(up.err).toMatch(/^warning: the Worker's TICKET_KEY/m);
  } finally {
    await fresh.dispose();
  }
});

it('--force regenerates deliberately: a warning, and the old key set moved aside, not deleted', async () => {
  const old = read(other, '.modelfleet/root.json');
  const oldKeys = read(other, '.modelfleet/keys/root-v1.json');
  const forced = await cli(other, 'keys', 'init', '--force');
  expect(forced.code, forced.err).toBe(0);
  expect(forced.err).toMatch(
    /^warning: --force replaces the key set in \.modelfleet \(root v1, root key [0-9a-f]{12}…\); the old one is now in \.modelfleet\/replaced\/[\dT-]+Z\. Apps that pinned the old root\.json will refuse/,
  );
  expect(read(other, '.modelfleet/root.json')).not.toBe(old);
  const [aside] = readdirSync(join(other, '.modelfleet/replaced'));
  expect(read(other, `.modelfleet/replaced/${aside}/root.json`)).toBe(old);
  expect(read(other, `.modelfleet/replaced/${aside}/keys/root-v1.json`)).toBe(oldKeys);
  expect(existsSync(join(other, `.modelfleet/replaced/${aside}/secrets.json`))).toBe(true);
});
