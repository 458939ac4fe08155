/**
 * @module console/pages/power
 * The power panel (rollouts/power.ts): whether a plan can decide on the model's fleet, and per
 * judged step the devices each arm sees a day, each metric's minimum detectable effect against its
 * tolerance, and the time until the arms hold a deciding sample. Shown beside the start form (for
 * the plan the form would create) and on a rollout's page (the report kept at its creation).
 */
import type { PowerReport } from '@modelfleet/protocol';
import { Badge, num } from '../components.tsx';

const hours = (s: number | null) =>
  s === null ? 'never' : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 120 ? `${Math.ceil(s / 60)} min` : `${s} s`;
/** Figures are per telemetry window: a day in production, seconds in a compressed demo. */
const unitOf = (p: PowerReport) => {
  const w = p.fleet.windowSeconds ?? 86_400;
  return w === 86_400
    ? { per: 'a day', window: 'daily window', column: 'Devices a day' }
    : { per: `a ${w}-s window`, window: `${w}-s window`, column: `Devices per ${w}-s window` };
};
const count = (n: number) => Math.round(n).toLocaleString('en-US');

export function PowerPanel({ power: p, caption }: { power: PowerReport; caption: string }) {
  const judged = p.steps.filter((s) => s.judged);
  const status = p.status === 'decides' ? 'ok' : p.status === 'no-fleet-data' ? 'hold' : 'bad';
  const u = unitOf(p);
  return (
    <section id="power-panel" aria-labelledby="power-h" data-status={p.status}>
      <h2 id="power-h">Can this plan decide?</h2>
      <p>
        <Badge status={status}>
          {p.status === 'decides' ? 'decides' : p.status === 'no-fleet-data' ? 'no fleet data' : 'cannot decide'}
        </Badge>{' '}
        {caption}{' '}
        {p.status === 'no-fleet-data' ? (
          `No ${u.window} of health yet: the plan cannot be assessed, and the analysis holds until both arms report.`
        ) : (
          <>
            On {count(p.fleet.devicesPerDay)} devices {u.per} (median of {p.fleet.windows} {u.window}
            {p.fleet.windows === 1 ? '' : 's'}), ε {p.privacy.epsilonPerDay} {u.per} with{' '}
            {Math.round(p.privacy.healthShare * 100)} % on health (noise σ {num(p.privacy.noiseSigma, 1)} per count), a
            metric passes at observed + {p.rule.seMultiplier} SE ≤ tolerance.
          </>
        )}
      </p>
      {p.status !== 'no-fleet-data' && (
        <div class="table-wrap">
          <table class="responsive" id="power">
            <caption class="sr-only">
              Expected devices per arm, minimum detectable effect and time to decision per step
            </caption>
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col" class="num">
                  {u.column} (challenger / control)
                </th>
                <th scope="col">MDE vs tolerance</th>
                <th scope="col">Decides after</th>
              </tr>
            </thead>
            <tbody>
              {judged.map((s) => (
                <tr data-step={s.step}>
                  <td data-label="Step">
                    {s.step + 1}: {s.percent} %
                  </td>
                  <td data-label={u.column} class="num">
                    {count(s.devicesPerDay.challenger)} / {count(s.devicesPerDay.control)}
                  </td>
                  <td data-label="MDE vs tolerance">
                    <ul class="mono">
                      {s.metrics.map((m) => (
                        <li data-metric={m.metric} class={m.canDecide ? '' : 'worse'}>
                          {m.metric}: {m.mde === null ? 'no SE' : `MDE ${num(m.mde, 4)}`} / {m.tolerance}
                          {m.canDecide
                            ? ''
                            : ` (needs ${m.requiredPerArm === null ? '∞' : count(m.requiredPerArm)} per arm)`}
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td data-label="Decides after">
                    {hours(s.secondsToDecision)}
                    {s.bakesToDecision !== null ? (
                      <span class="muted">
                        {' '}
                        ({s.bakesToDecision} bake{s.bakesToDecision === 1 ? '' : 's'})
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {p.suggestions.length > 0 && (
        <ul data-suggestions>
          {p.suggestions.map((s) => (
            <li>To decide: {s}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
