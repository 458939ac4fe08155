/**
 * @module webview/serve
 * The page side of the bridge: validates each request, runs it against the web SDK client, and
 * answers its id exactly once (in completion order, not arrival order); `cancel` is a notice that
 * suppresses its target's answer and is not answered itself. Requests the host
 * cancelled or that arrive malformed get a coded error; a malformed message without a readable id
 * is answered with id "?" so the host can count it. The SDK is injected, so this runs in tests
 * without a WebView.
 */
import { BRIDGE_VERSION, BridgeError, type ClientConfig, type Reply, Request, decode, encode, packValue, unpackValue } from '@modelfleet/protocol/bridge';

/** What the page needs from the web SDK (createClient's client and its loaded models). */
export interface PageModel { readonly version: number; readonly backend: string; predict(inputs: never): Promise<unknown>; feedback(label: number | string): void; reload(): Promise<{ version: number; changed: boolean; downloadedBytes: number }> }
export interface PageClient { load(name: string): Promise<PageModel>; status(): Promise<unknown>; flush(): Promise<unknown>; close(): Promise<void> }

export function createPageServer(post: (raw: string) => void, makeClient: (config: ClientConfig) => Promise<PageClient>) {
  let client: Promise<PageClient> | null = null;
  const models = new Map<string, PageModel>();
  const cancelled = new Set<string>();

  const reply = (message: Reply) => {
    if (cancelled.delete(message.id)) return; // the host gave up on it; it was already rejected there
    try {
      post(encode(message));
    } catch (e) {
      post(encode({ v: BRIDGE_VERSION, id: message.id, ok: false, error: { code: (e as BridgeError).code ?? 'internal', message: (e as Error).message } }));
    }
  };
  const ready = async () => {
    if (!client) throw new BridgeError('not_ready', 'send init with the client configuration first');
    return client;
  };
  const model = (name: string) => {
    const m = models.get(name);
    if (!m) throw new BridgeError('not_ready', `load ${name} before using it`);
    return m;
  };
  const view = (m: PageModel) => ({ version: m.version, backend: m.backend });

  async function run(r: Request): Promise<unknown> {
    switch (r.kind) {
      case 'init':
        if (client) return { initialized: false }; // idempotent: a remounted provider re-sends it
        client = makeClient(r.config);
        client.catch(() => (client = null)); // a failed init can be retried
        await client;
        return { initialized: true };
      case 'load': {
        const m = await (await ready()).load(r.model);
        models.set(r.model, m);
        return view(m);
      }
      case 'predict':
        return packValue(await model(r.model).predict(unpackValue(r.inputs) as never));
      case 'reload': {
        const result = await model(r.model).reload();
        return { ...result, backend: model(r.model).backend };
      }
      case 'feedback':
        model(r.model).feedback(r.label);
        return null;
      case 'status':
        return (await ready()).status();
      case 'flush':
        return (await ready()).flush();
      case 'cancel': // handled on receipt
        return null;
      case 'close': {
        const c = client;
        client = null;
        models.clear();
        await (await c)?.close();
        return null;
      }
    }
  }

  return {
    /** One message from the host (the WebView's message event data). */
    receive(raw: unknown): void {
      let request: Request;
      try {
        request = decode(raw, Request);
      } catch (e) {
        const id = typeof raw === 'string' ? /"id"\s*:\s*"([^"]{1,64})"/.exec(raw.slice(0, 200))?.[1] ?? '?' : '?';
        return reply({ v: BRIDGE_VERSION, id, ok: false, error: { code: (e as BridgeError).code, message: (e as Error).message } });
      }
      if (request.kind === 'cancel') return void cancelled.add(request.target); // a notice: never answered
      run(request).then(
        (result) => reply({ v: BRIDGE_VERSION, id: request.id, ok: true, result: result ?? null }),
        (e: { code?: string; message?: string }) => reply({ v: BRIDGE_VERSION, id: request.id, ok: false, error: { code: e?.code ?? 'internal', message: String(e?.message ?? e) } }),
      );
    },
    /** Tells the host the page is up (sent once on start). */
    announce(): void {
      post(encode({ v: BRIDGE_VERSION, event: 'ready', data: { bridge: BRIDGE_VERSION } }));
    },
  };
}
