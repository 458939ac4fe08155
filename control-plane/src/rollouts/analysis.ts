/**
 * @module rollouts/analysis
 * The step analysis: challenger cohort vs control cohort on each configured metric. NoData is
 * never a pass — a metric without `minSample` devices in both cohorts holds the rollout.
 *
 * Not built yet: the cohort-split health and sketch aggregates it reads (the edge will route a
 * device's health records by its rollout cohort) and the metric tests. Until then every metric
 * reports NoData, so the alarm records "hold" with that evidence and steps advance only by an
 * operator's promote.
 */
import type { Env } from '../env.ts';
import type { RolloutView } from './machine.ts';

export interface MetricResult {
  metric: string;
  status: 'pass' | 'fail' | 'no_data';
  threshold: number;
  observed: number | null;
  sample: { challenger: number; control: number };
  freshness: string | null;
  critical: boolean;
}

export interface Decision {
  outcome: 'promote' | 'hold' | 'rollback';
  summary: string;
  step: number;
  at: string;
  metrics: MetricResult[];
}

export async function analyse(_env: Env, r: RolloutView): Promise<Decision> {
  const metrics: MetricResult[] = r.plan.analysis.map((m) => ({
    metric: m.metric, status: 'no_data', threshold: m.tolerance, observed: null, sample: { challenger: 0, control: 0 }, freshness: null, critical: m.critical,
  }));
  const failedCritical = metrics.some((m) => m.status === 'fail' && m.critical);
  const outcome = failedCritical ? 'rollback' : metrics.every((m) => m.status === 'pass') ? 'promote' : 'hold';
  const missing = metrics.filter((m) => m.status === 'no_data').map((m) => m.metric);
  return {
    outcome, step: r.step, at: new Date().toISOString(), metrics,
    summary: outcome === 'hold' ? `hold: no data for ${missing.join(', ')}` : outcome,
  };
}
