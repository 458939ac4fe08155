/**
 * @module webview/serve
 * The page side of the bridge: validates each request, runs it against the web SDK client, and
 * answers its id exactly once (in completion order, not arrival order); `cancel` is a notice that
 * suppresses its target's answer and is not answered itself. Requests the host
 * cancelled or that arrive malformed get a coded error; a malformed message without a readable id
 * is answered with id "?" so the host can count it. The SDK is injected, so this runs in tests
 * without a WebView.
 */
import {
  BRIDGE_VERSION,
  BridgeError,
  type ClientConfig,
  type Reply,
  Request,
  decode,
  encode,
  packValue,
  unpackValue,
} from '@modelfleet/protocol/bridge';

/** What the page needs from the web SDK (createClient's client and its loaded models). */
export interface PageModel {
  readonly version: number;
  readonly backend: string;
  predict(inputs: never): Promise<unknown>;
  feedback(label: number | string): void;
  reload(): Promise<{ version: number; changed: boolean; downloadedBytes: number }>;
}
export interface PageClient {
  load(name: string): Promise<PageModel>;
  status(): Promise<unknown>;
  flush(): Promise<unknown>;
  close(): Promise<void>;
}

/** What a page server holds: the SDK client (once init arrives) and the models loaded through it. */
interface State {
  makeClient: (config: ClientConfig) => Promise<PageClient>;
  client: Promise<PageClient> | null;
  models: Map<string, PageModel>;
}

export function createPageServer(
  post: (raw: string) => void,
  makeClient: (config: ClientConfig) => Promise<PageClient>,
) {
  const s: State = { makeClient, client: null, models: new Map() };
  const cancelled = new Set<string>();

  const reply = (message: Reply) => {
    if (cancelled.delete(message.id)) return; // the host gave up on it; it was already rejected there
    try {
      post(encode(message));
    } catch (e) {
      const error = { code: (e as BridgeError).code ?? 'internal', message: (e as Error).message };
      post(encode({ v: BRIDGE_VERSION, id: message.id, ok: false, error }));
    }
  };

  return {
    /** One message from the host (the WebView's message event data). */
    receive(raw: unknown): void {
      let request: Request;
      try {
        request = decode(raw, Request);
      } catch (e) {
        const id = typeof raw === 'string' ? (/"id"\s*:\s*"([^"]{1,64})"/.exec(raw.slice(0, 200))?.[1] ?? '?') : '?';
        return reply({
          v: BRIDGE_VERSION,
          id,
          ok: false,
          error: { code: (e as BridgeError).code, message: (e as Error).message },
        });
      }
      if (request.kind === 'cancel') return void cancelled.add(request.target); // a notice: never answered
      run(s, request).then(
        (result) => reply({ v: BRIDGE_VERSION, id: request.id, ok: true, result: result ?? null }),
        (e: { code?: string; message?: string }) => {
          const error = { code: e?.code ?? 'internal', message: String(e?.message ?? e) };
          reply({ v: BRIDGE_VERSION, id: request.id, ok: false, error });
        },
      );
    },
    /** Tells the host the page is up (sent once on start). */
    announce(): void {
      post(encode({ v: BRIDGE_VERSION, event: 'ready', data: { bridge: BRIDGE_VERSION } }));
    },
  };
}

async function ready(s: State): Promise<PageClient> {
  if (!s.client) throw new BridgeError('not_ready', 'send init with the client configuration first');
  return s.client;
}

function model(s: State, name: string): PageModel {
  const m = s.models.get(name);
  if (!m) throw new BridgeError('not_ready', `load ${name} before using it`);
  return m;
}

const view = (m: PageModel) => ({ version: m.version, backend: m.backend });

/** Runs one request against the SDK client; its result is the reply's. */
async function run(s: State, r: Request): Promise<unknown> {
  switch (r.kind) {
    case 'init': {
      if (s.client) return { initialized: false }; // idempotent: a remounted provider re-sends it
      const client = s.makeClient(r.config);
      s.client = client;
      client.catch(() => (s.client = null)); // a failed init can be retried (the failure is the reply)
      await client;
      return { initialized: true };
    }
    case 'load': {
      const m = await (await ready(s)).load(r.model);
      s.models.set(r.model, m);
      return view(m);
    }
    case 'predict':
      return packValue(await model(s, r.model).predict(unpackValue(r.inputs) as never));
    case 'reload': {
      const result = await model(s, r.model).reload();
      return { ...result, backend: model(s, r.model).backend };
    }
    case 'feedback':
      model(s, r.model).feedback(r.label);
      return null;
    case 'status':
      return (await ready(s)).status();
    case 'flush':
      return (await ready(s)).flush();
    case 'cancel': // handled on receipt
      return null;
    case 'close': {
      const c = s.client;
      s.client = null;
      s.models.clear();
      await (await c)?.close();
      return null;
    }
  }
}
