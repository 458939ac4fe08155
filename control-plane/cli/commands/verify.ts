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
  ProtocolError,
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

export async function verify(c: Ctx, target: string, o: { root: string; appKey?: string }): Promise<void> {
  const { io } = c;
  const api = Api.from(io, { ...c.globals, token: '' });
  const passed: { step: Step; detail: string }[] = [];
  let step: Step = 'root';
  const ok = (detail: string) => {
    passed.push({ step, detail });
    if (!c.globals.json) io.stdout(`ok   ${step.padEnd(9)} ${detail}`);
  };
  try {
    const rootPath = resolve(io.cwd, o.root);
    if (!existsSync(rootPath))
      throw new CliError(
        'input',
        'no_root',
        `pinned root ${o.root} not found: pass --root <root.json>, the root your apps pin`,
      );
    // SPEC 1.1–1.2: pinned root, then the chain of rotations.
    const pinned = await verifyPinnedRoot(parseEnvelope(readFileSync(rootPath, 'utf8'), o.root));
    const { roots } = await api.request(RootList, 'GET', `/v1/edge/roots?since=${pinned.version}`);
    const root = await updateRoot(pinned, roots, new Date());
    ok(`pinned v${pinned.version}, newest v${root.version} (expires ${root.expiresAt})`);

    let digest = target;
    let ticket: Ticket | undefined;
    if (!/^[0-9a-f]{64}$/.test(target)) {
      step = 'ticket';
      const [model, alias = 'champion'] = target.split(':');
      if (alias !== 'champion')
        throw new CliError(
          'usage',
          'bad_request',
          'devices are told the champion; verify another alias by its manifest digest',
        );
      const appKey = o.appKey ?? io.env.MODELFLEET_APP_KEY ?? devConfig(io).appKey;
      if (!appKey)
        throw new CliError('usage', 'app_key_invalid', 'pass --app-key (or set MODELFLEET_APP_KEY) to fetch a ticket');
      const env = await api.request(Envelope, 'GET', `/v1/edge/tickets/${model}?device=modelfleet-cli`, undefined, {
        'x-modelfleet-app-key': appKey,
      });
      ticket = await verifyTicket(env, root, { now: new Date() }); // SPEC 1.3–1.4
      digest = ticket.manifestDigest;
      ok(`${ticket.model} v${ticket.version}, sequence ${ticket.sequence}, expires ${ticket.expiresAt}`);
    }
    step = 'manifest';
    const envelope = await api.request(Envelope, 'GET', `/v1/edge/manifests/${digest}`);
    const { manifest } = await verifyManifest(envelope, digest, root); // SPEC 2
    if (ticket) checkManifestMatchesTicket(manifest, ticket); // SPEC 3
    checkSizeCaps(manifest); // SPEC 4.1
    const signedBy = envelope.signatures.map((s) => s.keyid);
    ok(
      `${manifest.model} v${manifest.version} ${manifest.format}, ${manifest.chunks.length} chunks, ${manifest.totalBytes} bytes, signed by ${signedBy.map((k) => k.slice(0, 12)).join(', ')}`,
    );
    step = 'chunks';
    for (const chunk of manifest.chunks) {
      const res = await api.raw('GET', `/v1/edge/chunks/${chunk.digest}`).catch((e: unknown) => {
        // The edge hashes stored bytes before serving them and withholds a chunk that fails: for
        // this check that is the same finding as a bad digest here, not an outage.
        if (e instanceof CliError && e.code === 'content_corrupt') {
          throw new CliError('verification', e.code, `${e.message}`, {
            step,
            passed: passed.map((p) => p.step),
            cause: e.details,
          });
        }
        throw e;
      });
      await verifyChunk(new Uint8Array(await res.arrayBuffer()), chunk); // SPEC 5.2
    }
    ok(`all ${manifest.chunks.length} verified`);
    emit(
      c,
      {
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
        steps: passed,
      },
      () => `verified ${manifest.model} v${manifest.version} (${digest})`,
    );
  } catch (e) {
    // A check that failed is a verification failure; the steps before it say how far it got.
    if (e instanceof ProtocolError)
      throw new CliError('verification', e.code, e.message, {
        step,
        passed: passed.map((p) => p.step),
        ...(e.details === undefined ? {} : { cause: e.details }),
      });
    throw e;
  }
}
