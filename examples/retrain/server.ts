/**
 * @module retrain/server
 * The retrain service: a webhook receiver (node:http) for the control plane's signed CloudEvents.
 * A `dev.modelfleet.drift.retrain_requested` delivery starts a retrain job (job.ts) in the
 * background and is answered 202 at once, well inside the sender's timeout. Deliveries are
 * verified the Standard Webhooks way (protocol verifyWebhook) before anything is read; an event
 * id already seen is answered 200 and starts nothing (the control plane retries with the same id);
 * one job per model runs at a time, and a request arriving meanwhile runs after it (the newest
 * one only: it carries the latest window; queue.ts).
 *
 *   RETRAIN_WEBHOOK_SECRET=whsec_… MODELFLEET_ENDPOINT=… MODELFLEET_TOKEN=mft_… \
 *     node --import tsx examples/retrain/server.ts
 *
 * @example
 * const service = await startRetrainService({ port: 0, secret, endpoint, token, source: demoSource(7) });
 * // register service.url as a webhook for dev.modelfleet.drift.retrain_requested
 */
import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type CloudEvent, type Envelope, ProtocolError, verifyWebhook } from '@modelfleet/protocol';
import { type DataSource, type JobDeps, demoSource } from './job.ts';
import { type Job, createJobQueue } from './queue.ts';

export type { Job };

export const RETRAIN_EVENT = 'dev.modelfleet.drift.retrain_requested';
const MAX_BODY_BYTES = 2 ** 20;
/** Event ids remembered for deduplication (oldest forgotten first). */
const SEEN_IDS = 10_000;

export interface RetrainOptions {
  port?: number;
  host?: string;
  secret: string;
  endpoint: string;
  /** Publisher token: downloads the champion, publishes, asks for evaluations. */
  token: string;
  evalSetToken?: string;
  root?: Envelope;
  source: DataSource;
  trainRows?: number;
  evalRows?: number;
  train?: JobDeps['train'];
  codeCommit?: string;
  workDir?: string;
  log?: (line: string) => void;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new Refusal(413, 'payload_too_large', `deliveries are at most ${MAX_BODY_BYTES} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Which model and version the event asks to retrain; the control plane always sends both. */
function requestOf(event: CloudEvent): { model: string; version: number } {
  const { model, version } = event.data as { model?: unknown; version?: unknown };
  if (
    typeof model !== 'string' ||
    !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(model) ||
    !Number.isInteger(version) ||
    (version as number) < 1
  ) {
    throw new Refusal(
      400,
      'malformed_document',
      'a retrain_requested event carries data.model (a model name) and data.version (a positive integer)',
    );
  }
  return { model, version: version as number };
}

/** What a retrain job needs (job.ts), from the service's options. */
function jobDeps(o: RetrainOptions, log: (line: string) => void): JobDeps {
  return {
    controlPlane: { endpoint: o.endpoint.replace(/\/$/, ''), token: o.token },
    source: o.source,
    log,
    trainRows: o.trainRows ?? 4000,
    evalRows: o.evalRows ?? 2000,
    ...(o.evalSetToken ? { evalSetToken: o.evalSetToken } : {}),
    ...(o.root ? { root: o.root } : {}),
    ...(o.train ? { train: o.train } : {}),
    ...(o.codeCommit ? { codeCommit: o.codeCommit } : {}),
    ...(o.workDir ? { workDir: o.workDir } : {}),
  };
}

export async function startRetrainService(
  o: RetrainOptions,
): Promise<{ url: string; close(): Promise<void>; jobs: Job[] }> {
  if (!o.secret?.startsWith('whsec_'))
    throw new Error(
      'the webhook secret (RETRAIN_WEBHOOK_SECRET) is the whsec_… value shown when the webhook was created',
    );
  const log = o.log ?? ((line: string) => console.log(`retrain: ${line}`));
  const { jobs, enqueue } = createJobQueue(jobDeps(o, log), log);
  const seen = new Set<string>();

  async function handle(req: IncomingMessage): Promise<{ status: number; body: Record<string, unknown> }> {
    if (req.method === 'GET' && req.url === '/jobs') {
      return { status: 200, body: { jobs: jobs.map(({ done: _, ...j }) => j) } };
    }
    if (req.method !== 'POST') throw new Refusal(405, 'method_not_allowed', 'deliveries are POSTed');
    const body = await readBody(req);
    const headers = { get: (name: string) => [req.headers[name] ?? []].flat().join(' ') || null };
    let event: CloudEvent;
    try {
      event = await verifyWebhook(o.secret, headers, body);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // A signed body that is not a CloudEvent is the sender's bug; anything unsigned, stale or
      // tampered is refused without a hint.
      throw e.code === 'malformed_document' ? new Refusal(400, e.code, e.message) : new Refusal(401, e.code, e.message);
    }
    if (seen.has(event.id)) return { status: 200, body: { duplicate: true, eventId: event.id } };
    if (event.type !== RETRAIN_EVENT) {
      remember(event.id);
      return { status: 202, body: { ignored: event.type } };
    }
    const request = requestOf(event);
    remember(event.id);
    const job = enqueue(event, request);
    return { status: 202, body: { job: job.id, state: job.state } };
  }
  function remember(id: string): void {
    seen.add(id);
    if (seen.size > SEEN_IDS) seen.delete(seen.values().next().value!);
  }

  const server = createServer((req, res) => {
    handle(req)
      .then(
        (r) => r,
        (e: unknown) =>
          e instanceof Refusal
            ? { status: e.status, body: { error: { code: e.code, message: e.message } } }
            : (log(`delivery failed: ${(e as Error).stack ?? e}`),
              {
                status: 500,
                body: { error: { code: 'internal', message: 'the retrain service failed; see its log' } },
              }),
      )
      .then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    jobs,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// `node --import tsx examples/retrain/server.ts`: the demo's service, configured from the environment.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = (name: string) => process.env[name] || undefined;
  const service = await startRetrainService({
    port: Number(env('RETRAIN_PORT') ?? 8790),
    host: env('RETRAIN_HOST') ?? '127.0.0.1',
    secret: env('RETRAIN_WEBHOOK_SECRET') ?? '',
    endpoint: env('MODELFLEET_ENDPOINT') ?? 'http://127.0.0.1:8787',
    token: env('MODELFLEET_TOKEN') ?? '',
    ...(env('MODELFLEET_EVAL_SET_TOKEN') ? { evalSetToken: env('MODELFLEET_EVAL_SET_TOKEN')! } : {}),
    source: demoSource(),
  });
  console.log(`retrain service listening on ${service.url}`);
}
