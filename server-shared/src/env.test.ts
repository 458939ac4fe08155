import { DAY_SECONDS } from '@modelfleet/protocol';
import { describe, expect, it } from 'vitest';
import { ConfigError, VAR_DEFAULTS, vars } from './env.ts';
import { ApiError } from './http-error.ts';

const thrown = (read: () => unknown): unknown => {
  try {
    read();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};

describe('vars', () => {
  it('gives every default when nothing is set', () => {
    expect(vars({})).toEqual({
      MAX_MODEL_BYTES: 256 * 2 ** 20,
      COMMIT_LEASE_SECONDS: 300,
      EDGE_CACHE_TTL_MS: 5000,
      EDGE_VERIFY_TTL_MS: 3_600_000,
      TICKET_TTL_SECONDS: 86400,
      UPLOAD_PROOF: 'required',
      NETWORK_DEVICE_CAP: 4,
      TURNSTILE_VERIFY_URL: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
      WINDOW_SECONDS: DAY_SECONDS,
      DRIFT_EPSILON_PER_DAY: 2,
      ROLLOUT_STEP_EPSILON_PER_DAY: 2,
      DRIFT_MIN_DEVICES: 1000,
      DRIFT_MIN_NETWORKS: 20,
      ROLLOUT_MIN_NETWORKS: 20,
      ROLLOUT_TICK_SECONDS: 60,
      WEBHOOK_RETRY_BASE_SECONDS: 30,
    });
    expect(VAR_DEFAULTS).toEqual({ ...vars({}) });
  });

  it('reads set values as numbers; an empty value is the default', () => {
    const v = vars({
      EDGE_CACHE_TTL_MS: '0',
      DRIFT_EPSILON_PER_DAY: '0.5',
      WINDOW_SECONDS: '3600',
      UPLOAD_PROOF: 'off',
      TICKET_TTL_SECONDS: '',
    });
    expect([
      v.EDGE_CACHE_TTL_MS,
      v.DRIFT_EPSILON_PER_DAY,
      v.WINDOW_SECONDS,
      v.UPLOAD_PROOF,
      v.TICKET_TTL_SECONDS,
    ]).toEqual([0, 0.5, 3600, 'off', 86400]);
    // A JSON binding (Miniflare) is a number already.
    expect(vars({ MAX_MODEL_BYTES: 1024 }).MAX_MODEL_BYTES).toBe(1024);
  });

  it('takes the rollout-step budget from the drift budget unless it is set', () => {
    expect(vars({ DRIFT_EPSILON_PER_DAY: '50' }).ROLLOUT_STEP_EPSILON_PER_DAY).toBe(50);
    const both = vars({ DRIFT_EPSILON_PER_DAY: '50', ROLLOUT_STEP_EPSILON_PER_DAY: '7' });
    expect(both.ROLLOUT_STEP_EPSILON_PER_DAY).toBe(7);
  });

  const bad = [
    ['DRIFT_EPSILON_PER_DAY', 'two'],
    ['EDGE_CACHE_TTL_MS', '-1'],
    ['NETWORK_DEVICE_CAP', 'Infinity'],
    ['UPLOAD_PROOF', 'maybe'],
    ['ROLLOUT_STEP_EPSILON_PER_DAY', '-3'],
  ] as const;
  it.each(bad)('refuses %s=%s with an error that names it (never the default in its place)', (name, value) => {
    const e = thrown(() => vars({ [name]: value })[name]);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain(`${name} is "${value}"`);
  });

  it('refuses a WINDOW_SECONDS that is not a window length with the coded window_length_invalid', () => {
    for (const value of ['45.5', '7', '100000', 'day']) {
      const e = thrown(() => vars({ WINDOW_SECONDS: value }).WINDOW_SECONDS);
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe('window_length_invalid');
      expect((e as ApiError).message).toContain(`WINDOW_SECONDS is "${value}"`);
    }
  });

  it('lets a bad variable refuse only its own readers', () => {
    const v = vars({ WINDOW_SECONDS: '45.5', DRIFT_MIN_DEVICES: 'lots' });
    expect(v.EDGE_CACHE_TTL_MS).toBe(5000); // model delivery goes on
    expect(() => v.DRIFT_MIN_DEVICES).toThrow(/DRIFT_MIN_DEVICES/);
  });

  it('parses each variable of an env object once', () => {
    let reads = 0;
    const env = {
      get DRIFT_EPSILON_PER_DAY() {
        reads++;
        return '3';
      },
    };
    const v = vars(env);
    const read = [v.DRIFT_EPSILON_PER_DAY, vars(env).DRIFT_EPSILON_PER_DAY, v.ROLLOUT_STEP_EPSILON_PER_DAY];
    expect(read).toEqual([3, 3, 3]);
    expect(reads).toBe(1);
    expect(vars(env)).toBe(vars(env));
  });
});

describe("wrangler.toml's [vars]", () => {
  it('are all known variables, and valid', async () => {
    const { readFileSync } = await import('node:fs');
    const toml = readFileSync(new URL('../../wrangler.toml', import.meta.url), 'utf8');
    const section = toml.split(/^\[vars\]\s*$/m)[1]!.split(/^\[/m)[0]!;
    const set = Object.fromEntries([...section.matchAll(/^([A-Z_]+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(set).length).toBeGreaterThan(3);
    const v = vars(set);
    for (const [name, value] of Object.entries(set)) {
      expect(name in v, `${name} is not in WorkerVars`).toBe(true);
      expect(v[name as keyof typeof v], name).toBe(Number(value));
    }
  });
});
