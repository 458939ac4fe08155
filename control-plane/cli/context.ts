/**
 * @module cli/context
 * What every command needs: where the control plane is, which token to use, how to print,
 * and an HTTP client that turns `{ error: { code, message } }` into a CliError.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiErrorBody } from '@modelfleet/protocol';

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** True when stderr is a terminal: progress bars instead of progress lines. */
  tty: boolean;
  fetch: typeof fetch;
  cwd: string;
  env: Record<string, string | undefined>;
}

/** An error the CLI reports as `error <code>: <message>` and exit code 1. */
export class CliError extends Error {
  constructor(readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

export interface DevConfig { endpoint?: string; adminToken?: string; appKey?: string }

/** `.modelfleet/dev.json`, written by `npm start`, supplies local defaults. */
export function devConfig(io: CliIo): DevConfig {
  const path = join(io.cwd, '.modelfleet', 'dev.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as DevConfig) : {};
}

export interface GlobalOptions { endpoint?: string; token?: string; json?: boolean }

export class Api {
  constructor(private readonly io: CliIo, readonly endpoint: string, private readonly token: string | undefined) {}

  static from(io: CliIo, opts: GlobalOptions): Api {
    const dev = devConfig(io);
    const endpoint = (opts.endpoint ?? io.env.MODELFLEET_ENDPOINT ?? dev.endpoint ?? 'http://127.0.0.1:8787').replace(/\/$/, '');
    return new Api(io, endpoint, opts.token ?? io.env.MODELFLEET_TOKEN ?? dev.adminToken);
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.raw(method, path, body, headers);
    return (await res.json()) as T;
  }

  /** Like request, but returns the Response (for bytes); still throws on API errors. */
  async raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const h: Record<string, string> = { ...headers };
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
      res = await this.io.fetch(`${this.endpoint}${path}`, { method, headers: h, ...(payload === undefined ? {} : { body: payload }) });
    } catch (e) {
      throw new CliError('unreachable', `cannot reach ${this.endpoint} (${(e as Error).message}); is the control plane running (npm start)?`);
    }
    if (!res.ok) {
      const text = await res.text();
      const parsed = ApiErrorBody.safeParse(safeJson(text));
      if (parsed.success) throw new CliError(parsed.data.error.code, parsed.data.error.message, parsed.data.error.details);
      throw new CliError(`http_${res.status}`, `${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    }
    return res;
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
  if (!existsSync(full)) throw new CliError('file_not_found', `${flag} ${path}: no such file`);
  try {
    return JSON.parse(readFileSync(full, 'utf8'));
  } catch (e) {
    throw new CliError('bad_json', `${flag} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Renders rows as an aligned text table. */
export function table(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '(none)';
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i]!)).join('  ').trimEnd();
  return [line(cols), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n');
}
