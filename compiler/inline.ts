/**
 * @file Replays a finished graph into the current builder with its inputs bound to
 * given tensors, returning its outputs. Autodiff and custom VJPs use it to splice
 * one graph into another.
 */
import { internal } from './errors.js';
import type { Graph } from './ir.js';
import { apply, Tensor } from './tensor.js';
import type { OpName, OpParams } from './ops/index.js';
import { currentBuilder } from './builder.js';

/** Outputs of `g` (in order) with `g`'s inputs (in order) bound to `args`. */
export function inline(g: Graph, args: readonly Tensor[]): Tensor[] {
  const values = inlineValues(g, args);
  return g.outputs.map((o) => values[o.id]!);
}

/** Every node of `g` replayed, indexed by node id. */
export function inlineValues(g: Graph, args: readonly Tensor[]): Tensor[] {
  if (args.length !== g.inputs.length) throw internal(`inline: graph takes ${g.inputs.length} inputs, got ${args.length}`);
  const values: Tensor[] = new Array(g.nodes.length);
  g.inputs.forEach((input, i) => (values[input.id] = args[i]!));
  const builder = currentBuilder();
  for (const node of g.nodes) {
    if (node.op === 'input') continue;
    if (node.op === 'constant') {
      const { value } = node.params as OpParams['constant'];
      values[node.id] = Tensor.concrete({ dtype: node.type.dtype, shape: node.type.shape as number[], data: value });
      continue;
    }
    const saved = builder?.originOverride;
    if (builder && node.origin && saved === undefined) builder.originOverride = node.origin;
    try {
      values[node.id] = apply(node.op as OpName, node.inputs.map((i) => values[i]!), node.params as OpParams[OpName]);
    } finally {
      if (builder) builder.originOverride = saved;
    }
  }
  return values;
}
