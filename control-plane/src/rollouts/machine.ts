/**
 * @module rollouts/machine
 * The rollout state machine as a pure function, so the coordinator applies it and the audit log
 * can be replayed through it: draft → running ⇄ paused → promoted | rolled-back | aborted.
 */
import { type OperatorAction, ProtocolError, type RolloutState, type RolloutView } from '@modelfleet/protocol';

export type { RolloutState, RolloutView };

export const LIVE_STATES = ['draft', 'running', 'paused'] as const satisfies readonly RolloutState[];
/** The operator's actions (protocol OPERATOR_ACTIONS) and the coordinator's own. */
export type RolloutAction = OperatorAction | 'start' | 'rollback' | 'supersede';

const live = (s: RolloutState) => (LIVE_STATES as readonly string[]).includes(s);

/**
 * The view after `action` at time `at`. `expectStep` (the step the operator saw) turns a stale
 * promote — someone else promoted first — into a conflict instead of a second advance.
 */
export function transition(v: RolloutView, action: RolloutAction, at: string, expectStep?: number): RolloutView {
  const refuse = (why: string) =>
    new ProtocolError('conflict', `cannot ${action} rollout ${v.id}: ${why}`, { state: v.state, step: v.step });
  if (!live(v.state)) throw refuse(`it already ended (${v.state})`);
  if (expectStep !== undefined && expectStep !== v.step)
    throw refuse(`it is at step ${v.step} now, not ${expectStep} (someone acted first)`);
  const last = v.plan.steps.length - 1;
  switch (action) {
    case 'start':
      if (v.state !== 'draft') throw refuse(`it is ${v.state}`);
      return { ...v, state: 'running', step: 0, percent: v.plan.steps[0]!.percent, stepStartedAt: at };
    case 'promote':
      if (v.state === 'draft') throw refuse('it has not started');
      if (v.step >= last) return { ...v, state: 'promoted', percent: 100, stepStartedAt: at };
      return {
        ...v,
        state: 'running',
        step: v.step + 1,
        percent: v.plan.steps[v.step + 1]!.percent,
        stepStartedAt: at,
      };
    case 'pause':
      if (v.state !== 'running') throw refuse(`it is ${v.state}`);
      return { ...v, state: 'paused' };
    case 'resume':
      if (v.state !== 'paused') throw refuse(`it is ${v.state}`);
      return { ...v, state: 'running', stepStartedAt: at }; // the bake restarts: paused time is not evidence
    case 'abort':
    case 'supersede':
      return { ...v, state: 'aborted', percent: 0 };
    case 'kill':
    case 'rollback':
      if (v.state === 'draft') throw refuse('it has not started');
      return { ...v, state: 'rolled-back', percent: 0 };
  }
}

/** Rebuilds a rollout from its audit records (oldest first): `rollout.create`, then actions. */
export function replay(records: { action: string; at: string; after: unknown }[]): RolloutView | null {
  let v: RolloutView | null = null;
  for (const r of records) {
    const action = r.action.replace(/^rollout\./, '');
    if (action === 'create') {
      // The create record also carries the plan's power report: evidence, not state.
      const { power: _power, ...view } = r.after as RolloutView & { power?: unknown };
      v = view;
    } else if (v) v = transition(v, action as RolloutAction, (r.after as RolloutView | null)?.stepStartedAt ?? r.at);
  }
  return v;
}
