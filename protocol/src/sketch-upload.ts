/**
 * @module sketch-upload
 * The fixed binary layout of one device's upload (little-endian):
 *   "MFS1" | version u8 | 0 u8 | featureCount u16 | schemaDigest 32 bytes | window u32 (window.ts)
 *   then per feature, in layout order: bins u16[bins] | components i16[components]
 * 20 numeric features with 10 bins take 44 + 20·2·(13 + 4) = 724 bytes. Decoding checks
 * everything a device could get wrong or forge (schema, L1, ranges, size) before anything is
 * added to an aggregate.
 */
import { fromUtf8, toHex, utf8 } from './encoding.ts';
import { ProtocolError } from './errors.ts';
import { COMPONENT_SCALE, type FeatureSketch, SKETCH_SCALE, type SketchLayout } from './sketch.ts';

const MAGIC = 'MFS1';
const VERSION = 1;
export const SKETCH_HEADER_BYTES = 4 + 1 + 1 + 2 + 32 + 4;

export interface SketchUpload {
  schemaDigest: string;
  window: number;
  /** Per layout feature; null where the device saw too few values. */
  features: (FeatureSketch | null)[];
}

export function uploadSize(layout: SketchLayout): number {
  return SKETCH_HEADER_BYTES + layout.features.reduce((n, f) => n + 2 * (f.bins + f.components), 0);
}

export function encodeUpload(layout: SketchLayout, upload: SketchUpload): Uint8Array {
  const bytes = new Uint8Array(uploadSize(layout));
  const view = new DataView(bytes.buffer);
  bytes.set(utf8(MAGIC), 0);
  view.setUint8(4, VERSION);
  view.setUint16(6, layout.features.length, true);
  for (let i = 0; i < 32; i++) view.setUint8(8 + i, parseInt(upload.schemaDigest.slice(2 * i, 2 * i + 2), 16));
  view.setUint32(40, upload.window, true);
  let at = SKETCH_HEADER_BYTES;
  layout.features.forEach((f, i) => {
    const s = upload.features[i];
    for (let b = 0; b < f.bins; b++, at += 2) view.setUint16(at, s?.bins[b] ?? 0, true);
    for (let k = 0; k < f.components; k++, at += 2) view.setInt16(at, s?.components[k] ?? 0, true);
  });
  return bytes;
}

const refuse = (
  code: 'sketch_malformed' | 'sketch_schema_mismatch' | 'sketch_not_normalized' | 'sketch_out_of_range',
  message: string,
) => new ProtocolError(code, message);

/** Decodes and validates an upload against the layout the control plane derived from the manifest. */
export function decodeUpload(layout: SketchLayout, bytes: Uint8Array): SketchUpload {
  if (bytes.length < SKETCH_HEADER_BYTES || fromUtf8(bytes.subarray(0, 4)) !== MAGIC) {
    throw refuse('sketch_malformed', 'not a modelfleet sketch upload (bad magic or too short)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(4) !== VERSION)
    throw refuse(
      'sketch_malformed',
      `sketch layout version ${view.getUint8(4)} is not supported (expected ${VERSION})`,
    );
  const schemaDigest = toHex(bytes.subarray(8, 40));
  if (schemaDigest !== layout.schemaDigest) {
    throw refuse(
      'sketch_schema_mismatch',
      `upload was sketched for monitoring schema ${schemaDigest.slice(0, 12)}…, this version's is ${layout.schemaDigest.slice(0, 12)}…`,
    );
  }
  if (view.getUint16(6, true) !== layout.features.length || bytes.length !== uploadSize(layout)) {
    throw refuse(
      'sketch_malformed',
      `upload is ${bytes.length} bytes for ${view.getUint16(6, true)} features; the layout needs ${uploadSize(layout)} for ${layout.features.length}`,
    );
  }
  const window = view.getUint32(40, true);
  let at = SKETCH_HEADER_BYTES;
  let present = 0;
  // One pass per feature, checks folded in: the Durable Object decodes every upload.
  const features = layout.features.map((f) => {
    const bins = new Array<number>(f.bins);
    const components = new Array<number>(f.components);
    let sum = 0;
    for (let b = 0; b < f.bins; b++, at += 2) sum += bins[b] = view.getUint16(at, true);
    let nonzero = false;
    let outOfRange = false;
    for (let k = 0; k < f.components; k++, at += 2) {
      const c = (components[k] = view.getInt16(at, true));
      if (c !== 0) nonzero = true;
      if (c > COMPONENT_SCALE || c < -COMPONENT_SCALE) outOfRange = true;
    }
    if (sum === 0) {
      if (nonzero) throw refuse('sketch_out_of_range', `feature ${f.name} is absent but carries components`);
      return null;
    }
    if (sum !== SKETCH_SCALE)
      throw refuse('sketch_not_normalized', `feature ${f.name} bins sum to ${sum}, not ${SKETCH_SCALE} (L1 = 1)`);
    if (outOfRange) throw refuse('sketch_out_of_range', `feature ${f.name} has a component outside [−1, 1]`);
    present++;
    return { bins, components };
  });
  if (present === 0) throw refuse('sketch_malformed', 'upload has no feature with enough values');
  return { schemaDigest, window, features };
}
