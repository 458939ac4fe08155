/**
 * @module console/pages/rollout
 * One rollout: its steps as progress bars (assigned share; challenger and control devices that
 * reported in the current step), the current decision with its evidence (metric, threshold,
 * observed, standard error, sample, freshness), the operator's buttons for what the state allows,
 * and the audit timeline (the decision itself is rollout-decision.tsx). The panel is re-fetched
 * by the app island every few seconds and after each action, so effects show without a reload.
 */
import { ActionForm, Badge, when } from '../components.tsx';
import { Page, type PageProps } from '../layout.tsx';
import { PowerPanel } from './power.tsx';
import { Decision } from './rollout-decision.tsx';
import type { RolloutView, StepReport } from './rollout-types.ts';
import { afterOf, minSample, power, scale } from './rollout-evidence.tsx';

export type { MetricView, RolloutView, StepReport } from './rollout-types.ts';
export { RolloutsPage } from './rollouts.tsx';

/** Devices in the current step: challenger devices that started running it (downloaded and activated), and devices per arm that used it (sent their step record). */
const LIVE = new Set(['running', 'paused']);
const bake = (s: number) =>
  s >= 3600 ? `${(s / 3600).toFixed(s % 3600 ? 1 : 0)} h` : s >= 60 ? `${Math.round(s / 60)} min` : `${s} s`;

export function RolloutPanel({
  r,
  report,
  csrf,
  canOperate,
}: {
  r: RolloutView;
  report: StepReport | null;
  csrf: string | undefined;
  canOperate: boolean;
}) {
  const live = LIVE.has(r.state);
  const base = `/console/rollouts/${r.id}`;
  return (
    <div id="rollout-panel" data-state={r.state} data-step={r.step} aria-live="polite">
      <p>
        <Badge status={r.state} />{' '}
        <strong>
          v{r.champion} → v{r.challenger}
        </strong>
        , {r.state === 'promoted' ? 'now the champion' : `${r.percent} % of eligible devices on the challenger`}
        {r.stepStartedAt && live ? (
          <>
            , step {r.step + 1} of {r.plan.steps.length} since {when(r.stepStartedAt)}
          </>
        ) : null}
      </p>
      <Steps r={r} report={report} live={live} />

      <Decision r={r} />

      {csrf && canOperate && live && <Actions r={r} csrf={csrf} base={base} />}

      {power(r) && <PowerPanel power={power(r)!} caption="At creation:" />}

      <Timeline r={r} />
    </div>
  );
}

/** The plan's steps as progress bars: assigned share, and this step's downloaded and active devices. */
function Steps({ r, report, live }: { r: RolloutView; report: StepReport | null; live: boolean }) {
  return (
    <>
      <h2 id="steps-h">Steps</h2>
      <ol class="steps" aria-labelledby="steps-h">
        {r.plan.steps.map((s, i) => {
          const done = r.state === 'promoted' || i < r.step;
          const current = live && i === r.step;
          return (
            <li class={current ? 'current' : ''} aria-current={current ? 'step' : undefined}>
              <span>
                {s.percent} % · {bake(s.bakeSeconds)}
              </span>
              <div class="bars">
                <div>
                  <span>assigned</span>
                  <progress max={100} value={done || current ? s.percent : 0} aria-label={`step ${i + 1} assigned`}>
                    {s.percent} %
                  </progress>
                  <span>
                    {done
                      ? 'done'
                      : current
                        ? `${s.percent} % of eligible`
                        : !live && i === r.step && r.state !== 'draft'
                          ? `stopped (${r.state})`
                          : 'waiting'}
                  </span>
                </div>
                {current && report && (
                  <>
                    <div data-bar="downloaded">
                      <span>downloaded</span>
                      <progress
                        max={scale(r, report)}
                        value={report.loaded}
                        aria-label="challenger devices that downloaded and activated the challenger in this step"
                      >
                        {report.loaded}
                      </progress>
                      <span>
                        {report.loaded.toLocaleString('en-US')} device{report.loaded === 1 ? '' : 's'}
                      </span>
                    </div>
                    <div data-bar="active">
                      <span>active</span>
                      <progress
                        max={scale(r, report)}
                        value={report.challenger}
                        aria-label="challenger devices that used the challenger in this step"
                      >
                        {report.challenger}
                      </progress>
                      <span>
                        {report.challenger.toLocaleString('en-US')} challenger /{' '}
                        {report.control.toLocaleString('en-US')} control
                      </span>
                    </div>
                  </>
                )}
              </div>
            </li>
          );
        })}
      </ol>
      <p class="muted">
        Assigned: the share of eligible devices the edge puts on the challenger. Downloaded: challenger devices that
        verified, stored and activated it in this step. Active: devices that used their version in this step (10
        predictions) and reported; the analysis needs {minSample(r).toLocaleString('en-US')} per arm.
      </p>
    </>
  );
}

/** An operator's buttons for what the state allows. */
function Actions({ r, csrf, base }: { r: RolloutView; csrf: string; base: string }) {
  return (
    <>
      <div class="actions" role="group" aria-label="Rollout actions">
        {r.state === 'running' && (
          <ActionForm
            name="promote"
            action={`${base}/promote`}
            csrf={csrf}
            fields={{ step: r.step }}
            label={
              r.step + 1 < r.plan.steps.length
                ? `Promote to ${r.plan.steps[r.step + 1]!.percent} %`
                : 'Promote to champion'
            }
            kind="primary"
            confirm={`Promote v${r.challenger} past step ${r.step + 1}?`}
          />
        )}
        {r.state === 'running' && <ActionForm name="pause" action={`${base}/pause`} csrf={csrf} label="Pause" />}
        {r.state === 'paused' && <ActionForm name="resume" action={`${base}/resume`} csrf={csrf} label="Resume" />}
        <ActionForm
          name="abort"
          action={`${base}/abort`}
          csrf={csrf}
          label="Abort"
          confirm={`Abort and return every device to v${r.champion}?`}
          reason
        />
        <ActionForm
          name="kill"
          action={`${base}/kill`}
          csrf={csrf}
          label="Kill switch"
          kind="danger"
          confirm={`KILL SWITCH: every device returns to v${r.champion} at its next poll. Continue?`}
        />
      </div>
    </>
  );
}

/** The audit timeline, newest first. */
function Timeline({ r }: { r: RolloutView }) {
  return (
    <>
      <h2>Timeline</h2>
      <ol class="timeline" reversed>
        {[...r.history].reverse().map((h) => (
          <li>
            <strong>{h.action.replace('rollout.', '')}</strong> by {h.actor} · {when(h.at)}
            {afterOf(h)?.state ? (
              <>
                {' '}
                → <Badge status={afterOf(h)!.state!} />
              </>
            ) : null}
            {h.reason ? <div class="muted">{h.reason}</div> : null}
          </li>
        ))}
      </ol>
    </>
  );
}

/**
 * The sequence as a bar against the tolerance: the interval [lower, upper] (valid at every look,
 * at level α), the estimate as a dot, the tolerance as a tick. Passes when the whole bar is left of
 * the tick, fails when all of it is right of it. Figures beside it for screen readers and copying.
 */

export function RolloutPage({
  r,
  report,
  canOperate,
  ...page
}: Omit<PageProps, 'title'> & { r: RolloutView; report: StepReport | null; canOperate: boolean }) {
  return (
    <Page title={`Rollout ${r.id}`} {...page}>
      <h1>
        <a href={`/console/models/${encodeURIComponent(r.model)}`}>{r.model}</a> · rollout <code>{r.id}</code>
      </h1>
      {r.plan.targeting && (
        <p class="muted">
          Targeting: <code>{JSON.stringify(r.plan.targeting)}</code>
        </p>
      )}
      <div data-live={`/console/rollouts/${r.id}/panel`}>
        <RolloutPanel r={r} report={report} csrf={page.csrf} canOperate={canOperate} />
      </div>
    </Page>
  );
}
