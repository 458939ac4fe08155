/**
 * @module console/pages/rollout-types
 * The rollout pages' data: the API's rollout detail and metric results, and the step report the
 * console routes add (devices that loaded the challenger, each arm's records this step).
 */
import type { MetricResult, RolloutDetail } from '@modelfleet/protocol';

export type MetricView = MetricResult;
export type RolloutView = RolloutDetail;

export interface StepReport {
  loaded: number;
  challenger: number;
  control: number;
}
