/**
 * npm run sim:drift — the drift detector's calibration and power over seeded synthetic fleets.
 *   SIM_RUNS (default 1000) no-drift runs and SIM_POWER_RUNS (default 200) runs per shifted
 *   scenario; SIM_DEVICES (default 2000) devices per window; SIM_SHAPES / SIM_BASELINES to narrow.
 * Every data shape is run with baselines of 100, 1,000 and 100,000 rows drawn afresh per run
 * (the baseline's sampling error is part of the null, as in production), at the defaults:
 * ε = 2 per device per day, family α = 1 % over 4 features (Bonferroni), 20 values per device.
 */
import { type Shape, simulate, simulateCategorical } from './drift-sim.ts';

const runs = Number(process.env.SIM_RUNS ?? 1000);
const powerRuns = Number(process.env.SIM_POWER_RUNS ?? 200);
const devices = Number(process.env.SIM_DEVICES ?? 2000);
const shapes = (process.env.SIM_SHAPES ?? 'normal,integer,rounded,zero-inflated').split(',') as Shape[];
const baselines = (process.env.SIM_BASELINES ?? '100,1000,100000').split(',').map(Number);
const base = { features: 4, samplesPerDevice: 20, tau: 0.3, familyAlpha: 0.01, devices, epsilon: 2 };
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
/** A 95 % Wilson interval, so a rate is read with its run count. */
function wilson(rate: number, n: number): string {
  const z = 1.96;
  const c = (rate + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const h = (z / (1 + (z * z) / n)) * Math.sqrt((rate * (1 - rate)) / n + (z * z) / (4 * n * n));
  return `[${(100 * Math.max(c - h, 0)).toFixed(1)}, ${(100 * Math.min(c + h, 1)).toFixed(1)}] %`;
}

const rows: Record<string, string | number>[] = [];
let seed = 1;
for (const shape of shapes) {
  for (const baselineRows of baselines) {
    const t = performance.now();
    const nul = await simulate({ ...base, runs, shift: 0, seed: seed++, shape, baselineRows });
    const power = await simulate({ ...base, runs: powerRuns, shift: 0.1, seed: seed++, shape, baselineRows });
    rows.push({
      shape,
      'baseline rows': baselineRows,
      'false alarms (family)': `${pct(nul.alarmRate)} ${wilson(nul.alarmRate, runs)}`,
      'naive pooled χ²': pct(nul.naiveAlarmRate),
      'power at 0.1σ': `${pct(power.alarmRate)} (${powerRuns} runs)`,
      seconds: ((performance.now() - t) / 1000).toFixed(0),
    });
    console.log(rows.at(-1));
  }
}
console.log(
  `\nmodelfleet drift simulation — ${devices.toLocaleString('en-US')} devices, τ = 0.3 device heterogeneity, 20 values/device/day, 4 features, family α = 1 %, ε = 2/day; ${runs} no-drift runs per row\n`,
);
console.table(rows);

const cat: Record<string, string | number>[] = [];
for (const [label, moved, unseen] of [
  ['no drift', 0, 0],
  ['2 pp moved between categories', 0.02, 0],
  ['5 pp moved between categories', 0.05, 0],
  ['3 % of values in a new category', 0, 0.03],
] as const) {
  const n = moved === 0 && unseen === 0 ? runs : powerRuns;
  const r = await simulateCategorical({
    runs: n,
    devices,
    samplesPerDevice: 20,
    tau: 0.4,
    baselineRows: 1000,
    moved,
    unseen,
    epsilon: 2,
    seed: seed++,
  });
  cat.push({ scenario: label, runs: n, alarms: `${pct(r.alarmRate)} ${wilson(r.alarmRate, n)}` });
}
console.log(
  `\ncategorical feature (6 values, 1,000-row baseline, τ = 0.4), ${devices.toLocaleString('en-US')} devices, ε = 2/day\n`,
);
console.table(cat);
