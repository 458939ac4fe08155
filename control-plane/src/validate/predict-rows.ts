/**
 * @module validate/predict-rows
 * Runs many rows through a loaded model in batches, for server-side evaluation (evaluate/run.ts):
 * the model's single input gets `[batch, ...rowShape]` (batches of `batchRows`; 1 for a model that
 * fixes its batch at 1), and each row's first output is returned flat. Reached through the engine
 * (lazy.ts), so it imports TF.js modules only.
 */
import { type LoadedModel, runTensors } from './load.ts';
import { tfjs } from './tfjs-runtime.ts';

/** Rows per batch: large enough that per-call overhead vanishes, small enough to bound tensors. */
export const EVAL_BATCH_ROWS = 256;

export interface RowOutputs {
  /** Row i's outputs are values[i·width … (i+1)·width). */
  values: Float32Array;
  width: number;
}

/**
 * `rows` holds every row's values flat, row after row. Throws (with a message for the operator)
 * when the model does not take this input; non-finite outputs are returned for the caller to judge.
 */
export async function predictRows(
  loaded: LoadedModel,
  rows: Float32Array,
  rowShape: number[],
  count: number,
  batchRows = EVAL_BATCH_ROWS,
): Promise<RowOutputs> {
  const tf = await tfjs();
  const input = loaded.io.inputs[0]!;
  const per = rowShape.reduce((n, d) => n * d, 1);
  let values: Float32Array | undefined;
  let width = 0;
  for (let start = 0; start < count; start += batchRows) {
    const n = Math.min(batchRows, count - start);
    const slice = rows.subarray(start * per, (start + n) * per);
    const x = tf.tensor(input.dtype === 'float32' ? slice : Int32Array.from(slice), [n, ...rowShape], input.dtype);
    let outs: Awaited<ReturnType<typeof runTensors>> = [];
    try {
      outs = await runTensors(loaded, { [input.name]: x });
      const y = outs[0]!;
      const data = (await y.data()) as Float32Array | Int32Array | Uint8Array;
      if (data.length % n !== 0)
        throw new Error(`output ${loaded.io.outputs[0]?.name} has ${data.length} values for ${n} rows`);
      if (!values) {
        width = data.length / n;
        values = new Float32Array(count * width);
      } else if (data.length / n !== width) {
        throw new Error(`output ${loaded.io.outputs[0]?.name} changed width between batches`);
      }
      values.set(data, start * width);
    } finally {
      x.dispose();
      for (const t of outs) t.dispose();
    }
  }
  return { values: values!, width };
}
