/**
 * @module console/pages/model
 * One model: devices per version over time (fleet.tsx, live); its versions with their self-reported metrics beside the champion's (deltas only on
 * the same evaluation set), the metrics the control plane computed itself (eval-set.tsx), lineage, validation, signatures and key ids, aliases; a side-by-side comparison of any two
 * versions, with their claimed feature importances (explanations.tsx); and, by role, forms to set an alias or start a rollout.
 */
import { Badge, short } from '../components.tsx';
import { Page, type PageProps } from '../layout.tsx';
import { EvalSetPanel } from './eval-set.tsx';
import { FleetPanel } from './fleet.tsx';
import type { ModelView } from './model-view.ts';
import { AliasForm, PolicyPanel, StartRolloutForm } from './model-forms.tsx';
import { Comparison, VersionsTable, metricsOf } from './model-versions.tsx';

export type { ModelView, VersionView } from './model-view.ts';

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
