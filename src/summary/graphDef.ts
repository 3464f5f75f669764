/**
 * A TensorFlow `GraphDef` (graph.proto, node_def.proto, attr_value.proto) from
 * kiln's IR, for TensorBoard's graph dashboard. Each IR node becomes a NodeDef
 * named `<scope>/<op>` (`dense_1/matmul`, `dense_1/relu`): the dashboard folds
 * the names into one box a layer. Attributes: `_output_shapes` (edge labels),
 * `dtype`, and the op's parameters as text.
 */
import { formatParams, type Graph } from '../../compiler/ir.js';
import type { DType } from '../../compiler/types.js';
import { DataType, encodeShape } from './events.js';
import { ProtoWriter } from './proto.js';

const dtypeNumber: Record<DType, number> = { float32: DataType.DT_FLOAT, int32: DataType.DT_INT32, bool: DataType.DT_BOOL };

/** NodeDef.attr entry: map<string, AttrValue> as { key = 1, value = 2 }. */
function attr(key: string, value: Uint8Array): Uint8Array {
  return new ProtoWriter().string(1, key).message(2, value).finish();
}

/** A name TensorBoard can scope: no spaces or colons (':' separates an output index). */
const clean = (name: string) => name.replace(/[^A-Za-z0-9_./-]/g, '_');

/**
 * The GraphDef of `g`; `scopeOf(id)` gives the layer (or module path) that made a
 * node, if any. Inputs keep their names (parameters are `<layer>/<weight>`
 * already); outputs become `output/<name>` nodes.
 * @example writer.addGraph(graphDefOf(model.tracePredict(), () => undefined));
 */
export function graphDefOf(g: Graph, scopeOf: (id: number) => string | undefined): Uint8Array {
  const names: string[] = [];
  const used = new Set<string>();
  const unique = (base: string) => {
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
  const inputName = new Map(g.inputs.map((i) => [i.id, i.name]));
  const w = new ProtoWriter();
  for (const node of g.nodes) {
    const scope = scopeOf(node.id);
    const base = inputName.get(node.id) ?? (scope ? `${scope}/${node.op}` : node.op);
    const name = unique(clean(base));
    names.push(name);
    const n = new ProtoWriter().string(1, name).string(2, node.op);
    for (const i of node.inputs) n.string(3, names[i]!);
    const shape = node.type.shape.map((d) => (typeof d === 'number' ? d : -1)); // the dynamic batch: -1, unknown
    n.message(5, attr('_output_shapes', new ProtoWriter().message(1, new ProtoWriter().message(7, encodeShape(shape)).finish()).finish()));
    n.message(5, attr('dtype', new ProtoWriter().varint(6, dtypeNumber[node.type.dtype]).finish()));
    const params = node.op === 'input' ? '' : formatParams(node.params as object);
    if (params) n.message(5, attr('params', new ProtoWriter().string(2, params).finish()));
    w.message(1, n.finish());
  }
  for (const o of g.outputs) {
    const n = new ProtoWriter().string(1, unique(clean(`output/${o.name}`))).string(2, 'output').string(3, names[o.id]!);
    w.message(1, n.finish());
  }
  w.message(4, new ProtoWriter().varint(1, 22).finish()); // versions { producer }: TensorBoard reads any
  return w.finish();
}

/**
 * A scope lookup from watched calls (`tracePredict`'s `watch`): the innermost call that made a node wins.
 * @example const scopes = scopeRecorder(); const g = model.tracePredict(scopes.watch); graphDefOf(g, scopes.scopeOf);
 */
export function scopeRecorder(): { watch: (name: string, first: number, end: number) => void; scopeOf: (id: number) => string | undefined } {
  const scope = new Map<number, string>();
  return {
    watch: (name, first, end) => {
      for (let id = first; id < end; id++) if (!scope.has(id)) scope.set(id, name); // inner calls report first
    },
    scopeOf: (id) => scope.get(id),
  };
}
