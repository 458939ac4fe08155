/**
 * @module retrain/queue
 * The retrain service's jobs (server.ts): one job per model runs at a time, and a request arriving
 * meanwhile runs after it — the newest one only, since it carries the latest window; an older one
 * still waiting is superseded.
 */
import type { CloudEvent } from '@modelfleet/protocol';
import { AlreadyRetrained, type JobDeps, type JobResult, runRetrainJob } from './job.ts';

export interface Job {
  id: number;
  eventId: string;
  model: string;
  version: number;
  /** skipped: the drifting version already has an active challenger retrained from it (job.ts AlreadyRetrained). */
  state: 'queued' | 'running' | 'done' | 'failed' | 'skipped';
  result?: JobResult;
  error?: string;
  /** Settles when the job ends, either way. */
  done: Promise<void>;
}

export interface JobQueue {
  /** Every job, in the order the requests came. */
  jobs: Job[];
  /** A job for the event's request: started now, or when the model's running job ends. */
  enqueue(event: CloudEvent, request: { model: string; version: number }): Job;
}

/** What runs one job: the retrain job itself (job.ts); a test passes one it can hold. */
export type JobRunner = typeof runRetrainJob;

export function createJobQueue(
  deps: JobDeps,
  log: (line: string) => void,
  runJob: JobRunner = runRetrainJob,
): JobQueue {
  const jobs: Job[] = [];
  const running = new Set<string>();
  /** Per model, the request that runs when the current job ends: its job and how to start it. */
  const waiting = new Map<string, { job: Job; settle: () => void; start: () => void }>();

  function run(job: Job, settle: () => void): void {
    running.add(job.model);
    job.state = 'running';
    log(`job ${job.id}: retraining ${job.model} (drift on v${job.version}, event ${job.eventId})`);
    runJob({ model: job.model, version: job.version, eventId: job.eventId }, deps)
      .then(
        (result) => (
          (job.result = result),
          (job.state = 'done'),
          log(`job ${job.id}: done, ${job.model} v${result.version} published`)
        ),
        (e: unknown) =>
          e instanceof AlreadyRetrained
            ? ((job.state = 'skipped'), log(`job ${job.id}: skipped: ${e.message}`))
            : ((job.error = (e as Error).message), (job.state = 'failed'), log(`job ${job.id}: failed: ${job.error}`)),
      )
      .finally(() => {
        running.delete(job.model);
        settle();
        const next = waiting.get(job.model);
        waiting.delete(job.model);
        next?.start();
      });
  }

  function enqueue(event: CloudEvent, request: { model: string; version: number }): Job {
    let settle!: () => void;
    const job: Job = {
      id: jobs.length + 1,
      eventId: event.id,
      ...request,
      state: 'queued',
      done: new Promise((r) => (settle = r)),
    };
    jobs.push(job);
    if (!running.has(job.model)) {
      run(job, settle);
      return job;
    }
    // A newer request replaces one still waiting: both would train on the same fresh data.
    const replaced = waiting.get(job.model);
    if (replaced) {
      Object.assign(replaced.job, { state: 'failed', error: `superseded by event ${event.id}` });
      log(`job ${replaced.job.id}: superseded by job ${job.id}`);
      replaced.settle();
    }
    waiting.set(job.model, { job, settle, start: () => run(job, settle) });
    log(`job ${job.id}: ${job.model} is being retrained; this request runs when that job ends`);
    return job;
  }

  return { jobs, enqueue };
}
