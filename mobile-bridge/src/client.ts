/**
 * @module client (bridge)
 * `createBridgeClient` mirrors the web SDK's `createClient` (same options, same error codes) for
 * code on the React Native side: requests go to the page over the endpoint, which waits for the
 * page's "ready" and sends the configuration once (again after the WebView restarts).
 */
import { DEFAULT_TIMEOUT_MS, createEndpoint, type CallOptions, type Endpoint, type RequestBody } from './endpoint.ts';
import { BridgeError, type ClientConfig, type PageEvent, packValue, unpackValue } from '@modelfleet/protocol/bridge';

/** The web SDK's options that make sense across the bridge; `os` is the native platform. */
export type BridgeClientOptions = Omit<ClientConfig, 'os' | 'trustRoot'> & {
  trustRoot: string | object;
  os: ClientConfig['os'];
  timeoutMs?: number;
};

/** An output as the web SDK gives it: its values in a typed array, with shape and dtype. */
export type BridgeOutputTensor =
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'bool'; shape: number[]; data: Uint8Array };

export interface BridgeModel {
  readonly name: string;
  readonly version: number;
  readonly backend: string;
  /**
   * Nested arrays, `{ data, shape }` typed tensors, or either by input name (images stay on the
   * page side: pass their pixels as `{ data: Uint8Array, shape: [1, h, w, 3] }`). Typed arrays
   * cross as base64 keeping their dtype; outputs come back as typed tensors.
   */
  predict(inputs: unknown, options?: CallOptions): Promise<Record<string, BridgeOutputTensor>>;
  reload(): Promise<{ version: number; changed: boolean; downloadedBytes: number }>;
  feedback(label: number | string): Promise<void>;
}

export interface BridgeClient {
  /** Feed it the WebView's onMessage data. */
  receive(raw: unknown): void;
  load(name: string, options?: CallOptions): Promise<BridgeModel>;
  status(): Promise<Record<string, unknown>>;
  flush(): Promise<unknown>;
  onEvent(listener: (event: PageEvent) => void): () => void;
  /** The WebView's content process died or reloaded: pending calls fail, the next call re-inits. */
  reset(reason?: string): void;
  close(): Promise<void>;
  readonly endpoint: Endpoint;
}

/** How long close() waits for the page to release its models before closing the bridge anyway. */
const CLOSE_TIMEOUT_MS = 2000;
/** What the page answers to reload. */
interface ReloadView {
  version: number;
  changed: boolean;
  downloadedBytes: number;
  backend: string;
}
/** One request to the page, after its "ready" and the client's init. */
type Call = (body: RequestBody, opts?: CallOptions) => Promise<unknown>;

export function createBridgeClient(options: BridgeClientOptions, transport: { post(raw: string): void }): BridgeClient {
  const { timeoutMs, ...rest } = options;
  const config = {
    ...rest,
    trustRoot: typeof rest.trustRoot === 'string' ? rest.trustRoot : JSON.stringify(rest.trustRoot),
  } as ClientConfig;
  let endpoint = createEndpoint((raw) => transport.post(raw), timeoutMs ? { timeoutMs } : {});
  let ready!: Promise<void>;
  let markReady!: () => void;
  let initialized: Promise<unknown> | null = null;
  let initDone = false; // the page has a client to release on close
  let pageUp = false;
  const listeners = new Set<(event: PageEvent) => void>();
  const arm = () => {
    pageUp = false;
    ready = new Promise<void>((r) => (markReady = () => ((pageUp = true), r())));
  };
  arm();
  const wire = () =>
    endpoint.onEvent((e) => {
      if (e.event === 'ready') {
        initialized = null; // a (re)started page has no client yet
        initDone = false;
        markReady();
      }
      listeners.forEach((l) => l(e));
    });
  wire();

  /** Waits for the page (within the call's timeout: a page that never starts fails the call). */
  function pageReady(opts?: CallOptions): Promise<void> {
    if (pageUp) return Promise.resolve();
    const ms = opts?.timeoutMs ?? timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>(
      (_, reject) =>
        (timer = setTimeout(
          () => reject(new BridgeError('timeout', `the WebView page did not start within ${ms} ms`)),
          ms,
        )),
    );
    return Promise.race([ready, late]).finally(() => clearTimeout(timer));
  }

  /** Waits for the page, then sends init once; every request goes through here. */
  async function call(body: RequestBody, opts?: CallOptions) {
    await pageReady(opts);
    initialized ??= endpoint.call({ kind: 'init', config }).then(
      () => void (initDone = true),
      (e) => {
        initialized = null;
        throw e;
      },
    );
    await initialized;
    return endpoint.call(body, opts);
  }

  const client: BridgeClient = {
    receive: (raw) => endpoint.receive(raw),
    async load(name, opts) {
      const view = (await call({ kind: 'load', model: name }, opts)) as { version: number; backend: string };
      return bridgeModel(name, view, call);
    },
    status: async () => (await call({ kind: 'status' })) as Record<string, unknown>,
    flush: () => call({ kind: 'flush' }),
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reset(reason = 'the WebView restarted') {
      endpoint.close(reason);
      endpoint = createEndpoint((raw) => transport.post(raw), timeoutMs ? { timeoutMs } : {});
      wire();
      initialized = null;
      initDone = false;
      arm();
    },
    async close() {
      // Best effort: tell a running page to release its models; a page whose init never answered
      // has none, and waiting 2 s on it would only delay the app's unmount.
      if (pageUp && initDone) await endpoint.call({ kind: 'close' }, { timeoutMs: CLOSE_TIMEOUT_MS }).catch(() => {});
      endpoint.close('closed by the app');
    },
    get endpoint() {
      return endpoint;
    },
  };
  return client;
}

/** A loaded model on the React Native side: each method is one request to the page. */
function bridgeModel(name: string, view: { version: number; backend: string }, call: Call): BridgeModel {
  const model: BridgeModel = {
    name,
    version: view.version,
    backend: view.backend,
    async predict(inputs, o) {
      const packed = await call({ kind: 'predict', model: name, inputs: packValue(inputs) }, o);
      return unpackValue(packed) as Record<string, BridgeOutputTensor>;
    },
    async reload() {
      const r = (await call({ kind: 'reload', model: name })) as ReloadView;
      Object.assign(model, { version: r.version, backend: r.backend });
      return { version: r.version, changed: r.changed, downloadedBytes: r.downloadedBytes };
    },
    feedback: async (label) => void (await call({ kind: 'feedback', model: name, label })),
  };
  return model;
}

export { BridgeError };
