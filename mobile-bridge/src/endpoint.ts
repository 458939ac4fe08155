/**
 * @module endpoint
 * The React Native side of the bridge: numbered requests to the page with a timeout each,
 * cancellation by AbortSignal (the page is told to drop the work), replies matched by id in any
 * order, malformed or unknown replies counted and dropped, and every pending request rejected
 * when the bridge closes — nothing is ever left waiting.
 */
import { BRIDGE_VERSION, BridgeError, type PageEvent, PageMessage, type Reply, type Request, decode, encode } from '@modelfleet/protocol/bridge';

type Body<R> = R extends unknown ? Omit<R, 'v' | 'id'> : never;
export type RequestBody = Body<Request>;

export interface CallOptions { timeoutMs?: number; signal?: AbortSignal }
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

export function createEndpoint(send: (raw: string) => void, defaults: { timeoutMs?: number } = {}): Endpoint {
  const waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: BridgeError) => void; timer: ReturnType<typeof setTimeout>; cleanup: () => void }>();
  const listeners = new Set<(event: PageEvent) => void>();
  const dropped = { malformed: 0, unknownId: 0 };
  let next = 1;
  let closed: string | null = null;

  const settle = (id: string) => {
    const w = waiting.get(id);
    if (!w) return null;
    waiting.delete(id);
    clearTimeout(w.timer);
    w.cleanup();
    return w;
  };

  return {
    call(body, options = {}) {
      if (closed) return Promise.reject(new BridgeError('bridge_closed', `the bridge is closed (${closed})`));
      if (options.signal?.aborted) return Promise.reject(new BridgeError('cancelled', 'cancelled before it was sent'));
      const id = `r${next++}`;
      let raw: string;
      try {
        raw = encode({ v: BRIDGE_VERSION, id, ...body } as Request);
      } catch (e) {
        return Promise.reject(e);
      }
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          if (!settle(id)) return;
          reject(new BridgeError('cancelled', `${body.kind} was cancelled`));
          try {
            send(encode({ v: BRIDGE_VERSION, id: `r${next++}`, kind: 'cancel', target: id }));
          } catch {} // the page may be gone; the request is settled either way
        };
        const ms = options.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        const timer = setTimeout(() => {
          if (settle(id)) reject(new BridgeError('timeout', `${body.kind} got no answer within ${ms} ms`));
        }, ms);
        options.signal?.addEventListener('abort', onAbort, { once: true });
        waiting.set(id, { resolve, reject, timer, cleanup: () => options.signal?.removeEventListener('abort', onAbort) });
        try {
          send(raw);
        } catch (e) {
          settle(id);
          reject(new BridgeError('bridge_closed', `could not post to the page: ${(e as Error).message}`));
        }
      });
    },

    receive(raw) {
      let message: Reply | PageEvent;
      try {
        message = decode(raw, PageMessage);
      } catch {
        dropped.malformed++;
        return;
      }
      if ('event' in message) return void listeners.forEach((l) => l(message as PageEvent));
      const w = settle(message.id);
      if (!w) return void dropped.unknownId++; // late (timed out, cancelled) or never sent
      if (message.ok) w.resolve(message.result);
      else w.reject(new BridgeError(message.error.code, message.error.message));
    },

    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    close(reason = 'closed') {
      closed = reason;
      for (const id of [...waiting.keys()]) settle(id)!.reject(new BridgeError('bridge_closed', `the bridge closed (${reason}) before an answer`));
    },

    get pending() {
      return waiting.size;
    },
    dropped,
  };
}
