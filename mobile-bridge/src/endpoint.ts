/**
 * @module endpoint
 * The React Native side of the bridge: numbered requests to the page with a timeout each,
 * cancellation by AbortSignal (the page is told to drop the work), replies matched by id in any
 * order, malformed or unknown replies counted and dropped, and every pending request rejected
 * when the bridge closes — nothing is ever left waiting.
 */
import {
  BRIDGE_VERSION,
  BridgeError,
  type PageEvent,
  PageMessage,
  type Reply,
  type Request,
  decode,
  encode,
} from '@modelfleet/protocol/bridge';

type Body<R> = R extends unknown ? Omit<R, 'v' | 'id'> : never;
export type RequestBody = Body<Request>;

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}
export interface Endpoint {
  call(body: RequestBody, options?: CallOptions): Promise<unknown>;
  /** Feed every message the page posts (WebView onMessage's nativeEvent.data). */
  receive(raw: unknown): void;
  onEvent(listener: (event: PageEvent) => void): () => void;
  close(reason?: string): void;
  readonly pending: number;
  readonly dropped: { malformed: number; unknownId: number };
}

export const DEFAULT_TIMEOUT_MS = 30_000;

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (e: BridgeError) => void;
  timer: ReturnType<typeof setTimeout>;
  cleanup: () => void;
}

/** What createEndpoint's methods share. */
interface State {
  send: (raw: string) => void;
  defaults: { timeoutMs?: number };
  waiting: Map<string, Waiting>;
  nextId: () => string;
  /** Why the endpoint closed, or null while open. */
  closed: string | null;
}

/** Forgets a pending request (its timer and abort listener too); the entry, if it was still pending. */
function settle(s: State, id: string): Waiting | null {
  const w = s.waiting.get(id);
  if (!w) return null;
  s.waiting.delete(id);
  clearTimeout(w.timer);
  w.cleanup();
  return w;
}

export function createEndpoint(send: (raw: string) => void, defaults: { timeoutMs?: number } = {}): Endpoint {
  const listeners = new Set<(event: PageEvent) => void>();
  const dropped = { malformed: 0, unknownId: 0 };
  let next = 1;
  const s: State = { send, defaults, waiting: new Map(), nextId: () => `r${next++}`, closed: null };

  return {
    call: (body, options = {}) => call(s, body, options),

    receive(raw) {
      let message: Reply | PageEvent;
      try {
        message = decode(raw, PageMessage);
      } catch {
        dropped.malformed++;
        return;
      }
      if ('event' in message) return void listeners.forEach((l) => l(message as PageEvent));
      const w = settle(s, message.id);
      if (!w) return void dropped.unknownId++; // late (timed out, cancelled) or never sent
      if (message.ok) w.resolve(message.result);
      else w.reject(new BridgeError(message.error.code, message.error.message));
    },

    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    close(reason = 'closed') {
      s.closed = reason;
      for (const id of [...s.waiting.keys()]) {
        settle(s, id)!.reject(new BridgeError('bridge_closed', `the bridge closed (${reason}) before an answer`));
      }
    },

    get pending() {
      return s.waiting.size;
    },
    dropped,
  };
}

/** One request: sent now, settled once by its reply, its timeout, its signal or the endpoint closing. */
function call(s: State, body: RequestBody, options: CallOptions): Promise<unknown> {
  if (s.closed) return Promise.reject(new BridgeError('bridge_closed', `the bridge is closed (${s.closed})`));
  if (options.signal?.aborted) return Promise.reject(new BridgeError('cancelled', 'cancelled before it was sent'));
  const id = s.nextId();
  let raw: string;
  try {
    raw = encode({ v: BRIDGE_VERSION, id, ...body } as Request);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      if (!settle(s, id)) return;
      reject(new BridgeError('cancelled', `${body.kind} was cancelled`));
      try {
        s.send(encode({ v: BRIDGE_VERSION, id: s.nextId(), kind: 'cancel', target: id }));
      } catch {} // the page may be gone; the request is settled either way
    };
    const ms = options.timeoutMs ?? s.defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      if (settle(s, id)) reject(new BridgeError('timeout', `${body.kind} got no answer within ${ms} ms`));
    }, ms);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    s.waiting.set(id, { resolve, reject, timer, cleanup: () => options.signal?.removeEventListener('abort', onAbort) });
    try {
      s.send(raw);
    } catch (e) {
      settle(s, id);
      reject(new BridgeError('bridge_closed', `could not post to the page: ${(e as Error).message}`));
    }
  });
}
