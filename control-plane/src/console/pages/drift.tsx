/**
 * @module console/pages/drift
 * A model version's drift over its closed windows: per feature, the test score against its alarm
 * threshold with alarm markers, and the latest window's released bins beside the baseline;
 * prediction drift and label-free estimated accuracy; devices contributing against minDevices;
 * the privacy ledger. Charts are drawn by the chart island (uPlot) from the JSON embedded here;
 * the same numbers are in the table below them, for screen readers and for copying.
 */
import { Badge, DataScript, num, pct, when } from '../components.tsx';
import { Page, type PageProps } from '../layout.tsx';

export interface FeatureVerdictView { name: string; test: string; devices: number; p: number | null; alarm: boolean; effects: { sigmaShift: number | null; psi: number; js: number; linf: number }; bins?: { labels: string[]; observed: number[]; expected: number[] } }
export interface WindowView {
  version: number; window: number; devices: number; released: boolean; alarm: boolean; noiseSigma: number | null; closedAt: string;
  verdict: { features: FeatureVerdictView[]; outputs: { predictionDrift: boolean; estimatedAccuracy: number | null; baselineAccuracy: number | null; accuracyAlarm: boolean } | null } | null;
  retrain: { score: number; cusum: number; reasons: string[] } | null;
}
export interface DriftView {
  model: string; version: number; versions: number[]; minDevices: number; familyAlpha: number;
  windows: WindowView[];
  ledger: { delta: number; releasesLastYear: number; rhoLastYear: number; epsilonLastYear: number } | null;
}

/** Day number → ISO date (windows are UTC days since the epoch). */
export const dayOf = (w: number) => new Date(w * 86_400_000).toISOString().slice(0, 10);

export function DriftPage({ d, ...page }: Omit<PageProps, 'title'> & { d: DriftView }) {
  const windows = [...d.windows].sort((a, b) => a.window - b.window);
  const latest = windows.at(-1);
  const features = latest?.verdict?.features.map((f) => f.name) ?? [];
  const tested = latest?.verdict?.features.filter((f) => f.test !== 'none').length ?? 1;
  const enc = encodeURIComponent(d.model);
  return (
    <Page title={`${d.model} drift`} charts {...page}>
      <h1><a href={`/console/models/${enc}`}>{d.model}</a> · drift of v{d.version}</h1>
      <form method="get" class="inline">
        <label for="version">Version <select id="version" name="version">{d.versions.map((v) => <option value={v} selected={v === d.version}>v{v}</option>)}</select></label>
        <button type="submit">Show</button>
      </form>
      {windows.length === 0 ? <p>No closed windows for v{d.version} yet. Windows close daily once devices have sent sketches.</p> : (
        <>
          <p>
            {latest!.alarm ? <Badge status="alarm">drift alarm</Badge> : <Badge status="ok">no drift</Badge>} in the latest window ({dayOf(latest!.window)}, {latest!.devices.toLocaleString('en-US')} devices; release needs {d.minDevices.toLocaleString('en-US')}).
            {latest!.retrain?.reasons.length ? <> Retraining requested: {latest!.retrain.reasons.join(', ')}.</> : null}
          </p>
          <DataScript id="drift-data" data={{ windows: windows.map((w) => ({ ...w, day: dayOf(w.window) })), features, threshold: d.familyAlpha / Math.max(tested, 1), minDevices: d.minDevices }} />
          <h2>Features</h2>
          <div class="grid">
            {features.map((name) => {
              const f = latest!.verdict!.features.find((x) => x.name === name)!;
              return (
                <section class="card" data-feature={name} aria-labelledby={`f-${name}`}>
                  <h3 id={`f-${name}`}>{name} {f.alarm ? <Badge status="alarm">alarm</Badge> : null}</h3>
                  <figure>
                    <div class="chart" data-chart="score" data-feature={name} role="img" aria-label={`${name}: test score per window against the alarm threshold`} />
                    <figcaption class="muted">−log₁₀ p per window ({f.test}); dashed: alarm threshold (α {num(d.familyAlpha, 3)} over {tested} features); red points: alarms.</figcaption>
                  </figure>
                  <figure>
                    <div class="chart" data-chart="bins" data-feature={name} role="img" aria-label={`${name}: released bin shares against the baseline in the latest window`} />
                    <figcaption class="muted">Latest window: released (noised) bin shares vs the baseline. σ shift {num(f.effects.sigmaShift, 3)}, PSI {num(f.effects.psi, 3)}, L∞ {num(f.effects.linf, 3)}.</figcaption>
                  </figure>
                </section>
              );
            })}
          </div>
          <h2>Outputs and devices</h2>
          <div class="grid">
            <figure class="card"><div class="chart" data-chart="accuracy" role="img" aria-label="Estimated accuracy per window against the validation baseline" />
              <figcaption class="muted">Label-free estimated accuracy (mean top-class confidence) vs validation; red points: prediction drift.</figcaption></figure>
            <figure class="card"><div class="chart" data-chart="devices" role="img" aria-label="Devices contributing per window against minDevices" />
              <figcaption class="muted">Devices contributing per window; dashed: minDevices ({d.minDevices.toLocaleString('en-US')}).</figcaption></figure>
          </div>
          <h2 id="windows-h">Windows</h2>
          <div class="table-wrap">
            <table class="responsive" aria-labelledby="windows-h">
              <thead><tr><th scope="col">Day</th><th scope="col" class="num">Devices</th><th scope="col">Verdict</th><th scope="col">Alarmed features</th><th scope="col">Outputs</th><th scope="col" class="num">Noise σ</th><th scope="col">Retrain</th><th scope="col">Closed</th></tr></thead>
              <tbody>{[...windows].reverse().map((w) => (
                <tr data-window={w.window}>
                  <td data-label="Day">{dayOf(w.window)}</td>
                  <td data-label="Devices" class="num">{w.devices.toLocaleString('en-US')}</td>
                  <td data-label="Verdict">{!w.released ? <Badge status="no_data">withheld</Badge> : w.alarm ? <Badge status="alarm">alarm</Badge> : <Badge status="ok">ok</Badge>}</td>
                  <td data-label="Alarmed">{w.verdict?.features.filter((f) => f.alarm).map((f) => f.name).join(', ') || '—'}</td>
                  <td data-label="Outputs">{w.verdict?.outputs ? <>{w.verdict.outputs.predictionDrift ? 'prediction drift; ' : ''}est. accuracy {pct(w.verdict.outputs.estimatedAccuracy, 1)}</> : '—'}</td>
                  <td data-label="Noise σ" class="num">{num(w.noiseSigma, 4)}</td>
                  <td data-label="Retrain">{w.retrain?.reasons.join(', ') || '—'}</td>
                  <td data-label="Closed">{when(w.closedAt)}</td>
                </tr>
              ))}</tbody>
            </table>
          </div>
        </>
      )}
      <h2>Privacy ledger</h2>
      {d.ledger ? (
        <dl class="kv" id="ledger">
          <dt>Releases, last 365 days</dt><dd>{d.ledger.releasesLastYear}</dd>
          <dt>ρ spent (zCDP)</dt><dd>{num(d.ledger.rhoLastYear, 4)}</dd>
          <dt>ε spent at δ = {d.ledger.delta}</dt><dd>{num(d.ledger.epsilonLastYear, 3)}</dd>
        </dl>
      ) : <p class="muted">No releases yet.</p>}
    </Page>
  );
}
