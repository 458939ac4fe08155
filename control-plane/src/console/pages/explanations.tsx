/**
 * @module console/pages/explanations
 * Feature importance as publishers claim it (`metrics.explanations` in the signed manifest):
 * two versions side by side on the model page, and which alarmed features a version leans on
 * on the drift page. Like every self-reported metric, shown as the publisher's claim.
 */
import type { Explanations } from '@modelfleet/protocol';
import { num, pct, short } from '../components.tsx';

/**
 * A version leans on a feature that is one of its LEAN.top most important and carries at least
 * LEAN.share of its summed positive importance: a drifted feature it barely uses is less urgent
 * than one it depends on. (Permutation importance below 0 means noise: it counts as none.)
 */
export const LEAN = { top: 3, share: 0.1 } as const;

export interface Importance {
  name: string;
  value: number;
  share: number;
  rank: number;
  leaned: boolean;
}

/** The explanations a version's metrics carry, or null (absent, or not the shape this console reads). */
export function explanationsOf(metrics: Record<string, unknown>): Explanations | null {
  const e = metrics.explanations as Partial<Explanations> | undefined;
  return e && typeof e.features === 'object' && e.features !== null && typeof e.metric === 'string'
    ? (e as Explanations)
    : null;
}

/** Features by importance, largest first, with their share of the positive total and whether the version leans on them. */
export function rankImportances(e: Explanations): Importance[] {
  const sorted = Object.entries(e.features).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const total = sorted.reduce((s, [, v]) => s + Math.max(0, v), 0);
  return sorted.map(([name, value], i) => {
    const share = total > 0 ? Math.max(0, value) / total : 0;
    return { name, value, share, rank: i + 1, leaned: value > 0 && i < LEAN.top && share >= LEAN.share };
  });
}

export const leanRule = `one of its ${LEAN.top} most important features carrying at least ${LEAN.share * 100} % of its total importance`;

interface Side {
  version: number;
  e: Explanations | null;
}

/** Two versions' importances side by side: one row per feature, sorted by the larger of the two, each as a bar. */
export function ImportanceComparison({ a, b }: { a: Side; b: Side }) {
  if (!a.e && !b.e)
    return (
      <p class="muted" id="importances">
        Neither version published feature importance (<code>metrics.explanations</code>).
      </p>
    );
  const ra = a.e ? new Map(rankImportances(a.e).map((i) => [i.name, i])) : new Map<string, Importance>();
  const rb = b.e ? new Map(rankImportances(b.e).map((i) => [i.name, i])) : new Map<string, Importance>();
  const peak = (m: Map<string, Importance>) => Math.max(0, ...[...m.values()].map((i) => i.value));
  // One scale when both measured the same metric on the same set; otherwise each its own (not comparable).
  const same = !!a.e && !!b.e && a.e.metric === b.e.metric && a.e.evalSetDigest === b.e.evalSetDigest;
  const scale = (m: Map<string, Importance>) => (same ? Math.max(peak(ra), peak(rb)) : peak(m)) || 1;
  const best = (name: string) => Math.max(ra.get(name)?.value ?? -Infinity, rb.get(name)?.value ?? -Infinity);
  const names = [...new Set([...ra.keys(), ...rb.keys()])].sort((x, y) => best(y) - best(x) || x.localeCompare(y));
  const cell = (side: Side, m: Map<string, Importance>, name: string) => {
    const i = m.get(name);
    const label = `v${side.version}`;
    if (!side.e)
      return (
        <td data-label={label} class="muted">
          —
        </td>
      );
    if (!i)
      return (
        <td data-label={label} class="muted" data-importance={`${side.version}/${name}`}>
          not measured
        </td>
      );
    return (
      <td data-label={label} data-importance={`${side.version}/${name}`} data-value={i.value}>
        <div class="importance">
          <progress max={scale(m)} value={Math.max(0, i.value)} aria-label={`v${side.version} ${name}`}>
            {num(i.value, 4)}
          </progress>
          <span>
            {num(i.value, 4)}{' '}
            <span class="muted">
              #{i.rank}, {pct(i.share, 0)}
            </span>
          </span>
        </div>
      </td>
    );
  };
  const about = (s: Side) =>
    s.e ? (
      <>
        v{s.version}: drop of <strong>{s.e.metric}</strong> when a feature is permuted ({s.e.method}), on set{' '}
        {short(s.e.evalSetDigest)}
      </>
    ) : (
      <>v{s.version} published none</>
    );
  return (
    <section id="importances" aria-labelledby="importances-h">
      <h3 id="importances-h">
        Feature importance{' '}
        <span class="muted" title="published by the publisher with the version, not measured by the control plane">
          self-reported
        </span>
      </h3>
      <p class="muted">
        The publishers' claims, not measured by the control plane. {about(a)}; {about(b)}.
        {!same && a.e && b.e ? ' Different metrics or evaluation sets: each column has its own scale.' : ''}
      </p>
      <div class="table-wrap">
        <table class="responsive">
          <caption class="sr-only">
            Feature importance of v{a.version} beside v{b.version}, largest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Feature</th>
              <th scope="col">v{a.version}</th>
              <th scope="col">v{b.version}</th>
            </tr>
          </thead>
          <tbody>
            {names.map((name) => (
              <tr data-feature={name}>
                <th scope="row">{name}</th>
                {cell(a, ra, name)}
                {cell(b, rb, name)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
