/**
 * @module cli/context
 * What every command needs: where the control plane is, which token to use, how to print
 * (text or `--json`), and an HTTP client that turns `{ error: { code, message } }` into a
 * CliError of the right family. Loaded only when a command runs (not for `--help`): it pulls in
 * the protocol package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiErrorBody } from '@modelfleet/protocol';
import { z } from 'zod';
import { CliError, familyOfResponse } from './errors.ts';

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** True when stderr is a terminal: progress bars instead of progress lines. */
  tty: boolean;
  fetch: typeof fetch;
  cwd: string;
  env: Record<string, string | undefined>;
}

export interface GlobalOptions {
  endpoint?: string;
  token?: string;
  json?: boolean;
}

/** What a command's implementation is handed: the process's io and the global flags. */
export interface Ctx {
  io: CliIo;
  globals: GlobalOptions;
}

/** Prints a command's result: the value as JSON under `--json`, else the text lines. */
export function emit(c: Ctx, value: unknown, text: () => string | string[]): void {
  if (c.globals.json) return c.io.stdout(JSON.stringify(value, null, 2));
  const lines = text();
  for (const line of Array.isArray(lines) ? lines : [lines]) c.io.stdout(line);
}

export interface DevConfig {
  endpoint?: string;
  adminToken?: string;
  appKey?: string;
}

const DEV_JSON = join('.modelfleet', 'dev.json');
const DEFAULT_ENDPOINT = 'http://127.0.0.1:8787';

/** `.modelfleet/dev.json`, written by `npm start`, supplies local defaults. */
export function devConfig(io: CliIo): DevConfig {
  const path = join(io.cwd, DEV_JSON);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as DevConfig) : {};
}

const trim = (url: string) => url.replace(/\/+$/, '');

export class Api {
  constructor(
    private readonly io: CliIo,
    readonly endpoint: string,
    private readonly token: string | undefined,
    /** Where endpoint and token came from, for error messages that say what to change. */
    readonly sources: { endpoint: string; token: string },
  ) {}

  /**
   * Endpoint: --endpoint, MODELFLEET_ENDPOINT, dev.json, the local default. Token: --token,
   * MODELFLEET_TOKEN, dev.json's (only for dev.json's own endpoint: a local admin token is not
   * sent to a deployed control plane), then `fallback` (the key set's ADMIN_TOKEN, for `keys`).
   */
  static from(io: CliIo, opts: GlobalOptions, fallback?: { token: string | undefined; source: string }): Api {
    const dev = devConfig(io);
    const [endpoint, endpointSource] = opts.endpoint
      ? [opts.endpoint, '--endpoint']
      : io.env.MODELFLEET_ENDPOINT
        ? [io.env.MODELFLEET_ENDPOINT, 'MODELFLEET_ENDPOINT']
        : dev.endpoint
          ? [dev.endpoint, DEV_JSON]
          : [DEFAULT_ENDPOINT, 'the built-in default'];
    const devToken =
      dev.adminToken && dev.endpoint && trim(dev.endpoint) === trim(endpoint) ? dev.adminToken : undefined;
    const [token, tokenSource] =
      opts.token !== undefined
        ? [opts.token, '--token']
        : io.env.MODELFLEET_TOKEN
          ? [io.env.MODELFLEET_TOKEN, 'MODELFLEET_TOKEN']
          : devToken
            ? [devToken, DEV_JSON]
            : fallback?.token
              ? [fallback.token, fallback.source]
              : [undefined, 'none'];
    return new Api(io, trim(endpoint), token, { endpoint: endpointSource, token: tokenSource });
  }

  /**
   * Sends a request and checks its answer against `schema`, protocol's definition of what the
   * route answers: a control plane that answers something else is an error here, at the boundary.
   * The body is returned as sent (fields this CLI does not know, and their order, which --json
   * prints, are kept): response schemas have no defaults or transforms, so it is their output.
   */
  async request<S extends z.core.$ZodType>(
    schema: S,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<z.output<S>> {
    const res = await this.raw(method, path, body, headers);
    const answer: unknown = await res.json();
    const checked = z.safeParse(schema, answer);
    if (!checked.success) {
      throw new CliError(
        'internal',
        'unexpected_response',
        `${method} ${path} at ${this.endpoint} answered in an unexpected shape (${z.prettifyError(checked.error)}): ` +
          'is the CLI the same version as the control plane?',
      );
    }
    return answer as z.output<S>;
  }

  /** Like request, but returns the Response (for bytes); still throws on API errors. */
  async raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    // A fresh connection for every request: a kept-alive socket left idle while validation ran
    // (a publish's commit takes seconds) may be closed by the server just as the next request
    // reuses it, failing a commit that cannot simply be retried (UND_ERR_SOCKET; PLATFORM.md).
    const h: Record<string, string> = { connection: 'close', ...headers };
    if (this.token && !('x-modelfleet-app-key' in h)) h.authorization = `Bearer ${this.token}`;
    let payload: BodyInit | undefined;
    if (body instanceof Uint8Array) {
      payload = body as unknown as BodyInit;
      h['content-type'] = 'application/octet-stream';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await this.io.fetch(`${this.endpoint}${path}`, {
        method,
        headers: h,
        ...(payload === undefined ? {} : { body: payload }),
      });
    } catch (e) {
      throw this.unreachable(e as Error);
    }
    if (!res.ok) throw this.refusal(method, path, res.status, await res.text());
    return res;
  }

  private unreachable(e: Error): CliError {
    const cause = e.cause as { code?: string; message?: string } | undefined;
    const why = cause?.code ?? cause?.message ?? e.message;
    return new CliError(
      'unavailable',
      'unreachable',
      `cannot reach the control plane at ${this.endpoint} (${why}; endpoint from ${this.sources.endpoint}): pass --endpoint <url> or set MODELFLEET_ENDPOINT to your control plane's URL; for a local one, \`npm start\` in the modelfleet repository serves ${DEFAULT_ENDPOINT}`,
      { endpoint: this.endpoint, endpointSource: this.sources.endpoint, cause: why },
    );
  }

  private refusal(method: string, path: string, status: number, text: string): CliError {
    const parsed = ApiErrorBody.safeParse(safeJson(text));
    if (!parsed.success)
      return new CliError(
        familyOfResponse(status, ''),
        `http_${status}`,
        `${method} ${path} at ${this.endpoint} answered ${status}: ${text.slice(0, 200)}`,
      );
    const { code, message, details } = parsed.data.error;
    const family = familyOfResponse(status, code);
    if (code === 'unauthorized' && !this.token) {
      return new CliError(
        family,
        code,
        'no operator token: pass --token or set MODELFLEET_TOKEN (the admin token is ADMIN_TOKEN in .modelfleet/secrets.json, written by `modelfleet keys init`; `modelfleet tokens create` makes narrower ones)',
        details,
      );
    }
    const from = family === 'auth' && this.token ? ` (token from ${this.sources.token})` : '';
    return new CliError(family, code, message + from, details);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads a JSON file given on the command line, with errors that name the flag. */
export function readJsonFile(io: CliIo, path: string, flag: string): unknown {
  const full = resolve(io.cwd, path);
  if (!existsSync(full)) throw new CliError('input', 'file_not_found', `${flag} ${path}: no such file`);
  try {
    return JSON.parse(readFileSync(full, 'utf8'));
  } catch (e) {
    throw new CliError('input', 'bad_json', `${flag} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Renders rows as an aligned text table. */
export function table(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '(none)';
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(width[i]!))
      .join('  ')
      .trimEnd();
  return [line(cols), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n');
}
