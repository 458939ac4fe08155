/**
 * @module io-match
 * Compares a declared input/output schema with the model's own signature. A null dimension on
 * either side is a wildcard (the batch); names, dtypes and ranks must agree exactly.
 * A version is recorded with the narrower of the two (`narrowIo`).
 */
import type { IoSchema, IoTensor } from '@modelfleet/protocol';

const fmt = (t: IoTensor) => `${t.name}:${t.dtype}[${t.shape.map((d) => d ?? '?').join(',')}]`;

function compare(kind: 'input' | 'output', declared: IoTensor[], actual: IoTensor[]): string[] {
  const problems: string[] = [];
  if (declared.length !== actual.length) {
    problems.push(
      `declares ${declared.length} ${kind}(s), the model has ${actual.length}: ${actual.map(fmt).join(', ')}`,
    );
    return problems;
  }
  declared.forEach((d, i) => {
    const a = actual[i]!;
    const sameShape =
      d.shape.length === a.shape.length &&
      d.shape.every((dim, j) => dim === null || a.shape[j] === null || dim === a.shape[j]);
    if (d.name !== a.name || d.dtype !== a.dtype || !sameShape)
      problems.push(`${kind} ${i} declared ${fmt(d)} but the model has ${fmt(a)}`);
  });
  return problems;
}

export function ioMismatches(declared: IoSchema, actual: IoSchema): string[] {
  return [...compare('input', declared.inputs, actual.inputs), ...compare('output', declared.outputs, actual.outputs)];
}

/**
 * The declared io laid over the model's: where the model has a wildcard and the declaration a
 * size, the size. A publisher who declares `[1,128,128,3]` for a model that takes `[1,-1,-1,3]`
 * promises devices will feed 128×128, so the version's io says so. Tensors that do not line up
 * (name or rank) keep the model's shape; `ioMismatches` reports them.
 */
export function narrowIo(declared: IoSchema | undefined, actual: IoSchema): IoSchema {
  const narrow = (ds: IoTensor[] | undefined, as: IoTensor[]) =>
    as.map((a, i) => {
      const d = ds?.[i];
      if (!d || d.name !== a.name || d.shape.length !== a.shape.length) return a;
      return { ...a, shape: a.shape.map((dim, j) => dim ?? d.shape[j] ?? null) };
    });
  return { inputs: narrow(declared?.inputs, actual.inputs), outputs: narrow(declared?.outputs, actual.outputs) };
}
