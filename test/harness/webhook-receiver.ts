/**
 * @module webhook-receiver (test harness)
 * A local HTTP endpoint standing in for an operator's webhook receiver: it records every
 * request (headers and raw body) and answers with scripted statuses (default 200).
 */
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Statuses for the next requests, in order; after them, `fallback`. */
  script(statuses: number[], fallback?: number): void;
  /** Resolves once `n` requests have arrived (or rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let queue: number[] = [];
  let fallback = 200;
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(parts).toString('utf8'),
        at: Date.now(),
      });
      res.statusCode = queue.shift() ?? fallback;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    script(statuses, fb = 200) {
      queue = [...statuses];
      fallback = fb;
    },
    async waitFor(n, ms = 15_000) {
      const until = Date.now() + ms;
      while (received.length < n) {
        if (Date.now() > until) throw new Error(`webhook receiver: ${received.length} of ${n} requests after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return received.slice(0, n);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A header as one string (Node gives arrays for repeated ones). */
export const header = (r: Received, name: string) => [r.headers[name]].flat().join(',');
