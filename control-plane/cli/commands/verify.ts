/**
 * @module cli/commands/verify
 * `verify <digest | model[:alias]>`: the device's checks (protocol/SPEC.md §1–§5) run from
 * outside against the edge, with a pinned root. Every chunk is downloaded and hashed. A failed
 * check exits 7 (verification) and says which step failed and which passed before it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  Envelope,
  type Manifest,
  ProtocolError,
  type Root,
  RootList,
  type Ticket,
  checkManifestMatchesTicket,
  checkSizeCaps,
  parseEnvelope,
  updateRoot,
  verifyChunk,
  verifyPinnedRoot,
  verifyManifest,
  verifyTicket,
} from '@modelfleet/protocol';
import { Api, type Ctx, devConfig, emit } from '../context.ts';
import { CliError } from '../errors.ts';

type Step = 'root' | 'ticket' | 'manifest' | 'chunks';

/**
 * The step that runs and the steps that passed: each pass is printed as it happens, and a
 * failure carries both, so that it says how far verification got.
 */
class Trail {
  step: Step = 'root';
  readonly passed: { step: Step; detail: string }[] = [];

  constructor(private readonly c: Ctx) {}

  ok(detail: string): void {
    this.passed.push({ step: this.step, detail });
    if (!this.c.globals.json) this.c.io.stdout(`ok   ${this.step.padEnd(9)} ${detail}`);
  }

  /** A failed check at the current step: a verification failure (exit 7). */
  failure(code: string, message: string, cause: { cause?: unknown }): CliError {
    return new CliError('verification', code, message, {
      step: this.step,
      passed: this.passed.map((p) => p.step),
      ...cause,
    });
  }
}

export async function verify(c: Ctx, target: string, o: { root: string; appKey?: string }): Promise<void> {
  const api = Api.from(c.io, { ...c.globals, token: '' });
  const trail = new Trail(c);
  try {
    const { pinned, root } = await checkRoot(c, api, o.root);
    trail.ok(`pinned v${pinned.version}, newest v${root.version} (expires ${root.expiresAt})`);

    let digest = target;
    let ticket: Ticket | undefined;
    if (!/^[0-9a-f]{64}$/.test(target)) {
      trail.step = 'ticket';
      ticket = await fetchTicket(c, api, root, target, o.appKey);
      digest = ticket.manifestDigest;
      trail.ok(`${ticket.model} v${ticket.version}, sequence ${ticket.sequence}, expires ${ticket.expiresAt}`);
    }
    trail.step = 'manifest';
    const { manifest, signedBy } = await checkManifest(api, digest, root, ticket);
    trail.ok(
      `${manifest.model} v${manifest.version} ${manifest.format}, ${manifest.chunks.length} chunks, ${manifest.totalBytes} bytes, signed by ${signedBy.map((k) => k.slice(0, 12)).join(', ')}`,
    );
    trail.step = 'chunks';
    await checkChunks(api, manifest, trail);
    trail.ok(`all ${manifest.chunks.length} verified`);
    const verified = summary({ digest, pinned, root, ticket, manifest, signedBy }, trail);
    emit(c, verified, () => `verified ${manifest.model} v${manifest.version} (${digest})`);
  } catch (e) {
    // A check that failed is a verification failure; the steps before it say how far it got.
    if (e instanceof ProtocolError)
      throw trail.failure(e.code, e.message, e.details === undefined ? {} : { cause: e.details });
    throw e;
  }
}

/** SPEC 1.1–1.2: the pinned root, then the chain of rotations the edge serves after it. */
async function checkRoot(c: Ctx, api: Api, rootFile: string): Promise<{ pinned: Root; root: Root }> {
  const rootPath = resolve(c.io.cwd, rootFile);
  if (!existsSync(rootPath))
    throw new CliError(
      'input',
      'no_root',
      `pinned root ${rootFile} not found: pass --root <root.json>, the root your apps pin`,
    );
  const pinned = await verifyPinnedRoot(parseEnvelope(readFileSync(rootPath, 'utf8'), rootFile));
  const { roots } = await api.request(RootList, 'GET', `/v1/edge/roots?since=${pinned.version}`);
  return { pinned, root: await updateRoot(pinned, roots, new Date()) };
}

/** SPEC 1.3–1.4: the ticket a device gets for `model[:champion]`, which names the manifest. */
async function fetchTicket(c: Ctx, api: Api, root: Root, target: string, appKeyOption?: string): Promise<Ticket> {
  const [model, alias = 'champion'] = target.split(':');
  if (alias !== 'champion')
    throw new CliError(
      'usage',
      'bad_request',
      'devices are told the champion; verify another alias by its manifest digest',
    );
  const appKey = appKeyOption ?? c.io.env.MODELFLEET_APP_KEY ?? devConfig(c.io).appKey;
  if (!appKey)
    throw new CliError('usage', 'app_key_invalid', 'pass --app-key (or set MODELFLEET_APP_KEY) to fetch a ticket');
  const env = await api.request(Envelope, 'GET', `/v1/edge/tickets/${model}?device=modelfleet-cli`, undefined, {
    'x-modelfleet-app-key': appKey,
  });
  return verifyTicket(env, root, { now: new Date() });
}

/** SPEC 2–4.1: signatures and digest, agreement with the ticket, and the size caps. */
async function checkManifest(
  api: Api,
  digest: string,
  root: Root,
  ticket: Ticket | undefined,
): Promise<{ manifest: Manifest; signedBy: string[] }> {
  const envelope = await api.request(Envelope, 'GET', `/v1/edge/manifests/${digest}`);
  const { manifest } = await verifyManifest(envelope, digest, root); // SPEC 2
  if (ticket) checkManifestMatchesTicket(manifest, ticket); // SPEC 3
  checkSizeCaps(manifest); // SPEC 4.1
  return { manifest, signedBy: envelope.signatures.map((s) => s.keyid) };
}

/** SPEC 5.2: every chunk downloaded and hashed against the manifest. */
async function checkChunks(api: Api, manifest: Manifest, trail: Trail): Promise<void> {
  for (const chunk of manifest.chunks) {
    const res = await api.raw('GET', `/v1/edge/chunks/${chunk.digest}`).catch((e: unknown) => {
      // The edge hashes stored bytes before serving them and withholds a chunk that fails: for
      // this check that is the same finding as a bad digest here, not an outage.
      if (e instanceof CliError && e.code === 'content_corrupt') {
        throw trail.failure(e.code, e.message, { cause: e.details });
      }
      throw e;
    });
    await verifyChunk(new Uint8Array(await res.arrayBuffer()), chunk);
  }
}

/** What `--json` prints: the verified version, the root and ticket used, and every step. */
function summary(
  v: { digest: string; pinned: Root; root: Root; ticket?: Ticket; manifest: Manifest; signedBy: string[] },
  trail: Trail,
) {
  const { digest, pinned, root, ticket, manifest, signedBy } = v;
  return {
    verified: true,
    model: manifest.model,
    version: manifest.version,
    manifestDigest: digest,
    root: { pinned: pinned.version, newest: root.version, expiresAt: root.expiresAt },
    ticket: ticket ? { version: ticket.version, sequence: ticket.sequence, expiresAt: ticket.expiresAt } : null,
    manifest: {
      format: manifest.format,
      chunks: manifest.chunks.length,
      totalBytes: manifest.totalBytes,
      signedBy,
    },
    steps: trail.passed,
  };
}
