/**
 * @module console/pages/drift-windows
 * The drift page's tables: the windows with their releases and verdicts, and the privacy ledger
 * split by channel.
 */
import { DAY_SECONDS } from '@modelfleet/protocol';
import { Badge, num, pct, when } from '../components.tsx';
import { type Importance } from './explanations.tsx';
import { type DriftView, type WindowView } from './drift-view.ts';

export const CHANNELS: Record<string, string> = {
  window: "a day's window (drift sketches and health)",
  'step-health': "a rollout step's health records",
  'step-sketches': "a rollout step's drift sketches",
  step: 'a rollout step (recorded before channels were kept)',
};

/** Day number → ISO date (day windows are UTC days since the epoch). */

export function WindowsTable({
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
export function LedgerPanel({ d, daily, seconds }: { d: DriftView; daily: boolean; seconds: number }) {
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
