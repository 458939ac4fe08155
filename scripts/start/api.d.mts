// Types for api.mjs (plain JavaScript so that `npm start` needs no TypeScript loader).
export declare class StartError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  constructor(code: string, message: string, status?: number);
}
export declare function createApi(endpoint: string, token: string, options?: { retryDelayMs?: number }): (method: string, path: string, body?: unknown) => Promise<any>;
