/**
 * @module inspector (test harness)
 * Talks to the Worker's isolate through workerd's V8 inspector (the DevTools protocol), so a
 * test can ask what the isolate has evaluated, or a benchmark can profile it, without a debug
 * route in the deployed Worker. The Miniflare instance must be started with `inspectorPort`
 * (the harness's `inspector: true`). Uses Miniflare's own `fetch`, which upgrades to a
 * WebSocket, so no WebSocket package is needed.
 *
 * @example
 * const loaded = await evaluateInWorker(worker.mf, "typeof globalThis._tfengine !== 'undefined'");
 */
import { type Miniflare, fetch as mfFetch } from 'miniflare';
import { WORKER_NAME } from './worker.ts';

export interface InspectorSession {
  /** Sends one DevTools protocol command and resolves with its result (rejects on its error). */
  call(method: string, params?: object): Promise<any>;
  /** The isolate's execution context, announced after `Runtime.enable`. */
  context(): string | undefined;
  close(): void;
}

/** Opens a session on the isolate of the Worker named `worker` (by default the harness's app Worker). */
export async function openInspector(mf: Miniflare, worker = WORKER_NAME): Promise<InspectorSession> {
  const base = await mf.getInspectorURL();
  const res = await mfFetch(new URL(`/core:user:${worker}`, base).href.replace(/^ws/, 'http'), {
    headers: { upgrade: 'websocket' },
  });
  const ws = res.webSocket;
  if (!ws) throw new Error(`the inspector did not upgrade to a WebSocket (HTTP ${res.status})`);
  ws.accept();
  let context: string | undefined;
  const replies = new Map<number, (reply: { result?: any; error?: { message: string } }) => void>();
  ws.addEventListener('message', (e) => {
    const msg = JSON.parse(String(e.data));
    if (msg.method === 'Runtime.executionContextCreated') context ??= msg.params.context.uniqueId;
    if (typeof msg.id === 'number') replies.get(msg.id)?.(msg);
  });
  let nextId = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<any>((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => reject(new Error(`inspector ${method} did not answer within 30 s`)), 30_000);
      replies.set(id, (reply) => {
        clearTimeout(timer);
        replies.delete(id);
        if (reply.error) reject(new Error(`inspector ${method}: ${reply.error.message}`));
        else resolve(reply.result);
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { call, context: () => context, close: () => ws.close() };
}

/** Evaluates `expression` in the Worker's isolate and returns its value (JSON-serialisable). */
export async function evaluateInWorker(mf: Miniflare, expression: string): Promise<unknown> {
  const session = await openInspector(mf);
  try {
    // workerd has no "default" context for Runtime.evaluate to pick: enable the domain, which
    // announces the isolate's context, and name it.
    await session.call('Runtime.enable');
    const uniqueContextId = session.context();
    if (!uniqueContextId) throw new Error('the inspector announced no execution context for the Worker');
    const { result, exceptionDetails } = await session.call('Runtime.evaluate', {
      expression,
      returnByValue: true,
      uniqueContextId,
    });
    if (exceptionDetails)
      throw new Error(
        `evaluating ${expression} threw: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`,
      );
    return result.value;
  } finally {
    session.close();
  }
}
