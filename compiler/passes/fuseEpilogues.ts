/**
 * @file Epilogue fusion.
 * Changes: a matmul or conv2d whose only use is a fused loop computing
 * `relu?(x + bias)` (bias one value per output channel) or `relu(x)` takes that
 * loop into its kernel's epilogue: the op gains `epilogue` params (and the bias
 * as a third input) and the loop disappears.
 * Invariant: values are unchanged (the kernel adds the bias and clamps as the loop did).
 * Why: a dense or conv layer's output is written once instead of written, read
 * and written again.
 */
import type { Graph, Node } from '../ir.js';
import { withNodes } from '../ir.js';
import type { OpParams } from '../ops/index.js';
import type { Epilogue } from '../ops/op.js';

/** What a fused body computes, if it is an epilogue of input 0: the bias input index and relu. */
function epilogueOf(body: Graph, n: number): { bias?: number; relu: boolean } | undefined {
  const ops = body.nodes.filter((x) => x.op !== 'input');
  const out = body.nodes[body.outputs[0]!.id]!;
  const input = (i: number) => body.inputs[i]!.id;
  const biasShape = (i: number) => body.nodes[input(i)]!.type.shape;
  const isBias = (i: number) => body.inputs.length === 2 && i === 1 && biasShape(1).length === 1 && biasShape(1)[0] === n && body.nodes[input(1)]!.type.dtype === 'float32';
  const isAddOfInputs = (x: Node) => x.op === 'add' && x.inputs.length === 2 && [...x.inputs].sort().join() === [input(0), input(1)].sort().join() && isBias(1);
  if (ops.length === 1 && out.op === 'relu' && out.inputs[0] === input(0) && body.inputs.length === 1) return { relu: true };
  if (ops.length === 1 && isAddOfInputs(out)) return { bias: 1, relu: false };
  if (ops.length === 2 && out.op === 'relu' && isAddOfInputs(body.nodes[out.inputs[0]!]!)) return { bias: 1, relu: true };
  return undefined;
}

export function fuseEpilogues(g: Graph): Graph {
  const uses = new Int32Array(g.nodes.length);
  for (const n of g.nodes) for (const i of n.inputs) uses[i]!++;
  for (const o of g.outputs) uses[o.id]! += 2;
  for (const u of g.updates) uses[u.id]! += 2;

  const replaced = new Map<number, Node>(); // fused loop id → kernel node taking it over
  const absorbed = new Set<number>();
  for (const f of g.nodes) {
    if (f.op !== 'fused' || f.inputs.length === 0) continue;
    const producer = g.nodes[f.inputs[0]!]!;
    if ((producer.op !== 'matmul' && producer.op !== 'conv2d') || uses[producer.id] !== 1) continue;
    if ((producer.params as { epilogue?: Epilogue }).epilogue) continue;
    const channels = producer.type.shape[producer.type.shape.length - 1];
    if (typeof channels !== 'number') continue;
    const e = epilogueOf((f.params as OpParams['fused']).body, channels);
    if (!e) continue;
    const epilogue: Epilogue = { bias: e.bias !== undefined, relu: e.relu };
    const inputs = e.bias !== undefined ? [...producer.inputs, f.inputs[e.bias]!] : [...producer.inputs];
    replaced.set(f.id, { ...f, op: producer.op, inputs, params: { ...(producer.params as object), epilogue } as never });
    absorbed.add(producer.id);
  }
  if (replaced.size === 0) return g;
  // the kernel node takes the loop's place; its own old place goes
  const map = new Int32Array(g.nodes.length).fill(-1);
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    if (absorbed.has(n.id)) continue;
    const m = replaced.get(n.id) ?? n;
    map[n.id] = nodes.length;
    nodes.push(Object.freeze({ ...m, id: nodes.length, inputs: Object.freeze(m.inputs.map((i) => map[i]!)) }));
  }
  const id = (old: number) => map[old]!;
  return withNodes(g, nodes, id);
}
