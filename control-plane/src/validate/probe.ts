/**
 * @module probe
 * The first run of the model, on golden example 0 if there is one, else on zeros: it proves the
 * model runs, and it is how a graph model's output shapes are learnt (TF.js reports none for
 * graph models).
 *
 * Input dimensions the model leaves open (null; -1 in model.json) need a size to run at, and a
 * wrong guess rejects a model that plain TF.js runs (a 3×3 VALID convolution cannot run on 1×1).
 * The probe shapes rule (SPEC 9.1), per open dimension, first that applies:
 *   1. `golden`  — golden example 0's size for it;
 *   2. `io`      — the declared io's size for it (it narrows the version's io: io-match.ts);
 *   3. `default` — 1 for the first dimension (the batch), PROBE_DEFAULT_SIZE for the others.
 * Golden examples that disagree with a declared size are refused before anything runs
 * (`goldenFits`), so 1 and 2 never conflict. An input with no open dimension is run as the
 * model says (`model`).
 *
 * An output dimension that follows an open input dimension must be recorded as open, not as the
 * size it had at the probe's size. So when a graph model's output shapes are unknown and some
 * non-batch input dimension is still open after the declared io, the graph runs a second time
 * with each such dimension grown (`secondSize`), and output dimensions that changed are recorded
 * as null. The first dimension of every output is open when some input's batch is (as TF.js
 * layers models say too). Cost: one run (none extra with golden examples: example 0 is it), two
 * for graph models with open H×W left (handtrack: about 2 s a run in workerd on 2 CPU cores).
 */
import type { Golden, IoTensor } from '@modelfleet/protocol';
import type { Tensor } from '@tensorflow/tfjs-core';
import { fits, shapeOf } from './golden.ts';
import { type LoadedModel, type Outputs, ioTensor, runTensors } from './load.ts';
import { tfjs } from './tfjs-runtime.ts';

/**
 * Size of an open non-batch dimension when neither the io nor a golden example gives one.
 * 64 rather than smaller: stride-32 backbones (MobileNet, ResNet, EfficientNet) need 32 and
 * VALID-padded stems eat a few pixels more, while a 64×64 run costs a conv net about a twelfth
 * of a 224×224 one (MobileNetV2 at 224: 1.3–2.3 s in workerd here). handtrack resizes its input
 * itself and took 1.8–2.5 s a run at every size from 1×1 to 256×256.
 */
export const PROBE_DEFAULT_SIZE = 64;

export type ProbeSource = 'model' | 'io' | 'golden' | 'default';
export interface ProbeInput {
  name: string;
  dtype: IoTensor['dtype'];
  shape: number[];
  sources: ProbeSource[];
}

/**
 * The shapes the probe runs at. `inputs` are the version's io inputs (the model's, narrowed by the
 * declared io: `narrowIo`), `model` the model's own; `golden` has passed `goldenFits`.
 */
export function probeInputs(inputs: readonly IoTensor[], model: readonly IoTensor[], golden?: Golden): ProbeInput[] {
  return inputs.map((spec, i) => {
    const value = golden?.examples[0]?.inputs[spec.name];
    const example = value === undefined ? undefined : shapeOf(value);
    const usable = example && fits(example, spec.shape) ? example : undefined;
    const sources = new Set<ProbeSource>();
    const size = (d: number | null, j: number): number => {
      if (model[i]?.shape[j] !== null && d !== null) return d;
      const source: ProbeSource = usable ? 'golden' : d !== null ? 'io' : 'default';
      sources.add(source);
      return source === 'golden' ? usable![j]! : (d ?? (j === 0 ? 1 : PROBE_DEFAULT_SIZE));
    };
    const shape = spec.shape.map(size);
    return { name: spec.name, dtype: spec.dtype, shape, sources: sources.size > 0 ? [...sources] : ['model'] };
  });
}

/**
 * Grows a size so that the run differs but still fits what the first size fit: by its lowest set
 * bit, at most 32, so divisibility by powers of two up to 32 (a U-Net's skips, a stride-32 grid)
 * and any minimum size are kept, and the extra cost shrinks as sizes grow (64 → 96, 224 → 256).
 */
export const secondSize = (d: number) => d + Math.min(d & -d, 32);

export type ProbeOutcome =
  | { ok: true; outputs: IoTensor[]; detail: string; example?: Outputs }
  | { ok: false; code: 'model_unloadable' | 'io_mismatch' | 'golden_invalid'; message: string };

const fmt = (shape: readonly (number | null)[]) => `[${shape.map((d) => d ?? '?').join(',')}]`;
const describe = (inputs: ProbeInput[]) =>
  inputs.map((p) => `${p.name} ${p.dtype}${fmt(p.shape)} (${p.sources.join('+')})`).join(', ');

/** Runs the model once; the outputs' signature, and their values when `keep`. Disposes `feed`. */
async function run(
  loaded: LoadedModel,
  feed: Record<string, Tensor>,
  keep: boolean,
): Promise<{ signature: IoTensor[]; values?: Outputs }> {
  const tf = await tfjs();
  let outs: Tensor[] = [];
  try {
    outs = await runTensors(loaded, feed);
    // TF.js computes a VALID convolution on too small an input as a negative size instead of
    // throwing; the model did not run. An empty dimension (no detections on zeros) is data-dependent.
    const bad = outs.findIndex((t) => t.shape.some((d) => d < 0));
    if (bad >= 0)
      throw new Error(
        `output ${loaded.io.outputs[bad]!.name} came out with the impossible shape ${fmt(outs[bad]!.shape)}`,
      );
    const signature = outs.map((t, k) =>
      ioTensor(
        loaded.io.outputs[k]!.name,
        t.dtype,
        t.shape.map((d) => (d === 0 ? null : d)),
      ),
    );
    if (!keep) return { signature };
    const values = await Promise.all(outs.map((t) => t.data() as Promise<Outputs[string]>));
    return { signature, values: Object.fromEntries(values.map((v, k) => [loaded.io.outputs[k]!.name, v] as const)) };
  } finally {
    tf.dispose([...outs, ...Object.values(feed)]);
  }
}

async function zeros(inputs: ProbeInput[], shapes: number[][]): Promise<Record<string, Tensor>> {
  const tf = await tfjs();
  return Object.fromEntries(inputs.map((p, i) => [p.name, tf.zeros(shapes[i]!, p.dtype)]));
}

/**
 * Runs the probe: on golden example 0 when there is one (its shapes are the probe shapes, and
 * its outputs, returned as `example`, spare checkGolden a run), else on zeros. `open` is the
 * version's inputs, where null is a size devices may still choose; the outcome's `outputs` are
 * the model's output signature with sizes that follow an open input size as null.
 */
export async function probe(
  loaded: LoadedModel,
  inputs: ProbeInput[],
  open: readonly IoTensor[],
  example?: () => Promise<Record<string, Tensor>>,
): Promise<ProbeOutcome> {
  let first: Awaited<ReturnType<typeof run>>;
  try {
    first = await run(
      loaded,
      example
        ? await example()
        : await zeros(
            inputs,
            inputs.map((p) => p.shape),
          ),
      example !== undefined,
    );
  } catch (e) {
    return failure(loaded, inputs, example !== undefined, (e as Error).message);
  }
  let detail = `${describe(inputs)} on ${example ? 'golden example 0' : 'zeros'}`;
  const done = (outputs: IoTensor[]): ProbeOutcome => ({
    ok: true,
    outputs,
    detail,
    ...(first.values ? { example: first.values } : {}),
  });
  if (loaded.outputsKnown) return done(loaded.io.outputs);

  const batchOpen = open.some((t) => t.shape[0] === null);
  let outputs = first.signature.map((t) => ({ ...t, shape: t.shape.map((d, j) => (j === 0 && batchOpen ? null : d)) }));
  const grown = inputs.map((p, i) => p.shape.map((d, j) => (j > 0 && open[i]?.shape[j] === null ? secondSize(d) : d)));
  if (grown.some((shape, i) => shape.some((d, j) => d !== inputs[i]!.shape[j]))) {
    const at = grown.map((shape, i) => `${inputs[i]!.name}${fmt(shape)}`).join(', ');
    try {
      const second = (await run(loaded, await zeros(inputs, grown), false)).signature;
      outputs = outputs.map((t, k) => ({
        ...t,
        shape: t.shape.map((d, j) =>
          second[k]!.shape.length === t.shape.length && second[k]!.shape[j] === d ? d : null,
        ),
      }));
      detail += `; again on zeros at ${at}: output sizes that changed are recorded as any size`;
    } catch (e) {
      // It ran at the first shapes, so it is not refused; what its outputs' sizes follow is unknown.
      outputs = outputs.map((t) => ({ ...t, shape: t.shape.map((d, j) => (j === 0 ? d : null)) }));
      detail += `; again on zeros at ${at} it failed (${(e as Error).message}): output sizes past the first are recorded as any size`;
    }
  }
  return done(outputs);
}

/** Who can fix a failed probe decides the code: the golden examples, the declared io, or the model. */
function failure(loaded: LoadedModel, inputs: ProbeInput[], golden: boolean, error: string): ProbeOutcome {
  const sources = new Set(inputs.flatMap((p) => p.sources));
  const at = describe(inputs);
  if (golden) return { ok: false, code: 'golden_invalid', message: `golden example 0 could not run, ${at}: ${error}` };
  if (sources.has('io'))
    return {
      ok: false,
      code: 'io_mismatch',
      message: `the model does not run at the declared io's shapes, ${at}: ${error}`,
    };
  const hint = sources.has('default')
    ? `; its open dimensions were given the default size ${PROBE_DEFAULT_SIZE} (batch 1): declare the sizes it runs at with an io schema (publish --io) or golden examples (--golden)`
    : '';
  return {
    ok: false,
    code: 'model_unloadable',
    message: `the ${loaded.kind} model loads but does not run on zeros at ${at}: ${error}${hint}`,
  };
}
