/**
 * @module console/pages/model-view
 * The model page's data, as the console routes assemble it from the API.
 */
import type {
  EvalSetView,
  FleetView,
  PlanCheckResponse,
  RolloutPolicyView,
  VersionSummary,
} from '@modelfleet/protocol';

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
