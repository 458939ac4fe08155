/**
 * @module console/route-pages
 * The console's pages (GET): models, a model with its fleet and drift, rollouts, audit and
 * delivery logs; each reads the public API as the session's operator.
 */
import {
  AuditPage as AuditRecords,
  DeliveryList,
  DriftView,
  EVENT_TYPES,
  EvalSetView,
  Envelope,
  FleetView,
  ModelList,
  ModelSummary,
  PlanCheckResponse,
  PrivacyLedgerView,
  RolloutDetail,
  RolloutList,
  RolloutPolicyView,
  VersionList,
  WindowStatus,
  stepCohort,
} from '@modelfleet/protocol';
import { Hono, type Context } from 'hono';
import { api, apiOrNull } from './api.ts';
import { DriftPage, type WindowView } from './pages/drift.tsx';
import { explanationsOf } from './pages/explanations.tsx';
import { FleetPanel } from './pages/fleet.tsx';
import { AuditPage, DeliveriesPage } from './pages/logs.tsx';
import { ModelPage, type VersionView } from './pages/model.tsx';
import { type ModelRow, ModelsPage } from './pages/models.tsx';
import { RolloutPage, RolloutPanel, RolloutsPage, type StepReport } from './pages/rollout.tsx';
import { type ConsoleEnv, can } from './session.ts';

import { common } from './route-helpers.tsx';

/** Windows on the model page's fleet chart: two months of days, or the last half hour of the demo's 30 s windows. */
const FLEET_WINDOWS = 60;

/** Registers the pages on the console app, after its session and CSRF middleware. */
export function registerPages(r: Hono<ConsoleEnv>): void {
  modelPages(r);
  driftPages(r);
  rolloutPages(r);
  logPages(r);
}

/** The models list, a model (versions, fleet, power) and its live fleet panel. */
function modelPages(r: Hono<ConsoleEnv>): void {
  r.get('/', async (c) => {
    const { models } = await api(c, ModelList, '/models');
    const rows: ModelRow[] = await Promise.all(
      models.map(async (m) => {
        const enc = encodeURIComponent(m.name);
        const [{ rollouts }, drift] = await Promise.all([
          api(c, RolloutList, `/models/${enc}/rollouts`),
          api(c, DriftView, `/models/${enc}/drift?limit=1`),
        ]);
        const live = rollouts.find((r) => r.state === 'running' || r.state === 'paused') ?? null;
        const w = (drift.windows as unknown as WindowView[])[0];
        return {
          name: m.name,
          description: m.description,
          champion: m.aliases.champion ?? null,
          latestVersion: m.latestVersion,
          createdAt: m.createdAt,
          rollout: live && { id: live.id, state: live.state, percent: live.percent, challenger: live.challenger },
          drift: w ? { window: w.window, alarm: w.alarm, version: w.version } : null,
        };
      }),
    );
    return c.html(<ModelsPage rows={rows} {...common(c)} />);
  });

  r.get('/models/:name', async (c) => {
    const enc = encodeURIComponent(c.req.param('name'));
    const [model, { versions }, { rollouts }, evalSet, policy, fleet] = await Promise.all([
      api(c, ModelSummary, `/models/${enc}`),
      api(c, VersionList, `/models/${enc}/versions`),
      api(c, RolloutList, `/models/${enc}/rollouts`),
      apiOrNull(c, EvalSetView, `/models/${enc}/eval-set`),
      api(c, RolloutPolicyView, `/models/${enc}/rollout-policy`),
      api(c, FleetView, `/models/${enc}/fleet?windows=${FLEET_WINDOWS}`),
    ]);
    // Key ids from the signed manifests themselves (public, content-addressed).
    const withKeys: VersionView[] = await Promise.all(
      versions.map(async (v) => {
        const env = v.manifestDigest ? await apiOrNull(c, Envelope, `/edge/manifests/${v.manifestDigest}`) : null;
        return { ...v, signatures: env?.signatures.map((s) => ({ keyid: s.keyid })) ?? [] };
      }),
    );
    const pick = (q: string | undefined) => withKeys.find((v) => String(v.version) === q);
    const a = pick(c.req.query('a'));
    const b = pick(c.req.query('b'));
    const op = c.get('operator');
    // The start form's power panel: the plan it would create by default, assessed on the fleet (creates nothing).
    const preview = can(op, 'publisher')
      ? await api(c, PlanCheckResponse, `/models/${enc}/rollouts/preview`, { method: 'POST', json: {} }).catch(
          () => null,
        )
      : null;
    return c.html(
      <ModelPage
        {...common(c)}
        model={{
          ...model,
          versions: withKeys,
          rollouts,
          evalSet,
          compare: a && b ? [a, b] : null,
          canOperate: can(op, 'operator'),
          canPublish: can(op, 'publisher'),
          policy,
          preview,
          fleet,
        }}
      />,
    );
  });

  /** The fleet panel alone, for the island's polling (the open window fills while the page is open). */
  r.get('/models/:name/fleet-panel', async (c) => {
    const fleet = await api(
      c,
      FleetView,
      `/models/${encodeURIComponent(c.req.param('name'))}/fleet?windows=${FLEET_WINDOWS}`,
    );
    return c.html(<FleetPanel fleet={fleet} />);
  });
}

/** A model's drift page: windows, verdicts, the privacy ledger. */
function driftPages(r: Hono<ConsoleEnv>): void {
  r.get('/models/:name/drift', async (c) => {
    const name = c.req.param('name');
    const enc = encodeURIComponent(name);
    const [model, { versions }, drift, ledger] = await Promise.all([
      api(c, ModelSummary, `/models/${enc}`),
      api(c, VersionList, `/models/${enc}/versions`),
      api(c, DriftView, `/models/${enc}/drift?limit=90`),
      apiOrNull(c, PrivacyLedgerView, `/models/${enc}/privacy`),
    ]);
    const wanted = Number(c.req.query('version') ?? model.aliases.champion ?? model.latestVersion ?? 1);
    const windows = (drift.windows as unknown as WindowView[]).filter((w) => w.version === wanted);
    const metrics = versions.find((v) => v.version === wanted)?.metrics;
    return c.html(
      <DriftPage
        {...common(c)}
        d={{
          model: name,
          version: wanted,
          versions: versions.map((v) => v.version),
          minDevices: drift.minDevices,
          familyAlpha: drift.familyAlpha,
          epsilonPerDay: drift.epsilonPerDay,
          windowSeconds: drift.windowSeconds,
          effectFloor: drift.effectFloor,
          windows,
          explanations: metrics ? explanationsOf(metrics) : null,
          ledger: ledger && ledger.releasesLastYear > 0 ? ledger : null,
        }}
      />,
    );
  });
}

/** A running rollout with its step report: devices that loaded the challenger, and each arm's records. */
async function rolloutWithReport(
  c: Context<ConsoleEnv>,
  id: string,
): Promise<{ r: RolloutDetail; report: StepReport | null }> {
  const r = await api(c, RolloutDetail, `/rollouts/${encodeURIComponent(id)}`);
  if (r.state !== 'running' && r.state !== 'paused') return { r, report: null };
  const enc = encodeURIComponent(r.model);
  const { sequence } = await api(c, ModelSummary, `/models/${enc}`);
  const count = async (version: number, cohort: string) =>
    (await apiOrNull(c, WindowStatus, `/models/${enc}/versions/${version}/sketches/${sequence}?cohort=${cohort}`))
      ?.devices ?? 0;
  const [loaded, challenger, control] = await Promise.all([
    count(r.challenger, stepCohort(r.id, 'loaded')),
    count(r.challenger, stepCohort(r.id)),
    count(r.champion, stepCohort(r.id)),
  ]);
  return { r, report: { loaded, challenger, control } };
}

/** The rollouts list, a rollout and its live panel. */
function rolloutPages(r: Hono<ConsoleEnv>): void {
  r.get('/rollouts', async (c) => {
    const { models } = await api(c, ModelList, '/models');
    const lists = await Promise.all(
      models.map((m) => api(c, RolloutList, `/models/${encodeURIComponent(m.name)}/rollouts`)),
    );
    const rows = lists
      .flatMap((l) => l.rollouts)
      .sort((a, b) => String(b.stepStartedAt ?? '').localeCompare(String(a.stepStartedAt ?? '')));
    return c.html(<RolloutsPage rows={rows} {...common(c)} />);
  });

  r.get('/rollouts/:id', async (c) => {
    const { r, report } = await rolloutWithReport(c, c.req.param('id'));
    return c.html(<RolloutPage r={r} report={report} canOperate={can(c.get('operator'), 'operator')} {...common(c)} />);
  });

  /** The live panel alone, for the island's polling. */
  r.get('/rollouts/:id/panel', async (c) => {
    const { r, report } = await rolloutWithReport(c, c.req.param('id'));
    return c.html(
      <RolloutPanel r={r} report={report} csrf={c.get('csrf')} canOperate={can(c.get('operator'), 'operator')} />,
    );
  });
}

/** The audit log and the webhook delivery log. */
function logPages(r: Hono<ConsoleEnv>): void {
  r.get('/audit', async (c) => {
    const filters = {
      subject: c.req.query('subject') || undefined,
      action: c.req.query('action') || undefined,
      actor: c.req.query('actor') || undefined,
    };
    const q = new URLSearchParams(
      Object.entries({ ...filters, before: c.req.query('before') }).filter(([, v]) => v) as [string, string][],
    );
    const { records } = await api(c, AuditRecords, `/audit?limit=100&${q}`);
    return c.html(<AuditPage rows={records} filters={filters} {...common(c)} />);
  });

  r.get('/deliveries', async (c) => {
    const filters = { status: c.req.query('status') || undefined, type: c.req.query('type') || undefined };
    const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v) as [string, string][]);
    const { deliveries } = await api(c, DeliveryList, `/deliveries?limit=200&${q}`);
    return c.html(
      <DeliveriesPage
        rows={deliveries}
        filters={filters}
        types={[...EVENT_TYPES]}
        canOperate={can(c.get('operator'), 'operator')}
        {...common(c)}
      />,
    );
  });
}
