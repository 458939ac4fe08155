/**
 * @module rollouts/coordinator
 * One Durable Object per rollout (docs/architecture.md §8). It serialises the rollout's transitions — operator
 * actions and its own alarm — so two operators promoting at once cannot both advance, and its
 * alarm drives the steps: when a step has baked, the analysis decides promote, hold or roll
 * back, and the decision is recorded with its evidence. State lives in D1 (rollouts/store.ts),
 * where the edge reads it; the object keeps only which rollout it is.
 */
import { DurableObject } from 'cloudflare:workers';
import { ApiError, vars } from '@modelfleet/server-shared';
import { ProtocolError } from '@modelfleet/protocol';
import type { Env } from '../env.ts';
import { enqueueEvent } from '../webhooks/events.ts';
import { analyse } from './analysis.ts';
import type { ActResult, Coordinator, TransitionInput } from './coordinator-api.ts';
import { applyTransition, findRollout } from './store.ts';

export class RolloutCoordinator extends DurableObject<Env> implements Coordinator {
  /**
   * Runs one transition with no other event of this object in between (not even across awaits).
   * Coded errors come back as values: an exception loses its code crossing the RPC boundary.
   */
  async act(id: string, input: Omit<TransitionInput, 'at'>): Promise<ActResult> {
    return this.ctx.blockConcurrencyWhile(async () => {
      try {
        await this.ctx.storage.put('id', id);
        const { view: after, eventId } = await applyTransition(this.env.DB, id, input);
        await enqueueEvent(this.env, eventId);
        if (after.state === 'running') await this.schedule();
        else if (after.state !== 'paused') await this.ctx.storage.deleteAlarm();
        return { view: after };
      } catch (e) {
        if (e instanceof ApiError || e instanceof ProtocolError)
          return {
            error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) },
          };
        throw e;
      }
    });
  }

  private async schedule(): Promise<void> {
    await this.ctx.storage.setAlarm(Date.now() + vars(this.env).ROLLOUT_TICK_SECONDS * 1000);
  }

  /**
   * Each tick: once the step has baked, analyse and act; otherwise wait for the next tick.
   * A tick that throws (a D1 hiccup, say) still schedules the next one: workerd retries a thrown
   * alarm only a few times, after which a running rollout would never be judged again.
   */
  override async alarm(): Promise<void> {
    await this.ctx.blockConcurrencyWhile(async () => {
      const id = await this.ctx.storage.get<string>('id');
      if (!id) return;
      let running = true;
      try {
        running = await this.tick(id);
      } catch (e) {
        running = !(e instanceof ApiError && e.code === 'not_found'); // a rollout that is gone needs no ticks
        console.error(
          `rollout ${id}: tick failed${running ? ', retrying on the next one' : ''}:`,
          e instanceof Error ? e.message : e,
        );
      }
      if (running) await this.schedule();
    });
  }

  /** One tick; false once the rollout is no longer running (no more ticks). */
  private async tick(id: string): Promise<boolean> {
    const r = await findRollout(this.env.DB, id);
    if (r.state !== 'running') return false; // paused, ended or superseded
    const bakeMs = r.plan.steps[r.step]!.bakeSeconds * 1000;
    if (!r.stepStartedAt || Date.now() - Date.parse(r.stepStartedAt) < bakeMs) return true;
    // A failing analysis must not leave an old decision standing: it holds, and says why.
    const decision = await analyse(this.env, r).catch((e: unknown) => ({
      outcome: 'hold' as const,
      summary: `hold: analysis failed (${e instanceof Error ? e.message : String(e)})`,
      step: r.step,
      at: new Date().toISOString(),
      metrics: [],
    }));
    await this.env.DB.prepare('UPDATE rollouts SET decision = ? WHERE id = ?').bind(JSON.stringify(decision), id).run();
    if (decision.outcome !== 'hold') {
      const action = decision.outcome === 'promote' ? 'promote' : 'rollback';
      const { eventId } = await applyTransition(this.env.DB, id, {
        action,
        actor: 'analysis',
        reason: decision.summary,
        evidence: decision,
        expectStep: r.step,
      });
      await enqueueEvent(this.env, eventId);
    }
    return (await findRollout(this.env.DB, id)).state === 'running';
  }
}
