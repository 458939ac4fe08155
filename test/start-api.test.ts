// How `npm start` talks to the dev server between long waits (scripts/start/api.mjs): a fresh
// connection per request, reads retried when the connection drops, writes never repeated.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createApi } from '../scripts/start/api.mjs';

let server: http.Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A server that drops the connection of the first `drops` requests without answering. */
async function flaky(drops: number) {
  const seen: { method: string; connection: string | undefined }[] = [];
  const sockets = new Set<unknown>();
  server = http.createServer((req, res) => {
    seen.push({ method: req.method!, connection: req.headers.connection });
    if (seen.length <= drops) return req.socket.destroy();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true }));
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, connections: () => sockets.size };
}

it('sends every request on its own connection (connection: close)', async () => {
  const s = await flaky(0);
  const api = createApi(s.url, 't', { retryDelayMs: 1 });
  for (let i = 0; i < 3; i++) await api('GET', '/v1/health');
  expect(s.seen.every((r) => r.connection === 'close')).toBe(true);
  expect(s.connections()).toBe(3);
});

it('retries a read whose connection was closed under it', async () => {
  const s = await flaky(2);
  expect(await createApi(s.url, 't', { retryDelayMs: 1 })('GET', '/v1/models')).toEqual({ ok: true });
  expect(s.seen).toHaveLength(3);
});

it('does not repeat a write: the caller checks the state and decides', async () => {
  const s = await flaky(1);
  await expect(createApi(s.url, 't', { retryDelayMs: 1 })('POST', '/v1/apps', { name: 'demo' })).rejects.toMatchObject({
    code: 'network',
  });
  expect(s.seen).toHaveLength(1);
});
