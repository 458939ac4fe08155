/**
 * @module cli/commands/keys
 * `keys rotate-root | list` (`keys init` is keys-init.ts). Root private keys never leave the
 * operator's machine: they are written to <dir>/keys/ (mode 0600, git-ignored); only signed root
 * documents are uploaded.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type KeyPairRecord,
  KeysInfo,
  RootInstalled,
  generateKeyPair,
  nextRoot,
  signRoot,
  signerFrom,
} from '@modelfleet/protocol';
import { Api, type Ctx, emit, table } from '../context.ts';
import { CliError } from '../errors.ts';
import { readCurrentRoot, readSecrets, writeSecret } from './key-files.ts';

export async function rotateRoot(c: Ctx, o: { dir: string; expiresDays: string; upload?: boolean }): Promise<void> {
  const days = Number(o.expiresDays);
  if (!Number.isInteger(days) || days < 1)
    throw new CliError('usage', 'bad_request', `--expires-days must be a positive integer, got ${o.expiresDays}`);
  const dir = resolve(c.io.cwd, o.dir);
  const { root } = readCurrentRoot(dir);
  const oldKeysPath = join(dir, 'keys', `root-v${root.version}.json`);
  if (!existsSync(oldKeysPath))
    throw new CliError(
      'input',
      'signing_key_missing',
      `${oldKeysPath} not found: the current root keys are needed to sign the next root`,
    );
  const oldKeys = JSON.parse(readFileSync(oldKeysPath, 'utf8')) as KeyPairRecord[];
  const alg = Object.values(root.keys)[0]?.alg ?? 'ecdsa-p256-sha256';
  const fresh = [await generateKeyPair(alg)];
  const next = nextRoot(root, fresh, new Date(Date.now() + days * 86400_000));
  const envelope = await signRoot(next, await Promise.all([...oldKeys, ...fresh].map(signerFrom)));
  writeSecret(join(dir, 'keys', `root-v${next.version}.json`), JSON.stringify(fresh, null, 2));
  mkdirSync(join(dir, 'roots'), { recursive: true });
  writeFileSync(join(dir, 'roots', `v${next.version}.json`), JSON.stringify(envelope, null, 2));
  writeFileSync(join(dir, 'root.json'), JSON.stringify(envelope, null, 2));
  let installed: { version: number; endpoint: string } | null = null;
  if (o.upload) {
    const api = Api.from(c.io, c.globals, {
      token: readSecrets(dir)?.ADMIN_TOKEN,
      source: join(o.dir, 'secrets.json'),
    });
    installed = {
      version: (await api.request(RootInstalled, 'PUT', '/v1/keys/root', envelope)).version,
      endpoint: api.endpoint,
    };
  }
  emit(
    c,
    {
      version: next.version,
      previous: root.version,
      newRootKeyId: fresh[0]!.keyid,
      expiresAt: next.expiresAt,
      installed,
    },
    () => [
      `root v${next.version} signed by root v${root.version}'s keys and the new key ${fresh[0]!.keyid.slice(0, 12)}…`,
      ...(installed ? [`installed root v${installed.version}`] : []),
    ],
  );
}

export async function listKeys(c: Ctx): Promise<void> {
  const info = await Api.from(c.io, c.globals).request(KeysInfo, 'GET', '/v1/keys');
  emit(c, info, () => {
    if (!info.root) return 'no root installed; run `modelfleet keys init --upload`';
    const rows = Object.entries(info.root.roles).flatMap(([role, r]) =>
      r.keyids.map((id) => ({
        role,
        keyid: id.slice(0, 16) + '…',
        alg: info.root!.keys[id]?.alg ?? '?',
        threshold: r.threshold,
        online: info.online[role as keyof KeysInfo['online']] === id ? 'yes' : '',
      })),
    );
    return [`root v${info.root.version}, expires ${info.root.expiresAt}`, table(rows)];
  });
}
