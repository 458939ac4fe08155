/**
 * @module env
 * The Worker's variables (wrangler.toml [vars], `wrangler dev --var`, test bindings), each with
 * its default and unit in one schema. Every reader goes through `vars(env)`, which parses each
 * variable the first time it is read and remembers it for that env object.
 *
 * Variables are parsed one at a time, not all at once, so a bad value refuses only the paths that
 * read it: an invalid WINDOW_SECONDS stops telemetry (`window_length_invalid`) while models are
 * still delivered. A bad value is never replaced by its default — that would run the fleet on a
 * setting the operator did not choose — it throws an error that names the variable.
 *
 * @example
 * const ttlMs = vars(c.env).EDGE_CACHE_TTL_MS; // 5000 unless set
 */
import { DAY_SECONDS, MIN_WINDOW_SECONDS, isWindowLength } from '@modelfleet/protocol';
import { z } from 'zod';
import { ApiError } from './http-error.ts';

/** Strings are read as numbers; NaN, ±Infinity and negatives are refused. */
const toNumber = (v: unknown) => (typeof v === 'string' ? Number(v) : v);
const number = (fallback: number, check: z.ZodNumber = z.number().min(0)) =>
  z.preprocess(toNumber, check.default(fallback));

/** The Worker's variables and their defaults, by the names wrangler.toml gives them. */
export const WorkerVars = z.object({
  /** Largest whole model accepted at publish (bytes). */
  MAX_MODEL_BYTES: number(256 * 2 ** 20),
  /** Seconds a commit's claim on its upload holds before another commit may take it over. */
  COMMIT_LEASE_SECONDS: number(300),
  /** How long an edge isolate may reuse a resolved alias and its signed ticket (ms). */
  EDGE_CACHE_TTL_MS: number(5000),
  /** How long an isolate trusts a stored chunk it has hashed (ms; 0 = hash every read). */
  EDGE_VERIFY_TTL_MS: number(3_600_000),
  /** Ticket lifetime (seconds). */
  TICKET_TTL_SECONDS: number(86400),
  /** `off` accepts telemetry without a ticket's proof (a fleet whose SDKs predate proofs). */
  UPLOAD_PROOF: z.enum(['required', 'off']).default('required'),
  /** Distinct unattested devices per client network per aggregate (SPEC 11.3); 0 = no cap. */
  NETWORK_DEVICE_CAP: number(4),
  /** Cloudflare Turnstile's siteverify endpoint (tests point it at a fake). */
  TURNSTILE_VERIFY_URL: z.string().min(1).default('https://challenges.cloudflare.com/turnstile/v0/siteverify'),
  /** Telemetry window length (SPEC 10.6): whole seconds, at least 10, dividing 86400. */
  WINDOW_SECONDS: number(DAY_SECONDS, z.number().refine(isWindowLength, 'not a window length')),
  /** Privacy budget ε per model for drift releases, per window's release (per day with day windows). */
  DRIFT_EPSILON_PER_DAY: number(2),
  /** ε a day per model for rollout-step releases; unset: DRIFT_EPSILON_PER_DAY (see `vars`). */
  ROLLOUT_STEP_EPSILON_PER_DAY: z.preprocess(toNumber, z.number().min(0)).optional(),
  /** Devices a window needs before anything is released. */
  DRIFT_MIN_DEVICES: number(1000),
  /** Distinct client networks an alarm must rest on. */
  DRIFT_MIN_NETWORKS: number(20),
  /** Distinct client networks a rollout decision must rest on. */
  ROLLOUT_MIN_NETWORKS: number(20),
  /** Seconds between a running rollout's analysis ticks. */
  ROLLOUT_TICK_SECONDS: number(60),
  /** First retry delay of a failed webhook delivery (seconds), doubling per attempt. */
  WEBHOOK_RETRY_BASE_SECONDS: number(30),
});

export type VarName = keyof typeof WorkerVars.shape;
/** The parsed variables; ROLLOUT_STEP_EPSILON_PER_DAY resolved to its fallback. */
export type Vars = Readonly<
  Omit<z.output<typeof WorkerVars>, 'ROLLOUT_STEP_EPSILON_PER_DAY'> & {
    ROLLOUT_STEP_EPSILON_PER_DAY: number;
  }
>;
/** Any env object: the Worker's, a Durable Object's, or a subset a caller passes (tests, the CLI). */
export type VarSource = { readonly [K in VarName]?: unknown };

/** A variable's value is unusable; the message names it, its value and what it must be. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function parseVar(env: VarSource, name: VarName): unknown {
  const given = env[name];
  const raw = given === '' ? undefined : given; // unset and '' both mean the default
  if (name === 'ROLLOUT_STEP_EPSILON_PER_DAY' && raw === undefined) return vars(env).DRIFT_EPSILON_PER_DAY;
  const result = WorkerVars.shape[name].safeParse(raw);
  if (result.success) return result.data;
  if (name === 'WINDOW_SECONDS') {
    // A device's outbox keeps the upload and retries on this 503 (SPEC 10.6), so it stays coded.
    const fix = `set it to a whole number of seconds, at least ${MIN_WINDOW_SECONDS}, that divides 86400`;
    const eg = '(e.g. 30, 60, 3600 or 86400)';
    throw new ApiError('window_length_invalid', `WINDOW_SECONDS is ${JSON.stringify(raw)}; ${fix} ${eg}`);
  }
  const why = result.error.issues.map((i) => i.message).join('; ');
  const what = `Worker variable ${name} is ${JSON.stringify(raw)}: ${why}`;
  throw new ConfigError(`${what}; fix it in wrangler.toml [vars], or unset it for the default`);
}

const views = new WeakMap<object, Vars>();

/** The env's variables, each parsed on first read and remembered; a bad one throws when read. */
export function vars(env: VarSource): Vars {
  let view = views.get(env);
  if (!view) {
    const values = new Map<VarName, unknown>();
    const lazy = {};
    for (const name of Object.keys(WorkerVars.shape) as VarName[]) {
      Object.defineProperty(lazy, name, {
        enumerable: true,
        get: () => {
          if (!values.has(name)) values.set(name, parseVar(env, name));
          return values.get(name);
        },
      });
    }
    view = lazy as Vars;
    views.set(env, view);
  }
  return view;
}

/** Every variable's default (what an env with none set reads). */
export const VAR_DEFAULTS: Vars = { ...vars({}) };

/** The configured window length; an invalid WINDOW_SECONDS refuses with `window_length_invalid`. */
export const windowSeconds = (env: VarSource): number => vars(env).WINDOW_SECONDS;
