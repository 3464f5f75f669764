/**
 * @file Reverse-mode differentiation inside a builder: walks the nodes between the
 * wrt tensors and the output in reverse, calls each op's VJP (which records new
 * nodes with ordinary ops, so the result can be differentiated again) and sums
 * cotangents where a value fans out. Nodes that do not lie on a path from a wrt
 * tensor to the output get no work. A scan's results (`scanPart`) hand their
 * cotangents to their scan together.
 */
import type { Builder } from './builder.js';
import { userError } from './errors.js';
import type { OpName, OpParams } from './ops/index.js';
import { ops } from './ops/index.js';
import type { Vjp } from './ops/op.js';
import { Tensor } from './tensor.js';
import { formatType } from './types.js';
import * as F from './functions/index.js';
import { scanVjp } from './scanGrad.js';

/** Cotangents of `output` with respect to each of `wrt` (zeros where it does not depend on one). */
export function backward(builder: Builder, output: Tensor, wrt: readonly Tensor[], seed: Tensor, subject = 'grad'): Tensor[] {
  return backwardMany(builder, [{ output, seed }], wrt, subject);
}

/**
 * Cotangents with respect to each of `wrt` of Σ⟨output, seed⟩ over several
 * seeded outputs. A scan's results (`scanPart` nodes) pass their cotangents to
 * their scan, whose VJP (`scanVjp`) takes one per result.
 */
export function backwardMany(builder: Builder, seeds: readonly { output: Tensor; seed: Tensor }[], wrt: readonly Tensor[], subject = 'grad'): Tensor[] {
  const outs = seeds.map((s) => builder.lift(s.output, subject));
  const wrtIds = wrt.map((t) => builder.lift(t, subject));
  for (const t of wrt) {
    if (t.dtype !== 'float32') throw userError(subject, `can only differentiate with respect to float32 tensors, got ${formatType(t.type)}`);
  }
  const out = Math.max(...outs);
  const nodes = builder.nodes.slice(0, out + 1);

  // on a path: depends on some wrt (forward sweep) and an output depends on it (backward sweep)
  const fromWrt = new Uint8Array(nodes.length);
  for (const id of wrtIds) fromWrt[id] = 1;
  for (const n of nodes) if (n.inputs.some((i) => fromWrt[i])) fromWrt[n.id] = 1;
  const toOut = new Uint8Array(nodes.length);
  for (const id of outs) toOut[id] = 1;
  for (let i = out; i >= 0; i--) if (toOut[i]) for (const j of nodes[i]!.inputs) toOut[j] = 1;

  const cotangent = new Map<number, Tensor>();
  const accumulate = (id: number, ct: Tensor) => {
    const prev = cotangent.get(id);
    cotangent.set(id, prev ? F.add(prev, ct) : ct);
  };
  seeds.forEach((s, k) => accumulate(outs[k]!, s.seed));
  const partCotangents = new Map<number, (Tensor | undefined)[]>(); // scan id → one per result
  const saved = builder.originOverride;
  try {
    for (let i = out; i >= 0; i--) {
      const node = nodes[i]!;
      const ct = node.op === 'scan' ? undefined : cotangent.get(i);
      const parts = node.op === 'scan' ? partCotangents.get(i) : undefined;
      if ((!ct && !parts) || !fromWrt[i] || !toOut[i] || node.inputs.length === 0) continue;
      builder.originOverride = node.origin;
      if (node.op === 'scanPart') {
        const list = partCotangents.get(node.inputs[0]!) ?? [];
        const { index } = node.params as OpParams['scanPart'];
        list[index] = list[index] ? F.add(list[index], ct!) : ct;
        partCotangents.set(node.inputs[0]!, list);
        continue;
      }
      const inputs = node.inputs.map((j) => Tensor.symbolic(nodes[j]!.type, builder, j));
      const output = Tensor.symbolic(node.type, builder, i);
      const grads = node.op === 'scan'
        ? scanVjp(inputs, output, node.params as OpParams['scan'], parts!)
        : (ops[node.op].vjp as Vjp<OpParams[OpName]>)({ inputs, output, params: node.params }, ct!);
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
