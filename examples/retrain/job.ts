/**
 * @module retrain/job
 * One retrain job, from a `retrain_requested` event to a published challenger the control plane
 * has scored: fresh labelled rows → train → champion and challenger on the same fresh evaluation
 * set → permutation importance → monitoring baseline → model directory → `modelfleet publish` →
 * the set registered on the control plane and both versions scored there (the gate's 'server'
 * source). Each step is logged; a failure ends the job with its message.
 *
 * @example
 * const result = await runRetrainJob({ model: 'fraud', version: 1, eventId }, deps);
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Envelope, type Evaluation, buildBaseline } from '@modelfleet/protocol';
import { FEATURES, type Feature, type Transaction, transactions } from '../demo/transactions.ts';
import { type ControlPlane, downloadVersion, retrainedFrom } from './champion.ts';
import { type Scores, evalSetBody, evalSetDigest, evaluate, predict, rounded } from './evaluate.ts';
import { type Explanations, permutationImportance } from './importance.ts';
import { cli, modelDirFlags, writeModelDir } from './publish.ts';
import { type TrainOptions, trainFraudModel } from './train.ts';

/** Where fresh labelled rows come from (a feature store, a labelling queue; the demo's generator). */
export interface DataSource {
  labelled(n: number): Promise<Transaction[]>;
}

/** The demo's source: the new fraud pattern ('after'), a fresh seed per job. */
export function demoSource(seed = Date.now() % 2 ** 31): DataSource {
  return { labelled: async (n) => transactions(n, { seed: seed++, regime: 'after' }) };
}

export interface JobDeps {
  controlPlane: ControlPlane;
  /** An operator token for PUT …/eval-set (publishers may score versions, not register sets). */
  evalSetToken?: string;
  /** The root devices pin: with it the champion's manifest signatures are verified too. */
  root?: Envelope;
  source: DataSource;
  trainRows: number;
  evalRows: number;
  train?: Partial<TrainOptions>;
  codeCommit?: string;
  workDir?: string;
  log: (line: string) => void;
}

export interface JobResult {
  model: string;
  version: number;
  evalSetDigest: string;
  champion: { version: number; local: Scores; server: Evaluation | null };
  challenger: { version: number; local: Scores; server: Evaluation | null; explanations: Explanations };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** The training rows as CSV, hashed the way make-fraud-model.ts hashes its training data. */
const dataDigest = (rows: Transaction[]) =>
  sha256([FEATURES.join(',') + ',label', ...rows.map((r) => [...r.x, r.y].join(','))].join('\n'));

/** RETRAIN_CODE_COMMIT, else the checkout's HEAD, else none (lineage leaves it out). */
export function codeCommit(env = process.env): string | undefined {
  if (env.RETRAIN_CODE_COMMIT) return env.RETRAIN_CODE_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The drifting version already has an active challenger retrained from it: nothing to do. */
export class AlreadyRetrained extends Error {
  constructor(
    readonly version: number,
    parent: number,
  ) {
    super(`v${version} was already retrained from v${parent}`);
  }
}

export async function runRetrainJob(
  request: { model: string; version: number; eventId: string },
  d: JobDeps,
): Promise<JobResult> {
  const { model } = request;
  const log = (line: string) => d.log(`[${model}] ${line}`);
  const existing = await retrainedFrom(d.controlPlane, model, request.version);
  if (existing !== null) throw new AlreadyRetrained(existing, request.version);

  const rows = await d.source.labelled(d.trainRows + d.evalRows);
  const train = rows.slice(0, d.trainRows);
  const evalSet = rows.slice(d.trainRows);
  const digest = await evalSetDigest(evalSet);
  log(`${train.length} training and ${evalSet.length} evaluation rows (set ${digest.slice(0, 12)}…)`);

  const { model: challenger, params } = await trainFraudModel(train, d.train);
  const champion = await downloadVersion(d.controlPlane, model, 'champion', d.root);
  const local = { champion: await evaluate(champion.model, evalSet), challenger: await evaluate(challenger, evalSet) };
  log(
    `trained; on the fresh set champion v${champion.version} auc ${local.champion.auc.toFixed(3)} accuracy ${local.champion.accuracy.toFixed(3)}, challenger auc ${local.challenger.auc.toFixed(3)} accuracy ${local.challenger.accuracy.toFixed(3)}`,
  );

  const explanations = await permutationImportance(challenger, evalSet, FEATURES, { digest, metric: 'auc', seed: 1 });
  const baseline = buildBaseline(
    FEATURES.map((name) => ({ name, kind: 'numeric' as const })),
    (name) => train.map((r) => r.x[FEATURES.indexOf(name as Feature)]!),
    [
      ...(await predict(
        challenger,
        evalSet.map((r) => r.x),
      )),
    ].map((p) => [p]),
  );
  const commit = d.codeCommit ?? codeCommit();
  const dir = join(d.workDir ?? mkdtempSync(join(tmpdir(), 'retrain-')), `${model}-after-v${request.version}`);
  await writeModelDir(dir, {
    model: challenger,
    metrics: { evalSetDigest: digest, values: rounded(local.challenger), explanations },
    params: { ...params, source: 'retrain', event: request.eventId },
    lineage: {
      dataDigest: dataDigest(train),
      parentVersion: request.version,
      ...(commit ? { codeCommit: commit } : {}),
    },
    baseline,
    goldenRows: evalSet.slice(0, 4).map((r) => r.x),
  });
  const published = await cli<{ version: number; status: string }>(d.controlPlane, [
    'publish',
    dir,
    '--model',
    model,
    '--label',
    `retrain of v${request.version}`,
    ...modelDirFlags(dir),
  ]);
  log(`published v${published.version} (${published.status}) from ${dir}`);

  // The gate's own numbers: the control plane scores both versions on the same set. Registering
  // the fresh set takes an operator; without one, a publisher can still have both scored on the
  // set an operator registered before (its digest then differs from this job's).
  let server = { champion: null as Evaluation | null, challenger: null as Evaluation | null };
  if (d.evalSetToken) {
    const setFile = join(dir, 'eval-set.json');
    writeFileSync(setFile, JSON.stringify({ label: `fresh rows for ${request.eventId}`, ...evalSetBody(evalSet) }));
    await cli({ ...d.controlPlane, token: d.evalSetToken }, ['eval-set', 'put', model, setFile]);
  }
  try {
    server = {
      champion: await cli<Evaluation>(d.controlPlane, ['evaluate', model, String(champion.version)]),
      challenger: await cli<Evaluation>(d.controlPlane, ['evaluate', model, String(published.version)]),
    };
    log(
      `control plane on set ${server.challenger!.evalSetDigest.slice(0, 12)}…: champion accuracy ${server.champion!.metrics.accuracy.toFixed(3)}, challenger ${server.challenger!.metrics.accuracy.toFixed(3)}`,
    );
  } catch (e) {
    log(`not scored by the control plane: ${(e as Error).message}`);
  }
  return {
    model,
    version: published.version,
    evalSetDigest: digest,
    champion: { version: champion.version, local: local.champion, server: server.champion },
    challenger: { version: published.version, local: local.challenger, server: server.challenger, explanations },
  };
}
