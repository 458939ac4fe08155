/**
 * @module cli/commands/keys-init
 * `keys init [--upload] [--force]`. The deploy sequence is two runs of the same command:
 *
 *   npx modelfleet keys init                                   # once: key set, root v1, secrets.json
 *   npx wrangler secret bulk .modelfleet/secrets.json && npx wrangler deploy
 *   npx modelfleet keys init --upload --endpoint https://…     # installs root v1 (no regeneration)
 *
 * A key set, once made, is kept: its root may be pinned in apps and installed on a control
 * plane, and its online keys set as Worker secrets, so replacing it silently would break all
 * three. `--force` replaces it deliberately and moves the old one aside, not away.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  KeyAlg,
  KeysInfo,
  type Root,
  RootInstalled,
  createKeySet,
  signInitialRoot,
  toBase64,
} from '@modelfleet/protocol';
import { Api, type Ctx, emit } from '../context.ts';
import { CliError } from '../errors.ts';
import {
  type RootFile,
  SECRET_NAMES,
  type WorkerSecrets,
  keyIdOf,
  readRootChain,
  readSecrets,
  upsertDotenv,
  writeSecret,
} from './key-files.ts';

export interface InitOptions {
  dir: string;
  devVars: string;
  alg: string;
  expiresDays: string;
  force?: boolean;
  upload?: boolean;
}

type Online = 'ok' | 'missing' | 'other';

const short = (keyid: string) => `${keyid.slice(0, 12)}…`;
const SECRETS_LIST = SECRET_NAMES.join(', ');

export async function keysInit(c: Ctx, o: InitOptions): Promise<void> {
  const alg = KeyAlg.safeParse(o.alg);
  if (!alg.success) throw new CliError('usage', 'bad_request', `--alg must be one of ${KeyAlg.options.join(', ')}`);
  const days = Number(o.expiresDays);
  if (!Number.isInteger(days) || days < 1)
    throw new CliError('usage', 'bad_request', `--expires-days must be a positive integer, got ${o.expiresDays}`);
  const dir = resolve(c.io.cwd, o.dir);
  const shown = (path: string) => {
    const rel = relative(c.io.cwd, path);
    return rel.startsWith('..') ? path : rel || '.'; // paths under the cwd as the user typed them
  };
  const exists = existsSync(join(dir, 'root.json'));

  let replaced: string | undefined;
  if (exists && o.force) {
    const old = readRootChain(dir).at(-1)!;
    replaced = moveAside(dir);
    c.io.stderr(
      `warning: --force replaces the key set in ${shown(dir)} (root v${old.version}, root key ${short(old.root.roles.root.keyids[0]!)}); the old one is now in ${shown(replaced)}. ` +
        "Apps that pinned the old root.json will refuse what the new keys sign, a control plane that has the old root installed will refuse the new one, and the Worker's secrets must be set again.",
    );
  }
  const generated = !exists || o.force === true;
  if (generated) await generate(dir, alg.data, days, resolve(c.io.cwd, o.devVars));

  const chain = readRootChain(dir);
  const current = chain.at(-1)!;
  const secrets = readSecrets(dir);
  const secretsFile = secrets ? join(dir, 'secrets.json') : undefined;
  const upload = o.upload ? await installRoots(c, o.dir, chain, secrets) : undefined;
  const dirFlag = o.dir === '.modelfleet' ? '' : ` --dir ${o.dir}`;
  const next = upload
    ? []
    : [
        secretsFile ? `npx wrangler secret bulk ${shown(secretsFile)}` : `npx wrangler secret bulk ${o.devVars}`,
        'npx wrangler deploy',
        `npx modelfleet keys init --upload${dirFlag} --endpoint https://<your-worker>`,
      ];

  emit(
    c,
    {
      dir: shown(dir),
      generated,
      replaced: replaced ? shown(replaced) : null,
      root: {
        version: current.version,
        file: shown(join(dir, 'root.json')),
        expiresAt: current.root.expiresAt,
        rootKeyIds: current.root.roles.root.keyids,
      },
      secretsFile: secretsFile ? shown(secretsFile) : null,
      devVars: o.devVars,
      upload: upload ?? null,
      next,
    },
    () => [
      ...(generated
        ? [
            `root v1 written to ${shown(join(dir, 'root.json'))} (pin this file in your apps)`,
            `root keys in ${shown(join(dir, 'keys'))} (keep offline: they sign the next root)`,
            `Worker secrets ${SECRETS_LIST} in ${shown(join(dir, 'secrets.json'))} (mode 0600) and ${o.devVars} (for wrangler dev)`,
          ]
        : [
            `kept the key set in ${shown(dir)}: root v${current.version} (${shown(join(dir, 'root.json'))}), nothing generated (--force makes a new one)`,
          ]),
      ...(secretsFile ? [] : [`this key set predates secrets.json: its Worker secrets are in ${o.devVars}`]),
      ...(upload ? upload.installed.map((v) => `installed root v${v} on ${upload.endpoint}`) : []),
      ...(upload && upload.installed.length === 0
        ? [`root v${upload.current} already installed on ${upload.endpoint}; nothing to do`]
        : []),
      ...(next.length
        ? [
            `next, for a deployed Worker (or \`wrangler secret put\` each of ${SECRETS_LIST} with the value from that file):`,
            ...next.map((l) => `  ${l}`),
          ]
        : []),
    ],
  );
}

async function generate(dir: string, alg: KeyAlg, days: number, devVars: string): Promise<void> {
  const set = await createKeySet(alg);
  const envelope = await signInitialRoot(set, new Date(Date.now() + days * 86400_000));
  writeSecret(join(dir, 'keys', 'root-v1.json'), JSON.stringify(set.root, null, 2));
  mkdirSync(join(dir, 'roots'), { recursive: true });
  writeFileSync(join(dir, 'root.json'), JSON.stringify(envelope, null, 2));
  writeFileSync(join(dir, 'roots', 'v1.json'), JSON.stringify(envelope, null, 2));
  const adminToken =
    'mft_' +
    toBase64(crypto.getRandomValues(new Uint8Array(24)))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  const secrets: WorkerSecrets = {
    RELEASE_KEY: JSON.stringify(set.release[0]),
    TICKET_KEY: JSON.stringify(set.ticket[0]),
    ADMIN_TOKEN: adminToken,
  };
  writeSecret(join(dir, 'secrets.json'), JSON.stringify(secrets, null, 2) + '\n');
  upsertDotenv(devVars, { ...secrets });
}

/** Moves root.json, roots/, keys/ and secrets.json to <dir>/replaced/<time>/; returns that folder. */
function moveAside(dir: string): string {
  const to = join(dir, 'replaced', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(to, { recursive: true });
  for (const name of ['root.json', 'roots', 'keys', 'secrets.json']) {
    if (existsSync(join(dir, name))) renameSync(join(dir, name), join(to, name));
  }
  return to;
}

const sameRoot = (local: Root, remote: NonNullable<KeysInfo['root']>) =>
  local.version === remote.version &&
  local.expiresAt === remote.expiresAt &&
  Object.entries(local.roles).every(
    ([role, r]) => [...r.keyids].sort().join() === [...(remote.roles[role]?.keyids ?? [])].sort().join(),
  );

/**
 * Brings the control plane up to this key set's chain: root v1 on a control plane without one,
 * then any later roots it lacks. Refuses when it holds a root that is not in this chain.
 */
async function installRoots(c: Ctx, dirArg: string, chain: RootFile[], secrets: WorkerSecrets | undefined) {
  const api = Api.from(c.io, c.globals, { token: secrets?.ADMIN_TOKEN, source: join(dirArg, 'secrets.json') });
  const info = await api.request(KeysInfo, 'GET', '/v1/keys');
  if (info.root) {
    const mine = chain.find((r) => r.version === info.root!.version);
    if (!mine || !sameRoot(mine.root, info.root)) {
      const theirs = info.root.roles.root?.keyids[0];
      throw new CliError(
        'refused',
        'conflict',
        `the control plane at ${api.endpoint} already has root v${info.root.version}${theirs ? ` (root key ${short(theirs)})` : ''}, which is not this key set's (${dirArg}); ` +
          'keys init never replaces an installed root: run it from the key set that made that root, or pass --endpoint for another control plane',
        {
          endpoint: api.endpoint,
          installed: { version: info.root.version, rootKeyIds: info.root.roles.root?.keyids ?? [] },
        },
      );
    }
  }
  const installed: number[] = [];
  for (const r of chain.filter((r) => r.version > (info.root?.version ?? 0))) {
    installed.push((await api.request(RootInstalled, 'PUT', '/v1/keys/root', r.envelope)).version);
  }
  const current = chain.at(-1)!;
  const bulk = `npx wrangler secret bulk ${join(dirArg, 'secrets.json')}`;
  const online = Object.fromEntries(
    (['release', 'ticket'] as const).map((role): [string, Online] => {
      const id = info.online[role];
      const name = `${role.toUpperCase()}_KEY`;
      if (id === null) {
        c.io.stderr(
          `warning: the Worker at ${api.endpoint} has no ${name} secret: set it with \`${bulk}\`; until then it cannot sign ${role === 'release' ? 'releases' : 'tickets'}`,
        );
        return [role, 'missing'];
      }
      if (current.root.roles[role].keyids.includes(id)) return [role, 'ok'];
      const ours = keyIdOf(secrets?.[name as 'RELEASE_KEY' | 'TICKET_KEY']);
      c.io.stderr(
        `warning: the Worker's ${name} (key ${short(id)}) is not in root v${current.version}'s ${role} role${ours ? ` (this key set's is ${short(ours)})` : ''}: ` +
          `it was set from another key set; set this one's with \`${bulk}\`, or it fails with signing_key_not_in_root`,
      );
      return [role, 'other'];
    }),
  );
  return { endpoint: api.endpoint, installed, current: current.version, online };
}
