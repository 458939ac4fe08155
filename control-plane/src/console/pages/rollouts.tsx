/**
 * @module console/pages/rollouts
 * The rollouts list: every model's rollouts, newest first, with state and step.
 */
import { Badge, when } from '../components.tsx';
import { Page, type PageProps } from '../layout.tsx';

export function RolloutsPage({
  rows,
  ...page
}: Omit<PageProps, 'title'> & {
  rows: {
    id: string;
    model: string;
    state: string;
    percent: number;
    champion: number;
    challenger: number;
    stepStartedAt: string | null;
  }[];
}) {
  return (
    <Page title="Rollouts" {...page}>
      <h1>Rollouts</h1>
      {rows.length === 0 ? (
        <p class="muted">No rollouts yet. Start one from a model's page.</p>
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Rollout</th>
                <th scope="col">Model</th>
                <th scope="col">State</th>
                <th scope="col">Versions</th>
                <th scope="col" class="num">
                  Share
                </th>
                <th scope="col">Step started</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  <td data-label="Rollout">
                    <a href={`/console/rollouts/${r.id}`}>
                      <code>{r.id}</code>
                    </a>
                  </td>
                  <td data-label="Model">{r.model}</td>
                  <td data-label="State">
                    <Badge status={r.state} />
                  </td>
                  <td data-label="Versions">
                    v{r.champion} → v{r.challenger}
                  </td>
                  <td data-label="Share" class="num">
                    {r.percent} %
                  </td>
                  <td data-label="Step started">{when(r.stepStartedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
