/**
 * @file Simplify.
 * Changes: folds ops whose inputs are all constants (results up to 4096 elements),
 * merges structurally equal nodes (CSE), removes exact identities (x·1, x/1, x−0,
 * −(−x), reshape∘reshape, transpose∘transpose, reshapes/transposes/broadcasts that
 * change nothing), turns a sum of zero pads that tile an axis (a split's
 * gradient) into a concat, then drops dead nodes.
 * Invariant: every output and update keeps its value bit for bit (folding runs the
 * float32 reference semantics; no identity that could change −0 or NaN is used).
 * Why: traced and differentiated graphs repeat work (the same constant, the same
 * broadcast of a seed); codegen should see each computation once.
 */
import type { Graph, Node } from '../ir.js';
import { withNodes } from '../ir.js';
import { formatParams } from '../ir.js';
import { evaluate } from '../interpret.js';
import type { OpName, OpParams } from '../ops/index.js';
import type { Data, Value } from '../ops/op.js';
import { hasBatch, sameShape, sizeOf, type TensorType } from '../types.js';
import { dce } from './dce.js';

const foldLimit = 4096;

/** The single value every element of a constant node holds, if it holds one. */
function uniform(node: Node | undefined): number | undefined {
  if (node?.op !== 'constant') return undefined;
  const data = (node.params as OpParams['constant']).value;
  if (data.length === 0) return undefined;
  const first = data[0]!;
  for (let i = 1; i < data.length; i++) if (!Object.is(data[i], first)) return undefined;
  return first;
}

/** A fold that fails (an index out of range) is left for run time to report. */
function tryEvaluate(node: Node, values: Value[]): Data | undefined {
  try {
    return evaluate(node.op, values, node.params as never, node.type, 'float32').data;
  } catch {
    return undefined;
  }
}

/**
 * The pieces of a sum of zero-padded tensors that tile one axis (the VJP of a
 * split: one pad per piece, then adds), in order along it, or undefined.
 */
function padTiling(nodes: readonly Node[], root: readonly number[], type: TensorType): { axis: number; pieces: number[] } | undefined {
  const leaves: number[] = [];
  const walk = (id: number) => {
    const n = nodes[id]!;
    if (n.op === 'add' && n.type.dtype === type.dtype && sameShape(n.type.shape, type.shape)) n.inputs.forEach(walk);
    else leaves.push(id);
  };
  root.forEach(walk);
  const pads = leaves.map((id) => nodes[id]!);
  if (pads.length < 2 || type.dtype !== 'float32' || pads.some((n) => n.op !== 'pad' || !sameShape(n.type.shape, type.shape))) return undefined;
  const params = pads.map((n) => n.params as OpParams['pad']);
  if (params.some((p) => !Object.is(p.value, 0) || p.interior.some((d) => d !== 0))) return undefined;
  const axes = new Set(params.flatMap((p) => p.low.flatMap((l, d) => (l !== 0 || p.high[d] !== 0 ? [d] : []))));
  if (axes.size !== 1) return undefined;
  const [axis] = [...axes] as [number];
  const size = type.shape[axis];
  if (typeof size !== 'number') return undefined;
  const order = pads.map((_, k) => k).sort((a, b) => params[a]!.low[axis]! - params[b]!.low[axis]!);
  let at = 0;
  for (const k of order) {
    if (params[k]!.low[axis] !== at) return undefined;
    at = size - params[k]!.high[axis]!;
  }
  return at === size ? { axis, pieces: order.map((k) => pads[k]!.inputs[0]!) } : undefined;
}

export function simplify(g: Graph): Graph {
  const nodes: Node[] = [];
  const map = new Int32Array(g.nodes.length);
  const seen = new Map<string, number>();
  const add = (op: OpName, inputs: readonly number[], params: object, type: TensorType, origin?: string): number => {
    const value = op === 'constant' ? Array.from((params as OpParams['constant']).value).join(',') : '';
    const key = op === 'input' ? undefined : `${op}|${inputs.join(',')}|${formatParams(params)}|${type.dtype}${type.shape.join(',')}|${value}`;
    const known = key === undefined ? undefined : seen.get(key);
    if (known !== undefined) return known;
    const id = nodes.length;
    nodes.push(Object.freeze({ id, op, inputs: Object.freeze([...inputs]), params: params as never, type, origin }));
    if (key !== undefined) seen.set(key, id);
    return id;
  };

  for (const node of g.nodes) {
    const inputs = node.inputs.map((i) => map[i]!);
    const args = inputs.map((i) => nodes[i]!);
    const same = (i: number) => args[i]!.type.dtype === node.type.dtype && sameShape(args[i]!.type.shape, node.type.shape);
    // exact identities: the node is one of its inputs
    const mulIdentity = node.op !== 'mul' ? -1 : uniform(args[1]) === 1 && same(0) ? 0 : uniform(args[0]) === 1 && same(1) ? 1 : -1;
    let result: number | undefined;
    if (mulIdentity >= 0) result = inputs[mulIdentity];
    else if ((node.op === 'div' && uniform(args[1]) === 1 && same(0)) || (node.op === 'sub' && Object.is(uniform(args[1]), 0) && same(0))) result = inputs[0];
    else if (node.op === 'neg' && args[0]!.op === 'neg') result = args[0]!.inputs[0];
    else if ((node.op === 'reshape' || node.op === 'broadcastTo' || node.op === 'transpose') && same(0) && (node.op !== 'transpose' || (node.params as OpParams['transpose']).perm.every((p, i) => p === i))) result = inputs[0];
    else if (node.op === 'reshape' && args[0]!.op === 'reshape') result = add('reshape', args[0]!.inputs, node.params, node.type, node.origin);
    else if (node.op === 'transpose' && args[0]!.op === 'transpose') {
      const inner = (args[0]!.params as OpParams['transpose']).perm;
      const perm = (node.params as OpParams['transpose']).perm.map((p) => inner[p]!);
      result = perm.every((p, i) => p === i) ? args[0]!.inputs[0] : add('transpose', args[0]!.inputs, { perm }, node.type, node.origin);
    } else if (node.op === 'add' && padTiling(nodes, inputs, node.type)) {
      // Σ pad(piece) tiling an axis is concat(piece + 0): the same bits (x + 0 turns −0 into +0, as the sum did)
      const { axis, pieces } = padTiling(nodes, inputs, node.type)!;
      const zero = add('constant', [], { value: new Float32Array([0]) }, { dtype: 'float32', shape: [] }, node.origin);
      const plusZero = pieces.map((p) => add('add', [p, zero], {}, nodes[p]!.type, node.origin));
      result = add('concat', plusZero, { axis }, node.type, node.origin);
    } else if (node.op !== 'input' && node.op !== 'constant' && args.length > 0 && args.every((a) => a.op === 'constant') && !hasBatch(node.type.shape) && sizeOf(node.type.shape) <= foldLimit) {
      const values: Value[] = args.map((a) => ({ dtype: a.type.dtype, shape: a.type.shape as number[], data: (a.params as OpParams['constant']).value }));
      const folded = tryEvaluate(node, values);
      if (folded) result = add('constant', [], { value: folded }, node.type, node.origin);
    }
    map[node.id] = result ?? add(node.op, inputs, node.params as object, node.type, node.origin);
  }

  return dce(withNodes(g, nodes, (old) => map[old]!));
}
