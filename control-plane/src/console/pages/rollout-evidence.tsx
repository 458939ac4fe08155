/**
 * @module console/pages/rollout-evidence
 * The evidence table's parts: a metric's confidence sequence as a bar against its tolerance, and
 * when an undecided metric would decide; the plan's power (kept with the rollout's creation) and
 * the step's scale.
 */
import type { AuditRecord, PowerReport, RolloutState } from '@modelfleet/protocol';
import { num } from '../components.tsx';
import type { MetricView, RolloutView, StepReport } from './rollout-types.ts';

/** A rollout audit record's `after`: the view after the action (rollouts/store.ts), with the plan's power on create. */
export const afterOf = (h: AuditRecord) => h.after as { state?: RolloutState; power?: PowerReport } | null;

export function SequenceBar({ m, sequence }: { m: MetricView; sequence: NonNullable<MetricView['sequence']> }) {
  const { lower, upper, alpha, releases } = sequence;
  const lo = Math.min(lower, 0, -m.threshold);
  const hi = Math.max(upper, m.threshold * 2, 1e-9);
  const x = (v: number) => (160 * (v - lo)) / (hi - lo);
  const text = `[${num(lower, 4)}, ${num(upper, 4)}] at α = ${num(alpha, 4)}, ${releases} release${releases === 1 ? '' : 's'}`;
  return (
    <span class="sequence">
      <svg width="164" height="14" viewBox="-2 0 164 14" role="img" aria-label={`${text}; tolerance ${m.threshold}`}>
        <line x1={x(lower)} x2={x(upper)} y1="7" y2="7" stroke="currentColor" stroke-width="3" />
        {m.observed !== null && <circle cx={x(m.observed)} cy="7" r="3" fill="currentColor" />}
        <line x1={x(m.threshold)} x2={x(m.threshold)} y1="0" y2="14" stroke="#c62828" stroke-width="2" />
      </svg>
      <span class="muted"> {text}</span>
    </span>
  );
}

export const hoursOf = (s: number) =>
  s < 3600 ? `${Math.max(1, Math.round(s / 60))} min` : `${(s / 3600).toFixed(s < 36_000 ? 1 : 0)} h`;

/** When an undecided metric would decide if its estimate held (the analysis's projection). */
export function decides(m: MetricView) {
  if (m.status === 'pass' || m.status === 'fail') return 'decided';
  if (!m.sequence) return <span class="muted">—</span>;
  if (!m.projection) return <span class="muted">not within six more increments at this estimate</span>;
  const { outcome, devicesPerArm, seconds } = m.projection;
  return (
    <>
      {outcome} at {devicesPerArm.toLocaleString('en-US')} devices per arm
      {seconds !== null ? <>, in ~{hoursOf(seconds)} at this pace</> : ''}
    </>
  );
}

/** The power report kept with the rollout's creation (older rollouts have none). */
export const power = (r: RolloutView) => {
  const created = r.history.find((h) => h.action === 'rollout.create');
  return created ? afterOf(created)?.power : undefined;
};
export const minSample = (r: RolloutView) => Math.max(1, ...r.plan.analysis.map((m) => m.minSample));
/** Bars fill toward what the analysis needs, or the most devices seen when more came. */
export const scale = (r: RolloutView, report: StepReport) => Math.max(minSample(r), report.loaded, report.challenger);
