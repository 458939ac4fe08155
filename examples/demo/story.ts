/**
 * @module demo/story
 * The demo's story as data: what runScenario is given (ScenarioOptions), the stages it passes
 * (Stage, as the console shows them), what it reports (Summary), and what its loop has seen so far
 * (Story) — shared by scenario.ts, which tells it, and watch.ts, which advances it each round.
 */
import type { Plane } from './plane.ts';

export interface RetrainHandle {
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface ScenarioOptions {
  plane: Plane;
  model: string;
  /** The Worker's WINDOW_SECONDS, and the grace after a window's end before the cron closes it. */
  windowSeconds: number;
  graceSeconds: number;
  devices: number;
  browsers: number;
  pollMs: number;
  perTick: number;
  seed: number;
  /** Seconds after the fleet starts when the new fraud pattern begins. */
  shiftAfterSeconds: number;
  /** The rollout the retrain service's challenger gets. */
  steps: number[];
  bakeSeconds: number;
  minSample: number;
  /** Starts the retrain service for the webhook registered with `secret` at `url` (its receiving endpoint). */
  retrain(o: { url: string; port: number; secret: string }): Promise<RetrainHandle>;
  retrainPort: number;
  faults?: { retrainDownAtAlarm?: boolean; offlineDevice?: boolean };
  timeoutSeconds: number;
  log(line: string): void;
  /** Called at each stage of the story (not awaited: the loop never waits for an observer). */
  onStage?(stage: Stage): void;
}

/** The story's stages, as the console shows them (scripts/demo.ts screenshots each). */
export type Stage =
  | { kind: 'running' }
  | { kind: 'alarm' }
  | { kind: 'published'; version: number }
  | { kind: 'rollout'; id: string }
  | { kind: 'decided'; id: string; state: string }
  | { kind: 'end'; id: string | null };

export interface Summary {
  outcome: 'promoted' | 'rolled-back' | 'timed-out';
  challenger: number | null;
  seconds: {
    shiftToAlarm: number | null;
    alarmToPublished: number | null;
    rolloutToDecision: number | null;
    total: number;
  };
  accuracy: { beforeShift: number | null; afterShiftOldModel: number | null; afterPromotion: number | null };
  /**
   * From the rollout's start to the end, per Node device: `model`, the bytes that brought the
   * challenger to the devices that took it (manifest and chunks, or the ticket bundle that carried
   * them; `devices` of them); `polling`, every other byte each device fetched (tickets, 304s).
   */
  updateBytes: {
    model: { median: number; max: number; devices: number };
    polling: { median: number; max: number };
  } | null;
  /** Devices per version at the end (Node and browser). */
  versions: Record<string, number>;
  timeline: { at: number; event: string }[];
  deliveries: { attempts: number; status: string }[];
}

/** What the loop has seen so far; each round's watchers (watch.ts) move it on. */
export interface Story {
  /** When each moment was first seen (ms since the epoch). */
  seen: {
    alarm: number | null;
    shift: number | null;
    published: number | null;
    rollout: number | null;
    decision: number | null;
  };
  challenger: number | null;
  rolloutId: string | null;
  outcome: Summary['outcome'];
  /** Correct and scored predictions: before the shift, after it on the old model, after promotion. */
  acc: Record<'before' | 'oldAfter' | 'promoted', [number, number]>;
  /** The device the offline fault took away, while it is away. */
  offline: string | null;
  /** Each Node device's fetched bytes (all, and manifest + chunks) when the rollout started. */
  bytesAtRollout: { all: number; model: number }[] | null;
  /** The last window the cron was run for. */
  triggered: number;
  /** The retrain service while it is up. */
  retrain: RetrainHandle | null;
  /** When the loop ends: every device has had two polls since the decision. */
  endAt: number | null;
}

export function newStory(triggered: number, retrain: RetrainHandle): Story {
  return {
    seen: { alarm: null, shift: null, published: null, rollout: null, decision: null },
    challenger: null,
    rolloutId: null,
    outcome: 'timed-out',
    acc: { before: [0, 0], oldAfter: [0, 0], promoted: [0, 0] },
    offline: null,
    bytesAtRollout: null,
    triggered,
    retrain,
    endAt: null,
  };
}
