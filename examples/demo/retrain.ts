/**
 * @module demo/retrain
 * The demo's retrain service and the team's delivery step around it: examples/retrain (verifies
 * the signed CloudEvent, trains on fresh labelled rows, scores champion and challenger on the same
 * fresh set, publishes with lineage, baseline and feature importance, has the control plane score
 * both), run with a publisher token as CI would; when a job has published, a staged rollout of the
 * challenger is started with that token — under the model's rollout policy and its server-side
 * gate, exactly what a publisher may do on its own.
 */
import { type Envelope } from '@modelfleet/protocol';
import { demoSource } from '../retrain/job.ts';
import { startRetrainService } from '../retrain/server.ts';
import { api } from './plane.ts';
import type { RetrainHandle } from './story.ts';

export interface DemoRetrainOptions {
  port: number;
  secret: string;
  endpoint: string;
  /** Admin token: mints the service's publisher token, and registers evaluation sets (an operator's right). */
  token: string;
  root: Envelope;
  /** The rollout CI starts for each published challenger. */
  rollout: { steps: number[]; bakeSeconds: number; minSample: number; tolerance: number };
  seed: number;
  log(line: string): void;
}

const publisherTokens = new Map<string, string>();

export async function startDemoRetrain(o: DemoRetrainOptions): Promise<RetrainHandle> {
  const plane = { url: o.endpoint, token: o.token };
  const key = `${o.endpoint} ${o.token}`;
  if (!publisherTokens.has(key))
    publisherTokens.set(
      key,
      (
        await api<{ token: string }>(plane, 'POST', '/v1/tokens', {
          role: 'publisher',
          label: 'retrain service (demo CI)',
        })
      ).token,
    );
  const publisher = publisherTokens.get(key)!;
  let service: Awaited<ReturnType<typeof startRetrainService>> | null = null;
  let watcher: ReturnType<typeof setInterval> | null = null;
  const started = new Set<number>();
  const start = async () => {
    service = await startRetrainService({
      port: o.port,
      secret: o.secret,
      endpoint: o.endpoint,
      token: publisher,
      evalSetToken: o.token,
      root: o.root,
      source: demoSource(o.seed),
      trainRows: 3000,
      evalRows: 1500,
      train: { epochs: 10 },
      log: (l) => o.log(`retrain: ${l}`),
    });
    // CI's next step: each published challenger goes out in steps, judged on the devices' own records.
    watcher = setInterval(() => {
      for (const job of service?.jobs ?? []) {
        if (job.state !== 'done' || !job.result || started.has(job.result.version)) continue;
        started.add(job.result.version);
        const plan = {
          steps: o.rollout.steps.map((percent, i) => ({
            percent,
            bakeSeconds: i === o.rollout.steps.length - 1 ? 0 : o.rollout.bakeSeconds,
          })),
          // A step of ~30 devices an arm can tell a 10-point difference apart, not less (the
          // plan's power analysis refuses 0.05 for a publisher at this fleet size).
          analysis: ['load_failure_rate', 'verify_failure_rate', 'inference_error_rate', 'non_finite_rate'].map(
            (metric) => ({ metric, tolerance: o.rollout.tolerance, minSample: o.rollout.minSample, critical: true }),
          ),
        };
        api(
          plane,
          'POST',
          `/v1/models/${job.model}/rollouts`,
          { challenger: job.result.version, plan, reason: `retrained on drift (event ${job.eventId})` },
          publisher,
        )
          .then((r: { id: string; warnings?: string[] }) =>
            o.log(
              `retrain: CI started rollout ${r.id} of v${job.result!.version}${r.warnings?.length ? ` (${r.warnings.join('; ')})` : ''}`,
            ),
          )
          .catch((e: Error) =>
            o.log(`retrain: CI could not start the rollout of v${job.result!.version}: ${e.message}`),
          );
      }
    }, 500);
  };
  await start();
  return {
    async stop() {
      if (watcher) clearInterval(watcher);
      await service?.close();
      service = null;
    },
    start,
  };
}
