// The retrain service's queue (examples/retrain/queue.ts) with a runner the test holds open, so
// "a request arriving while its model is being retrained waits, the newest only" is checked in
// the order the test chooses — not in whatever order a busy machine lets a real job finish.
import type { CloudEvent } from '@modelfleet/protocol';
import { describe, expect, it } from 'vitest';
import type { JobDeps, JobResult } from '../../examples/retrain/job.ts';
import { AlreadyRetrained } from '../../examples/retrain/job.ts';
import { type JobRunner, createJobQueue } from '../../examples/retrain/queue.ts';

/** A runner whose jobs end only when the test says so, each the way the test says. */
function heldRunner() {
  const open = new Map<string, { resolve: (r: JobResult) => void; reject: (e: Error) => void }>();
  const started: string[] = [];
  const run: JobRunner = (request) =>
    new Promise<JobResult>((resolve, reject) => {
      started.push(request.eventId);
      open.set(request.eventId, { resolve, reject });
    });
  const end = (eventId: string, how: JobResult | Error) => {
    const job = open.get(eventId);
    if (!job) throw new Error(`${eventId} is not running`);
    open.delete(eventId);
    how instanceof Error ? job.reject(how) : job.resolve(how);
  };
  return { run, started, end };
}

const event = (id: string) => ({ id }) as CloudEvent;
const result = (version: number) => ({ model: 'fraud', version }) as JobResult;
const deps = {} as JobDeps;

describe('retrain job queue', () => {
  it('runs one job per model; a request meanwhile waits, and a newer one supersedes it', async () => {
    const lines: string[] = [];
    const runner = heldRunner();
    const queue = createJobQueue(deps, (l) => lines.push(l), runner.run);

    const a = queue.enqueue(event('e1'), { model: 'fraud', version: 1 });
    const b = queue.enqueue(event('e2'), { model: 'fraud', version: 1 });
    const c = queue.enqueue(event('e3'), { model: 'fraud', version: 1 });
    // Another model is not held up by this one.
    const other = queue.enqueue(event('o1'), { model: 'churn', version: 4 });
    expect([a, b, c, other].map((j) => j.state)).toEqual(['running', 'failed', 'queued', 'running']);
    expect(b.error).toBe('superseded by event e3');
    await b.done;
    expect(runner.started).toEqual(['e1', 'o1']);

    // The first ends; only then does the newest waiting request start.
    runner.end('e1', new AlreadyRetrained(2, 1));
    await a.done;
    expect(a.state).toBe('skipped');
    await expect.poll(() => runner.started).toEqual(['e1', 'o1', 'e3']);
    expect(c.state).toBe('running');
    runner.end('e3', result(3));
    await c.done;
    expect([c.state, c.result?.version]).toEqual(['done', 3]);

    runner.end('o1', new Error('the control plane answered 503'));
    await other.done;
    expect([other.state, other.error]).toEqual(['failed', 'the control plane answered 503']);
    expect(runner.started).toEqual(['e1', 'o1', 'e3']);
    expect(lines).toContain('job 2: superseded by job 3');
    expect(lines.some((l) => l.startsWith('job 1: skipped: v2 was already retrained from v1'))).toBe(true);
  });

  it('a request after the model’s job has ended starts at once', async () => {
    const runner = heldRunner();
    const queue = createJobQueue(deps, () => {}, runner.run);
    const a = queue.enqueue(event('e1'), { model: 'fraud', version: 1 });
    runner.end('e1', result(2));
    await a.done;
    const b = queue.enqueue(event('e2'), { model: 'fraud', version: 2 });
    expect(b.state).toBe('running');
    expect(queue.jobs.map((j) => j.id)).toEqual([1, 2]);
  });
});
