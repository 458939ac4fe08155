/**
 * @module cli/commands/verify
 * `verify <digest | model[:alias]>`: the device's checks (protocol/SPEC.md §1–§5) run from
 * outside against the edge, with a pinned root. Every chunk is downloaded and hashed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type Envelope, ProtocolError, type Ticket, checkManifestMatchesTicket, checkSizeCaps, parseEnvelope, updateRoot, verifyChunk, verifyPinnedRoot,
  verifyManifest, verifyTicket,
} from '@modelfleet/protocol';
import type { Command } from 'commander';
import { Api, CliError, type CliIo, type GlobalOptions, devConfig } from '../context.ts';

export function registerVerify(program: Command, io: CliIo): void {
  program.command('verify <target>')
    .description('verify a manifest (by digest, or model[:alias] via a ticket) and all its chunks, as a device would')
    .option('--root <file>', 'the pinned root.json', '.modelfleet/root.json')
    .option('--app-key <key>', 'device app key, for model[:alias] targets')
    .action(async (target: string, o: { root: string; appKey?: string }) => {
      const api = Api.from(io, { ...program.opts<GlobalOptions>(), token: '' });
      const ok = (step: string, text: string) => io.stdout(`ok   ${step.padEnd(9)} ${text}`);
      try {
        const rootPath = resolve(io.cwd, o.root);
        if (!existsSync(rootPath)) throw new CliError('no_root', `pinned root ${o.root} not found`);
        // SPEC 1.1–1.2: pinned root, then the chain of rotations.
        const pinned = await verifyPinnedRoot(parseEnvelope(readFileSync(rootPath, 'utf8'), o.root));
        const { roots } = await api.request<{ roots: Envelope[] }>('GET', `/v1/edge/roots?since=${pinned.version}`);
        const root = await updateRoot(pinned, roots, new Date());
        ok('root', `pinned v${pinned.version}, newest v${root.version} (expires ${root.expiresAt})`);

        let digest = target;
        let ticket: Ticket | undefined;
        if (!/^[0-9a-f]{64}$/.test(target)) {
          const [model, alias = 'champion'] = target.split(':');
          if (alias !== 'champion') throw new CliError('bad_request', 'devices are told the champion; verify another alias by its manifest digest');
          const appKey = o.appKey ?? io.env.MODELFLEET_APP_KEY ?? devConfig(io).appKey;
          if (!appKey) throw new CliError('app_key_invalid', 'pass --app-key (or set MODELFLEET_APP_KEY) to fetch a ticket');
          const env = await api.request<Envelope>('GET', `/v1/edge/tickets/${model}?device=modelfleet-cli`, undefined, { 'x-modelfleet-app-key': appKey });
          ticket = await verifyTicket(env, root, { now: new Date() }); // SPEC 1.3–1.4
          digest = ticket.manifestDigest;
          ok('ticket', `${ticket.model} v${ticket.version}, sequence ${ticket.sequence}, expires ${ticket.expiresAt}`);
        }
        const envelope = await api.request<Envelope>('GET', `/v1/edge/manifests/${digest}`);
        const { manifest } = await verifyManifest(envelope, digest, root); // SPEC 2
        if (ticket) checkManifestMatchesTicket(manifest, ticket); // SPEC 3
        checkSizeCaps(manifest); // SPEC 4.1
        ok('manifest', `${manifest.model} v${manifest.version} ${manifest.format}, ${manifest.chunks.length} chunks, ${manifest.totalBytes} bytes, signed by ${envelope.signatures.map((s) => s.keyid.slice(0, 12)).join(', ')}`);
        for (const [i, chunk] of manifest.chunks.entries()) {
          const res = await api.raw('GET', `/v1/edge/chunks/${chunk.digest}`);
          await verifyChunk(new Uint8Array(await res.arrayBuffer()), chunk); // SPEC 5.2
          if (i === manifest.chunks.length - 1) ok('chunks', `all ${manifest.chunks.length} verified`);
        }
        io.stdout(`verified ${manifest.model} v${manifest.version} (${digest})`);
      } catch (e) {
        if (e instanceof ProtocolError) throw new CliError(e.code, e.message);
        throw e;
      }
    });
}
