/**
 * @module coordinator-api
 * The rollout coordinator Durable Object as its callers see it. The class (coordinator.ts)
 * implements `Coordinator` and the ROLLOUTS binding is typed by it, so env.ts need not import
 * the class — whose module imports the analysis, which takes the Env.
 */
import type { ErrorCode, RolloutDecision } from '@modelfleet/protocol';
import type { RolloutAction, RolloutView } from './machine.ts';

/** One transition of a rollout, as store.ts applies it. */
export interface TransitionInput {
  action: RolloutAction;
  actor: string;
  reason?: string;
  evidence?: RolloutDecision;
  expectStep?: number;
  at?: Date;
}

/** An action's outcome; coded errors come back as values (an exception loses its code crossing RPC). */
export type ActResult = { view: RolloutView } | { error: { code: ErrorCode; message: string; details?: unknown } };

export interface Coordinator extends Rpc.DurableObjectBranded {
  /** Runs one transition with no other event of this object in between. */
  act(id: string, input: Omit<TransitionInput, 'at'>): Promise<ActResult>;
}
