/**
 * @module console/pages/model-versions
 * The model page's versions: every version with its metrics (deltas against the champion on the
 * same evaluation set), lineage, validation record and signers; and two versions compared.
 */
import type { VersionSummary } from '@modelfleet/protocol';
import { Badge, num, short, when } from '../components.tsx';
import { ImportanceComparison, explanationsOf } from './explanations.tsx';
import type { VersionView } from './model-view.ts';

export type Metrics = { evalSetDigest?: string; values?: Record<string, number> };
export const metricsOf = (v: VersionSummary) => v.metrics as Metrics;
/** Lower is better for losses and errors; higher for the rest. */
export const lowerIsBetter = (name: string) => /loss|error|mae|mse|rmse|latency/i.test(name);

export function Delta({
  name,
  value,
  champion,
  sameSet,
}: {
  name: string;
  value: number | undefined;
  champion: number | undefined;
  sameSet: boolean;
}) {
  if (value === undefined) return <span class="muted">—</span>;
  if (champion === undefined || !sameSet) return <>{num(value, 4)}</>;
  const d = value - champion;
  const better = lowerIsBetter(name) ? d < 0 : d > 0;
  return (
    <>
      {num(value, 4)}{' '}
      {d !== 0 && (
        <span class={better ? 'better' : 'worse'}>
          ({d > 0 ? '+' : ''}
          {num(d, 4)})
        </span>
      )}
    </>
  );
}

/** Every version with its self-reported metrics (deltas against the champion on the same evaluation set), lineage, validation, signers. */
export function VersionsTable({ versions, champion }: { versions: VersionView[]; champion: VersionView | undefined }) {
  const names = [...new Set(versions.flatMap((v) => Object.keys(metricsOf(v).values ?? {})))].sort();
  return (
    <>
      <h2 id="versions">Versions</h2>
      <div class="table-wrap">
        <table class="responsive" aria-describedby="versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Aliases</th>
              {names.map((n) => (
                <th scope="col" class="num">
                  {n}{' '}
                  <span
                    class="muted"
                    title="published by the publisher with the version, not measured by the control plane"
                  >
                    self-reported
                  </span>
                </th>
              ))}
              <th scope="col">Lineage</th>
              <th scope="col">Validation</th>
              <th scope="col">Signed by</th>
              <th scope="col">Published</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => {
              const sameSet =
                !!champion &&
                metricsOf(v).evalSetDigest !== undefined &&
                metricsOf(v).evalSetDigest === metricsOf(champion).evalSetDigest;
              return (
                <tr data-version={v.version}>
                  <td data-label="Version">
                    <strong>v{v.version}</strong> <span class="muted">{v.label ?? ''}</span>
                  </td>
                  <td data-label="Status">
                    <Badge status={v.status} />
                  </td>
                  <td data-label="Aliases">{v.aliases.join(', ') || '—'}</td>
                  {names.map((n) => (
                    <td data-label={n} class="num">
                      <Delta
                        name={n}
                        value={metricsOf(v).values?.[n]}
                        champion={champion ? metricsOf(champion).values?.[n] : undefined}
                        sameSet={sameSet && v !== champion}
                      />
                    </td>
                  ))}
                  <td data-label="Lineage">
                    {v.lineage.parentVersion ? `from v${String(v.lineage.parentVersion)}` : 'root'}
                    {v.lineage.codeCommit ? (
                      <>
                        {' '}
                        · <code>{String(v.lineage.codeCommit).slice(0, 8)}</code>
                      </>
                    ) : (
                      ''
                    )}
                  </td>
                  <td data-label="Validation">
                    {v.validation.reasons.length ? (
                      <>
                        <Badge status="bad">failed</Badge> {v.validation.reasons.map((r) => r.message).join('; ')}
                      </>
                    ) : (
                      <Badge status="ok">{`${v.validation.checks.length} checks`}</Badge>
                    )}
                    <Checks checks={v.validation.checks} />
                  </td>
                  <td data-label="Signed by">
                    {v.signatures.length ? v.signatures.map((s) => <code>{s.keyid.slice(0, 16)}</code>) : '—'}
                  </td>
                  <td data-label="Published">
                    {when(v.publishedAt)} <span class="muted">{v.publishedBy}</span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** The validation record, each check with its time; the probe's says which shapes the model ran at and why. */
export function Checks({ checks }: { checks: VersionSummary['validation']['checks'] }) {
  return (
    <details>
      <summary>what ran</summary>
      <ul class="mono">
        {checks.map((c) => (
          <li data-check={c.name}>
            {c.name} {c.ok ? 'ok' : 'failed'}, {c.ms} ms{c.detail ? `: ${c.detail}` : ''}
          </li>
        ))}
      </ul>
    </details>
  );
}

export function Comparison({ a, b }: { a: VersionView; b: VersionView }) {
  const ma = metricsOf(a);
  const mb = metricsOf(b);
  const names = [...new Set([...Object.keys(ma.values ?? {}), ...Object.keys(mb.values ?? {})])].sort();
  const sameSet = !!ma.evalSetDigest && ma.evalSetDigest === mb.evalSetDigest;
  const row = (label: string, x: unknown, y: unknown) => (
    <tr>
      <th scope="row">{label}</th>
      <td>{x as any}</td>
      <td>{y as any}</td>
    </tr>
  );
  return (
    <div class="table-wrap" id="comparison">
      <table>
        <caption class="sr-only">
          v{a.version} beside v{b.version}
        </caption>
        <thead>
          <tr>
            <th scope="col">—</th>
            <th scope="col">v{a.version}</th>
            <th scope="col">v{b.version}</th>
          </tr>
        </thead>
        <tbody>
          {row('label', a.label ?? '—', b.label ?? '—')}
          {row('status', a.status, b.status)}
          {row('evaluation set', short(ma.evalSetDigest ?? null), short(mb.evalSetDigest ?? null))}
          {names.map((n) =>
            row(
              n,
              num(ma.values?.[n], 4),
              <Delta name={n} value={mb.values?.[n]} champion={ma.values?.[n]} sameSet={sameSet} />,
            ),
          )}
          {row('size', `${(a.totalBytes / 1024).toFixed(1)} KiB`, `${(b.totalBytes / 1024).toFixed(1)} KiB`)}
          {row(
            'parent',
            a.lineage.parentVersion ? `v${String(a.lineage.parentVersion)}` : '—',
            b.lineage.parentVersion ? `v${String(b.lineage.parentVersion)}` : '—',
          )}
          {row('code commit', String(a.lineage.codeCommit ?? '—'), String(b.lineage.codeCommit ?? '—'))}
          {row('manifest', short(a.manifestDigest), short(b.manifestDigest))}
          {row(
            'signed by',
            a.signatures.map((s) => s.keyid.slice(0, 16)).join(', ') || '—',
            b.signatures.map((s) => s.keyid.slice(0, 16)).join(', ') || '—',
          )}
        </tbody>
      </table>
      {!sameSet && <p class="muted">Different or missing evaluation sets: metrics are shown, not compared.</p>}
      <ImportanceComparison
        a={{ version: a.version, e: explanationsOf(a.metrics) }}
        b={{ version: b.version, e: explanationsOf(b.metrics) }}
      />
    </div>
  );
}
