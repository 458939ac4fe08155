/**
 * @module bounded-body
 * Reads a request body up to a cap without ever holding more than the cap: a chunked upload (no
 * Content-Length) is read piece by piece and cancelled the moment it passes the limit. Reading it
 * whole first let a 300 MB chunked body to a device route grow workerd from 374 to 1,033 MB before
 * the 413 (issue 15).
 */
import { ApiError } from '@modelfleet/server-shared';

export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  what: string,
): Promise<ArrayBuffer> {
  if (!body) return new ArrayBuffer(0);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined); // stop the transfer; what was read is dropped
      throw new ApiError('payload_too_large', `${what} are at most ${maxBytes} bytes`, { limit: maxBytes });
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out.buffer;
}
