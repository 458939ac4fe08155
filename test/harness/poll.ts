/**
 * Polls `read` until `done` says yes. On the deadline it throws with the last value seen, so a
 * slow CI machine fails with the state it was stuck in rather than a bare assertion later.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (x: T) => boolean,
  opts: { timeoutMs?: number; what?: string; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 45_000);
  for (;;) {
    const x = await read();
    if (done(x)) return x;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${opts.what ?? 'a condition'}; last seen: ${JSON.stringify(x).slice(0, 4000)}`,
      );
    await new Promise((res) => setTimeout(res, opts.everyMs ?? 250));
  }
}
