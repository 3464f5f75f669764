/**
 * @file Reverse-mode differentiation inside a builder: walks the nodes between the
 * wrt tensors and the output in reverse, calls each op's VJP (which records new
 * nodes with ordinary ops, so the result can be differentiated again) and sums
 * cotangents where a value fans out. Nodes that do not lie on a path from a wrt
 * tensor to the output get no work.
 */
import type { Builder } from './builder.js';
import { userError } from './errors.js';
import type { OpName, OpParams } from './ops/index.js';
import { ops } from './ops/index.js';
import type { Vjp } from './ops/op.js';
import { Tensor } from './tensor.js';
import { formatType } from './types.js';
import * as F from './functions/index.js';

/** Cotangents of `output` with respect to each of `wrt` (zeros where it does not depend on one). */
export function backward(builder: Builder, output: Tensor, wrt: readonly Tensor[], seed: Tensor, subject = 'grad'): Tensor[] {
  const out = builder.lift(output, subject);
  const wrtIds = wrt.map((t) => builder.lift(t, subject));
  for (const t of wrt) {
    if (t.dtype !== 'float32') throw userError(subject, `can only differentiate with respect to float32 tensors, got ${formatType(t.type)}`);
  }
  const nodes = builder.nodes.slice(0, out + 1);

  // on a path: depends on some wrt (forward sweep) and the output depends on it (backward sweep)
  const fromWrt = new Uint8Array(nodes.length);
  for (const id of wrtIds) fromWrt[id] = 1;
  for (const n of nodes) if (n.inputs.some((i) => fromWrt[i])) fromWrt[n.id] = 1;
  const toOut = new Uint8Array(nodes.length);
  toOut[out] = 1;
  for (let i = out; i >= 0; i--) if (toOut[i]) for (const j of nodes[i]!.inputs) toOut[j] = 1;

  const cotangent = new Map<number, Tensor>([[out, seed]]);
  const accumulate = (id: number, ct: Tensor) => {
    const prev = cotangent.get(id);
    cotangent.set(id, prev ? F.add(prev, ct) : ct);
  };
  const saved = builder.originOverride;
  try {
    for (let i = out; i >= 0; i--) {
      const node = nodes[i]!;
      const ct = cotangent.get(i);
      if (!ct || !fromWrt[i] || !toOut[i] || node.inputs.length === 0) continue;
      builder.originOverride = node.origin;
      const vjp = ops[node.op].vjp as Vjp<OpParams[OpName]>;
      const inputs = node.inputs.map((j) => Tensor.symbolic(nodes[j]!.type, builder, j));
      const grads = vjp({ inputs, output: Tensor.symbolic(node.type, builder, i), params: node.params }, ct);
      node.inputs.forEach((j, k) => {
        const g = grads[k];
        if (g && fromWrt[j] && nodes[j]!.type.dtype === 'float32') accumulate(j, g);
      });
    }
  } finally {
    builder.originOverride = saved;
  }
  return wrt.map((t, k) => cotangent.get(wrtIds[k]!) ?? F.zerosLike(t));
}
