/**
 * @module telemetry/rows
 * Tensors as the rows telemetry reads: the first input's tabular rows (what a drift baseline
 * describes), the first output's rows (prediction drift) and its top class (step records).
 */
import type { Outputs, WireInput } from '../tensors.ts';
import { topClass } from './sketcher.ts';

/** The first output's rows (rank 1 or 2 only: tabular outputs feed prediction-drift sketches). */
export function outputRows(outputs: Outputs): number[][] | undefined {
  const first = Object.values(outputs)[0];
  if (!first || first.shape.length > 2 || first.shape.length === 0) return undefined;
  return matrixRows(first.data, first.shape);
}

/** A rank-1 or rank-2 tensor's values as rows (rank 1 is one row). */
function matrixRows(data: ArrayLike<number>, shape: readonly number[]): number[][] {
  const width = shape.length === 2 ? shape[1]! : shape[0]!;
  const rows: number[][] = [];
  for (let at = 0; at + width <= data.length && width > 0; at += width)
    rows.push(Array.prototype.slice.call(data, at, at + width) as number[]);
  return rows;
}

/** The first input's rows, when it is tabular (rank ≤ 2): what the drift baseline describes. */
export function inputRows(wire: WireInput[], first: string): number[][] | null {
  const w = wire.find((i) => i.name === first);
  return w?.kind === 'tensor' && w.shape.length >= 1 && w.shape.length <= 2 ? matrixRows(w.data, w.shape) : null;
}

/** Top class of the first row of the first output (one sigmoid unit = binary). */
export function firstRowTop(outputs: Outputs): number | null {
  const row = outputRows(outputs)?.[0];
  return row ? (topClass(row)?.[0] ?? null) : null;
}
