/**
 * @module cli/commands/key-files
 * The key set on disk, as `keys init` writes it and the other `keys` commands read it:
 *
 *   <dir>/root.json          the current root (apps pin this file)
 *   <dir>/roots/v<n>.json    every root of the chain, v1 first
 *   <dir>/keys/root-v<n>.json  root private keys (0600; keep offline)
 *   <dir>/secrets.json       the Worker's secrets RELEASE_KEY, TICKET_KEY, ADMIN_TOKEN (0600),
 *                            in the JSON form `wrangler secret bulk` reads
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Envelope, ProtocolError, type Root, fromBase64, fromUtf8, parseEnvelope } from '@modelfleet/protocol';
import { CliError } from '../errors.ts';

export interface WorkerSecrets {
  RELEASE_KEY: string;
  TICKET_KEY: string;
  ADMIN_TOKEN: string;
}

export const SECRET_NAMES = ['RELEASE_KEY', 'TICKET_KEY', 'ADMIN_TOKEN'] as const;

export function writeSecret(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Adds or replaces KEY='value' lines in a dotenv file (wrangler's .dev.vars). */
export function upsertDotenv(path: string, values: Record<string, string>): void {
  const lines = existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l && !Object.keys(values).some((k) => l.startsWith(`${k}=`)))
    : [];
  for (const [k, v] of Object.entries(values)) lines.push(`${k}='${v}'`);
  writeSecret(path, lines.join('\n') + '\n');
}

export interface RootFile {
  version: number;
  envelope: Envelope;
  root: Root;
  path: string;
}

/** Reads a root envelope without verifying it (it is ours; the control plane and devices verify). */
export function readRootFile(path: string): RootFile {
  try {
    const envelope = parseEnvelope(readFileSync(path, 'utf8'), path);
    const root = JSON.parse(fromUtf8(fromBase64(envelope.payload))) as Root;
    return { version: root.version, envelope, root, path };
  } catch (e) {
    if (e instanceof ProtocolError || e instanceof SyntaxError)
      throw new CliError('input', 'root_invalid', `${path} is not a signed root: ${e.message}`);
    throw e;
  }
}

export function readCurrentRoot(dir: string): RootFile {
  const path = join(dir, 'root.json');
  if (!existsSync(path))
    throw new CliError('input', 'no_root', `${path} not found; run \`modelfleet keys init\` first`);
  return readRootFile(path);
}

/** The chain roots/v1.json, v2.json, … in order (root.json alone for a set without roots/). */
export function readRootChain(dir: string): RootFile[] {
  const rootsDir = join(dir, 'roots');
  const files = existsSync(rootsDir) ? readdirSync(rootsDir).filter((f) => /^v\d+\.json$/.test(f)) : [];
  const chain = files.map((f) => readRootFile(join(rootsDir, f))).sort((a, b) => a.version - b.version);
  return chain.length > 0 ? chain : [readCurrentRoot(dir)];
}

/** secrets.json, or undefined for a key set made before it existed (its secrets are in .dev.vars only). */
export function readSecrets(dir: string): WorkerSecrets | undefined {
  const path = join(dir, 'secrets.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as WorkerSecrets;
  } catch (e) {
    throw new CliError('input', 'bad_json', `${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The key id inside a RELEASE_KEY / TICKET_KEY secret (a KeyPairRecord as JSON). */
export function keyIdOf(secret: string | undefined): string | undefined {
  try {
    return secret ? (JSON.parse(secret) as { keyid?: string }).keyid : undefined;
  } catch {
    return undefined;
  }
}
