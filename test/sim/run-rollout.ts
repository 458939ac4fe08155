/**
 * npm run sim:rollout — the rollout fleet simulator.
 *   SIM_SALTS × SIM_IDS (default 100 × 1,000,000) for bucketing uniformity; SIM_DEVICES (default
 *   10,000) simulated devices against the real Worker for flip-flops and the kill switch; SIM_OUTPUT_RUNS
 *   (default 3) A/A and drifted runs of prediction drift judged from step sketches.
 */
import { forgedStepRuns } from './adversarial-sim.ts';
import { aaRuns, regressionToRollback, stepOutputDecision } from './analysis-sim.ts';
import { bucketingUniformity, fleetRollout } from './rollout-sim.ts';
import { sequentialTable } from './sequential-sim.ts';

/** Sequential step decisions (issue 16): SIM_ONLY=sequential runs this table alone (under a minute). */
async function printSequential(): Promise<void> {
  const t0 = performance.now();
  const rows = await sequentialTable({
    aaRuns: Number(process.env.SIM_SEQ_AA_RUNS ?? 1000),
    regRuns: Number(process.env.SIM_SEQ_REG_RUNS ?? 500),
  });
  console.log(
    '\nStep decisions at ε = 2 per device per day for the step; the plan derived for each fleet; runs end at the first decision (at most four days of devices):\n',
  );
  console.table(rows);
  console.log(
    `Increments: the first at the derived minSample, then ×4 (sequential.ts incrementNeed). ${((performance.now() - t0) / 1000).toFixed(0)} s.`,
  );
}
if (process.env.SIM_ONLY === 'sequential') {
  await printSequential();
  process.exit(0);
}
/** SIM_ONLY=step: the per-step regression runs against the real Worker alone (SIM_STEP_RUNS, default 5; about a minute each). */
if (process.env.SIM_ONLY === 'step') {
  const runs = Number(process.env.SIM_STEP_RUNS ?? 5);
  const out: { ms: number; decision: string }[] = [];
  for (let i = 0; i < runs; i++) out.push(await regressionToRollback(5000, 'step'));
  const back = out
    .filter((s) => s.decision.startsWith('rolled-back'))
    .map((s) => s.ms)
    .sort((a, b) => a - b);
  console.log(
    `+2 pp from per-step records, 5,000 devices per arm, ε = 2, real Worker: ${back.length} of ${runs} rolled back${back.length ? `, median ${(back[back.length >> 1]! / 1000).toFixed(1)} s from the last record` : ''}`,
  );
  for (const s of out) console.log(`  ${(s.ms / 1000).toFixed(1)} s  ${s.decision}`);
  process.exit(0);
}

const salts = Number(process.env.SIM_SALTS ?? 100);
const ids = Number(process.env.SIM_IDS ?? 1_000_000);
const devices = Number(process.env.SIM_DEVICES ?? 10_000);
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

let t = performance.now();
const u = bucketingUniformity(salts, ids);
const uSeconds = (performance.now() - t) / 1000;
t = performance.now();
const f = await fleetRollout(devices);
const fSeconds = (performance.now() - t) / 1000;
const aaN = Number(process.env.SIM_AA_RUNS ?? 200);
const arms = Number(process.env.SIM_ARM_DEVICES ?? 5000);
t = performance.now();
const aa = await aaRuns(aaN, arms);
const reg = await aaRuns(Math.max(20, aaN / 10), arms, { regressionPp: 2, seed: 9 });
const aaSeconds = (performance.now() - t) / 1000;
const timing = await regressionToRollback(5000);
// Per-step records are noisier (a step's release spends only the health share): report a rate over runs.
const stepRuns = Number(process.env.SIM_STEP_RUNS ?? 5);
const steps: { ms: number; decision: string }[] = [];
for (let i = 0; i < stepRuns; i++) steps.push(await regressionToRollback(5000, 'step'));
const stepRolledBack = steps.filter((s) => s.decision.startsWith('rolled-back'));
const stepMs = stepRolledBack.map((s) => s.ms).sort((a, b) => a - b);
// Prediction drift from the ranges' step sketches (drift share of ε = 2): A/A runs and drifted challengers.
const outputRuns = Number(process.env.SIM_OUTPUT_RUNS ?? 3);
t = performance.now();
const outputs: Record<'aa' | 'drifted', { ms: number; state: string; summary: string }[]> = { aa: [], drifted: [] };
for (let i = 0; i < outputRuns; i++)
  for (const kind of ['aa', 'drifted'] as const) outputs[kind].push(await stepOutputDecision(arms, kind === 'drifted'));
const outputSeconds = (performance.now() - t) / 1000;
// Forged step records from one network (issue 15), k % of each arm, paired with the honest run.
const advRuns = Number(process.env.SIM_ADVERSARIAL_RUNS ?? 100);
t = performance.now();
const adversarial = [];
for (const k of [1, 5, 20]) adversarial.push(await forgedStepRuns(advRuns, arms, k));
const advSeconds = (performance.now() - t) / 1000;
const shortTally = (m: Record<string, number>) =>
  Object.entries(m)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ') || 'none';
const tally = (xs: { state: string }[]) =>
  Object.entries(xs.reduce<Record<string, number>>((m, x) => ((m[x.state] = (m[x.state] ?? 0) + 1), m), {}))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
const medianMs = (xs: { ms: number }[]) => xs.map((x) => x.ms).sort((a, b) => a - b)[xs.length >> 1] ?? 0;

console.log('\nmodelfleet rollout simulation\n');
console.table([
  {
    measure: `bucketing uniformity: χ² over 10,000 buckets, ${ids.toLocaleString('en-US')} ids × ${salts} salts`,
    value: `${u.passed} of ${salts} pass at α = ${u.alpha}`,
    target: `≥ ${Math.ceil(salts * 0.99)}`,
    seconds: uSeconds.toFixed(0),
  },
  { measure: '  worst salt p-value', value: u.worstP.toExponential(2), target: '—', seconds: '' },
  {
    measure: `flip-flops, ${devices.toLocaleString('en-US')} devices through 1 → 5 → 25 → 50 %`,
    value: String(f.flipFlops),
    target: '0',
    seconds: fSeconds.toFixed(0),
  },
  {
    measure: '  challenger share at each step',
    value: f.shares.map(pct).join(' / '),
    target: '1 / 5 / 25 / 50 %',
    seconds: '',
  },
  {
    measure: 'kill switch → first champion ticket for a challenger device',
    value: `${f.killToChampionMs} ms`,
    target: '≤ edge cache TTL (5 s)',
    seconds: '',
  },
  {
    measure: 'devices on the champion at their first poll after the kill',
    value: pct(f.backWithinTwoPolls),
    target: '≥ 99 % within 2 poll intervals',
    seconds: '',
  },
  {
    measure: `A/A step analyses (challenger = champion), ${arms.toLocaleString('en-US')} devices per arm, ε = 2`,
    value: `${aa.rollbacks} of ${aa.runs} rolled back (${pct(aa.rollbacks / aa.runs)}); ${aa.promotes} promoted, ${aa.holds} held`,
    target: '≤ 1 % rolled back',
    seconds: aaSeconds.toFixed(0),
  },
  {
    measure: '  the same with the challenger +2 pp inference errors',
    value: `${reg.rollbacks} of ${reg.runs} rolled back`,
    target: 'all',
    seconds: '',
  },
  {
    measure: 'regression (+2 pp, 5,000 devices per arm) → signed champion tickets, from the window close',
    value: `${(timing.ms / 1000).toFixed(1)} s (${timing.decision})`,
    target: '—',
    seconds: '',
  },
  {
    measure: `  the same from per-step records (no window close), ${stepRuns} runs`,
    value: `${stepRolledBack.length} of ${stepRuns} rolled back${stepMs.length ? `, median ${(stepMs[stepMs.length >> 1]! / 1000).toFixed(1)} s from the last record` : ''}; others: ${
      steps
        .filter((s) => !s.decision.startsWith('rolled-back'))
        .map((s) => s.decision.split(':')[0])
        .join(', ') || 'none'
    }`,
    target: '—',
    seconds: '',
  },
  {
    measure: `prediction drift from step sketches, ${arms.toLocaleString('en-US')} devices per arm, A/A, ${outputRuns} runs`,
    value: tally(outputs.aa),
    target: 'none rolled back',
    seconds: outputSeconds.toFixed(0),
  },
  {
    measure: `  the same with a drifted challenger (one class, low confidence), ${outputRuns} runs`,
    value: `${tally(outputs.drifted)}; median ${medianMs(outputs.drifted)} ms from the last sketch`,
    target: 'all rolled back',
    seconds: '',
  },
  ...adversarial.flatMap((a, i) => [
    {
      measure: `forged step records from one network, k = ${a.k} % (${a.forgedPerArm} per arm of ${arms.toLocaleString('en-US')}: challenger ids all errors, control ids clean), ${a.runs} paired runs; honest: ${shortTally(a.honest)}`,
      value: `without proofs and caps: ${a.undefended.changed} of ${a.runs} decisions changed (to ${shortTally(a.undefended.to)})`,
      target: '—',
      seconds: i === 0 ? advSeconds.toFixed(0) : '',
    },
    {
      measure: `  with the network cap (${a.countedWithCap} counted per arm) and the network floor`,
      value: `${a.defended.changed} of ${a.runs} changed${a.defended.changed ? ` (to ${shortTally(a.defended.to)})` : ''}`,
      target: '0',
      seconds: '',
    },
  ]),
]);
console.log(
  'Daily records wait for the window close; per-step records are judged at the first alarm tick after both arms have enough devices.',
);
console.log(`${f.requests.toLocaleString('en-US')} ticket requests against the Worker in workerd.`);
await printSequential();
