/**
 * @module console/pages/fleet
 * The model page's fleet panel: devices per version per window (GET /v1/models/{m}/fleet), drawn
 * by the chart island (uPlot) from the JSON embedded here, with the latest windows in a table for
 * screen readers. A live region: the app island re-fetches it every few seconds and the chart
 * island redraws it, so an update's adoption shows while the open window fills.
 */
import type { FleetView } from '@modelfleet/protocol';
import { DataScript, pct } from '../components.tsx';

/** Rows in the table under the chart (the chart has every window). */
const TABLE_WINDOWS = 6;

/** A window's start in UTC, to the second for windows shorter than a day. */
export const windowLabel = (w: number, seconds: number) => {
  const iso = new Date(w * seconds * 1000).toISOString();
  return seconds % 86_400 === 0 ? iso.slice(0, 10) : iso.slice(0, 19).replace('T', ' ');
};

export function FleetPanel({ fleet }: { fleet: FleetView }) {
  const { windowSeconds: s } = fleet;
  const latest = [...fleet.windows].reverse().find((w) => w.total > 0);
  const rows = fleet.windows
    .filter((w) => w.total > 0)
    .slice(-TABLE_WINDOWS)
    .reverse();
  return (
    <div id="fleet" data-versions={fleet.versions.join(',')}>
      {fleet.versions.length === 0 ? (
        <p class="muted">No device has sent a health record in the last {fleet.windows.length} windows.</p>
      ) : (
        <>
          <p>
            Latest window with devices ({windowLabel(latest!.window, s)}
            {latest!.live ? ', open' : ''}):{' '}
            {latest!.versions
              .filter((v) => v.devices > 0)
              .map((v, i) => (
                <>
                  {i > 0 ? ', ' : ''}
                  <strong>v{v.version}</strong> {v.devices.toLocaleString('en-US')} ({pct(v.devices / latest!.total, 0)}
                  )
                </>
              ))}
            .
          </p>
          <DataScript id="fleet-data" data={fleet} />
          <figure>
            <div
              class="chart"
              data-chart="fleet"
              role="img"
              aria-label={`Devices per version in each window: ${fleet.versions.map((v) => `v${v}`).join(', ')}`}
            />
            <figcaption class="muted">
              Devices that sent a health record per version and window (windows of {s.toLocaleString('en-US')} s,
              starting at the times shown, UTC); the open window
              {fleet.windows.some((w) => w.live) ? ' is counted live and' : ''} may still rise. Counts are exact: health
              counts are public, only their contents are noised.
            </figcaption>
          </figure>
          <div class="table-wrap">
            <table class="responsive" id="fleet-table">
              <caption class="sr-only">Devices per version, latest windows first</caption>
              <thead>
                <tr>
                  <th scope="col">Window starts</th>
                  {fleet.versions.map((v) => (
                    <th scope="col" class="num">
                      v{v}
                    </th>
                  ))}
                  <th scope="col" class="num">
                    All
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((w) => (
                  <tr data-window={w.window} data-open={w.live ? '1' : undefined}>
                    <td data-label="Window starts">
                      {windowLabel(w.window, s)}
                      {w.live ? <span class="muted"> (open)</span> : ''}
                    </td>
                    {w.versions.map((v) => (
                      <td data-label={`v${v.version}`} data-version={v.version} class="num">
                        {v.devices.toLocaleString('en-US')}
                      </td>
                    ))}
                    <td data-label="All" class="num">
                      {w.total.toLocaleString('en-US')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}
