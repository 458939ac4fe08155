/**
 * @module load
 * A bounded closed-loop HTTP load generator: `concurrency` workers issue requests back to back
 * for `seconds`, against loopback only. Enough to compare routes of one Worker as ratios.
 */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
}

export async function closedLoop(
  step: () => Promise<boolean>,
  opts: { concurrency: number; seconds: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + opts.seconds * 1000;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const ok = await step().catch(() => false);
        latencies.push(performance.now() - t);
        if (!ok) errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    requests: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50ms: at(0.5),
    p99ms: at(0.99),
  };
}

/** GET a URL and drain the body; true on the expected status. */
export async function get(url: string, headers: Record<string, string> = {}, expect = 200): Promise<boolean> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status === expect;
}
