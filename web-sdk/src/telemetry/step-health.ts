/**
 * @module telemetry/step-health
 * Health during a rollout step, so the rollout's analysis need not wait for the day's window:
 * while this device's ticket puts it in a rollout's challenger or control range, what it runs is
 * also recorded per step (the ticket's sequence names the step) and sent once per step, at the
 * first poll after MIN_STEP_PREDICTIONS predictions. When the device starts running the step's
 * version it also sends a one-load "loaded" record, so the console can tell devices that
 * downloaded and activated it from those that used it. A model with a monitoring baseline also
 * sketches the step's inputs and outputs and sends that sketch with the record, so prediction drift
 * and estimated accuracy are judged per step too. Counting never throws into the app.
 */
import {
  type SketchLayout,
  type StepPhase,
  type Ticket,
  encodeUpload,
  fromBase64,
  healthLayout,
  healthUpload,
  payloadJson,
} from '@modelfleet/protocol';
import type { ModelStore } from '../store.ts';
import { type HealthRecorder, createHealthRecorder } from './health.ts';
import type { Outbox } from './outbox.ts';
import type { Sketcher } from './sketcher.ts';

export const MIN_STEP_PREDICTIONS = 10;

/** How a running model version sketches (its signed baseline's layout), or null when it has no baseline. */
export type SketchFactory = (
  name: string,
  version: number,
) => { layout: SketchLayout; make: (window: number) => Sketcher } | null;

interface Step {
  key: string;
  rollout: string;
  sequence: number;
  version: number;
  recorder: HealthRecorder;
  sent: boolean;
  /** Made at the first observation (the baseline is read after the first sync); null: no baseline. */
  sketch?: { layout: SketchLayout; current: Sketcher } | null;
}

export function createStepHealth(store: ModelStore, outbox: Outbox, sketchFor: SketchFactory = () => null) {
  const steps = new Map<string, Step>();
  const ticketOf = async (name: string): Promise<Ticket | null> => {
    const stored = (await store.state(name)).ticket;
    return stored ? (payloadJson(fromBase64(stored.envelope.payload), 'ticket') as Ticket) : null; // verified when it was stored
  };
  return {
    /** The rollout whose control range this device's ticket puts it in, while it runs the champion `version`. */
    async controlRollout(name: string, version: number): Promise<string | null> {
      const t = await ticketOf(name);
      return t?.rolloutId && t.stage === 'control' && t.version === version ? t.rolloutId : null;
    },
    /** After a sync: follow the ticket into (or out of) a rollout step, for the version that runs. */
    async onSync(name: string, runningVersion: number | undefined): Promise<void> {
      const t = await ticketOf(name);
      const inRange =
        t?.rolloutId && (t.stage === 'challenger' || t.stage === 'control') && t.version === runningVersion;
      if (!t || !inRange || runningVersion === undefined) return void steps.delete(name);
      const key = `${t.rolloutId}:${t.sequence}:${runningVersion}`;
      if (steps.get(name)?.key !== key) {
        steps.set(name, {
          key,
          rollout: t.rolloutId!,
          sequence: t.sequence,
          version: runningVersion,
          recorder: createHealthRecorder(t.sequence),
          sent: false,
        });
        const loaded = await healthUpload({ load: { ok: 1 }, predict: {}, latencies: [], backend: {} }, t.sequence);
        await outbox.enqueue({
          model: name,
          version: runningVersion,
          window: t.sequence,
          bytes: encodeUpload(await healthLayout(), loaded!),
          channel: 'step-health',
          query: `&rollout=${encodeURIComponent(t.rolloutId!)}&phase=${'loaded' satisfies StepPhase}`,
        });
      }
    },
    /** The recorder for what `version` does now, if this device is in a step's range. */
    recorder(name: string, version: number): HealthRecorder | undefined {
      const s = steps.get(name);
      return s && s.version === version && !s.sent ? s.recorder : undefined;
    },
    /** The step's sketcher for what `version` does now, if this device is in a step's range and the version has a baseline. */
    sketcher(name: string, version: number): Sketcher | undefined {
      const s = steps.get(name);
      if (!s || s.version !== version || s.sent) return undefined;
      if (s.sketch === undefined) {
        const f = sketchFor(name, version);
        s.sketch = f ? { layout: f.layout, current: f.make(s.sequence) } : null; // the step's sequence is its window
      }
      return s.sketch?.current;
    },
    /** Queues the step's record (and sketch) once it has enough predictions (once per step). */
    async send(name: string): Promise<void> {
      const s = steps.get(name);
      if (!s || s.sent || s.recorder.predictions() < MIN_STEP_PREDICTIONS) return;
      const record = await s.recorder.build();
      const sketch = s.sketch ? s.sketch.current.build() : null;
      s.sent = true;
      const query = `&rollout=${encodeURIComponent(s.rollout)}`;
      if (record)
        await outbox.enqueue({
          model: name,
          version: s.version,
          window: s.sequence,
          bytes: encodeUpload(await healthLayout(), record),
          channel: 'step-health',
          query,
        });
      if (sketch)
        await outbox.enqueue({
          model: name,
          version: s.version,
          window: s.sequence,
          bytes: encodeUpload(s.sketch!.layout, sketch),
          channel: 'step-sketches',
          query,
        });
    },
    names: () => [...steps.keys()],
  };
}
