/**
 * @module console/pages/model-forms
 * The model page's panels and forms: the rollout policy in force, starting a rollout (with the
 * plan's power), pointing an alias.
 */
import { when } from '../components.tsx';
import { PowerPanel } from './power.tsx';
import type { ModelView, VersionView } from './model-view.ts';

/** What a publisher (CI) may start on its own (rollouts/policy.ts); operators are not bound by it. */
export function PolicyPanel({ policy: p }: { policy: ModelView['policy'] }) {
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

/** A publisher's or operator's start form, with the power of the plan derived from the fleet (the form's default). */
export function StartRolloutForm({
  model,
  candidates,
  csrf,
}: {
  model: ModelView;
  candidates: VersionView[];
  csrf: string;
}) {
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
export function AliasForm({ model, csrf }: { model: ModelView; csrf: string }) {
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
