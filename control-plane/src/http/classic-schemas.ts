/**
 * @module classic-schemas
 * The device-side formats in protocol/ are written once, in zod/mini, so the web SDK ships
 * zod's core without its classic API. The OpenAPI generator behind @hono/zod-openapi reads
 * metadata with classic zod's `.meta()`, which mini schemas lack, so for the document each mini
 * schema is rebuilt as the classic schema of the same kind over the same definition: same checks,
 * same children, no second definition. Validation needs none of this (mini schemas parse as
 * classic ones do).
 *
 * @example
 * toClassic(Envelope).meta(); // undefined, where Envelope.meta is not a function
 */
import { z } from 'zod';

type Schema = z.core.$ZodType;
const isSchema = (v: unknown): v is Schema =>
  typeof v === 'object' && v !== null && '_zod' in v && (v as Schema)._zod.def?.type !== undefined;
const isMini = (s: Schema) => s._zod.traits.has('ZodMiniType');
const classicClasses = z as unknown as Record<string, new (def: unknown) => Schema>;

const done = new WeakMap<Schema, Schema>();

/** The classic zod schema for `schema`: itself when no mini schema is inside it, else a rebuilt copy. */
export function toClassic<T extends Schema>(schema: T): z.ZodType<z.output<T>, z.input<T>> {
  let out = done.get(schema);
  if (!out) {
    out = rebuild(schema);
    done.set(schema, out);
  }
  return out as unknown as z.ZodType<z.output<T>, z.input<T>>;
}

function rebuild(schema: Schema): Schema {
  const def = schema._zod.def as object;
  let changed = isMini(schema);
  const copy = {};
  // Property by property, so that accessors (a default's fresh value per parse) stay accessors.
  for (const [key, desc] of Object.entries(Object.getOwnPropertyDescriptors(def))) {
    const value = desc.get ? desc.get.call(def) : desc.value;
    // Checks (refinements, lengths, patterns) are core objects that classic and mini share.
    const next = key === 'checks' ? value : withClassicSchemas(value);
    if (next === value) Object.defineProperty(copy, key, desc);
    else {
      changed = true;
      Object.defineProperty(copy, key, { value: next, enumerable: true, writable: true, configurable: true });
    }
  }
  if (!changed) return schema;
  const name = (schema._zod.constr as { name: string }).name;
  const Classic = isMini(schema)
    ? classicClasses[name.replace(/^ZodMini/, 'Zod')]
    : (schema._zod.constr as unknown as new (
        def: unknown,
      ) => Schema);
  if (!Classic) throw new Error(`no classic zod class for ${name}`);
  const rebuilt = new Classic(copy);
  const meta = z.globalRegistry.get(schema);
  if (meta) z.globalRegistry.add(rebuilt, meta);
  return rebuilt;
}

/**
 * `value` with every schema in it made classic: a schema, a list, a plain object (a shape, a
 * route's request and responses). Anything else (functions, class instances) is kept as it is.
 */
export function withClassicSchemas<T>(value: T): T {
  if (isSchema(value)) return toClassic(value) as unknown as T;
  if (Array.isArray(value)) {
    const mapped = value.map(withClassicSchemas);
    return (mapped.some((v, i) => v !== value[i]) ? mapped : value) as T;
  }
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value).map(([k, v]) => [k, withClassicSchemas(v)] as const);
    return (
      entries.some(([k, v]) => v !== (value as Record<string, unknown>)[k]) ? Object.fromEntries(entries) : value
    ) as T;
  }
  return value;
}

interface Registry {
  definitions: (
    | { type: 'route'; route: object }
    | { type: 'webhook'; webhook: object }
    | { type: 'component'; component: unknown }
    | { type: 'schema' | 'parameter'; schema: Schema }
  )[];
}

/**
 * Makes every schema an OpenAPI registry holds classic, once (registries grow only while routes
 * are added, before the first document is asked for). The definition objects are the registry's
 * own; the route configs they point to are replaced, not changed, so validators keep theirs.
 */
export function classicDefinitions(registry: Registry): void {
  for (const d of registry.definitions) {
    if (d.type === 'route') d.route = withClassicSchemas(d.route);
    else if (d.type === 'webhook') d.webhook = withClassicSchemas(d.webhook);
    else if (d.type === 'component') d.component = withClassicSchemas(d.component);
    else d.schema = toClassic(d.schema) as unknown as Schema;
  }
}
