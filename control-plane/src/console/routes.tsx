/**
 * @module console/routes
 * The operator console at /console: server-rendered Hono JSX pages with two small script islands
 * (actions + live panels, charts). Every page reads, and every form writes, through the public
 * API as the session's operator (console/api.ts), so roles, validation and audit are the API's.
 * Pages send a strict CSP (no inline script or style), no-store caching and frame denial.
 */
import { ApiError } from '@modelfleet/server-shared';
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
  OPERATOR_ACTIONS,
  type OperatorAction,
  PlanCheckResponse,
  PrivacyLedgerView,
  RedeliveryResponse,
  RolloutCreated,
  RolloutDetail,
  RolloutList,
  RolloutPolicyView,
  RolloutView,
  VersionList,
  WindowStatus,
  stepCohort,
} from '@modelfleet/protocol';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { csrf as sameOrigin } from 'hono/csrf';
import { identify } from '../auth/operators.ts';
import { createSession, endSession } from '../auth/sessions.ts';
import { api, apiOrNull } from './api.ts';
import { ASSETS } from './assets.gen.ts';
import { Page } from './layout.tsx';
import { DriftPage, type WindowView } from './pages/drift.tsx';
import { explanationsOf } from './pages/explanations.tsx';
import { FleetPanel } from './pages/fleet.tsx';
import { LoginPage } from './pages/login.tsx';
import { AuditPage, DeliveriesPage } from './pages/logs.tsx';
import { ModelPage, type VersionView } from './pages/model.tsx';
import { type ModelRow, ModelsPage } from './pages/models.tsx';
import { RolloutPage, RolloutPanel, RolloutsPage, type StepReport } from './pages/rollout.tsx';
import { type ConsoleEnv, can, clearSessionCookie, requireCsrf, requireSession, setSessionCookie } from './session.ts';

const FLASH = 'mf_flash';
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/** Windows on the model page's fleet chart: two months of days, or the last half hour of the demo's 30 s windows. */
const FLEET_WINDOWS = 60;

export const consoleRoutes = new Hono<ConsoleEnv>();

consoleRoutes.use('*', async (c, next) => {
  await next();
  c.header('content-security-policy', CSP);
  c.header('x-frame-options', 'DENY');
  c.header('referrer-policy', 'same-origin');
  c.header('x-content-type-options', 'nosniff');
  if (!c.req.path.startsWith('/console/assets/')) c.header('cache-control', 'no-store');
});

consoleRoutes.get('/assets/:name', (c) => {
  const a = ASSETS[c.req.param('name')];
  if (!a) throw new ApiError('not_found', 'no such console asset');
  return c.body(a.text, 200, { 'content-type': a.type, 'cache-control': 'public, max-age=31536000, immutable' });
});

// --- sign in / out ---------------------------------------------------------------------------
consoleRoutes.get('/login', (c) => c.html(<LoginPage error={c.req.query('error')} />));
consoleRoutes.post('/login', sameOrigin(), async (c) => {
  const form = await c.req.parseBody();
  const token = typeof form.token === 'string' ? form.token.trim() : '';
  let identity;
  try {
    if (!token || token.length > 256) throw new ApiError('unauthorized', 'no token');
    identity = await identify(c.env, token);
  } catch (e) {
    return c.html(<LoginPage error={e instanceof ApiError ? e.code : 'unauthorized'} />, 401);
  }
  // The cookie gets a fresh session id, never the token (auth/sessions.ts).
  const session = await createSession(c.env, identity);
  setSessionCookie(c, session.id, session.expiresAt);
  return c.redirect('/console', 303);
});

// Everything below needs a session; writes also need the CSRF token.
consoleRoutes.use('*', async (c, next) =>
  c.req.path.startsWith('/console/assets/') ? next() : requireSession(c, next),
);
consoleRoutes.post('*', requireCsrf);

consoleRoutes.post('/logout', async (c) => {
  await endSession(c.env, c.get('session')); // server side: the old cookie value opens nothing
  clearSessionCookie(c);
  return c.redirect('/console/login?error=signed_out', 303);
});

/** Page props every page shares: who is signed in, the CSRF token, and a one-shot flash. */
function common(c: Context<ConsoleEnv>) {
  const raw = getCookie(c, FLASH);
  let flash: { kind: 'ok' | 'error'; text: string } | null = null;
  if (raw) {
    deleteCookie(c, FLASH, { path: '/console' });
    try {
      const f = JSON.parse(raw) as { kind?: string; text?: string };
      if (typeof f.text === 'string') flash = { kind: f.kind === 'error' ? 'error' : 'ok', text: f.text.slice(0, 500) };
    } catch {
      /* a mangled flash is dropped */
    }
  }
  return { operator: c.get('operator'), csrf: c.get('csrf'), flash };
}

/**
 * Runs an API write from a form. The island (Accept: JSON) gets `{ ok, message, location? }` or
 * the coded error; a plain form gets a 303 to `back` (or the page `run` names, e.g. a new
 * rollout's) with a one-shot flash.
 */
async function attempt(c: Context<ConsoleEnv>, back: string, text: string, run: () => Promise<unknown>) {
  let outcome: { next: string | null } | { error: ApiError };
  try {
    const next = await run();
    outcome = { next: typeof next === 'string' ? next : null };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    outcome = { error: e };
  }
  if ((c.req.header('accept') ?? '').includes('application/json')) {
    return 'error' in outcome
      ? c.json({ error: { code: outcome.error.code, message: outcome.error.message } }, outcome.error.status as 400)
      : c.json({ ok: true, message: text, ...(outcome.next ? { location: outcome.next } : {}) });
  }
  const flash =
    'error' in outcome
      ? { kind: 'error', text: `${outcome.error.code}: ${outcome.error.message}` }
      : { kind: 'ok', text };
  setCookie(c, FLASH, JSON.stringify(flash), { httpOnly: true, sameSite: 'Strict', path: '/console', maxAge: 60 });
  return c.redirect('error' in outcome ? back : (outcome.next ?? back), 303);
}

const field = (form: Record<string, unknown>, name: string) =>
  typeof form[name] === 'string' ? (form[name] as string).trim() : '';

// --- pages -----------------------------------------------------------------------------------
consoleRoutes.get('/', async (c) => {
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

consoleRoutes.get('/models/:name', async (c) => {
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
    ? await api(c, PlanCheckResponse, `/models/${enc}/rollouts/preview`, { method: 'POST', json: {} }).catch(() => null)
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
consoleRoutes.get('/models/:name/fleet-panel', async (c) => {
  const fleet = await api(
    c,
    FleetView,
    `/models/${encodeURIComponent(c.req.param('name'))}/fleet?windows=${FLEET_WINDOWS}`,
  );
  return c.html(<FleetPanel fleet={fleet} />);
});

consoleRoutes.get('/models/:name/drift', async (c) => {
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

consoleRoutes.get('/rollouts', async (c) => {
  const { models } = await api(c, ModelList, '/models');
  const lists = await Promise.all(
    models.map((m) => api(c, RolloutList, `/models/${encodeURIComponent(m.name)}/rollouts`)),
  );
  const rows = lists
    .flatMap((l) => l.rollouts)
    .sort((a, b) => String(b.stepStartedAt ?? '').localeCompare(String(a.stepStartedAt ?? '')));
  return c.html(<RolloutsPage rows={rows} {...common(c)} />);
});

consoleRoutes.get('/rollouts/:id', async (c) => {
  const { r, report } = await rolloutWithReport(c, c.req.param('id'));
  return c.html(<RolloutPage r={r} report={report} canOperate={can(c.get('operator'), 'operator')} {...common(c)} />);
});

/** The live panel alone, for the island's polling. */
consoleRoutes.get('/rollouts/:id/panel', async (c) => {
  const { r, report } = await rolloutWithReport(c, c.req.param('id'));
  return c.html(
    <RolloutPanel r={r} report={report} csrf={c.get('csrf')} canOperate={can(c.get('operator'), 'operator')} />,
  );
});

consoleRoutes.get('/audit', async (c) => {
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

consoleRoutes.get('/deliveries', async (c) => {
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

// --- actions ---------------------------------------------------------------------------------
consoleRoutes.post('/models/:name/aliases', async (c) => {
  const name = c.req.param('name');
  const form = await c.req.parseBody();
  const alias = field(form, 'alias');
  const version = Number(field(form, 'version'));
  const back = `/console/models/${encodeURIComponent(name)}`;
  return attempt(c, back, `${alias} → v${version}`, () =>
    api(c, ModelSummary, `/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}`, {
      method: 'PUT',
      json: { version },
    }),
  );
});

consoleRoutes.post('/models/:name/rollouts', async (c) => {
  const name = c.req.param('name');
  const form = await c.req.parseBody();
  const bakeSeconds = Math.round(Number(field(form, 'bakeMinutes') || '60') * 60);
  // 'fleet': leave the steps out, so the control plane derives them from the fleet.
  const steps =
    field(form, 'steps') === 'fleet'
      ? undefined
      : field(form, 'steps')
          .split(',')
          .map((p) => ({ percent: Number(p), bakeSeconds }));
  const reason = field(form, 'reason');
  return attempt(c, `/console/models/${encodeURIComponent(name)}`, 'rollout started', async () => {
    const { id } = await api(c, RolloutCreated, `/models/${encodeURIComponent(name)}/rollouts`, {
      method: 'POST',
      json: {
        challenger: Number(field(form, 'challenger')),
        plan: steps ? { steps } : {},
        ...(reason ? { reason } : {}),
      },
    });
    return `/console/rollouts/${id}`; // a started rollout opens its own page
  });
});

consoleRoutes.post('/rollouts/:id/:action', async (c) => {
  const id = c.req.param('id');
  const action = c.req.param('action') as OperatorAction;
  if (!OPERATOR_ACTIONS.includes(action)) throw new ApiError('not_found', `no rollout action ${action}`);
  const form = await c.req.parseBody();
  const step = field(form, 'step');
  const reason = field(form, 'reason');
  const json = { ...(step ? { step: Number(step) } : {}), ...(reason ? { reason } : {}) };
  return attempt(c, `/console/rollouts/${encodeURIComponent(id)}`, `${action}: done`, () =>
    api(c, RolloutView, `/rollouts/${encodeURIComponent(id)}/${action}`, { method: 'POST', json }),
  );
});

consoleRoutes.post('/deliveries/:id/retry', async (c) =>
  attempt(c, '/console/deliveries', `delivery ${c.req.param('id')} queued again`, () =>
    api(c, RedeliveryResponse, `/deliveries/${encodeURIComponent(c.req.param('id'))}/retry`, { method: 'POST' }),
  ),
);

/** API refusals on pages render as a page saying what went wrong (same status), never a stack. */
consoleRoutes.onError((e, c) => {
  const error = e instanceof ApiError ? e : new ApiError('internal', 'the console failed to render this page');
  if (!(e instanceof ApiError)) console.error('console', e);
  if (error.code === 'csrf_failed' && (c.req.header('accept') ?? '').includes('application/json'))
    return c.json({ error: { code: error.code, message: error.message } }, 403);
  const operator = (c as Context<ConsoleEnv>).get('operator');
  return c.html(
    <Page
      title="Error"
      {...(operator ? { operator, csrf: (c as Context<ConsoleEnv>).get('csrf') } : {})}
      flash={{ kind: 'error', text: `${error.code}: ${error.message}` }}
    >
      <h1>Something was refused</h1>
      <p>
        <a href="/console">Back to the models</a>
      </p>
    </Page>,
    error.status as 400,
  );
});
