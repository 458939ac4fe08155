/**
 * @module io-match
 * Compares a declared input/output schema with the model's own signature. A null dimension on
 * either side is a wildcard (the batch); names, dtypes and ranks must agree exactly.
 */
import type { IoSchema, IoTensor } from '@modelfleet/protocol';

const fmt = (t: IoTensor) => `${t.name}:${t.dtype}[${t.shape.map((d) => d ?? '?').join(',')}]`;

function compare(kind: 'input' | 'output', declared: IoTensor[], actual: IoTensor[]): string[] {
  const problems: string[] = [];
  if (declared.length !== actual.length) {
    problems.push(`declares ${declared.length} ${kind}(s), the model has ${actual.length}: ${actual.map(fmt).join(', ')}`);
    return problems;
  }
  declared.forEach((d, i) => {
    const a = actual[i]!;
    const sameShape = d.shape.length === a.shape.length && d.shape.every((dim, j) => dim === null || a.shape[j] === null || dim === a.shape[j]);
    if (d.name !== a.name || d.dtype !== a.dtype || !sameShape) problems.push(`${kind} ${i} declared ${fmt(d)} but the model has ${fmt(a)}`);
  });
  return problems;
}

export function ioMismatches(declared: IoSchema, actual: IoSchema): string[] {
  return [...compare('input', declared.inputs, actual.inputs), ...compare('output', declared.outputs, actual.outputs)];
}
