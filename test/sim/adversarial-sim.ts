/**
 * @module sim/adversarial-sim
 * Forged step telemetry (issue 15): k % of a step's devices are invented by one attacker behind one
 * client network — its challenger-range ids report every prediction failing, its control-range ids
 * report none — against honest arms of heterogeneous devices. Each run is judged three times with
 * the production aggregation, release noise and judge, on the same honest devices and the same
 * noise draws: honest only; with every forged record counted (the code before issue 15: no proof,
 * no cap); and with the per-network cap (NETWORK_DEVICE_CAP unattested devices per network per
 * aggregate) and the network floor. Reported: how often the decision differs from the honest one.
 */
import { DEFAULT_ANALYSIS } from '@modelfleet/protocol';
import { DEFAULT_NETWORK_DEVICE_CAP } from '../../edge-runtime/src/provenance.ts';
import { DEFAULT_MIN_NETWORKS } from '../../control-plane/src/drift/networks.ts';
import { type Arm, judge, networkFloor } from '../../control-plane/src/rollouts/judge.ts';
import { healthFleet } from './analysis-sim.ts';

type Outcome = 'promote' | 'hold' | 'rollback';

function decide(challenger: Arm, control: Arm, devicesPerArm: number): Outcome {
  const metrics = DEFAULT_ANALYSIS.map((c) =>
    judge({ ...c, minSample: Math.min(c.minSample, devicesPerArm) }, challenger, control),
  );
  const floor = networkFloor(challenger, control, DEFAULT_MIN_NETWORKS);
  if (floor?.status === 'no_data') return 'hold';
  if (metrics.some((m) => m.status === 'fail' && m.critical)) return 'rollback';
  return metrics.every((m) => m.status === 'pass') ? 'promote' : 'hold';
}

export interface AdversarialResult {
  k: number;
  runs: number;
  forgedPerArm: number;
  countedWithCap: number;
  honest: Record<Outcome, number>;
  /** Runs whose decision differs from the honest one, and what it became. */
  undefended: { changed: number; to: Record<Outcome, number> };
  defended: { changed: number; to: Record<Outcome, number> };
}

export async function forgedStepRuns(
  runs: number,
  devicesPerArm: number,
  k: number,
  opts: { cap?: number; epsilon?: number; seed?: number } = {},
): Promise<AdversarialResult> {
  const cap = opts.cap ?? DEFAULT_NETWORK_DEVICE_CAP;
  const fleet = await healthFleet({ epsilon: opts.epsilon ?? 2, seed: opts.seed ?? 100 + k });
  const forgedPerArm = Math.round((k / 100) * devicesPerArm);
  const tally = (): Record<Outcome, number> => ({ promote: 0, hold: 0, rollback: 0 });
  const result: AdversarialResult = {
    k,
    runs,
    forgedPerArm,
    countedWithCap: Math.min(forgedPerArm, cap),
    honest: tally(),
    undefended: { changed: 0, to: tally() },
    defended: { changed: 0, to: tally() },
  };
  const [failing, clean] = [await fleet.record(100, 100), await fleet.record(0, 100)];
  for (let r = 0; r < runs; r++) {
    const [challenger, control] = [await fleet.honest(devicesPerArm), await fleet.honest(devicesPerArm)];
    const noiseSeed = (opts.seed ?? 100 + k) * 100_003 + r;
    const judged = (forged: number, networks: number | null) => {
      const [a, b] = [fleet.clone(challenger), fleet.clone(control)];
      for (let i = 0; i < forged; i++) {
        fleet.add(a, failing);
        fleet.add(b, clean);
      }
      const counts =
        networks === null ? null : { networks, attested: 0, capped: forgedPerArm - forged, largest: forged };
      const x: Arm = { ...fleet.release(a, noiseSeed), networks: counts };
      const y: Arm = { ...fleet.release(b, noiseSeed + 1), networks: counts };
      return decide(x, y, devicesPerArm);
    };
    const honest = judged(0, null);
    result.honest[honest]++;
    for (const [which, outcome] of [
      ['undefended', judged(forgedPerArm, null)],
      ['defended', judged(result.countedWithCap, devicesPerArm + 1)],
    ] as const) {
      if (outcome !== honest) {
        result[which].changed++;
        result[which].to[outcome]++;
      }
    }
  }
  return result;
}
