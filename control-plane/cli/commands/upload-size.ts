/**
 * @module cli/commands/upload-size
 * The upload request (model.json, golden examples, baseline, metadata) has a size limit that
 * server and CLI share (MAX_UPLOAD_REQUEST_BYTES). When it does not fit, the error names the file
 * that made it too large, as the flag that gave it, so that the publisher knows what to shrink.
 *
 * @example
 * checkUploadSize(body, { golden: '--golden g.json', modelJson: 'm/model.json' }); // names g.json if it is the largest
 */
import { MAX_UPLOAD_REQUEST_BYTES, type UploadRequest } from '@modelfleet/protocol';
import { CliError } from '../errors.ts';

const mib = (bytes: number) =>
  bytes < 2 ** 20 ? `${(bytes / 2 ** 10).toFixed(1)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const bytesOf = (value: unknown) => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)));

/** What to do about each part that can be too large. */
const REMEDY: Record<string, string> = {
  golden:
    'keep fewer golden examples, give images as integers where the model takes uint8/int32, or let an example check only the outputs you need (it may list a subset)',
  baseline: 'a baseline is usually a few KiB; build it with `modelfleet baseline`',
  modelJson: "the model's topology alone is too large for this registry's upload request",
};

/**
 * The error for a body of `total` bytes over `limit`: `parts` maps each part of the request
 * that came from a file (`golden`, `baseline`, `modelJson`) to how the user gave it
 * (`--golden g.json`, `./dir/model.json`), and the largest is named.
 */
export function oversizeError(
  body: UploadRequest,
  parts: Partial<Record<'golden' | 'baseline' | 'modelJson', string>>,
  limit: number,
): CliError {
  const total = bytesOf(body);
  const sizes = Object.entries(parts).map(([key, label]) => ({
    key,
    label: label!,
    bytes: bytesOf(body[key as keyof UploadRequest]),
  }));
  const worst = sizes.sort((a, b) => b.bytes - a.bytes)[0]!;
  // 'refused' whether the CLI or the server finds it: the same code exits with the same number.
  return new CliError(
    'refused',
    'payload_too_large',
    `${worst.label} is ${mib(worst.bytes)}; the upload request (model.json, golden examples, baseline and metadata: ${mib(total)} here) may be at most ${mib(limit)}: ${REMEDY[worst.key]}`,
    { limit, total, parts: Object.fromEntries(sizes.map((s) => [s.label, s.bytes])) },
  );
}

/** Throws `oversizeError` before anything is sent when the body exceeds the protocol's limit. */
export function checkUploadSize(
  body: UploadRequest,
  parts: Partial<Record<'golden' | 'baseline' | 'modelJson', string>>,
): void {
  if (bytesOf(body) > MAX_UPLOAD_REQUEST_BYTES) throw oversizeError(body, parts, MAX_UPLOAD_REQUEST_BYTES);
}
