/**
 * @module console/pages/drift-features
 * The drift page's per-feature parts: a feature's card (score chart, released bins), the alarmed
 * features the version leans on, effect sizes, and the estimated-accuracy note.
 */
import { Badge, num, pct } from '../components.tsx';
import { type Importance, leanRule } from './explanations.tsx';
import { type DriftView, type FeatureVerdictView, type WindowView } from './drift-view.ts';

export function FeatureCard({
  d,
  f,
  imp,
  tested,
}: {
  d: DriftView;
  f: FeatureVerdictView;
  imp: Importance | undefined;
  tested: number;
}) {
  const name = f.name;
  return (
    <section class="card" data-feature={name} aria-labelledby={`f-${name}`}>
      <h3 id={`f-${name}`}>
        {name} {f.alarm ? <Badge status="alarm">alarm</Badge> : null}{' '}
        {f.alarm && imp?.leaned ? <Badge status="leaned">v{d.version} leans on it</Badge> : null}
      </h3>
      {imp && (
        <p class="muted" data-importance={name}>
          Importance (self-reported): {num(imp.value, 4)}, #{imp.rank}, {pct(imp.share, 0)} of the total.
        </p>
      )}
      <figure>
        <div
          class="chart"
          data-chart="score"
          data-feature={name}
          role="img"
          aria-label={`${name}: test score per window against the alarm threshold`}
        />
        <figcaption class="muted">
          −log₁₀ p per window ({f.test}); dashed: alarm threshold (α {num(d.familyAlpha, 3)} over {tested} features);
          red points: alarms.
        </figcaption>
      </figure>
      <figure>
        <div
          class="chart"
          data-chart="bins"
          data-feature={name}
          role="img"
          aria-label={`${name}: released bin shares against the baseline in the latest window`}
        />
        <figcaption class="muted">
          Latest window: released (noised) bin shares vs the baseline's own shares. <Effects f={f} />
        </figcaption>
      </figure>
    </section>
  );
}

/** Every closed window, newest first: the same numbers as the charts, for screen readers and for copying. */

export function Leaning({
  d,
  alarmed,
  importance,
}: {
  d: DriftView;
  alarmed: string[];
  importance: Map<string, Importance>;
}) {
  if (alarmed.length === 0) return null;
  if (!d.explanations)
    return (
      <p class="muted" id="leaning">
        v{d.version} published no feature importance (<code>metrics.explanations</code>): whether it depends on the
        alarmed features is unknown.
      </p>
    );
  const leaned = alarmed.filter((n) => importance.get(n)?.leaned);
  const share = alarmed.reduce((s, n) => s + (importance.get(n)?.share ?? 0), 0);
  return (
    <p id="leaning" data-leaned={leaned.join(',')}>
      {leaned.length > 0 ? (
        <>
          <Badge status="leaned">leaned on</Badge> v{d.version} leans on the alarmed{' '}
          {leaned.length === 1 ? 'feature' : 'features'} <strong>{leaned.join(', ')}</strong>: its predictions depend on
          what moved.
        </>
      ) : (
        <>v{d.version} leans on none of the alarmed features.</>
      )}{' '}
      <span class="muted">
        The alarmed features carry {pct(share, 0)} of its importance ({d.explanations.metric} drop under permutation,
        the publisher's claim); a feature counts as leaned on when it is {leanRule}.
      </span>
    </p>
  );
}

export const signed = (x: number, digits: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

/** Signed location shift and scale with intervals, PSI with its interval, L∞ — what moved, which way, how sure. */
export function Effects({ f }: { f: FeatureVerdictView }) {
  const e = f.effects;
  const loc = e.location;
  return (
    <span data-effects={f.name}>
      {loc ? (
        <>
          Location {e.location!.censored ? (loc.estimate >= 0 ? '≥ ' : '≤ ') : ''}
          {signed(loc.estimate, 2)}σ [{signed(loc.low, 2)}, {signed(loc.high, 2)}]
          {e.location!.censored ? ' (beyond the baseline’s range: a bound)' : ''}.{' '}
        </>
      ) : null}
      {e.scale ? (
        <>
          Spread ×{num(e.scale.estimate, 2)} [{num(e.scale.low, 2)}, {num(e.scale.high, 2)}].{' '}
        </>
      ) : null}
      PSI {num(e.psi, 3)}
      {e.psiInterval ? (
        <>
          {' '}
          [{num(e.psiInterval[0], 3)}, {num(e.psiInterval[1], 3)}]
        </>
      ) : null}
      , L∞ {num(e.linf, 3)}.
      {f.missing ? (
        <>
          {' '}
          Missing {pct(f.missing.observed, 1)} (baseline {pct(f.missing.expected, 1)}).
        </>
      ) : null}
    </span>
  );
}

export function AccuracyNote({
  o,
}: {
  o: WindowView['verdict'] extends infer V ? (V extends { outputs: infer O } ? O : null) : null;
}) {
  if (!o) return <>Label-free estimated accuracy vs validation.</>;
  if (o.calibrated === false) {
    return (
      <>
        Estimated accuracy is the mean top-class confidence, <strong>uncalibrated</strong>: it raises no alarm. Publish
        the baseline from labelled validation predictions to calibrate it.
        {o.baselineAccuracy != null ? <> Reference: metrics.accuracy {pct(o.baselineAccuracy, 1)}.</> : null}
      </>
    );
  }
  return (
    <>
      Calibrated label-free accuracy (validation accuracy per confidence bin, weighted by the fleet’s confidence mix) vs
      the validation accuracy {pct(o.baselineAccuracy ?? null, 1)}
      {o.feedbackAccuracy != null ? <>; label feedback says {pct(o.feedbackAccuracy, 1)} (preferred)</> : null}.
    </>
  );
}
