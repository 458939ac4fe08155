/**
 * @module download
 * SPEC 5: fetch the chunks a device lacks, a few at a time, verify each before storing it.
 * A chunk cut off mid-stream keeps its received bytes as a partial; the next attempt asks for
 * the rest with Range (SPEC 5.4) and verifies the whole chunk, so resuming costs at most the
 * bytes that never arrived.
 */
import { type ManifestChunk, verifyChunk } from '@modelfleet/protocol';
import { type EdgeClient, edgeGet } from './http.ts';
import { SdkError, toSdkError } from './errors.ts';
import type { ModelStore } from './store.ts';

export interface DownloadStats {
  chunks: number;
  bytes: number;
  resumedBytes: number;
  /** The verified bytes, by digest, so the caller can load without reading them back. */
  fetched: Map<string, Uint8Array>;
}

/** Partials smaller than this are not worth a Range request. */
const MIN_PARTIAL = 64 * 1024;

async function readBody(res: Response, onBytes: (n: number) => void, received: Uint8Array[]): Promise<void> {
  if (!res.body) {
    const all = new Uint8Array(await res.arrayBuffer());
    received.push(all);
    onBytes(all.length);
    return;
  }
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    received.push(value);
    onBytes(value.length);
  }
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};

async function fetchChunk(edge: EdgeClient, store: ModelStore, chunk: ManifestChunk, onBytes: (n: number) => void, stats: DownloadStats): Promise<void> {
  const partial = await store.getPartial(chunk.digest);
  const have = partial && partial.byteLength < chunk.size ? new Uint8Array(partial) : undefined;
  const received: Uint8Array[] = have ? [have] : [];
  try {
    const res = await edgeGet(edge, `/chunks/${chunk.digest}`, have ? { range: `bytes=${have.length}-` } : {});
    if (have && res.status !== 206) received.length = 0; // server ignored the range: start over
    else if (have) stats.resumedBytes += have.length;
    await readBody(res, onBytes, received);
  } catch (e) {
    const got = concat(received);
    if (got.length >= MIN_PARTIAL && got.length < chunk.size) await store.putPartial(chunk.digest, got.slice().buffer).catch(() => {});
    throw e instanceof SdkError ? e : new SdkError('network', `download of chunk ${chunk.digest.slice(0, 12)} was cut after ${got.length} bytes; it resumes on the next sync`, e);
  }
  const bytes = concat(received);
  try {
    await verifyChunk(bytes, chunk); // SPEC 5.2: never store a bad chunk
  } catch (e) {
    await store.deletePartial(chunk.digest);
    throw toSdkError(e);
  }
  await store.putChunk(chunk.digest, bytes.buffer.byteLength === bytes.length ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer);
  if (have) await store.deletePartial(chunk.digest);
  stats.fetched.set(chunk.digest, bytes);
  stats.chunks++;
  stats.bytes += bytes.length - (have && received[0] === have ? have.length : 0);
}

/** Downloads `chunks` with at most `parallel` in flight; the first failure stops new fetches. */
export async function downloadChunks(
  edge: EdgeClient, store: ModelStore, chunks: ManifestChunk[], parallel: number, onBytes: (n: number) => void,
): Promise<DownloadStats> {
  const stats: DownloadStats = { chunks: 0, bytes: 0, resumedBytes: 0, fetched: new Map() };
  let next = 0;
  let failure: unknown;
  await Promise.all(
    Array.from({ length: Math.min(parallel, chunks.length) }, async () => {
      while (failure === undefined && next < chunks.length) {
        const chunk = chunks[next++]!;
        try {
          await fetchChunk(edge, store, chunk, onBytes, stats);
        } catch (e) {
          failure ??= e;
        }
      }
    }),
  );
  if (failure !== undefined) throw toSdkError(failure);
  return stats;
}
