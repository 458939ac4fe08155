/**
 * @module console/pages/drift
 * A model version's drift over its closed windows: per feature, the test score against its alarm
 * threshold with alarm markers, and the latest window's released bins beside the baseline;
 * prediction drift and label-free estimated accuracy; devices contributing against minDevices;
 * the privacy ledger; which alarmed features the version leans on, by its publisher's feature
 * importance (explanations.tsx). Charts are drawn by the chart island (uPlot) from the JSON embedded here;
 * the same numbers are in the table below them, for screen readers and for copying.
 */
import { DAY_SECONDS } from '@modelfleet/protocol';
import { Badge, DataScript, num, pct } from '../components.tsx';
import { Page, type PageProps } from '../layout.tsx';
import { type Importance, rankImportances } from './explanations.tsx';
import { type DriftView, type WindowView, windowLabel } from './drift-view.ts';
import { AccuracyNote, FeatureCard, Leaning } from './drift-features.tsx';
import { LedgerPanel, WindowsTable } from './drift-windows.tsx';

export { type DriftView, type FeatureVerdictView, type WindowView, dayOf, windowLabel } from './drift-view.ts';

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
          <EffectFloor d={d} />
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
          <OutputsAndDevices d={d} latest={latest!} />
          <WindowsTable windows={windows} importance={importance} daily={daily} label={label} />
        </>
      )}
      <h2>Privacy ledger</h2>
      <LedgerPanel d={d} daily={daily} seconds={seconds} />
    </Page>
  );
}

/** One feature of the latest window: its verdict, what the version's publisher says it weighs, its two charts. */

/** Why a significant shift may not alarm: the effect floor, and the intervals effects come with. */
function EffectFloor({ d }: { d: DriftView }) {
  return (
    <p class="muted" id="effect-floor">
      A feature alarms when its p-value is under the threshold <em>and</em> its effect is at least{' '}
      {num(d.effectFloor.sigma, 2)} baseline σ (numeric location or shape) or {pct(d.effectFloor.share, 0)} of a share
      (categories, missing values): with many devices, tiny harmless shifts are significant, and the floor keeps them
      quiet. Effects come with 95 % intervals from the sampling and privacy noise of both the fleet and the baseline.
    </p>
  );
}

/** Estimated accuracy and contributing devices per window (drawn by the chart island). */
function OutputsAndDevices({ d, latest }: { d: DriftView; latest: WindowView }) {
  return (
    <>
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
    </>
  );
}
