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
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
};

/** The network half: the chunk's bytes, resumed with Range from a stored partial if there is one. */
async function receiveChunk(
  edge: EdgeClient,
  store: ModelStore,
  chunk: ManifestChunk,
  onBytes: (n: number) => void,
  partials: Set<string>,
): Promise<{ bytes: Uint8Array; resumed: number }> {
  // Only a chunk known to have a partial reads it: an IndexedDB read per chunk before each request
  // held every lane back on a cold load (where there are none).
  const partial = partials.has(chunk.digest) ? await store.getPartial(chunk.digest) : undefined;
  const have = partial && partial.byteLength < chunk.size ? new Uint8Array(partial) : undefined;
  const received: Uint8Array[] = have ? [have] : [];
  try {
    const res = await edgeGet(edge, `/chunks/${chunk.digest}`, have ? { range: `bytes=${have.length}-` } : {});
    if (have && res.status !== 206) received.length = 0; // server ignored the range: start over
    await readBody(res, onBytes, received);
  } catch (e) {
    const got = concat(received);
    if (got.length >= MIN_PARTIAL && got.length < chunk.size) {
      // Not kept: the next sync downloads the chunk from its start.
      await store.putPartial(chunk.digest, got.slice().buffer).catch((err) => edge.report?.('storage_write', err));
    }
    throw e instanceof SdkError
      ? e
      : new SdkError(
          'network',
          `download of chunk ${chunk.digest.slice(0, 12)} was cut after ${got.length} bytes; it resumes on the next sync`,
          e,
        );
  }
  return { bytes: concat(received), resumed: have && received[0] === have ? have.length : 0 };
}

/** The storage half, off the download lane so the next request goes out while this one hashes and writes. */
async function keepChunk(
  store: ModelStore,
  chunk: ManifestChunk,
  got: { bytes: Uint8Array; resumed: number },
  stats: DownloadStats,
): Promise<void> {
  const { bytes, resumed } = got;
  try {
    await verifyChunk(bytes, chunk); // SPEC 5.2: never store a bad chunk
  } catch (e) {
    await store.deletePartial(chunk.digest);
    throw toSdkError(e);
  }
  await store.putChunk(
    chunk.digest,
    bytes.buffer.byteLength === bytes.length ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer,
  );
  if (resumed > 0) await store.deletePartial(chunk.digest);
  stats.fetched.set(chunk.digest, bytes);
  stats.chunks++;
  stats.bytes += bytes.length - resumed;
  stats.resumedBytes += resumed;
}

/**
 * Downloads `chunks` with at most `parallel` requests in flight; each chunk is verified and
 * stored while the lane fetches the next. The first failure stops new requests; what is in
 * flight finishes (and a cut one keeps its partial).
 */
export async function downloadChunks(
  edge: EdgeClient,
  store: ModelStore,
  chunks: ManifestChunk[],
  parallel: number,
  onBytes: (n: number) => void,
): Promise<DownloadStats> {
  const stats: DownloadStats = { chunks: 0, bytes: 0, resumedBytes: 0, fetched: new Map() };
  let next = 0;
  let failure: unknown;
  const keeping: Promise<void>[] = [];
  const fail = (e: unknown) => void (failure ??= e);
  const partials = chunks.length > 0 ? await store.partialDigests() : new Set<string>();
  await Promise.all(
    Array.from({ length: Math.min(parallel, chunks.length) }, async () => {
      while (failure === undefined && next < chunks.length) {
        const chunk = chunks[next++]!;
        try {
          const got = await receiveChunk(edge, store, chunk, onBytes, partials);
          keeping.push(keepChunk(store, chunk, got, stats).catch(fail));
        } catch (e) {
          fail(e);
        }
      }
    }),
  );
  await Promise.all(keeping);
  if (failure !== undefined) throw toSdkError(failure);
  return stats;
}
