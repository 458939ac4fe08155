/**
 * @module fault/crash-points
 * Named points where a fault test kills the Worker mid-operation, to prove that a crash at any
 * step of a release or a commit loses nothing and duplicates nothing (test/security/crash-points).
 * FAULT_POINTS (a comma-separated list of names; unset in every real deployment) arms them.
 *
 * An armed point calls `process.exit`, which workerd turns into an uncatchable cancellation of
 * the running request, cron event or alarm: no `catch` or `finally` after the point runs, no
 * response is written, and a Durable Object's unflushed storage writes are dropped — what a
 * machine dying there would leave. A thrown error would not do: the callers' catch blocks
 * (the cron's per-version logging, the rollout tick's "hold: analysis failed" decision) would
 * run and write. The test then restarts workerd, so the isolates' memory goes too.
 *
 * `name=ms` arms a pause instead: the operation waits there, as a slow validation or a slow
 * network would make it, so that a concurrent one deterministically overlaps it.
 *
 * @example
 * await env.DB.batch(statements);
 * await crashPoint(env, 'close:after-commit'); // a crash here must still leave the window recorded
 */

/** Every point, in the order each operation passes them. */
export const CRASH_POINTS = [
  // drift/window-release.ts and close.ts: a window's releases (health, control health, drift), its D1 record, the acks
  'close:after-health-release',
  'close:after-release',
  'close:after-commit',
  'close:after-ack',
  // rollouts/analysis.ts: a step's health and sketch releases, each recorded then acknowledged
  'step-health:after-release',
  'step-health:after-commit',
  'step-sketches:after-release',
  'step-sketches:after-commit',
  // publish/commit.ts: the claim on the upload, the signed manifest in R2, the D1 batch
  'commit:after-claim',
  'commit:after-manifest',
  'commit:after-batch',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export async function crashPoint(env: { FAULT_POINTS?: string }, point: CrashPoint): Promise<void> {
  if (!env.FAULT_POINTS) return;
  for (const armed of env.FAULT_POINTS.split(',')) {
    const [name, pause] = armed.trim().split('=');
    if (name !== point) continue;
    if (pause !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, Number(pause)));
      continue;
    }
    console.error(`crash point ${point}: exiting`);
    process.exit(70);
  }
}
