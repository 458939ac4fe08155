/**
 * @module rollouts/policy
 * The per-model rollout policy (protocol/src/rollout-policy.ts) and the gate it sets. A publisher's
 * rollout must comply and pass the gate; an operator's may break the policy, and the audit record
 * says which rules it broke. Gate metrics are either self-reported (the versions' published
 * `metrics.values`, same `evalSetDigest`) or computed by the control plane on the model's
 * registered evaluation set (the `evaluations` rows; see routes/evaluation).
 */
import { ApiError } from '@modelfleet/server-shared';
import { DEFAULT_POLICY, type PolicyGate, RolloutPolicy, type VersionSummary } from '@modelfleet/protocol';

export async function policyFor(
  db: D1Database,
  modelId: number,
): Promise<{ policy: RolloutPolicy; configured: boolean; updatedBy: string | null; updatedAt: string | null }> {
  const row = await db
    .prepare('SELECT policy, updated_by, updated_at FROM rollout_policies WHERE model_id = ?')
    .bind(modelId)
    .first<{ policy: string; updated_by: string; updated_at: string }>();
  // Parsed again on read: a policy stored by an older release gains the defaults of newer fields.
  return row
    ? {
        policy: RolloutPolicy.parse(JSON.parse(row.policy)),
        configured: true,
        updatedBy: row.updated_by,
        updatedAt: row.updated_at,
      }
    : { policy: DEFAULT_POLICY, configured: false, updatedBy: null, updatedAt: null };
}

export interface GateEvidence {
  metric: string;
  source: PolicyGate['source'];
  champion: number;
  challenger: number;
  margin: number;
  evalSetDigest: string | null;
}

/** The control plane's own metrics of a version on the model's current evaluation set, or null. */
async function computedMetrics(
  db: D1Database,
  modelId: number,
  version: number,
): Promise<{ values: Record<string, number>; digest: string } | null> {
  const row = await db
    .prepare(
      'SELECT e.metrics, e.eval_set_digest AS digest FROM evaluations e JOIN eval_sets s ON s.model_id = e.model_id AND s.digest = e.eval_set_digest WHERE e.model_id = ? AND e.version = ?',
    )
    .bind(modelId, version)
    .first<{ metrics: string; digest: string }>()
    .catch(() => null); // no evaluation tables: nothing computed
  if (!row) return null;
  const values = Object.fromEntries(
    Object.entries(JSON.parse(row.metrics) as Record<string, unknown>).filter(
      (e): e is [string, number] => typeof e[1] === 'number',
    ),
  );
  return { values, digest: row.digest };
}

/**
 * The gate's verdict: the challenger beats the champion on `gate.metric` by `gate.margin`, both
 * measured on the same set — published metrics with equal evalSetDigest (self-reported), or the
 * control plane's evaluation of both on the registered set (server). Throws `gate_failed` with the evidence.
 */
export async function checkGate(
  db: D1Database,
  modelId: number,
  gate: PolicyGate,
  champion: VersionSummary,
  challenger: VersionSummary,
): Promise<GateEvidence> {
  const fail = (why: string, details?: unknown) =>
    new ApiError(
      'gate_failed',
      `a publisher can start this rollout only through the gate: ${why}; otherwise an operator must start it`,
      details,
    );
  let a: Record<string, number> | undefined;
  let b: Record<string, number> | undefined;
  let digest: string | null;
  if (gate.source === 'server') {
    const [x, y] = [
      await computedMetrics(db, modelId, champion.version),
      await computedMetrics(db, modelId, challenger.version),
    ];
    if (!x || !y)
      throw fail(
        `the control plane has not evaluated ${!x ? `the champion v${champion.version}` : `v${challenger.version}`} on the model's evaluation set (POST …/versions/{version}/evaluate)`,
      );
    [a, b, digest] = [x.values, y.values, x.digest];
  } else {
    const ma = champion.metrics as { evalSetDigest?: string; values?: Record<string, number> };
    const mb = challenger.metrics as { evalSetDigest?: string; values?: Record<string, number> };
    if (!ma.evalSetDigest || ma.evalSetDigest !== mb.evalSetDigest)
      throw fail(`v${challenger.version} and the champion v${champion.version} were not evaluated on the same set`, {
        champion: ma.evalSetDigest ?? null,
        challenger: mb.evalSetDigest ?? null,
      });
    [a, b, digest] = [ma.values, mb.values, ma.evalSetDigest];
  }
  const x = a?.[gate.metric];
  const y = b?.[gate.metric];
  if (typeof x !== 'number' || typeof y !== 'number')
    throw fail(`both versions need a ${gate.source} ${gate.metric} metric`);
  const better = gate.higherIsBetter ? y - x : x - y;
  const evidence: GateEvidence = {
    metric: gate.metric,
    source: gate.source,
    champion: x,
    challenger: y,
    margin: gate.margin,
    evalSetDigest: digest,
  };
  if (better < gate.margin)
    throw fail(`${gate.source} ${gate.metric} ${y} vs champion ${x} does not beat it by ${gate.margin}`, evidence);
  return evidence;
}
