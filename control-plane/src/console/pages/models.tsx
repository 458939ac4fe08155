/** @module console/pages/models — the fleet at a glance: each model's champion, live rollout and last drift window. */
import { Badge, when } from '../components.tsx';
import { Page, type PageProps } from '../layout.tsx';

export interface ModelRow {
  name: string;
  description: string;
  champion: number | null;
  latestVersion: number | null;
  createdAt: string;
  rollout: { id: string; state: string; percent: number; challenger: number } | null;
  drift: { window: number; alarm: boolean; version: number } | null;
}

export function ModelsPage({ rows, ...page }: Omit<PageProps, 'title'> & { rows: ModelRow[] }) {
  return (
    <Page title="Models" {...page}>
      <h1>Models</h1>
      {rows.length === 0 ? (
        <p>
          No models yet. Publish one with <code>modelfleet publish</code>.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <caption class="sr-only">Models with their champion, live rollout and latest drift window</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Champion</th>
                <th scope="col">Latest</th>
                <th scope="col">Rollout</th>
                <th scope="col">Drift (latest window)</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => (
                <tr>
                  <td data-label="Model">
                    <a href={`/console/models/${encodeURIComponent(m.name)}`}>{m.name}</a>
                    <div class="muted">{m.description}</div>
                  </td>
                  <td data-label="Champion">{m.champion ? `v${m.champion}` : '—'}</td>
                  <td data-label="Latest">{m.latestVersion ? `v${m.latestVersion}` : '—'}</td>
                  <td data-label="Rollout">
                    {m.rollout ? (
                      <a href={`/console/rollouts/${m.rollout.id}`}>
                        <Badge status={m.rollout.state} /> v{m.rollout.challenger} at {m.rollout.percent} %
                      </a>
                    ) : (
                      <span class="muted">none</span>
                    )}
                  </td>
                  <td data-label="Drift">
                    {m.drift ? (
                      <a href={`/console/models/${encodeURIComponent(m.name)}/drift`}>
                        {m.drift.alarm ? <Badge status="alarm">alarm</Badge> : <Badge status="ok">no drift</Badge>} v
                        {m.drift.version}, window {m.drift.window}
                      </a>
                    ) : (
                      <span class="muted">no closed window</span>
                    )}
                  </td>
                  <td data-label="Created">{when(m.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
