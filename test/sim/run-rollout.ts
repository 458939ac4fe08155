/**
 * npm run sim:rollout — the rollout fleet simulator.
 *   SIM_SALTS × SIM_IDS (default 100 × 1,000,000) for bucketing uniformity; SIM_DEVICES (default
 *   10,000) simulated devices against the real Worker for flip-flops and the kill switch.
 */
import { bucketingUniformity, fleetRollout } from './rollout-sim.ts';

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

console.log('\nmodelfleet rollout simulation\n');
console.table([
  { measure: `bucketing uniformity: χ² over 10,000 buckets, ${ids.toLocaleString('en-US')} ids × ${salts} salts`, value: `${u.passed} of ${salts} pass at α = ${u.alpha}`, target: `≥ ${Math.ceil(salts * 0.99)}`, seconds: uSeconds.toFixed(0) },
  { measure: '  worst salt p-value', value: u.worstP.toExponential(2), target: '—', seconds: '' },
  { measure: `flip-flops, ${devices.toLocaleString('en-US')} devices through 1 → 5 → 25 → 50 %`, value: String(f.flipFlops), target: '0', seconds: fSeconds.toFixed(0) },
  { measure: '  challenger share at each step', value: f.shares.map(pct).join(' / '), target: '1 / 5 / 25 / 50 %', seconds: '' },
  { measure: 'kill switch → first champion ticket for a challenger device', value: `${f.killToChampionMs} ms`, target: '≤ edge cache TTL (5 s)', seconds: '' },
  { measure: 'devices on the champion at their first poll after the kill', value: pct(f.backWithinTwoPolls), target: '≥ 99 % within 2 poll intervals', seconds: '' },
  { measure: 'A/A false rollbacks; regression → rollback time', value: 'not measured', target: 'needs the automated analysis (not built yet)', seconds: '' },
]);
console.log(`${f.requests.toLocaleString('en-US')} ticket requests against the Worker in workerd.`);
