/**
 * @module bridge
 * The messages between the React Native side and the hidden WebView that runs the web SDK
 * (@modelfleet/react-native),
 * defined once and validated on both sides with zod. Plain JSON strings (WebView messages are
 * strings on both platforms); typed arrays travel as base64 (`{ $f32: "…" }`, `$i32`, `$u8`), never as
 * transferables. Every request has an id; the page answers each id once, in any order.
 */
import { z } from 'zod';
import { fromBase64, toBase64 } from './encoding.ts';

export const BRIDGE_VERSION = 1;
/** Largest message either side accepts (encoded JSON characters). */
export const MAX_MESSAGE_CHARS = 8 * 2 ** 20;

/** Bridge-level error codes; SDK error codes (signature, digest, offline…) pass through unchanged. */
export const BRIDGE_ERROR_CODES = [
  'timeout',
  'cancelled',
  'bridge_closed',
  'malformed_message',
  'payload_too_large',
  'unknown_request',
  'not_ready',
] as const;
export type BridgeErrorCode = (typeof BRIDGE_ERROR_CODES)[number];

export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const Id = z.string().min(1).max(64);
const ModelName = z.string().min(1).max(128);
/** JSON values, with base64 float32 arrays allowed anywhere (inputs and outputs). */
const Value: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.number(), z.string(), z.boolean(), z.null(), z.array(Value), z.record(z.string(), Value)]),
);

export const ClientConfig = z.strictObject({
  endpoint: z.url(),
  appKey: z.string().min(1).max(256),
  /** root.json as text (the client stringifies an object). */
  trustRoot: z.string().min(2).max(65_536),
  deviceId: z.string().min(1).max(128).optional(),
  backends: z
    .array(z.enum(['webgpu', 'wasm', 'cpu']))
    .min(1)
    .optional(),
  pollInterval: z.number().int().min(0).optional(),
  staleAfter: z.number().int().min(0).optional(),
  caps: z.strictObject({ maxTotalBytes: z.number().int().min(1), maxChunkBytes: z.number().int().min(1) }).optional(),
  parallel: z.number().int().min(1).max(16).optional(),
  telemetry: z.boolean().optional(),
  appVersion: z.string().max(64).optional(),
  /** Where the page finds the TF.js WASM binaries (an https URL or the app's asset path); without it WASM is skipped. */
  wasmPaths: z.string().max(2048).optional(),
  /** The native platform, reported for rollout targeting as react-native-<os>. */
  os: z.enum(['ios', 'android', 'other']),
});
export type ClientConfig = z.infer<typeof ClientConfig>;

export const Request = z.discriminatedUnion('kind', [
  z.strictObject({ v: z.literal(BRIDGE_VERSION), id: Id, kind: z.literal('init'), config: ClientConfig }),
  z.strictObject({ v: z.literal(BRIDGE_VERSION), id: Id, kind: z.literal('load'), model: ModelName }),
  z.strictObject({ v: z.literal(BRIDGE_VERSION), id: Id, kind: z.literal('predict'), model: ModelName, inputs: Value }),
  z.strictObject({ v: z.literal(BRIDGE_VERSION), id: Id, kind: z.literal('reload'), model: ModelName }),
  z.strictObject({
    v: z.literal(BRIDGE_VERSION),
    id: Id,
    kind: z.literal('feedback'),
    model: ModelName,
    label: z.union([z.number(), z.string().max(256)]),
  }),
  z.strictObject({ v: z.literal(BRIDGE_VERSION), id: Id, kind: z.literal('status') }),
  z.strictObject({ v: z.literal(BRIDGE_VERSION), id: Id, kind: z.literal('flush') }),
  z.strictObject({ v: z.literal(BRIDGE_VERSION), id: Id, kind: z.literal('cancel'), target: Id }),
  z.strictObject({ v: z.literal(BRIDGE_VERSION), id: Id, kind: z.literal('close') }),
]);
export type Request = z.infer<typeof Request>;
export type RequestKind = Request['kind'];

export const Reply = z.union([
  z.strictObject({ v: z.literal(BRIDGE_VERSION), id: Id, ok: z.literal(true), result: Value }),
  z.strictObject({
    v: z.literal(BRIDGE_VERSION),
    id: Id,
    ok: z.literal(false),
    error: z.strictObject({ code: z.string().min(1).max(64), message: z.string().max(4096) }),
  }),
]);
export type Reply = z.infer<typeof Reply>;

/** Unsolicited news from the page: it is ready, or a model's status changed. */
export const PageEvent = z.strictObject({
  v: z.literal(BRIDGE_VERSION),
  event: z.enum(['ready', 'status']),
  data: Value,
});
export type PageEvent = z.infer<typeof PageEvent>;

/** Anything the page posts. */
export const PageMessage = z.union([Reply, PageEvent]);

/** Parses one raw message with `schema`; a coded BridgeError when it is too big, not JSON or not the shape. */
export function decode<T>(raw: unknown, schema: z.ZodType<T>): T {
  if (typeof raw !== 'string') throw new BridgeError('malformed_message', 'bridge messages are JSON strings');
  if (raw.length > MAX_MESSAGE_CHARS)
    throw new BridgeError('payload_too_large', `message of ${raw.length} characters exceeds ${MAX_MESSAGE_CHARS}`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new BridgeError('malformed_message', 'message is not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new BridgeError(
      'malformed_message',
      `message does not match the bridge protocol: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  return parsed.data;
}

/** Serialises a message; refuses what the other side would refuse. */
export function encode(message: Request | Reply | PageEvent): string {
  const raw = JSON.stringify(message);
  if (raw.length > MAX_MESSAGE_CHARS)
    throw new BridgeError('payload_too_large', `message of ${raw.length} characters exceeds ${MAX_MESSAGE_CHARS}`);
  return raw;
}

// --- binary values --------------------------------------------------------------------------

/** Tags of binary values: each typed array travels as base64 of its little-endian bytes. */
const BINARY = {
  $f32: { type: Float32Array, bytes: 4 },
  $i32: { type: Int32Array, bytes: 4 },
  $u8: { type: Uint8Array, bytes: 1 },
} as const;
type BinaryTag = keyof typeof BINARY;

const base64Of = (v: ArrayBufferView) => toBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));

/**
 * Typed arrays → `{ $f32 | $i32 | $u8: base64 }`, recursively (tensor data and outputs keep their
 * dtype); other typed arrays as float32; the rest as JSON.
 */
export function packValue(value: unknown): unknown {
  if (value instanceof Float32Array) return { $f32: base64Of(value) };
  if (value instanceof Int32Array) return { $i32: base64Of(value) };
  if (value instanceof Uint8Array) return { $u8: base64Of(value) };
  if (ArrayBuffer.isView(value)) return packValue(Float32Array.from(value as unknown as ArrayLike<number>));
  if (Array.isArray(value)) return value.map(packValue);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, packValue(v)]));
  return value;
}

/** The inverse of packValue: each tagged value back to its typed array. */
export function unpackValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unpackValue);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    const tag = keys.length === 1 && keys[0]! in BINARY ? (keys[0] as BinaryTag) : undefined;
    if (tag && typeof o[tag] === 'string') {
      let bytes: Uint8Array;
      try {
        bytes = fromBase64(o[tag]);
      } catch {
        throw new BridgeError('malformed_message', 'bad base64 in a binary value');
      }
      const { type, bytes: size } = BINARY[tag];
      if (bytes.length % size !== 0)
        throw new BridgeError('malformed_message', `a ${tag} value is not a whole number of elements`);
      return new type(bytes.slice().buffer, 0, bytes.length / size);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, unpackValue(v)]));
  }
  return value;
}
