/**
 * @module console/components
 * Small pieces shared by the pages: badges, numbers, the action form (CSRF field, confirmation
 * text for the client island) and JSON embedded for charts (escaped so it cannot close the tag).
 */
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';

export const Badge = ({ status, children }: { status: string; children?: Child }) => (
  <span class={`badge ${status}`}>{children ?? status}</span>
);

export const pct = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(digits)} %`;
export const num = (x: number | null | undefined, digits = 3) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : Number(x.toFixed(digits)).toLocaleString('en-US');
export const when = (iso: string | null | undefined) =>
  iso ? (
    <time datetime={iso} title={iso}>
      {iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}
    </time>
  ) : (
    '—'
  );
export const short = (digest: string | null | undefined, n = 12) =>
  digest ? <code title={digest}>{digest.slice(0, n)}</code> : '—';

/**
 * A POST form for one action. Works without script (303 back with a flash); with the app island,
 * it asks for confirmation when `confirm` is set, disables itself while pending (double clicks
 * send once) and refreshes the live panel instead of reloading.
 */
export function ActionForm(props: {
  action: string;
  csrf: string;
  label: string;
  confirm?: string;
  kind?: 'primary' | 'danger';
  fields?: Record<string, string | number>;
  reason?: boolean;
  name?: string;
}) {
  return (
    <form method="post" action={props.action} class="inline" data-action-form data-confirm={props.confirm}>
      <input type="hidden" name="_csrf" value={props.csrf} />
      {Object.entries(props.fields ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={String(v)} />
      ))}
      {props.reason && (
        <label class="sr-only" for={`reason-${props.name ?? props.label}`}>
          Reason for {props.label.toLowerCase()}
        </label>
      )}
      {props.reason && (
        <input
          id={`reason-${props.name ?? props.label}`}
          name="reason"
          placeholder="reason (optional)"
          maxlength={512}
        />
      )}
      <button type="submit" class={props.kind ?? ''} data-testid={props.name}>
        {props.label}
      </button>
    </form>
  );
}

/** JSON for a client island, inert inside the page (`<` escaped, so "</script>" cannot end it). */
export function DataScript({ id, data }: { id: string; data: unknown }) {
  return (
    <script type="application/json" id={id}>
      {raw(
        JSON.stringify(data)
          .replace(/</g, '\\u003c')
          .replace(/\u2028/g, '\\u2028')
          .replace(/\u2029/g, '\\u2029'),
      )}
    </script>
  );
}
