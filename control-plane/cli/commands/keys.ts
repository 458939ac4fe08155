/**
 * @module cli/commands/keys
 * `keys init | rotate-root | list`. Root private keys never leave the operator's machine: they
 * are written to <dir>/keys/ (mode 0600, git-ignored); only signed root documents are uploaded.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  type Envelope, KeyAlg, type KeyPairRecord, type Root, createKeySet, fromBase64, fromUtf8, generateKeyPair, nextRoot, parseEnvelope,
  signInitialRoot, signRoot, signerFrom, toBase64,
} from '@modelfleet/protocol';
import type { Command } from 'commander';
import { Api, CliError, type CliIo, type GlobalOptions, table } from '../context.ts';

const days = (n: number) => new Date(Date.now() + n * 86400_000);

function writeSecret(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Adds or replaces KEY='value' lines in a dotenv file (wrangler's .dev.vars). */
function upsertDotenv(path: string, values: Record<string, string>): void {
  const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l && !Object.keys(values).some((k) => l.startsWith(`${k}=`))) : [];
  for (const [k, v] of Object.entries(values)) lines.push(`${k}='${v}'`);
  writeSecret(path, lines.join('\n') + '\n');
}

function readRoot(dir: string): { envelope: Envelope; root: Root } {
  const path = join(dir, 'root.json');
  if (!existsSync(path)) throw new CliError('no_root', `${path} not found; run \`modelfleet keys init\` first`);
  const envelope = parseEnvelope(readFileSync(path, 'utf8'), path);
  return { envelope, root: JSON.parse(fromUtf8(fromBase64(envelope.payload))) as Root };
}

export function registerKeys(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('signing keys and the root of trust');
  const globals = () => program.opts<GlobalOptions>();
  const dirOf = (d: string) => resolve(io.cwd, d);

  keys.command('init')
    .description('create a key set and a self-signed root v1; put the online keys in .dev.vars')
    .option('--dir <dir>', 'where root keys and root.json go', '.modelfleet')
    .option('--dev-vars <file>', 'dotenv file for the Worker secrets', '.dev.vars')
    .option('--alg <alg>', 'ecdsa-p256-sha256 or ed25519', 'ecdsa-p256-sha256')
    .option('--expires-days <n>', 'root lifetime in days', '365')
    .option('--force', 'overwrite existing keys')
    .option('--upload', 'install root v1 on the control plane')
    .action(async (o: { dir: string; devVars: string; alg: string; expiresDays: string; force?: boolean; upload?: boolean }) => {
      const dir = dirOf(o.dir);
      const alg = KeyAlg.safeParse(o.alg);
      if (!alg.success) throw new CliError('bad_request', `--alg must be one of ${KeyAlg.options.join(', ')}`);
      if (existsSync(join(dir, 'root.json')) && !o.force) throw new CliError('conflict', `${join(o.dir, 'root.json')} exists; pass --force to replace the key set`);
      const set = await createKeySet(alg.data);
      const envelope = await signInitialRoot(set, days(Number(o.expiresDays)));
      writeSecret(join(dir, 'keys', 'root-v1.json'), JSON.stringify(set.root, null, 2));
      mkdirSync(join(dir, 'roots'), { recursive: true });
      writeFileSync(join(dir, 'root.json'), JSON.stringify(envelope, null, 2));
      writeFileSync(join(dir, 'roots', 'v1.json'), JSON.stringify(envelope, null, 2));
      const adminToken = 'mft_' + toBase64(crypto.getRandomValues(new Uint8Array(24))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      upsertDotenv(resolve(io.cwd, o.devVars), { RELEASE_KEY: JSON.stringify(set.release[0]), TICKET_KEY: JSON.stringify(set.ticket[0]), ADMIN_TOKEN: adminToken });
      io.stdout(`root v1 written to ${join(o.dir, 'root.json')} (pin this file in your apps)`);
      io.stdout(`root keys in ${join(o.dir, 'keys')} (keep offline); release, ticket and admin secrets in ${o.devVars}`);
      if (o.upload) {
        const res = await Api.from(io, globals()).request<{ version: number }>('PUT', '/v1/keys/root', envelope);
        io.stdout(`installed root v${res.version}`);
      }
    });

  keys.command('rotate-root')
    .description('replace the root keys: root v(n+1) signed by the old and the new root keys')
    .option('--dir <dir>', 'where root keys and root.json are', '.modelfleet')
    .option('--expires-days <n>', 'lifetime of the new root in days', '365')
    .option('--upload', 'install the new root on the control plane')
    .action(async (o: { dir: string; expiresDays: string; upload?: boolean }) => {
      const dir = dirOf(o.dir);
      const { root } = readRoot(dir);
      const oldKeysPath = join(dir, 'keys', `root-v${root.version}.json`);
      if (!existsSync(oldKeysPath)) throw new CliError('signing_key_missing', `${oldKeysPath} not found: the current root keys are needed to sign the next root`);
      const oldKeys = JSON.parse(readFileSync(oldKeysPath, 'utf8')) as KeyPairRecord[];
      const alg = Object.values(root.keys)[0]?.alg ?? 'ecdsa-p256-sha256';
      const fresh = [await generateKeyPair(alg)];
      const next = nextRoot(root, fresh, days(Number(o.expiresDays)));
      const envelope = await signRoot(next, await Promise.all([...oldKeys, ...fresh].map(signerFrom)));
      writeSecret(join(dir, 'keys', `root-v${next.version}.json`), JSON.stringify(fresh, null, 2));
      mkdirSync(join(dir, 'roots'), { recursive: true });
      writeFileSync(join(dir, 'roots', `v${next.version}.json`), JSON.stringify(envelope, null, 2));
      writeFileSync(join(dir, 'root.json'), JSON.stringify(envelope, null, 2));
      io.stdout(`root v${next.version} signed by root v${root.version}'s keys and the new key ${fresh[0]!.keyid.slice(0, 12)}…`);
      if (o.upload) {
        const res = await Api.from(io, globals()).request<{ version: number }>('PUT', '/v1/keys/root', envelope);
        io.stdout(`installed root v${res.version}`);
      }
    });

  keys.command('list')
    .description('show the current root and the online key ids')
    .action(async () => {
      const info = await Api.from(io, globals()).request<{ root: { version: number; expiresAt: string; roles: Record<string, { keyids: string[]; threshold: number }>; keys: Record<string, { alg: string }> } | null; online: Record<string, string | null> }>('GET', '/v1/keys');
      if (globals().json) return io.stdout(JSON.stringify(info, null, 2));
      if (!info.root) return io.stdout('no root installed; run `modelfleet keys init --upload`');
      io.stdout(`root v${info.root.version}, expires ${info.root.expiresAt}`);
      const rows = Object.entries(info.root.roles).flatMap(([role, r]) =>
        r.keyids.map((id) => ({ role, keyid: id.slice(0, 16) + '…', alg: info.root!.keys[id]?.alg ?? '?', threshold: r.threshold, online: info.online[role] === id ? 'yes' : '' })),
      );
      io.stdout(table(rows));
    });
}
