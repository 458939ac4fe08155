/**
 * @module context
 * Types of the Hono context shared by every route: the bindings and the authenticated operator.
 */
import type { OperatorRole } from '@modelfleet/protocol';
import type { Env } from '../env.ts';

export interface Operator {
  /** Stable name recorded in audit records and manifests (e.g. `token:ab12cd (ci)`). */
  actor: string;
  role: OperatorRole;
}

export interface AppEnv {
  Bindings: Env;
  Variables: { operator: Operator };
}
