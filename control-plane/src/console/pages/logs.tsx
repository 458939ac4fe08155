/**
 * @module console/pages/logs
 * The audit log (every change: actor, action, subject, reason, before/after) and the webhook
 * delivery log, each filterable by query string (GET forms: bookmarkable, no script needed) and
 * paged with `before`.
 */
import type { AuditRecord, WebhookDelivery } from '@modelfleet/protocol';
import { ActionForm, Badge, when } from '../components.tsx';
import { Page, type PageProps } from '../layout.tsx';

export type AuditRow = AuditRecord;
export type DeliveryRow = WebhookDelivery;

const Field = ({
  id,
  label,
  value,
  list,
}: {
  id: string;
  label: string;
  value: string | undefined;
  list?: string[];
}) => (
  <label for={id}>
    {label}
    {list ? (
      <select id={id} name={id}>
        <option value="">any</option>
        {list.map((x) => (
          <option value={x} selected={x === value}>
            {x}
          </option>
        ))}
      </select>
    ) : (
      <input id={id} name={id} value={value ?? ''} maxlength={128} />
    )}
  </label>
);

export function AuditPage({
  rows,
  filters,
  ...page
}: Omit<PageProps, 'title'> & { rows: AuditRow[]; filters: { subject?: string; action?: string; actor?: string } }) {
  const older = rows.at(-1);
  const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v) as [string, string][]);
  return (
    <Page title="Audit log" {...page}>
      <h1>Audit log</h1>
      <form method="get" class="inline" role="search" aria-label="Filter the audit log">
        <Field id="action" label="Action" value={filters.action} />
        <Field id="subject" label="Subject" value={filters.subject} />
        <Field id="actor" label="Actor" value={filters.actor} />
        <button type="submit">Filter</button> <a href="/console/audit">Clear</a>
      </form>
      <p class="muted">
        Action matches a family (<code>rollout</code> matches <code>rollout.promote</code>); subject matches its
        children (<code>model/fraud</code>).
      </p>
      <div class="table-wrap">
        <table class="responsive" id="audit">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Subject</th>
              <th scope="col">Reason</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr data-action={r.action}>
                <td data-label="#">{r.id}</td>
                <td data-label="When">{when(r.at)}</td>
                <td data-label="Actor">{r.actor}</td>
                <td data-label="Action">
                  <code>{r.action}</code>
                </td>
                <td data-label="Subject">{r.subject}</td>
                <td data-label="Reason">{r.reason ?? '—'}</td>
                <td data-label="Change">
                  <details>
                    <summary>before / after</summary>
                    <pre class="mono">{JSON.stringify({ before: r.before, after: r.after }, null, 1)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 && <p class="muted">Nothing matches.</p>}
      {older && rows.length >= 100 && (
        <p>
          <a href={`/console/audit?${q.toString()}${q.size ? '&' : ''}before=${older.id}`}>Older →</a>
        </p>
      )}
    </Page>
  );
}

export function DeliveriesPage({
  rows,
  filters,
  types,
  canOperate,
  ...page
}: Omit<PageProps, 'title'> & {
  rows: DeliveryRow[];
  filters: { status?: string; type?: string };
  types: string[];
  canOperate: boolean;
}) {
  return (
    <Page title="Webhook deliveries" {...page}>
      <h1>Webhook deliveries</h1>
      <form method="get" class="inline" role="search" aria-label="Filter deliveries">
        <Field id="status" label="Status" value={filters.status} list={['pending', 'delivered', 'failed']} />
        <Field id="type" label="Event" value={filters.type} list={types} />
        <button type="submit">Filter</button> <a href="/console/deliveries">Clear</a>
      </form>
      <div class="table-wrap">
        <table class="responsive" id="deliveries">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Attempts
              </th>
              <th scope="col">Last answer</th>
              <th scope="col">Subject</th>
              <th scope="col">Created</th>
              <th scope="col">Updated</th>
              {canOperate && <th scope="col">Retry</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr data-status={d.status}>
                <td data-label="#">{d.id}</td>
                <td data-label="Event">
                  <code>{d.type}</code>
                </td>
                <td data-label="Status">
                  <Badge status={d.status} />
                </td>
                <td data-label="Attempts" class="num">
                  {d.attempts}
                </td>
                <td data-label="Last answer">
                  {d.lastStatus ?? '—'} {d.lastError ? <span class="muted">{d.lastError}</span> : null}
                </td>
                <td data-label="Subject">{d.subject ?? '—'}</td>
                <td data-label="Created">{when(d.createdAt)}</td>
                <td data-label="Updated">{when(d.updatedAt)}</td>
                {canOperate && page.csrf && (
                  <td data-label="Retry">
                    {d.status === 'failed' ? (
                      <ActionForm
                        action={`/console/deliveries/${d.id}/retry`}
                        csrf={page.csrf}
                        label="Retry"
                        name={`retry-${d.id}`}
                      />
                    ) : (
                      '—'
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 && <p class="muted">No deliveries match.</p>}
    </Page>
  );
}
