/**
 * @module console/pages/rollout-decision
 * The rollout page's decision: the latest outcome with its evidence per metric — tolerance,
 * estimate, standard error, the confidence sequence drawn against the tolerance, when it is
 * projected to decide, the sample per arm and how fresh it is.
 */
import { Badge, num, when } from '../components.tsx';
import type { RolloutView } from './rollout-types.ts';
import { SequenceBar, decides } from './rollout-evidence.tsx';

/** The latest decision with its evidence per metric, or why there is none yet. */
export function Decision({ r }: { r: RolloutView }) {
  return (
    <>
      <h2>Decision</h2>
      {r.decision ? (
        <>
          <p>
            <Badge
              status={r.decision.outcome === 'rollback' ? 'bad' : r.decision.outcome === 'promote' ? 'ok' : 'hold'}
            >
              {r.decision.outcome}
            </Badge>{' '}
            {r.decision.summary}{' '}
            <span class="muted">
              (step {r.decision.step + 1}, {when(r.decision.at)})
            </span>
          </p>
          <div class="table-wrap">
            <table class="responsive" id="evidence">
              <caption class="sr-only">Evidence for the decision</caption>
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Tolerance
                  </th>
                  <th scope="col" class="num">
                    Estimate
                  </th>
                  <th scope="col" class="num">
                    ± SE
                  </th>
                  <th scope="col">Confidence sequence</th>
                  <th scope="col">Decides</th>
                  <th scope="col" class="num">
                    Sample (challenger / control)
                  </th>
                  <th scope="col">Data as of</th>
                </tr>
              </thead>
              <tbody>
                {r.decision.metrics.map((m) => (
                  <tr data-metric={m.metric}>
                    <td data-label="Metric">
                      {m.metric}
                      {m.critical ? '' : <span class="muted"> (non-critical)</span>}
                    </td>
                    <td data-label="Status">
                      <Badge status={m.status} />
                    </td>
                    <td data-label="Tolerance" class="num">
                      {num(m.threshold, 4)}
                    </td>
                    <td data-label="Estimate" class="num">
                      {num(m.observed, 4)}
                    </td>
                    <td data-label="± SE" class="num">
                      {num(m.standardError, 4)}
                    </td>
                    <td data-label="Confidence sequence" data-sequence>
                      {m.sequence ? <SequenceBar m={m} sequence={m.sequence} /> : <span class="muted">—</span>}
                    </td>
                    <td data-label="Decides" data-projection>
                      {decides(m)}
                    </td>
                    <td data-label="Sample" class="num">
                      {m.sample.challenger.toLocaleString('en-US')} / {m.sample.control.toLocaleString('en-US')}
                    </td>
                    <td data-label="Data as of">{when(m.freshness)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : (
        <p class="muted">No analysis yet: nothing is a pass without data.</p>
      )}
    </>
  );
}
