/**
 * @module console/pages/model
 * One model: devices per version over time (fleet.tsx, live); its versions with their self-reported metrics beside the champion's (deltas only on
 * the same evaluation set), the metrics the control plane computed itself (eval-set.tsx), lineage, validation, signatures and key ids, aliases; a side-by-side comparison of any two
 * versions, with their claimed feature importances (explanations.tsx); and, by role, forms to set an alias or start a rollout.
 */
import type {
  EvalSetView,
  FleetView,
  PlanCheckResponse,
  RolloutPolicyView,
  VersionSummary,
} from '@modelfleet/protocol';
import { Badge, num, short, when } from '../components.tsx';
import { Page, type PageProps } from '../layout.tsx';
import { EvalSetPanel } from './eval-set.tsx';
import { ImportanceComparison, explanationsOf } from './explanations.tsx';
import { FleetPanel } from './fleet.tsx';
import { PowerPanel } from './power.tsx';

export interface VersionView extends VersionSummary {
  signatures: { keyid: string }[];
}
export interface ModelView {
  name: string;
  description: string;
  sequence: number;
  aliases: Record<string, number>;
  versions: VersionView[];
  rollouts: {
    id: string;
    state: string;
    percent: number;
    challenger: number;
    champion: number;
    stepStartedAt: string | null;
  }[];
  compare: [VersionView, VersionView] | null;
  /** The registered evaluation set with the control plane's own scores (null: none, or not readable). */
  evalSet: EvalSetView | null;
  canOperate: boolean;
  canPublish: boolean;
  policy: RolloutPolicyView;
  /** The plan the start form creates by default (steps and tolerances derived from the fleet) and its power; null when not shown. */
  preview: PlanCheckResponse | null;
  /** Devices per version over the latest windows (the live fleet panel). */
  fleet: FleetView;
}

/** What a publisher (CI) may start on its own (rollouts/policy.ts); operators are not bound by it. */
function PolicyPanel({ policy: p }: { policy: ModelView['policy'] }) {
  const { policy } = p;
  return (
    <section aria-labelledby="policy">
      <h2 id="policy">Rollout policy</h2>
      <p class="muted">
        {p.configured ? (
          <>
            Set by {p.updatedBy} {when(p.updatedAt)}.
          </>
        ) : (
          'No policy set: the defaults apply.'
        )}{' '}
        Publisher rollouts must comply; an operator's may not, and the audit records how.
      </p>
      <dl class="kv" data-policy>
        <dt>Publishers may start</dt>
        <dd>{policy.publisherMayStart ? 'yes' : 'no (operators only)'}</dd>
        <dt>Steps</dt>
        <dd>
          at least {policy.minSteps}, the first at most {policy.maxFirstStepPercent} %, each baking ≥{' '}
          {policy.minBakeSeconds} s
        </dd>
        <dt>Required metrics</dt>
        <dd>{policy.requiredMetrics.join(', ') || '—'}</dd>
        <dt>Gate</dt>
        <dd>
          {policy.gate ? (
            <>
              {policy.gate.metric} {policy.gate.higherIsBetter ? '+' : '−'}
              {policy.gate.margin} over the champion,{' '}
              {policy.gate.source === 'server' ? (
                <strong>computed by the control plane</strong>
              ) : (
                <span class="worse">self-reported by the publisher</span>
              )}
            </>
          ) : (
            <span class="worse">the plan's own, on self-reported metrics</span>
          )}
        </dd>
      </dl>
    </section>
  );
}

type Metrics = { evalSetDigest?: string; values?: Record<string, number> };
const metricsOf = (v: VersionSummary) => v.metrics as Metrics;
/** Lower is better for losses and errors; higher for the rest. */
const lowerIsBetter = (name: string) => /loss|error|mae|mse|rmse|latency/i.test(name);

function Delta({
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

export function ModelPage({ model, ...page }: Omit<PageProps, 'title'> & { model: ModelView }) {
  const champion = model.versions.find((v) => v.version === model.aliases.champion);
  const live = model.rollouts.find((r) => r.state === 'running' || r.state === 'paused');
  const candidates = model.versions.filter((v) => v.status === 'active' && v.version !== champion?.version);
  const enc = encodeURIComponent(model.name);
  return (
    <Page title={model.name} charts {...page}>
      <h1>{model.name}</h1>
      <p class="muted">
        {model.description || 'No description.'} Assignment sequence {model.sequence}.{' '}
        <a href={`/console/models/${enc}/drift`}>Drift and privacy →</a>
      </p>
      <dl class="kv">
        {Object.entries(model.aliases).map(([alias, v]) => (
          <>
            <dt>{alias}</dt>
            <dd>v{v}</dd>
          </>
        ))}
      </dl>

      <section aria-labelledby="fleet-h">
        <h2 id="fleet-h">Fleet by version</h2>
        <div data-live={`/console/models/${enc}/fleet-panel`}>
          <FleetPanel fleet={model.fleet} />
        </div>
      </section>

      <VersionsTable versions={model.versions} champion={champion} />
      {champion && (
        <p class="muted">
          Deltas compare with the champion v{champion.version} only where both were evaluated on the same set (
          {short(metricsOf(champion).evalSetDigest ?? null)}).
        </p>
      )}
      <PolicyPanel policy={model.policy} />

      <EvalSetPanel set={model.evalSet} versions={model.versions} />

      <h2 id="compare">Compare two versions</h2>
      <form method="get" action={`/console/models/${enc}`} class="inline">
        <label for="a">
          First{' '}
          <select id="a" name="a">
            {model.versions.map((v) => (
              <option value={v.version} selected={model.compare?.[0].version === v.version}>
                v{v.version}
              </option>
            ))}
          </select>
        </label>
        <label for="b">
          Second{' '}
          <select id="b" name="b">
            {model.versions.map((v) => (
              <option
                value={v.version}
                selected={model.compare ? model.compare[1].version === v.version : v === model.versions[0]}
              >
                v{v.version}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Compare</button>
      </form>
      {model.compare && <Comparison a={model.compare[0]} b={model.compare[1]} />}

      <h2>Rollouts</h2>
      {model.rollouts.length === 0 ? (
        <p class="muted">No rollouts yet.</p>
      ) : (
        <ul>
          {model.rollouts.map((r) => (
            <li>
              <a href={`/console/rollouts/${r.id}`}>{r.id}</a> <Badge status={r.state} /> v{r.champion} → v
              {r.challenger}, {r.percent} %
            </li>
          ))}
        </ul>
      )}

      {page.csrf && model.canPublish && !live && candidates.length > 0 && (
        <StartRolloutForm model={model} candidates={candidates} csrf={page.csrf} />
      )}

      {page.csrf && model.canOperate && <AliasForm model={model} csrf={page.csrf} />}
    </Page>
  );
}

/** Every version with its self-reported metrics (deltas against the champion on the same evaluation set), lineage, validation, signers. */
function VersionsTable({ versions, champion }: { versions: VersionView[]; champion: VersionView | undefined }) {
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

/** A publisher's or operator's start form, with the power of the plan derived from the fleet (the form's default). */
function StartRolloutForm({ model, candidates, csrf }: { model: ModelView; candidates: VersionView[]; csrf: string }) {
  const enc = encodeURIComponent(model.name);
  return (
    <section aria-labelledby="start-h">
      <h2 id="start-h">Start a rollout</h2>
      {model.preview && (
        <PowerPanel
          power={model.preview.power}
          caption={`The plan derived from the fleet (${model.preview.plan.steps.map((s) => s.percent).join(' → ')} %):`}
        />
      )}
      <form
        method="post"
        action={`/console/models/${enc}/rollouts`}
        class="stack"
        data-action-form
        data-confirm="Start this rollout? Devices in the first step's range will download the challenger."
      >
        <input type="hidden" name="_csrf" value={csrf} />
        <label for="challenger">
          Challenger
          <select id="challenger" name="challenger">
            {candidates.map((v) => (
              <option value={v.version}>
                v{v.version} {v.label ?? ''}
              </option>
            ))}
          </select>
        </label>
        <label for="steps">
          Steps (percent of eligible devices)
          <select id="steps" name="steps">
            {model.preview && (
              <option value="fleet">
                derived from the fleet: {model.preview.plan.steps.map((s) => s.percent).join(' → ')} %
              </option>
            )}
            <option value="1,5,25,50,100">1 → 5 → 25 → 50 → 100 %</option>
            <option value="10,50,100">10 → 50 → 100 %</option>
            <option value="50,100">50 → 100 %</option>
          </select>
        </label>
        <label for="bake">
          Bake time per step (minutes)
          <input id="bake" name="bakeMinutes" type="number" min={0} max={43200} value="60" required />
        </label>
        <label for="reason-start">
          Reason <input id="reason-start" name="reason" maxlength={500} placeholder="optional" />
        </label>
        <button type="submit" class="primary" data-testid="start-rollout">
          Start rollout
        </button>
      </form>
    </section>
  );
}

/** An operator's form to point an alias at an active version. */
function AliasForm({ model, csrf }: { model: ModelView; csrf: string }) {
  const enc = encodeURIComponent(model.name);
  return (
    <section aria-labelledby="alias-h">
      <h2 id="alias-h">Set an alias</h2>
      <p class="muted">
        Setting <code>champion</code> by hand ends a live rollout.
      </p>
      <form
        method="post"
        action={`/console/models/${enc}/aliases`}
        class="inline"
        data-action-form
        data-confirm="Point this alias at the chosen version?"
      >
        <input type="hidden" name="_csrf" value={csrf} />
        <label for="alias">
          Alias <input id="alias" name="alias" required pattern="[a-z][a-z0-9-]{0,31}" value="champion" />
        </label>
        <label for="alias-version">
          Version{' '}
          <select id="alias-version" name="version">
            {model.versions
              .filter((v) => v.status === 'active')
              .map((v) => (
                <option value={v.version}>v{v.version}</option>
              ))}
          </select>
        </label>
        <button type="submit" data-testid="set-alias">
          Set alias
        </button>
      </form>
    </section>
  );
}

/** The validation record, each check with its time; the probe's says which shapes the model ran at and why. */
function Checks({ checks }: { checks: VersionSummary['validation']['checks'] }) {
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

function Comparison({ a, b }: { a: VersionView; b: VersionView }) {
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
