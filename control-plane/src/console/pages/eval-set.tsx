/**
 * @module console/pages/eval-set
 * The model page's evaluation panel: the registered set and, per version, the metrics the control
 * plane computed on it beside the ones the publisher wrote, each labelled by where it came from,
 * so nobody reads a publisher's number for a measured one.
 */
import type { EvalSetView, VersionSummary } from '@modelfleet/protocol';
import { short, when } from '../components.tsx';

/** Four decimals as they are (the shared `num` rounds to three for display, which would show 0.9999 as 1). */
const fixed = (x: number) => x.toFixed(4);

export function EvalSetPanel({ set, versions }: { set: EvalSetView | null; versions: VersionSummary[] }) {
  if (!set) {
    return (
      <section aria-labelledby="eval-h">
        <h2 id="eval-h">Evaluation set</h2>
        <p class="muted">
          None registered: the metrics above are self-reported by the publisher. An operator registers one with{' '}
          <code>modelfleet eval-set put</code>.
        </p>
      </section>
    );
  }
  const scored = new Map(set.evaluations.map((e) => [e.version, e]));
  const selfReported = (v: VersionSummary) => (v.metrics as { values?: Record<string, number> }).values?.accuracy;
  return (
    <section aria-labelledby="eval-h" id="evaluation">
      <h2 id="eval-h">Evaluation set</h2>
      <p class="muted">
        {set.label ?? 'Unlabelled'} · {short(set.digest)} · {set.rows} rows of [{set.rowShape.join(', ')}],{' '}
        {set.classes} classes · registered {when(set.registeredAt)} by {set.registeredBy}
      </p>
      <div class="table-wrap">
        <table class="responsive">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col" class="num">
                accuracy <span class="muted">computed by the control plane</span>
              </th>
              <th scope="col" class="num">
                log loss <span class="muted">computed by the control plane</span>
              </th>
              <th scope="col" class="num">
                accuracy <span class="muted">self-reported</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {versions
              .filter((v) => v.status === 'active')
              .map((v) => {
                const e = scored.get(v.version);
                return (
                  <tr data-eval-version={v.version}>
                    <td data-label="Version">v{v.version}</td>
                    <td data-label="accuracy (computed by the control plane)" class="num">
                      {e ? fixed(e.metrics.accuracy) : <span class="muted">not evaluated</span>}
                    </td>
                    <td data-label="log loss (computed by the control plane)" class="num">
                      {e?.metrics.logLoss != null ? fixed(e.metrics.logLoss) : '—'}
                    </td>
                    <td data-label="accuracy (self-reported)" class="num">
                      {selfReported(v) === undefined ? '—' : fixed(selfReported(v)!)}
                    </td>
                  </tr>
                );
              })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
