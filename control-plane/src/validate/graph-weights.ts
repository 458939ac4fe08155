/**
 * @module graph-weights
 * For graph models TF.js does not compare weights with the graph at load: a weight of the
 * wrong shape, or a missing one, only fails at the first execute(). So we compare the weight
 * specs with the Const nodes they feed (GraphDef JSON: `node`, `library.function[].nodeDef`,
 * `modelInitializer.node`) before loading.
 */
import type { WeightSpec } from '@modelfleet/protocol';

interface ConstNode {
  name: string;
  where: string;
  shape: number[] | null;
  dtype: string | null;
  inline: boolean;
}

// The TF dtypes whose weights the converter stores unchanged; others (DT_INT64, DT_HALF…) are
// converted on the way, so their dtype is not compared.
const TF_DTYPES: Record<string, string> = { DT_FLOAT: 'float32', DT_INT32: 'int32', DT_BOOL: 'bool' };
const INLINE_VALUES = [
  'tensorContent',
  'floatVal',
  'doubleVal',
  'halfVal',
  'intVal',
  'int64Val',
  'boolVal',
  'stringVal',
];

const asRecord = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function constNode(raw: unknown, where: string): ConstNode | null {
  const node = asRecord(raw);
  if (node.op !== 'Const' || typeof node.name !== 'string') return null;
  const attr = asRecord(node.attr);
  const tensor = asRecord(asRecord(attr.value).tensor);
  const tensorShape = asRecord(tensor.tensorShape);
  const shape = tensorShape.unknownRank ? null : asArray(tensorShape.dim).map((d) => Number(asRecord(d).size ?? 0));
  const tfType = (asRecord(attr.dtype).type ?? tensor.dtype) as string | undefined;
  return {
    name: node.name,
    where,
    shape: shape && shape.every(Number.isInteger) ? shape : null,
    dtype: (tfType && TF_DTYPES[tfType]) ?? null,
    inline: INLINE_VALUES.some((k) => k in tensor),
  };
}

function constNodes(topology: Record<string, unknown>, initializer: unknown): ConstNode[] {
  const found: ConstNode[] = [];
  const add = (nodes: unknown, where: string) => {
    for (const n of asArray(nodes)) {
      const c = constNode(n, where);
      if (c) found.push(c);
    }
  };
  add(topology.node, 'graph');
  for (const f of asArray(asRecord(topology.library).function)) add(asRecord(f).nodeDef, 'function');
  add(asRecord(initializer).node, 'initializer');
  return found;
}

const fmt = (shape: number[]) => `[${shape.join(',')}]`;

/**
 * Problems between the weight specs and the graph's Const nodes, [] when they agree: a weight
 * whose shape or dtype differs from its node's, or a graph Const with neither a weight nor an
 * inline value. Weights no node uses are ignored, as TF.js ignores them.
 */
export function graphWeightProblems(
  topology: Record<string, unknown>,
  initializer: unknown,
  specs: WeightSpec[],
): string[] {
  const problems: string[] = [];
  const bySpec = new Map(specs.map((s) => [s.name, s]));
  for (const node of constNodes(topology, initializer)) {
    const spec = bySpec.get(node.name);
    if (!spec) {
      if (!node.inline && node.where !== 'function')
        problems.push(`Const node ${node.name} has no weight in weightsManifest`);
      continue;
    }
    if (
      node.shape &&
      (node.shape.length !== spec.shape.length || node.shape.some((d, i) => d >= 0 && d !== spec.shape[i]))
    ) {
      problems.push(
        `weight ${spec.name} is declared ${fmt(spec.shape)} but its Const node has shape ${fmt(node.shape)}`,
      );
    }
    if (node.dtype && node.dtype !== spec.dtype)
      problems.push(`weight ${spec.name} is declared ${spec.dtype} but its Const node holds ${node.dtype}`);
  }
  return problems;
}
