// Rollouts that cannot decide, through the CLI (issue 16: "tested through the API and the CLI"):
// `rollout create --dry-run` prints the power panel and creates nothing; a publisher's refusal and
// bad input are coded errors; an operator's create prints the warnings. The API side is
// rollout-power.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../harness/cli.ts';
import { abortLive, ci, fleet, gate, rollouts, usePowerFleet, worker } from './rollout-power-setup.ts';

usePowerFleet();

describe('the CLI', () => {
  it('create --dry-run prints the power panel and creates nothing; a refusal and bad input are coded errors', async () => {
    await fleet(5000);
    const before = await rollouts();
    const dry = await runCli(
      worker,
      process.cwd(),
      'rollout',
      'create',
      '--model',
      'fraud',
      '--challenger',
      '2',
      '--dry-run',
    );
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toContain('dry run, nothing created: creating it would be warned for your role');
    expect(dry.out).toMatch(/power: the plan CANNOT decide on 5,000 devices a day/);
    expect(dry.out).toMatch(/step 1 \(10 %\): 500 challenger \/ 500 control devices a day, decides after never/);
    expect(dry.out).toMatch(/verify_failure_rate: tolerance 0\.05, MDE [0-9.]+, needs/);
    expect(await rollouts()).toBe(before);
    // A publisher token through the CLI: the same refusal, coded.
    const dir = mkdtempSync(join(tmpdir(), 'plan-'));
    writeFileSync(join(dir, 'gated.json'), JSON.stringify({ gate }));
    const refused = await runCli(
      { url: worker.url, adminToken: ci },
      dir,
      'rollout',
      'create',
      '--model',
      'fraud',
      '--challenger',
      '2',
      '--plan',
      'gated.json',
    );
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/^error plan_cannot_decide: the plan cannot decide on the fleet of fraud/);
    expect(await rollouts()).toBe(before);
  });

  it('an operator create prints the warnings; a zero tolerance from a plan file is refused', async () => {
    await fleet(5000);
    const created = await runCli(
      worker,
      process.cwd(),
      'rollout',
      'create',
      '--model',
      'fraud',
      '--challenger',
      '2',
      '--draft',
    );
    expect(created.code, created.err).toBe(0);
    expect(created.out).toMatch(/power: the plan CANNOT decide/);
    expect(created.err).toMatch(/^warning: step 1/m);
    await abortLive();
    const dir = mkdtempSync(join(tmpdir(), 'plan-'));
    writeFileSync(
      `${dir}/plan.json`,
      JSON.stringify({
        steps: [
          { percent: 10, bakeSeconds: 3600 },
          { percent: 100, bakeSeconds: 0 },
        ],
        analysis: [{ metric: 'load_failure_rate', tolerance: 0 }],
      }),
    );
    const before = await rollouts();
    const zero = await runCli(
      worker,
      dir,
      'rollout',
      'create',
      '--model',
      'fraud',
      '--challenger',
      '2',
      '--plan',
      'plan.json',
    );
    expect(zero.code).not.toBe(0);
    expect(zero.err).toMatch(
      /^error bad_request: invalid rollout plan: analysis\.load_failure_rate: a tolerance of 0 can never pass/,
    );
    expect(await rollouts()).toBe(before);
  });
});
