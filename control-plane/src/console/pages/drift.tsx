/**
 * @module console/pages/drift
 * A model version's drift over its closed windows: per feature, the test score against its alarm
 * threshold with alarm markers, and the latest window's released bins beside the baseline;
 * prediction drift and label-free estimated accuracy; devices contributing against minDevices;
 * the privacy ledger; which alarmed features the version leans on, by its publisher's feature
 * importance (explanations.tsx). Charts are drawn by the chart island (uPlot) from the JSON embedded here;
 * the same numbers are in the table below them, for screen readers and for copying.
 */
import type { Explanations, PrivacyLedgerView } from '@modelfleet/protocol';
import { DAY_SECONDS, windowStart } from '@modelfleet/protocol';
import { Badge, DataScript, num, pct, when } from '../components.tsx';
import { Page, type PageProps } from '../layout.tsx';
import { type Importance, leanRule, rankImportances } from './explanations.tsx';

import type { FeatureEffects, OutputVerdict } from '../../drift/detect.ts';

export interface FeatureVerdictView {
  name: string;
  test: string;
  devices: number;
  p: number | null;
  alarm: boolean;
  effects: FeatureEffects;
  bins?: { labels: string[]; observed: number[]; expected: number[] };
  missing?: { observed: number; expected: number } | null;
}
export interface WindowView {
  version: number;
  window: number;
  devices: number;
  released: boolean;
  alarm: boolean;
  noiseSigma: number | null;
  closedAt: string;
  verdict: {
    features: FeatureVerdictView[];
    outputs:
      | (Partial<OutputVerdict> &
          Pick<OutputVerdict, 'predictionDrift' | 'estimatedAccuracy' | 'baselineAccuracy' | 'accuracyAlarm'>)
      | null;
  } | null;
  retrain: { score: number; cusum: number; reasons: string[] } | null;
}
export interface DriftView {
  model: string;
  version: number;
  versions: number[];
  minDevices: number;
  familyAlpha: number;
  epsilonPerDay: number;
  effectFloor: { sigma: number; share: number };
  /** Window length in seconds (WINDOW_SECONDS); 86400 = UTC days. */
  windowSeconds: number;
  windows: WindowView[];
  /** The version's published feature importance (the publisher's claim), to say which alarmed features it leans on. */
  explanations: Explanations | null;
  ledger: PrivacyLedgerView | null;
}

/** What each ledger channel is (control-plane rollouts/step-budget.ts). */
const CHANNELS: Record<string, string> = {
  window: "a day's window (drift sketches and health)",
  'step-health': "a rollout step's health records",
  'step-sketches': "a rollout step's drift sketches",
  step: 'a rollout step (recorded before channels were kept)',
};

/** Day number → ISO date (day windows are UTC days since the epoch). */
export const dayOf = (w: number) => windowStart(w).toISOString().slice(0, 10);

/** A window as people read it: its date for day windows, its UTC start time for shorter ones. */
export const windowLabel = (w: number, seconds = DAY_SECONDS) =>
  seconds >= DAY_SECONDS
    ? dayOf(w)
    : windowStart(w, seconds)
        .toISOString()
        .slice(0, seconds % 60 === 0 ? 16 : 19)
        .replace('T', ' ') + ' UTC';

export function DriftPage({ d, ...page }: Omit<PageProps, 'title'> & { d: DriftView }) {
  const windows = [...d.windows].sort((a, b) => a.window - b.window);
  const latest = windows.at(-1);
  const features = latest?.verdict?.features.map((f) => f.name) ?? [];
  const tested = latest?.verdict?.features.filter((f) => f.test !== 'none').length ?? 1;
  const enc = encodeURIComponent(d.model);
  const importance = new Map<string, Importance>(
    d.explanations ? rankImportances(d.explanations).map((i) => [i.name, i]) : [],
  );
  const alarmed = latest?.verdict?.features.filter((f) => f.alarm).map((f) => f.name) ?? [];
  const seconds = d.windowSeconds ?? DAY_SECONDS;
  const daily = seconds >= DAY_SECONDS;
  const label = (w: number) => windowLabel(w, seconds);
  return (
    <Page title={`${d.model} drift`} charts {...page}>
      <h1>
        <a href={`/console/models/${enc}`}>{d.model}</a> · drift of v{d.version}
      </h1>
      <form method="get" class="inline">
        <label for="version">
          Version{' '}
          <select id="version" name="version">
            {d.versions.map((v) => (
              <option value={v} selected={v === d.version}>
                v{v}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      {windows.length === 0 ? (
        <p>
          No closed windows for v{d.version} yet. Windows close {daily ? 'daily' : `every ${seconds} s`} once devices
          have sent sketches.
        </p>
      ) : (
        <>
          <p>
            {latest!.alarm ? <Badge status="alarm">drift alarm</Badge> : <Badge status="ok">no drift</Badge>} in the
            latest window ({label(latest!.window)}, {latest!.devices.toLocaleString('en-US')} devices; release needs{' '}
            {d.minDevices.toLocaleString('en-US')}).
            {latest!.retrain?.reasons.length ? <> Retraining requested: {latest!.retrain.reasons.join(', ')}.</> : null}
          </p>
          <Leaning d={d} alarmed={alarmed} importance={importance} />
          <DataScript
            id="drift-data"
            data={{
              windows: windows.map((w) => ({ ...w, day: label(w.window) })),
              windowSeconds: seconds,
              features,
              threshold: d.familyAlpha / Math.max(tested, 1),
              minDevices: d.minDevices,
            }}
          />
          <h2>Features</h2>
          <p class="muted" id="effect-floor">
            A feature alarms when its p-value is under the threshold <em>and</em> its effect is at least{' '}
            {num(d.effectFloor.sigma, 2)} baseline σ (numeric location or shape) or {pct(d.effectFloor.share, 0)} of a
            share (categories, missing values): with many devices, tiny harmless shifts are significant, and the floor
            keeps them quiet. Effects come with 95 % intervals from the sampling and privacy noise of both the fleet and
            the baseline.
          </p>
          <div class="grid">
            {features.map((name) => (
              <FeatureCard
                d={d}
                f={latest!.verdict!.features.find((x) => x.name === name)!}
                imp={importance.get(name)}
                tested={tested}
              />
            ))}
          </div>
          <h2>Outputs and devices</h2>
          <div class="grid">
            <figure class="card">
              <div
                class="chart"
                data-chart="accuracy"
                role="img"
                aria-label="Estimated accuracy per window against the validation baseline"
              />
              <figcaption class="muted">
                <AccuracyNote o={latest!.verdict?.outputs ?? null} /> Red points: prediction drift.
              </figcaption>
            </figure>
            <figure class="card">
              <div
                class="chart"
                data-chart="devices"
                role="img"
                aria-label="Devices contributing per window against minDevices"
              />
              <figcaption class="muted">
                Devices contributing per window; dashed: minDevices ({d.minDevices.toLocaleString('en-US')}).
              </figcaption>
            </figure>
          </div>
          <WindowsTable windows={windows} importance={importance} daily={daily} label={label} />
        </>
      )}
      <h2>Privacy ledger</h2>
      <LedgerPanel d={d} daily={daily} seconds={seconds} />
    </Page>
  );
}

/** One feature of the latest window: its verdict, what the version's publisher says it weighs, its two charts. */
function FeatureCard({
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
function WindowsTable({
  windows,
  importance,
  daily,
  label,
}: {
  windows: WindowView[];
  importance: Map<string, Importance>;
  daily: boolean;
  label: (w: number) => string;
}) {
  return (
    <>
      <h2 id="windows-h">Windows</h2>
      <div class="table-wrap">
        <table class="responsive" aria-labelledby="windows-h">
          <thead>
            <tr>
              <th scope="col">{daily ? 'Day' : 'Window (start)'}</th>
              <th scope="col" class="num">
                Devices
              </th>
              <th scope="col">Verdict</th>
              <th scope="col">Alarmed features</th>
              <th scope="col">Outputs</th>
              <th scope="col" class="num">
                Noise σ
              </th>
              <th scope="col">Retrain</th>
              <th scope="col">Closed</th>
            </tr>
          </thead>
          <tbody>
            {[...windows].reverse().map((w) => (
              <tr data-window={w.window}>
                <td data-label={daily ? 'Day' : 'Window'}>{label(w.window)}</td>
                <td data-label="Devices" class="num">
                  {w.devices.toLocaleString('en-US')}
                </td>
                <td data-label="Verdict">
                  {!w.released ? (
                    <Badge status="no_data">withheld</Badge>
                  ) : w.alarm ? (
                    <Badge status="alarm">alarm</Badge>
                  ) : (
                    <Badge status="ok">ok</Badge>
                  )}
                </td>
                <td data-label="Alarmed">
                  {w.verdict?.features
                    .filter((f) => f.alarm)
                    .map((f) => (importance.get(f.name)?.leaned ? `${f.name} (leaned on)` : f.name))
                    .join(', ') || '—'}
                </td>
                <td data-label="Outputs">
                  {w.verdict?.outputs ? (
                    <>
                      {w.verdict.outputs.predictionDrift ? 'prediction drift; ' : ''}est. accuracy{' '}
                      {pct(w.verdict.outputs.estimatedAccuracy, 1)}
                      {w.verdict.outputs.calibrated === false ? ' (uncalibrated)' : ''}
                      {w.verdict.outputs.feedbackAccuracy != null ? (
                        <>; labels {pct(w.verdict.outputs.feedbackAccuracy, 1)}</>
                      ) : null}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td data-label="Noise σ" class="num">
                  {num(w.noiseSigma, 4)}
                </td>
                <td data-label="Retrain">{w.retrain?.reasons.join(', ') || '—'}</td>
                <td data-label="Closed">{when(w.closedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** The privacy budget per release, what the year's releases spent, and where it went by channel. */
function LedgerPanel({ d, daily, seconds }: { d: DriftView; daily: boolean; seconds: number }) {
  return (
    <>
      {d.ledger ? (
        <dl class="kv" id="ledger">
          {daily ? (
            <>
              <dt>Budget per device per day</dt>
              <dd>
                ε = {num(d.epsilonPerDay, 3)} (δ = {d.ledger.delta}) for each daily release
              </dd>
            </>
          ) : (
            <>
              <dt>Budget per device per window</dt>
              <dd>
                ε = {num(d.epsilonPerDay, 3)} (δ = {d.ledger.delta}) for each release of a {seconds}-s window:{' '}
                {num(d.epsilonPerDay * (DAY_SECONDS / seconds), 0)} a day for a device in every window
              </dd>
            </>
          )}
          <dt>Releases, last 365 days</dt>
          <dd>{d.ledger.releasesLastYear}</dd>
          <dt>ρ spent (zCDP)</dt>
          <dd>{num(d.ledger.rhoLastYear, 4)}</dd>
          <dt>ε spent over the year at δ = {d.ledger.delta}</dt>
          <dd>
            {num(d.ledger.epsilonLastYear, 3)} (what all releases of the year add up to for a device in every one, by
            zCDP composition)
          </dd>
        </dl>
      ) : (
        <p class="muted">No releases yet.</p>
      )}
      {d.ledger && d.ledger.channels.lastYear.length > 0 && (
        <div class="table-wrap">
          <table id="ledger-split">
            <caption>
              Where the budget went, by channel: a live rollout's step budget goes to the telemetry its plan judges
            </caption>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col" class="num">
                  Releases {daily ? 'today' : 'this window'}
                </th>
                <th scope="col" class="num">
                  ρ {daily ? 'today' : 'this window'}
                </th>
                <th scope="col" class="num">
                  Releases, 365 days
                </th>
                <th scope="col" class="num">
                  ρ, 365 days
                </th>
              </tr>
            </thead>
            <tbody>
              {d.ledger.channels.lastYear.map((c) => {
                const today = d.ledger!.channels.today.find((t) => t.channel === c.channel);
                return (
                  <tr data-channel={c.channel}>
                    <th scope="row">
                      {c.channel}{' '}
                      <span class="muted">
                        {c.channel === 'window' && !daily
                          ? `a ${seconds}-s window (drift sketches and health)`
                          : (CHANNELS[c.channel] ?? '')}
                      </span>
                    </th>
                    <td class="num">{today?.releases ?? 0}</td>
                    <td class="num">{num(today?.rho ?? 0, 4)}</td>
                    <td class="num">{c.releases}</td>
                    <td class="num">{num(c.rho, 4)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** Which of the latest window's alarmed features the version leans on, by its publisher's importances. */
function Leaning({ d, alarmed, importance }: { d: DriftView; alarmed: string[]; importance: Map<string, Importance> }) {
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

const signed = (x: number, digits: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

/** Signed location shift and scale with intervals, PSI with its interval, L∞ — what moved, which way, how sure. */
function Effects({ f }: { f: FeatureVerdictView }) {
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

function AccuracyNote({
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
